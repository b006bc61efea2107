//! Fetching customers' names and pictures from Meta, with a readable fallback when Meta
//! withholds them (privacy settings, or a user who never allowed it).

use crate::channels::{health, open_token};
use crate::db::ids::ContactId;
use crate::db::ids::TenantId;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::jobs::queue::{self, NewJob};
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

/// The job that fetches the profiles of a tenant's new contacts: one per tenant at a time
/// (its dedupe key), however many customers a burst brings.
pub fn sweep_job(tenant: TenantId) -> NewJob {
    FetchProfiles::default()
        .to_new_job()
        .for_tenant(tenant)
        .dedupe(format!("profiles:{tenant}"))
}

/// Job `fetch_profile`: with a contact, fetches that contact's name and picture; without, sweeps
/// the tenant's contacts still without a profile, a batch per run, and comes back at once while
/// more are due.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct FetchProfiles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
}

impl Job for FetchProfiles {
    const KIND: &'static str = "fetch_profile";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        match self.contact_id {
            Some(contact) => fetch_one(state, tenant, contact).await,
            None => sweep(state, tenant).await,
        }
    }
}

/// The periodic safety net: a sweep for every tenant with contacts still waiting (one whose
/// sweep was already finishing when they arrived).
pub async fn queue_sweeps(state: &AppState) -> Result<(), JobError> {
    let queued = crate::db::run(&state.pool, |conn| {
        let tenants = contacts::tenants_with_due_profiles(conn)?;
        let jobs: Vec<_> = tenants.into_iter().map(sweep_job).collect();
        Ok(queue::enqueue_many(conn, &jobs)?)
    })
    .await?;
    if queued > 0 {
        tracing::info!(queued, "queued profile sweeps for contacts still waiting");
    }
    Ok(())
}

/// Contacts one run of the sweep fetches before it makes room for other jobs.
const SWEEP_BATCH: i64 = 40;
/// Profile fetches the sweep has in flight at once.
const SWEEP_CONCURRENCY: usize = 8;

/// One batch of a tenant's sweep.
async fn sweep(state: &AppState, tenant: TenantId) -> Result<(), JobError> {
    let due = crate::db::run(&state.pool, move |conn| {
        Ok(contacts::due_for_profile(conn, tenant, SWEEP_BATCH)?)
    })
    .await?;
    // A few at a time: each is a Graph call, and a burst brings thousands.
    use futures_util::StreamExt;
    let results: Vec<(ContactId, Result<(), JobError>)> = futures_util::stream::iter(
        due.iter().copied(),
    )
    .map(|contact_id| async move { (contact_id, fetch_one(state, tenant, contact_id).await) })
    .buffer_unordered(SWEEP_CONCURRENCY)
    .collect()
    .await;
    let mut retry = None;
    for (contact_id, result) in results {
        match result {
            Ok(()) => {}
            Err(JobError::Permanent(why)) => {
                // This contact cannot be fetched (its channel lost its token): it keeps the
                // readable fallback name and is not asked for again.
                tracing::info!(contact_id = contact_id.0, %why, "profile not fetched; using the fallback name");
                mark_unfetchable(state, tenant, contact_id).await?;
            }
            Err(other) => retry = retry.or(Some(other)),
        }
    }
    if let Some(error) = retry {
        return Err(error);
    }
    // Contacts committed while this job ran found its dedupe key taken: look once more.
    let more = due.len() as i64 == SWEEP_BATCH
        || !crate::db::run(&state.pool, move |conn| {
            Ok(contacts::due_for_profile(conn, tenant, 1)?)
        })
        .await?
        .is_empty();
    if more {
        return Err(JobError::Later {
            after: std::time::Duration::ZERO,
            reason: "more profiles to fetch".into(),
        });
    }
    Ok(())
}

async fn mark_unfetchable(
    state: &AppState,
    tenant: TenantId,
    contact_id: ContactId,
) -> Result<(), JobError> {
    crate::db::run(&state.pool, move |conn| {
        let Some(contact) = contacts::get(conn, tenant, contact_id)? else {
            return Ok(());
        };
        let platform = channels::get(conn, tenant, contact.channel_id)?
            .map(|c| c.platform)
            .unwrap_or(Platform::Messenger);
        let name = contact
            .name
            .clone()
            .unwrap_or_else(|| fallback_name(platform, &contact.platform_user_id));
        Ok(contacts::set_profile(
            conn,
            tenant,
            contact_id,
            Some(&name),
            contact.username.as_deref(),
            contact.picture_url.as_deref(),
        )?)
    })
    .await?;
    Ok(())
}

/// Fetches one contact's name and picture.
async fn fetch_one(
    state: &AppState,
    tenant: TenantId,
    contact_id: ContactId,
) -> Result<(), JobError> {
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
    let stored = match &picture {
        Some(url) => keep_picture(state, tenant, contact_id, url).await?,
        None => None,
    };
    crate::db::run(&state.pool, move |conn| {
        contacts::set_profile(
            conn,
            tenant,
            contact_id,
            Some(&name),
            username.as_deref(),
            picture.as_deref(),
        )?;
        if stored.is_some() || picture.is_none() {
            let stored = stored.as_ref().map(|(f, ct)| (f.as_str(), ct.as_str()));
            contacts::set_picture_file(conn, tenant, contact_id, stored)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Largest picture kept (Meta's profile pictures are a few hundred KB at most).
pub const MAX_PICTURE_BYTES: usize = 2 * 1024 * 1024;

/// The file name of a contact's picture in its tenant's media folder.
pub fn picture_file_name(contact_id: ContactId) -> String {
    format!("avatar-{contact_id}")
}

/// Downloads a profile picture from Meta's media hosts (size and type checked like attachments,
/// raster images only: an SVG could carry script) into the tenant's media folder. A refused or
/// vanished picture is no failure: the page shows initials. A network failure is retried.
async fn keep_picture(
    state: &AppState,
    tenant: TenantId,
    contact_id: ContactId,
    url: &str,
) -> Result<Option<(String, String)>, JobError> {
    let media = match state.graph.fetch_media(url, None, MAX_PICTURE_BYTES).await {
        Ok(media) => media,
        Err(e) if e.is_retryable() => return Err(JobError::Retryable(e.to_string())),
        Err(e) => {
            tracing::info!(contact_id = contact_id.0, error = %e, "profile picture not kept");
            return Ok(None);
        }
    };
    let content_type = media
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        content_type.as_str(),
        "image/jpeg" | "image/png" | "image/webp" | "image/gif"
    ) {
        tracing::info!(contact_id = contact_id.0, %content_type, "profile picture of an unsupported type not kept");
        return Ok(None);
    }
    let dir = crate::inbox::attachments::media_dir(state, tenant);
    let name = picture_file_name(contact_id);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| JobError::Retryable(format!("cannot create {}: {e}", dir.display())))?;
    tokio::fs::write(dir.join(&name), &media.bytes)
        .await
        .map_err(|e| JobError::Retryable(format!("cannot store the picture: {e}")))?;
    Ok(Some((name, content_type)))
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
