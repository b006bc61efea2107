//! Connecting Meta assets and keeping their tokens healthy.
//!
//! `connect` runs the OAuth wizard's steps, `whatsapp` the WhatsApp onboarding, `health` the
//! token checks, `rotation` re-encryption under a new key. Tokens are only ever held decrypted
//! in memory for the length of a Graph call.

pub mod connect;
pub mod disconnect;
pub mod health;
pub mod history;
pub mod instagram_login;
pub mod pending;
pub mod rotation;
pub mod whatsapp;

use crate::crypto::{CryptoError, EncryptedSecret, TokenCipher};
use crate::db::DbError;
use crate::db::ids::TenantId;
use crate::meta::{AccessToken, GraphError};
use crate::models::channels::{Channel, Platform};

/// Why a channel operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(
        "This connection link has expired or was already used. Start again from the Channels page."
    )]
    StateInvalid,
    #[error("The selection has expired. Start the connection again from the Channels page.")]
    SelectionExpired,
    #[error("{0} is already connected to another Parley workspace.")]
    OwnedElsewhere(String),
    /// The same Instagram account is connected the other way (through a Page, or through
    /// Instagram Login): connecting it twice would bring every message twice.
    #[error(
        "{name} is already connected to Parley {how}. An Instagram account can be connected only one way, or every message would arrive twice: disconnect it on the Channels page first if you want to switch."
    )]
    ConnectedOtherWay { name: String, how: &'static str },
    #[error("This channel has no token; reconnect it.")]
    NoToken,
    #[error("{0}")]
    Invalid(String),
    #[error("Meta answered: {0}")]
    Graph(#[from] GraphError),
    #[error("stored token could not be decrypted: {0}")]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ChannelError {
    fn from(e: diesel::result::Error) -> Self {
        ChannelError::Db(DbError::Query(e))
    }
}

/// What a channel token's ciphertext is bound to: a ciphertext copied to another row fails.
pub fn token_context(tenant: TenantId, platform: Platform, platform_id: &str) -> String {
    format!("channel-token:{tenant}:{}:{platform_id}", platform.as_str())
}

/// Encrypts a token for a channel row.
pub fn seal_token(
    cipher: &TokenCipher,
    tenant: TenantId,
    platform: Platform,
    platform_id: &str,
    token: &AccessToken,
) -> Result<EncryptedSecret, ChannelError> {
    Ok(cipher.encrypt(
        token.expose_secret(),
        &token_context(tenant, platform, platform_id),
    )?)
}

/// The channel's token, decrypted.
pub fn open_token(cipher: &TokenCipher, channel: &Channel) -> Result<AccessToken, ChannelError> {
    let (Some(blob), Some(key_id)) = (&channel.token_ciphertext, &channel.token_key_id) else {
        return Err(ChannelError::NoToken);
    };
    let secret = EncryptedSecret {
        key_id: key_id.clone(),
        blob: blob.clone(),
    };
    let plain = cipher.decrypt(
        &secret,
        &token_context(channel.tenant_id, channel.platform, &channel.platform_id),
    )?;
    Ok(match channel.login {
        crate::models::channels::Login::Facebook => AccessToken::new(plain),
        crate::models::channels::Login::Instagram => AccessToken::instagram(plain),
    })
}

/// The tenant's channel and its token, for a job that reads from Meta; `None` when the channel
/// is gone or disconnected (nothing to read with).
pub async fn connected_for_job(
    state: &crate::state::AppState,
    tenant: crate::db::ids::TenantId,
    channel: crate::db::ids::ChannelId,
) -> Result<
    Option<(crate::models::channels::Channel, crate::meta::AccessToken)>,
    crate::jobs::JobError,
> {
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::channels::get(conn, tenant, channel)?)
    })
    .await?;
    let Some(channel) = found.filter(|c| c.is_connected()) else {
        return Ok(None);
    };
    let token = open_token(&state.cipher, &channel).map_err(|e| {
        crate::jobs::JobError::Permanent(format!("the channel's token cannot be used: {e}"))
    })?;
    Ok(Some((channel, token)))
}
