//! `parley demo`: Parley with a demo tenant and an admin whose credentials are printed.

use crate::app::{self, StartError};
use crate::auth::password;
use crate::auth::roles::Role;
use crate::config::Config;
use crate::keyfiles::Missing;
use crate::models::{tenants, users};

/// Name of the demo tenant.
pub const DEMO_TENANT: &str = "Demo Company";
/// Email of the demo admin.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.parley.test";

pub async fn run(config: Config) -> Result<(), StartError> {
    let runtime = app::prepare(config, Missing::Generate)?;
    // A fresh password every start: nothing guessable is ever left behind by a demo.
    let password = crate::crypto::random_hex(8);
    let hash = password::hash(&password).map_err(|e| StartError::Other(e.to_string()))?;
    crate::db::run(&runtime.state.pool, move |conn| {
        let tenant = tenants::find_or_create(conn, DEMO_TENANT)?;
        match users::find_for_login(conn, DEMO_ADMIN_EMAIL)? {
            Some(user) => {
                users::set_password_hash(conn, user.tenant_id, user.id, &hash)?;
                users::set_role(conn, user.tenant_id, user.id, Role::Admin)?;
            }
            None => {
                users::create(
                    conn,
                    &users::NewUser {
                        tenant_id: tenant.id,
                        email: DEMO_ADMIN_EMAIL,
                        display_name: "Demo Admin",
                        password_hash: &hash,
                        role: Role::Admin,
                    },
                )?;
            }
        }
        Ok(())
    })
    .await?;
    let url = runtime.state.config.public_url.clone();
    println!();
    println!("  Parley demo is starting at {url}");
    println!("  Sign in as {DEMO_ADMIN_EMAIL} with password {password}");
    println!("  (a new password is generated every time the demo starts; stop with Ctrl-C)");
    println!();
    app::serve(runtime, true).await
}
