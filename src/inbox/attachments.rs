//! Inbound attachments: downloaded by a job from Meta's media hosts into Parley's storage dir,
//! then served only to signed-in users of the tenant that owns the message.

use std::path::PathBuf;

use crate::channels::open_token;
use crate::db::ids::MessageId;
use crate::db::ids::TenantId;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::jobs::queue::NewJob;
use crate::models::attachments::{Attachment, Stored};
use crate::models::channels::{self, Platform};
use crate::models::messages;
use crate::state::AppState;

/// Largest attachment stored (Meta allows 25 MB on Messenger, 100 MB documents on WhatsApp; the
/// inbox keeps the common case and links the rest).
pub const MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;

/// Where a tenant's media lives.
pub fn media_dir(state: &AppState, tenant: TenantId) -> PathBuf {
    state.config.data_dir.join("media").join(tenant.to_string())
}

/// The file name of attachment `index` of `message`.
pub fn file_name(message: MessageId, index: usize) -> String {
    format!("{message}-{index}")
}

/// Where Meta says the attachment is: a CDN URL, or a WhatsApp media id.
enum Source {
    Url(String),
    WhatsApp(String),
}

fn source(att: &Attachment) -> Option<Source> {
    if let Some(id) = &att.media_id {
        return Some(Source::WhatsApp(id.clone()));
    }
    if !matches!(
        att.kind.as_str(),
        "image" | "audio" | "video" | "file" | "sticker" | "story_mention"
    ) {
        return None;
    }
    att.url.clone().map(Source::Url)
}

/// Job `download_attachments`: keeps a message's attachments in Parley's storage.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct DownloadAttachments {
    pub message_id: MessageId,
}

impl Job for DownloadAttachments {
    const KIND: &'static str = "download_attachments";
    const MAX_ATTEMPTS: i32 = 6;

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        download(state, ctx.tenant(Self::KIND)?, self.message_id).await
    }
}

impl DownloadAttachments {
    /// The job for `message` of `tenant`, one per message at a time.
    pub fn for_message(tenant: TenantId, message_id: MessageId) -> NewJob {
        DownloadAttachments { message_id }
            .to_new_job()
            .for_tenant(tenant)
            .dedupe(format!("attachments:{message_id}"))
    }
}

async fn download(state: &AppState, tenant: TenantId, message: MessageId) -> Result<(), JobError> {
    let found = crate::db::run(&state.pool, move |conn| {
        let Some((channel_id, atts)) = messages::attachments(conn, tenant, message)? else {
            return Ok(None);
        };
        Ok(channels::get(conn, tenant, channel_id)?.map(|c| (c, atts)))
    })
    .await?;
    let Some((channel, atts)) = found else {
        return Ok(());
    };
    let dir = media_dir(state, tenant);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| JobError::Retryable(format!("cannot create {}: {e}", dir.display())))?;
    for (index, att) in atts.iter().enumerate() {
        if att.stored_file().is_some() {
            continue; // done by an earlier attempt
        }
        let Some(src) = source(att) else { continue };
        let fetched = match src {
            Source::Url(url) => {
                state
                    .graph
                    .fetch_media(&url, None, MAX_ATTACHMENT_BYTES)
                    .await
            }
            Source::WhatsApp(id) => {
                if channel.platform != Platform::Whatsapp || !channel.is_connected() {
                    continue;
                }
                let token = open_token(&state.cipher, &channel)
                    .map_err(|e| JobError::Permanent(e.to_string()))?;
                match state.graph.whatsapp_media_url(&id, &token).await {
                    Ok(u) => {
                        state
                            .graph
                            .fetch_media(&u.url, Some(&token), MAX_ATTACHMENT_BYTES)
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let stored = match fetched {
            Ok(media) => {
                let name = file_name(message, index);
                tokio::fs::write(dir.join(&name), &media.bytes)
                    .await
                    .map_err(|e| JobError::Retryable(format!("cannot store media: {e}")))?;
                Stored::File {
                    file: name,
                    content_type: media.content_type,
                    size: i64::try_from(media.bytes.len()).unwrap_or(i64::MAX),
                }
            }
            Err(e) if e.is_retryable() => return Err(JobError::Retryable(e.to_string())),
            // Refused host, type or size, or gone at Meta: record why, keep the link.
            Err(e) => Stored::Failed {
                error: e.to_string(),
            },
        };
        crate::db::run(&state.pool, move |conn| {
            Ok(messages::set_attachment_stored(
                conn,
                tenant,
                message,
                index as i32,
                &stored,
            )?)
        })
        .await?;
    }
    Ok(())
}
