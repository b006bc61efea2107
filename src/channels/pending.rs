//! What consent returned (Pages, Instagram accounts, WhatsApp numbers and their tokens), kept
//! encrypted while the admin chooses what to connect.

use chrono::Utc;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};

use crate::channels::ChannelError;
use crate::channels::connect::{Purpose, SELECTION_TTL};
use crate::crypto::{EncryptedSecret, TokenCipher, random_hex};
use crate::db::ids::{TenantId, UserId};
use crate::models::connect;

/// An Instagram account linked to a consented Page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingInstagram {
    pub id: String,
    pub username: Option<String>,
    pub picture_url: Option<String>,
}

/// A Page the admin consented to share, with its token (kept encrypted at rest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingPage {
    pub id: String,
    pub name: String,
    pub picture_url: Option<String>,
    pub tasks: Vec<String>,
    pub token: String,
    pub instagram: Option<PendingInstagram>,
}

/// A WhatsApp number the admin consented to share.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingNumber {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
}

/// Everything consent returned, until the admin chooses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PendingAssets {
    pub pages: Vec<PendingPage>,
    pub numbers: Vec<PendingNumber>,
    /// The business (system-user) token of a WhatsApp signup.
    pub business_token: Option<String>,
}

fn selection_context(tenant: TenantId, id: &str) -> String {
    format!("connect-selection:{tenant}:{id}")
}

/// Keeps the consent result (encrypted) and returns its id for the selection page.
pub fn save_pending(
    conn: &mut PgConnection,
    cipher: &TokenCipher,
    tenant: TenantId,
    user: UserId,
    purpose: Purpose,
    assets: &PendingAssets,
) -> Result<String, ChannelError> {
    let id = random_hex(16);
    let json = serde_json::to_string(assets).map_err(|e| ChannelError::Invalid(e.to_string()))?;
    let sealed = cipher.encrypt(&json, &selection_context(tenant, &id))?;
    connect::insert_session(
        conn,
        &id,
        tenant,
        user,
        purpose.as_str(),
        &sealed.blob,
        &sealed.key_id,
        Utc::now() + SELECTION_TTL,
    )?;
    Ok(id)
}

/// Reads a pending consent result of this tenant.
pub fn load_pending(
    conn: &mut PgConnection,
    cipher: &TokenCipher,
    tenant: TenantId,
    id: &str,
) -> Result<(Purpose, PendingAssets), ChannelError> {
    let row = connect::get_session(conn, tenant, id)?.ok_or(ChannelError::SelectionExpired)?;
    let secret = EncryptedSecret {
        key_id: row.payload_key_id,
        blob: row.payload,
    };
    let json = cipher.decrypt(&secret, &selection_context(tenant, id))?;
    let assets = serde_json::from_str(&json).map_err(|_| ChannelError::SelectionExpired)?;
    let purpose = Purpose::parse(&row.purpose).ok_or(ChannelError::SelectionExpired)?;
    Ok((purpose, assets))
}
