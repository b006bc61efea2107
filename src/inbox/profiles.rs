//! Fetching customers' names and pictures from Meta, with a readable fallback when Meta
//! withholds them (privacy settings, or a user who never allowed it).

use crate::channels::{health, open_token};
use crate::db::ids::TenantId;
use crate::jobs::JobError;
use crate::jobs::queue::Job;
use crate::meta::GraphErrorKind;
use crate::models::channels::{self, Platform};
use crate::models::contacts;
use crate::state::AppState;

/// The name shown when Meta gives none.
pub fn fallback_name(platform: Platform, platform_user_id: &str) -> String {
    let tail: String = platform_user_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match platform {
        Platform::Messenger => format!("Messenger user …{tail}"),
        Platform::Instagram => format!("Instagram user …{tail}"),
        Platform::Whatsapp => format!("+{platform_user_id}"),
    }
}

/// Job `fetch_profile`: `{"contact_id": N}` for the job's tenant.
pub async fn fetch(state: &AppState, job: &Job) -> Result<(), JobError> {
    let tenant: TenantId = job
        .tenant_id
        .ok_or_else(|| JobError::Permanent("fetch_profile needs a tenant".into()))?;
    let contact_id = job
        .payload
        .get("contact_id")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| JobError::Permanent("fetch_profile needs contact_id".into()))?;
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(contact) = contacts::get(conn, tenant, contact_id)? else {
            return Ok(None);
        };
        let channel = channels::get(conn, tenant, contact.channel_id)?;
        Ok(channel.map(|c| (contact, c)))
    })
    .await?;
    let Some((contact, channel)) = found else {
        return Ok(()); // deleted meanwhile
    };
    let fallback = fallback_name(channel.platform, &contact.platform_user_id);
    let profile: Result<(Option<String>, Option<String>, Option<String>), _> =
        match channel.platform {
            Platform::Whatsapp => Ok((None, None, None)), // WhatsApp sends the profile name with each message
            _ if !channel.is_connected() => Ok((None, None, None)),
            Platform::Messenger | Platform::Instagram => {
                let token = open_token(&state.cipher, &channel)
                    .map_err(|e| JobError::Permanent(e.to_string()))?;
                let page = channel
                    .page_id
                    .clone()
                    .unwrap_or_else(|| channel.platform_id.clone());
                if channel.platform == Platform::Messenger {
                    state
                        .graph
                        .messenger_profile(&contact.platform_user_id, &token, &page)
                        .await
                        .map(|p| {
                            let name = [p.first_name, p.last_name]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" ");
                            ((!name.is_empty()).then_some(name), None, p.profile_pic)
                        })
                } else {
                    state
                        .graph
                        .instagram_profile(&contact.platform_user_id, &token, &channel.platform_id)
                        .await
                        .map(|p| (p.name.or(p.username.clone()), p.username, p.profile_pic))
                }
            }
        };
    let (name, username, picture) = match profile {
        Ok(p) => p,
        Err(e) if e.is_retryable() => return Err(JobError::Retryable(e.to_string())),
        Err(e) => {
            let _ = health::record_graph_failure(state, &channel, &e).await;
            if matches!(e.kind, GraphErrorKind::TokenInvalid(_)) {
                return Err(JobError::Permanent(e.to_string()));
            }
            (None, None, None) // withheld or not found: fall back
        }
    };
    let name = name.or(contact.name.clone()).unwrap_or(fallback);
    crate::db::run(&state.pool, move |conn| {
        Ok(contacts::set_profile(
            conn,
            tenant,
            contact_id,
            Some(&name),
            username.as_deref(),
            picture.as_deref(),
        )?)
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks_are_readable() {
        assert_eq!(
            fallback_name(Platform::Messenger, "1234567890"),
            "Messenger user …7890"
        );
        assert_eq!(fallback_name(Platform::Whatsapp, "15550001"), "+15550001");
    }
}
