//! `parley demo`: Parley with the built-in Meta sandbox as its Meta, a demo tenant and admin,
//! demo channels connected by driving the real connect wizard over HTTP, and simulated
//! customers filling the inbox.

use std::net::TcpListener;

use secrecy::{ExposeSecret, SecretString};

use crate::app::{self, StartError};
use crate::auth::password;
use crate::auth::roles::Role;
use crate::config::Config;
use crate::keyfiles::Missing;
use crate::models::{tenants, users};
use meta_sandbox::{DEFAULT_APP_ID, DEFAULT_APP_SECRET, Sandbox, SandboxConfig, Simulator};

mod history;
mod wizard;

/// Name of the demo tenant.
pub const DEMO_TENANT: &str = "Demo Company";
/// Email of the demo admin.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.parley.test";
/// The configuration id the demo uses for WhatsApp Embedded Signup against the sandbox.
const DEMO_SIGNUP_CONFIG: &str = "demo-embedded-signup";

fn simulate_rate() -> f64 {
    std::env::var("PARLEY_DEMO_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(6.0)
}

pub async fn run(mut config: Config) -> Result<(), StartError> {
    // The sandbox plays Meta: the app talks to it for the Graph API and the OAuth dialog.
    let sandbox_bind =
        std::env::var("PARLEY_SANDBOX_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let sandbox_listener = TcpListener::bind(&sandbox_bind).map_err(|e| StartError::Listen {
        addr: sandbox_bind.clone(),
        why: e.to_string(),
    })?;
    let app_id = config
        .meta
        .app_id
        .clone()
        .unwrap_or_else(|| DEFAULT_APP_ID.into());
    let app_secret = config
        .meta
        .app_secret
        .as_ref()
        .map(|s| s.expose_secret().to_string())
        .unwrap_or_else(|| DEFAULT_APP_SECRET.into());
    let sandbox = Sandbox::start(
        SandboxConfig {
            app_id: app_id.clone(),
            app_secret: app_secret.clone(),
            graph_version: config.meta.graph_version.clone(),
            webhook_url: None,
            // Five Pages: enough customers for a few dozen conversations.
            page_count: 5,
            ..SandboxConfig::default()
        },
        sandbox_listener,
    )
    .await
    .map_err(|e| StartError::Other(format!("the Meta sandbox did not start: {e}")))?;
    config.meta.graph_url = sandbox.url();
    config.meta.dialog_url = sandbox.url();
    config.meta.app_id = Some(app_id);
    config.meta.app_secret = Some(SecretString::from(app_secret));
    // The sandbox plays Instagram Login's hosts and app too.
    let (ig_www, ig_api, ig_graph) = sandbox.instagram_urls();
    config.meta.instagram.app_id = Some(sandbox.config().instagram_app_id.clone());
    config.meta.instagram.app_secret = Some(SecretString::from(
        sandbox.config().instagram_app_secret.clone(),
    ));
    config.meta.instagram.dialog_url = ig_www;
    config.meta.instagram.api_url = ig_api;
    config.meta.instagram.graph_url = ig_graph;
    if config.meta.verify_token.is_none() {
        config.meta.verify_token = Some(SecretString::from(crate::crypto::random_hex(16)));
    }
    if config.whatsapp_signup_config_id.is_none() {
        config.whatsapp_signup_config_id = Some(DEMO_SIGNUP_CONFIG.into());
    }

    let runtime = app::prepare(config, Missing::Generate)?;
    let password = crate::crypto::random_hex(8);
    let (tenant, admin) = ensure_demo_admin(&runtime, &password).await?;

    let addr = runtime.state.config.bind;
    let listener = TcpListener::bind(addr).map_err(|e| StartError::Listen {
        addr: addr.to_string(),
        why: e.to_string(),
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| StartError::Other(e.to_string()))?;
    let server = crate::web::server::build(runtime.state.clone(), listener)?;
    let served = tokio::spawn(server);
    let workers = crate::jobs::worker::WorkerPool::start(runtime.state.clone(), 4);
    sandbox.set_webhook_url(Some(format!("http://{local}/webhooks/meta")));

    let fresh = match history::prepare(&runtime.state, tenant, admin).await {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::error!(error = %e, "could not prepare the demo tenant");
            false
        }
    };
    // Connect the demo channels the way an admin would: through the wizard.
    let base = format!("http://{local}");
    match wizard::connect_demo_channels(&base, DEMO_ADMIN_EMAIL, &password).await {
        Ok(summary) => tracing::info!(%summary, "demo channels connected through the wizard"),
        Err(e) => {
            tracing::error!(error = %e, "could not connect the demo channels; connect them on the Channels page")
        }
    }
    // The demo's past, so every page has something to show from the first second.
    if fresh {
        match history::seed(&base, &runtime.state, &sandbox, tenant, admin).await {
            Ok(summary) => tracing::info!(%summary, "demo history seeded"),
            Err(e) => tracing::error!(error = %e, "could not seed the demo's history"),
        }
    }
    let simulator = Simulator::start(&sandbox, simulate_rate(), 1);

    let url = runtime.state.config.public_url.clone();
    println!();
    println!("  Parley demo is running at {url}");
    println!("  Sign in as {DEMO_ADMIN_EMAIL} with password {password}");
    println!(
        "  Meta is played by the built-in sandbox at {} (simulated customers write in).",
        sandbox.url()
    );
    println!("  A new password is generated every time the demo starts. Stop with Ctrl-C.");
    println!();

    let result = served.await;
    simulator.stop();
    workers.shutdown().await;
    sandbox.stop().await;
    drop(runtime);
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StartError::Other(format!("server error: {e}"))),
        Err(e) => Err(StartError::Other(e.to_string())),
    }
}

async fn ensure_demo_admin(
    runtime: &app::Runtime,
    password: &str,
) -> Result<(crate::db::ids::TenantId, crate::db::ids::UserId), StartError> {
    let hash = password::hash(password).map_err(|e| StartError::Other(e.to_string()))?;
    crate::db::run(&runtime.state.pool, move |conn| {
        let tenant = tenants::find_or_create(conn, DEMO_TENANT)?;
        let admin = match users::find_for_login(conn, DEMO_ADMIN_EMAIL)? {
            Some(user) => {
                users::replace_password_hash(conn, user.tenant_id, user.id, &hash)?;
                users::set_active(conn, user.tenant_id, user.id, true)?;
                users::set_role(conn, user.tenant_id, user.id, Role::Admin)?;
                user.id
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
                )?
                .id
            }
        };
        // Sign-in throttling must not lock the demo's own wizard driver out.
        crate::models::login_throttle::clear(conn, &format!("account:{DEMO_ADMIN_EMAIL}"))?;
        Ok((tenant.id, admin))
    })
    .await
    .map_err(Into::into)
}
