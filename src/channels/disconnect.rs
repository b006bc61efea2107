//! Disconnecting a channel on purpose: unsubscribe Parley's app (unless another connected
//! channel still needs the same subscription), wipe the token, keep the history.

use crate::channels::{ChannelError, open_token};
use crate::db::ids::{ChannelId, TenantId};
use crate::models::channels::{self, Platform};
use crate::state::AppState;

/// What a disconnect did.
#[derive(Debug)]
pub struct Disconnected {
    pub name: String,
    /// Set when Meta could not be told (e.g. the token was already revoked); the channel is
    /// disconnected in Parley all the same.
    pub unsubscribe_error: Option<String>,
}

/// Disconnects a tenant's channel.
pub async fn disconnect(
    state: &AppState,
    tenant: TenantId,
    id: ChannelId,
    by: &str,
) -> Result<Disconnected, ChannelError> {
    let all = crate::db::run(&state.pool, move |conn| Ok(channels::list(conn, tenant)?)).await?;
    let channel = all
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| ChannelError::Invalid("no such channel".into()))?;
    let mut unsubscribe_error = None;
    if channel.is_connected() {
        // The Page subscription also carries Instagram messaging; the WABA one serves all its numbers.
        let still_needed = all.iter().any(|c| {
            c.id != channel.id
                && c.is_connected()
                && match channel.platform {
                    Platform::Whatsapp => c.waba_id.is_some() && c.waba_id == channel.waba_id,
                    _ => c.page_id.is_some() && c.page_id == channel.page_id,
                }
        });
        if !still_needed {
            let result = match open_token(&state.cipher, &channel) {
                Ok(token) => match (channel.platform, &channel.page_id, &channel.waba_id) {
                    (Platform::Whatsapp, _, Some(waba)) => {
                        state.graph.whatsapp_unsubscribe(waba, &token).await
                    }
                    (_, Some(page), _) => state.graph.unsubscribe_page(page, &token).await,
                    _ => Ok(()),
                },
                Err(e) => {
                    unsubscribe_error = Some(e.to_string());
                    Ok(())
                }
            };
            if let Err(e) = result {
                unsubscribe_error = Some(e.to_string());
            }
        }
    }
    let reason = format!("Disconnected by {by}");
    crate::db::run(&state.pool, move |conn| {
        Ok(channels::disconnect(conn, tenant, id, &reason, false)?)
    })
    .await?;
    Ok(Disconnected {
        name: channel.display_name(),
        unsubscribe_error,
    })
}
