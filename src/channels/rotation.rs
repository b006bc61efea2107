//! Re-encrypting every stored token under the current key (`parley keys rotate`).

use diesel::PgConnection;

use crate::channels::{ChannelError, open_token, seal_token};
use crate::crypto::TokenCipher;
use crate::models::channels;

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub rotated: usize,
    pub already_current: usize,
    /// Rows changed by someone else meanwhile (they were written with the current key).
    pub skipped: usize,
}

/// Re-encrypts every channel token not under the current key. Safe while Parley runs: each row
/// is replaced only if its key id is still the one read.
pub fn rotate_tokens(
    conn: &mut PgConnection,
    cipher: &TokenCipher,
) -> Result<RotationReport, ChannelError> {
    let mut report = RotationReport::default();
    for channel in channels::all_with_tokens(conn)? {
        let Some(old_key) = channel.token_key_id.clone() else {
            continue;
        };
        if old_key == cipher.current_key_id() {
            report.already_current += 1;
            continue;
        }
        let token = open_token(cipher, &channel)?;
        let sealed = seal_token(
            cipher,
            channel.tenant_id,
            channel.platform,
            &channel.platform_id,
            &token,
        )?;
        if channels::replace_token(conn, channel.id, &old_key, &sealed.blob, &sealed.key_id)? {
            report.rotated += 1;
        } else {
            report.skipped += 1;
        }
    }
    Ok(report)
}
