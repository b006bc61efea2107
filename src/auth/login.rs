//! Signing in with email and password, throttled per account and per client address.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;

use crate::auth::password;
use crate::db::DbError;
use crate::models::login_throttle::{self, Limit};
use crate::models::users::{self, User};

/// Failures allowed for one account before it is locked for a while.
pub const ACCOUNT_LIMIT: Limit = Limit {
    max_failures: 5,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

/// Failures allowed from one client address (across accounts) before it is locked.
pub const ADDRESS_LIMIT: Limit = Limit {
    max_failures: 20,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

/// Why a sign-in did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email, wrong password or deactivated account: deliberately indistinguishable.
    #[error("That email and password do not match an active account.")]
    InvalidCredentials,
    /// Too many recent failures for this account or address.
    #[error("Too many failed sign-in attempts. Try again in {} minutes.", minutes_until(.until))]
    Throttled { until: DateTime<Utc> },
    #[error(transparent)]
    Db(#[from] DbError),
}

fn minutes_until(until: &DateTime<Utc>) -> i64 {
    ((*until - Utc::now()).num_seconds() + 59).max(60) / 60
}

impl From<diesel::result::Error> for LoginError {
    fn from(e: diesel::result::Error) -> Self {
        LoginError::Db(DbError::Query(e))
    }
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

/// Checks the credentials, counting failures; returns the active user on success.
pub fn authenticate(
    conn: &mut PgConnection,
    email: &str,
    password_attempt: &str,
    client_address: &str,
) -> Result<User, LoginError> {
    let account = account_key(email);
    let address = address_key(client_address);
    for key in [&account, &address] {
        if let Some(until) = login_throttle::locked_until(conn, key)? {
            return Err(LoginError::Throttled { until });
        }
    }

    let user = users::find_for_login(conn, email)?;
    let verified = match &user {
        Some(u) => password::verify(password_attempt, &u.password_hash) && u.active,
        None => {
            password::verify_against_dummy(password_attempt);
            false
        }
    };

    match user {
        Some(user) if verified => {
            login_throttle::clear(conn, &account)?;
            users::touch_last_login(conn, user.tenant_id, user.id)?;
            Ok(user)
        }
        _ => {
            let account_lock = login_throttle::record_failure(conn, &account, ACCOUNT_LIMIT)?;
            let address_lock = login_throttle::record_failure(conn, &address, ADDRESS_LIMIT)?;
            match account_lock.or(address_lock) {
                Some(until) => Err(LoginError::Throttled { until }),
                None => Err(LoginError::InvalidCredentials),
            }
        }
    }
}
