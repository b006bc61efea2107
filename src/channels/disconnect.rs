//! Disconnecting a channel on purpose: unsubscribe Parley's app (unless another connected
//! channel, of any tenant, still needs the same subscription), wipe the token, keep the history.

use crate::channels::{ChannelError, open_token};
use crate::db::ids::{ChannelId, TenantId};
use crate::models::channels::{self, Login, Platform};
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
    let channel = crate::db::run(&state.pool, move |conn| {
        Ok(channels::get(conn, tenant, id)?)
    })
    .await?
    .ok_or_else(|| ChannelError::Invalid("no such channel".into()))?;
    let mut unsubscribe_error = None;
    if channel.is_connected() {
        let (platform, page, waba) = (
            channel.platform,
            channel.page_id.clone(),
            channel.waba_id.clone(),
        );
        // Another tenant's channel may rely on the same Page or WABA subscription.
        let still_needed = crate::db::run(&state.pool, move |conn| {
            Ok(channels::subscription_still_needed(
                conn,
                id,
                platform,
                page.as_deref(),
                waba.as_deref(),
            )?)
        })
        .await?;
        if !still_needed {
            let result = match open_token(&state.cipher, &channel) {
                Ok(token) => match (channel.platform, &channel.page_id, &channel.waba_id) {
                    (Platform::Instagram, _, _) if channel.login == Login::Instagram => {
                        state
                            .graph
                            .unsubscribe_instagram_account(&channel.platform_id, &token)
                            .await
                    }
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
