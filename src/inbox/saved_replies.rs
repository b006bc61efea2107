//! Saved replies: canned responses an agent inserts into the composer by typing `/shortcut`.

use diesel::prelude::*;

use crate::db::ids::{TenantId, UserId};
use crate::inbox::InboxError;
use crate::models::saved_replies;

pub use crate::models::saved_replies::SavedReply;

/// Every saved reply of the tenant, by shortcut.
pub fn list(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<SavedReply>> {
    saved_replies::all(conn, tenant)
}

/// Checks a shortcut and body as the form gives them; the shortcut is returned normalized.
pub fn validate(shortcut: &str, body: &str) -> Result<String, InboxError> {
    let shortcut = shortcut.trim().trim_start_matches('/').to_lowercase();
    let valid = !shortcut.is_empty()
        && shortcut.len() <= 30
        && shortcut
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(InboxError::Invalid(
            "Shortcuts are 1 to 30 characters: lowercase letters, digits, - and _.".into(),
        ));
    }
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 2000 {
        return Err(InboxError::Invalid(
            "The reply text must be 1 to 2,000 characters (Meta's limit for one message).".into(),
        ));
    }
    Ok(shortcut)
}

/// Adds a saved reply; a shortcut already in use is refused with a clear message.
pub fn create(
    conn: &mut PgConnection,
    tenant: TenantId,
    author: UserId,
    shortcut: &str,
    body: &str,
) -> Result<SavedReply, InboxError> {
    let shortcut = validate(shortcut, body)?;
    saved_replies::insert(conn, tenant, author, &shortcut, body.trim())?
        .ok_or_else(|| InboxError::Invalid(format!("The shortcut /{shortcut} is already in use.")))
}

/// Deletes a saved reply of the tenant.
pub fn delete(conn: &mut PgConnection, tenant: TenantId, id: i64) -> Result<(), InboxError> {
    let n = saved_replies::delete(conn, tenant, id)?;
    if n == 0 {
        return Err(InboxError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_normalized_and_checked() {
        assert_eq!(validate("/Thanks", "Thank you!").unwrap(), "thanks");
        assert!(validate("two words", "x").is_err());
        assert!(validate("ok", "  ").is_err());
        assert!(validate("ok", &"x".repeat(2001)).is_err());
    }
}
