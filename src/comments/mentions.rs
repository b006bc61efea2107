//! Instagram mentions: a comment on someone else's media that @mentions the business arrives
//! with its id only, so its text, author and media are read from Meta once. The business may
//! reply to it (through `POST /{ig-user-id}/mentions`), never hide or delete it.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::comments::sync::graph_time;
use crate::db::ids::{ChannelId, TenantId};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::models::comments;
use crate::state::AppState;

/// Whether a comment's `extra` marks it a mention.
pub fn is_mention(extra: &serde_json::Value) -> bool {
    extra.get("mention").and_then(serde_json::Value::as_bool) == Some(true)
}

/// Queues the reading of a mention's details.
pub fn queue_fetch(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    comment: &str,
) -> QueryResult<()> {
    crate::jobs::queue::enqueue(
        conn,
        &FetchMention {
            channel_id: channel,
            comment_id: comment.to_string(),
        }
        .to_new_job()
        .for_tenant(tenant)
        .dedupe(format!("mention:{channel}:{comment}")),
    )
    .map(|_| ())
}

/// Job `fetch_mention`: reads a mention's text, author and time from Meta.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchMention {
    pub channel_id: ChannelId,
    pub comment_id: String,
}

impl Job for FetchMention {
    const KIND: &'static str = "fetch_mention";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let channel_id = self.channel_id;
        let Some((channel, token)) =
            crate::channels::connected_for_job(state, tenant, channel_id).await?
        else {
            return Ok(());
        };
        let found = state
            .graph
            .instagram_mentioned_comment(&channel.platform_id, &self.comment_id, &token)
            .await;
        let mention = match found {
            Ok(Some(m)) => m,
            Ok(None) => {
                return Err(JobError::Permanent(
                    "Meta returned no mentioned comment".into(),
                ));
            }
            Err(e) if e.is_retryable() => return Err(JobError::retry("reading a mention", e)),
            Err(e) => return Err(JobError::Permanent(e.describe())),
        };
        crate::db::run(&state.pool, move |conn| {
            let at = mention
                .timestamp
                .as_deref()
                .and_then(graph_time)
                .unwrap_or_else(chrono::Utc::now);
            let filled = comments::fill_mention(
                conn,
                tenant,
                channel_id,
                &mention.id,
                mention.text.as_deref(),
                mention.username.as_deref(),
                at,
                mention.media.as_ref().map(|m| m.id.as_str()),
            )?;
            if let Some(id) = filled {
                crate::comments::live::notify(conn, tenant, id)?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }
}
