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

/// The throttle key of an account (also counted by password changes).
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

/// A sign-in attempt that passed the throttle: counted already, its password not yet checked.
#[derive(Debug)]
pub struct Admitted {
    /// The account, when the email names one.
    pub user: Option<User>,
    account: String,
    address: String,
    /// Set when this attempt was the last one allowed: a failure now locks the key until then.
    locks_until: Option<DateTime<Utc>>,
}

/// Step 1, with a connection: counts the attempt for the account and the client address before
/// any password is checked, so that parallel attempts cannot all slip past the limits, and loads
/// the account.
pub fn admit(
    conn: &mut PgConnection,
    email: &str,
    client_address: &str,
) -> Result<Admitted, LoginError> {
    let account = account_key(email);
    let address = address_key(client_address);
    let refused = |attempt: login_throttle::Attempt, limit: Limit| LoginError::Throttled {
        until: attempt
            .locked_until
            .unwrap_or_else(|| Utc::now() + limit.lockout),
    };
    // The address first: a locked address must not go on counting against (and locking)
    // the accounts it tries.
    let by_address = login_throttle::record_attempt(conn, &address, ADDRESS_LIMIT)?;
    if !by_address.admitted {
        return Err(refused(by_address, ADDRESS_LIMIT));
    }
    let by_account = login_throttle::record_attempt(conn, &account, ACCOUNT_LIMIT)?;
    if !by_account.admitted {
        return Err(refused(by_account, ACCOUNT_LIMIT));
    }
    Ok(Admitted {
        user: users::find_for_login(conn, email)?,
        account,
        address,
        locks_until: by_account.locked_until.or(by_address.locked_until),
    })
}

/// Step 2, without a connection (argon2 takes tens of milliseconds of CPU): whether the password
/// is right for an active account. An unknown email costs the same time as a known one.
pub fn verify(admitted: &Admitted, password_attempt: &str) -> bool {
    match &admitted.user {
        Some(u) => password::verify(password_attempt, &u.password_hash) && u.active,
        None => {
            password::verify_against_dummy(password_attempt);
            false
        }
    }
}

/// Step 3, with a connection: a success clears the account's count and takes back the
/// address's; a failure stays counted.
pub fn conclude(
    conn: &mut PgConnection,
    admitted: Admitted,
    verified: bool,
) -> Result<User, LoginError> {
    match admitted.user {
        Some(user) if verified => {
            login_throttle::clear(conn, &admitted.account)?;
            login_throttle::forgive(conn, &admitted.address, ADDRESS_LIMIT)?;
            users::touch_last_login(conn, user.tenant_id, user.id)?;
            Ok(user)
        }
        _ => match admitted.locks_until {
            Some(until) => Err(LoginError::Throttled { until }),
            None => Err(LoginError::InvalidCredentials),
        },
    }
}
