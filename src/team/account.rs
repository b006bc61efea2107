//! A person's own account: changing their password and ending their sessions.
//!
//! Checking and hashing passwords takes tens of milliseconds of CPU, so the callers do that
//! outside any database connection ([`PasswordChange::check`]) and only store the outcome here.

use diesel::PgConnection;
use diesel::prelude::*;

use crate::auth::password;
use crate::db::ids::{SessionId, TenantId, UserId};
use crate::inbox::live::notify_sessions_ended;
use crate::models::{sessions, users};
use crate::team::FieldError;

/// What someone typed into the "Change password" form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub confirm_password: String,
}

impl PasswordChange {
    /// Checks the form against the stored hash and hashes the new password (CPU-heavy: call it
    /// without holding a connection). Returns the new hash, or the fields at fault.
    pub fn check(&self, stored_hash: &str) -> Result<String, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !password::verify(&self.current_password, stored_hash) {
            errors.push(FieldError {
                field: "current_password",
                message: "That is not your current password.".into(),
            });
        }
        if let Some(why) = password::weakness(&self.new_password) {
            errors.push(FieldError {
                field: "new_password",
                message: why,
            });
        } else if self.new_password == self.current_password {
            errors.push(FieldError {
                field: "new_password",
                message: "Choose a password different from the current one.".into(),
            });
        }
        if self.confirm_password != self.new_password {
            errors.push(FieldError {
                field: "confirm_password",
                message: "The two new passwords differ.".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        password::hash(&self.new_password).map_err(|e| {
            vec![FieldError {
                field: "new_password",
                message: e.to_string(),
            }]
        })
    }
}

/// Stores a new password hash and ends every other session of the user (a stolen cookie stops
/// working when its owner changes their password). `keep` is the session making the change,
/// if any (an operator's reset keeps none). Returns how many sessions were ended.
pub fn store_new_password(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    new_hash: &str,
    keep: Option<SessionId>,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        if !users::replace_password_hash(conn, tenant, user, new_hash)? {
            return Err(diesel::result::Error::NotFound);
        }
        let ended = sessions::end_all_for_user(conn, tenant, user, keep, "password changed")?;
        notify_sessions_ended(conn, tenant, user)?;
        Ok(ended)
    })
}

/// Ends every session of the user, this one included ("sign out everywhere").
pub fn sign_out_everywhere(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let ended = sessions::end_all_for_user(conn, tenant, user, None, "signed out everywhere")?;
        notify_sessions_ended(conn, tenant, user)?;
        Ok(ended)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wrong_field_is_named() {
        let stored = password::hash("the current password").unwrap();
        let change = PasswordChange {
            current_password: "not it at all".into(),
            new_password: "short".into(),
            confirm_password: "different".into(),
        };
        let fields: Vec<_> = change
            .check(&stored)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["current_password", "new_password", "confirm_password"]
        );
        let good = PasswordChange {
            current_password: "the current password".into(),
            new_password: "a brand new password".into(),
            confirm_password: "a brand new password".into(),
        };
        let hash = good.check(&stored).unwrap();
        assert!(password::verify("a brand new password", &hash));
    }
}
