//! The typed contents of the session cookie: who is signed in, the CSRF token, one-shot flashes.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use crate::db::ids::{TenantId, UserId};
use crate::models::sessions::Lifetime;

const USER_KEY: &str = "uid";
const TENANT_KEY: &str = "tid";
const TOKEN_KEY: &str = "sid";
const CSRF_KEY: &str = "csrf";
const FLASH_KEY: &str = "flash";

/// How long a sign-in lasts: 12 hours at most, 2 hours without a request.
pub const LIFETIME: Lifetime = Lifetime {
    absolute: chrono::Duration::hours(12),
    idle: chrono::Duration::hours(2),
    touch_every: chrono::Duration::minutes(1),
};

/// The ids stored for a signed-in session; the user and the session record are re-read on every
/// request, so that a deactivation, a role change or an ended session takes effect at once.
#[derive(Debug, Clone)]
pub struct SessionIdentity {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    /// SHA-256 of the session's token, the key of its `user_sessions` record.
    pub token_hash: Vec<u8>,
}

/// A new random session token (for the cookie) and its hash (for the database).
pub struct NewToken {
    pub token: String,
    pub hash: Vec<u8>,
}

/// Makes a token for a new sign-in.
pub fn new_token() -> NewToken {
    let token = crate::crypto::random_hex(32);
    let hash = token_hash(&token);
    NewToken { token, hash }
}

fn token_hash(token: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).to_vec()
}

/// Reads who is signed in, if anyone. A cookie that cannot be read counts as signed out.
pub fn identity(session: &Session) -> Option<SessionIdentity> {
    let user_id = session.get::<i64>(USER_KEY).ok().flatten()?;
    let tenant_id = session.get::<i64>(TENANT_KEY).ok().flatten()?;
    let token = session.get::<String>(TOKEN_KEY).ok().flatten()?;
    Some(SessionIdentity {
        user_id: UserId(user_id),
        tenant_id: TenantId(tenant_id),
        token_hash: token_hash(&token),
    })
}

/// Signs a user in: a fresh cookie (against fixation) holding their ids, the token of the
/// session record the caller has stored, and a new CSRF token.
pub fn sign_in(
    session: &Session,
    user_id: UserId,
    tenant_id: TenantId,
    token: &NewToken,
) -> Result<(), String> {
    session.renew();
    session.remove(CSRF_KEY);
    session
        .insert(USER_KEY, user_id.0)
        .and_then(|_| session.insert(TENANT_KEY, tenant_id.0))
        .and_then(|_| session.insert(TOKEN_KEY, &token.token))
        .map_err(|e| e.to_string())?;
    csrf_token(session);
    Ok(())
}

/// Signs out of this browser: the whole cookie is discarded (the caller ends the record).
pub fn sign_out(session: &Session) {
    session.purge();
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY) {
        return token;
    }
    let token = crate::crypto::random_hex(32);
    // A failed insert only means the next form post is refused; the user reloads and retries.
    let _ = session.insert(CSRF_KEY, &token);
    token
}

/// The stored CSRF token without creating one.
pub fn existing_csrf_token(session: &Session) -> Option<String> {
    session.get::<String>(CSRF_KEY).ok().flatten()
}

/// A one-shot message shown on the next page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub level: FlashLevel,
    pub message: String,
}

/// How a flash is styled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FlashLevel {
    Success,
    Error,
}

impl FlashLevel {
    /// CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            FlashLevel::Success => "success",
            FlashLevel::Error => "error",
        }
    }
}

/// Queues a flash for the next page the user sees.
pub fn flash(session: &Session, level: FlashLevel, message: impl Into<String>) {
    let mut all = session
        .get::<Vec<Flash>>(FLASH_KEY)
        .ok()
        .flatten()
        .unwrap_or_default();
    all.push(Flash {
        level,
        message: message.into(),
    });
    let _ = session.insert(FLASH_KEY, all);
}

/// Takes (and clears) the queued flashes.
pub fn take_flashes(session: &Session) -> Vec<Flash> {
    session
        .remove_as::<Vec<Flash>>(FLASH_KEY)
        .and_then(Result::ok)
        .unwrap_or_default()
}
