//! The posts comments belong to: their details from a feed or media listing, or fetched once
//! when a webhook names a post Parley has not seen.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::comments::sync::graph_time;
use crate::db::ids::{ChannelId, TenantId};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::comments::{FbPost, IgMedia};
use crate::models::channels::Platform;
use crate::models::comment_posts::{self, PostDetails};
use crate::state::AppState;

/// A Facebook post's details.
pub fn of_post(p: FbPost) -> PostDetails {
    PostDetails {
        posted_at: p.created_time.as_deref().and_then(graph_time),
        caption: p.message,
        media_type: Some("post".into()),
        thumbnail_url: p.full_picture,
        permalink: p.permalink_url,
        platform_post_id: p.id,
    }
}

/// An Instagram media item's details (a video's thumbnail, an image itself).
pub fn of_media(m: IgMedia) -> PostDetails {
    PostDetails {
        posted_at: m.timestamp.as_deref().and_then(graph_time),
        caption: m.caption,
        media_type: m
            .media_product_type
            .or(m.media_type)
            .map(|t| t.to_lowercase()),
        thumbnail_url: m.thumbnail_url.or(m.media_url),
        permalink: m.permalink,
        platform_post_id: m.id,
    }
}

/// Notes the post a comment names; the first time, queues the fetch of its details.
pub fn note(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    post: &str,
) -> QueryResult<()> {
    if !comment_posts::note(conn, tenant, channel, post)? {
        return Ok(());
    }
    crate::jobs::queue::enqueue(
        conn,
        &FetchCommentPost {
            channel_id: channel,
            post_id: post.to_string(),
        }
        .to_new_job()
        .for_tenant(tenant)
        .dedupe(format!("comment-post:{channel}:{post}")),
    )
    .map(|_| ())
}

/// Job `fetch_comment_post`: reads a post's (or media item's) details from Meta.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchCommentPost {
    pub channel_id: ChannelId,
    pub post_id: String,
}

impl Job for FetchCommentPost {
    const KIND: &'static str = "fetch_comment_post";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let channel_id = self.channel_id;
        let Some((channel, token)) =
            crate::channels::connected_for_job(state, tenant, channel_id).await?
        else {
            return Ok(()); // nothing to read with; a later sync fills it in
        };
        let account = channel.platform_id.as_str();
        let details = match channel.platform {
            Platform::Instagram => state
                .graph
                .instagram_media_item(&self.post_id, &token, account)
                .await
                .map(of_media),
            _ => state
                .graph
                .facebook_post(&self.post_id, &token, account)
                .await
                .map(of_post),
        };
        match details {
            Ok(details) => {
                crate::db::run(&state.pool, move |conn| {
                    Ok(comment_posts::save(conn, tenant, channel_id, &details)?)
                })
                .await?;
                Ok(())
            }
            Err(e) if e.is_retryable() => Err(JobError::retry("fetching a post", e)),
            // Not ours to read (a mention on someone else's media) or gone: the queue shows the
            // post's id only.
            Err(e) => Err(JobError::Permanent(e.describe())),
        }
    }
}
