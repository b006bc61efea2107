//! `parley admin create-user`, `list-users` and `reset-password`.

use std::io::BufRead;

use clap::Subcommand;

use crate::app::StartError;
use crate::auth::password;
use crate::auth::roles::Role;
use crate::config::Config;
use crate::models::{tenants, users};
use crate::team::{self, NewMemberInput, TeamError};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user (and the tenant, if it does not exist). The password is read from
    /// PARLEY_PASSWORD, else from the first line of standard input.
    CreateUser {
        /// Tenant name (created if missing).
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// admin, agent, moderator or analyst.
        #[arg(long)]
        role: String,
        /// Display name (defaults to the part of the email before @).
        #[arg(long)]
        name: Option<String>,
    },
    /// List every user of every tenant.
    ListUsers,
    /// Set a user's password and sign them out everywhere (a deactivated user stays
    /// deactivated). The password is read from PARLEY_PASSWORD, else from the first line of
    /// standard input.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

pub async fn run(command: AdminCommand, config: &Config) -> Result<(), StartError> {
    match command {
        AdminCommand::CreateUser {
            tenant,
            email,
            role,
            name,
        } => {
            if Role::parse(&role).is_none() {
                return Err(StartError::Other(format!(
                    "--role must be one of admin, agent, moderator, analyst (got {role:?})"
                )));
            }
            if tenant.trim().is_empty() {
                return Err(StartError::Other("--tenant must not be empty".into()));
            }
            let password = read_password()?;
            if let Some(why) = password::weakness(&password) {
                return Err(StartError::Other(why));
            }
            let display_name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
            let input = NewMemberInput {
                display_name,
                email,
                role,
                password,
            };
            let (user, tenant) = super::with_connection(config, move |conn| {
                let tenant = tenants::find_or_create(conn, &tenant).map_err(db)?;
                let user = team::add_member(conn, tenant.id, &input).map_err(|e| match e {
                    TeamError::Invalid(errors) => StartError::Other(
                        errors
                            .into_iter()
                            .map(|e| format!("{}: {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    other => StartError::Other(other.to_string()),
                })?;
                Ok((user, tenant))
            })
            .await?;
            println!(
                "created {} ({}) in tenant {:?} (id {})",
                user.email, user.role, tenant.name, tenant.id
            );
            Ok(())
        }
        AdminCommand::ResetPassword { email } => {
            let password = read_password()?;
            if let Some(why) = password::weakness(&password) {
                return Err(StartError::Other(why));
            }
            let hash = password::hash(&password).map_err(|e| StartError::Other(e.to_string()))?;
            let (user, ended) = super::with_connection(config, move |conn| {
                let user = users::find_for_login(conn, &email)
                    .map_err(db)?
                    .ok_or_else(|| StartError::Other(format!("no user has the email {email:?}")))?;
                let ended =
                    team::account::store_new_password(conn, user.tenant_id, user.id, &hash, None)
                        .map_err(db)?;
                Ok((user, ended))
            })
            .await?;
            println!(
                "password of {} reset; {ended} session(s) signed out{}",
                user.email,
                if user.active {
                    ""
                } else {
                    " (the account is still deactivated)"
                }
            );
            Ok(())
        }
        AdminCommand::ListUsers => {
            let rows = super::with_connection(config, |conn| {
                users::list_all_for_operator(conn).map_err(db)
            })
            .await?;
            if rows.is_empty() {
                println!("no users yet: create one with `parley admin create-user`");
                return Ok(());
            }
            println!(
                "{:<24} {:<32} {:<10} {:<8} LAST SIGN-IN",
                "TENANT", "EMAIL", "ROLE", "ACTIVE"
            );
            for row in rows {
                println!(
                    "{:<24} {:<32} {:<10} {:<8} {}",
                    row.tenant_name,
                    row.user.email,
                    row.user.role,
                    if row.user.active { "yes" } else { "no" },
                    row.user
                        .last_login_at
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_else(|| "never".into())
                );
            }
            Ok(())
        }
    }
}

fn db(e: diesel::result::Error) -> StartError {
    StartError::Db(e.into())
}

fn read_password() -> Result<String, StartError> {
    if let Ok(p) = std::env::var("PARLEY_PASSWORD")
        && !p.is_empty()
    {
        return Ok(p);
    }
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| StartError::Other(format!("cannot read the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
