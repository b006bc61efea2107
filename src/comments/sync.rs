//! Backfill: a channel's recent posts (Facebook feed, Instagram media) and all their comments
//! and replies, read from Meta one page of posts per job run, the position saved after every
//! post so a restart resumes where it stopped. Comments are recorded through the same upsert as
//! webhooks, so a comment seen by both is one row.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::channels::{health, open_token};
use crate::db::ids::{ChannelId, TenantId, UserId};
use crate::db::statuses::RunState;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::GraphError;
use crate::models::channels::{self, Channel, Platform};
use crate::models::comment_posts::{self, PostDetails};
use crate::models::comment_syncs;
use crate::models::comments::{self, CommentAction, CommentChange};
use crate::state::AppState;

/// How far back a sync started on connect or by a moderator reads.
pub const BACKFILL_DAYS: i64 = 30;
/// How far back the periodic re-sync reads, to catch deliveries Meta missed.
pub const RESYNC_DAYS: i64 = 3;
/// The most posts one sync reads.
pub const MAX_POSTS: i32 = 200;
/// Comments newer than this meet the auto-moderation rules when a sync finds them first (a
/// missed delivery); older ones are history, and rules leave them alone.
const RULES_ON_BACKFILL_HOURS: i64 = 24;

/// Starts a sync of the channel's comments from `since` and queues its job; `None` when one is
/// already running.
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    since: DateTime<Utc>,
    by: Option<UserId>,
) -> QueryResult<Option<i64>> {
    conn.transaction(|conn| {
        let Some(id) = comment_syncs::start(conn, tenant, channel, since, by)? else {
            return Ok(None);
        };
        enqueue(conn, tenant, id, 0)?;
        Ok(Some(id))
    })
}

fn enqueue(conn: &mut PgConnection, tenant: TenantId, id: i64, posts_done: i32) -> QueryResult<()> {
    crate::jobs::queue::enqueue(
        conn,
        &SyncComments { sync_id: id }
            .to_new_job()
            .for_tenant(tenant)
            .dedupe(format!("comment-sync:{id}:{posts_done}")),
    )
    .map(|_| ())
}

/// A comment as Meta lists it, on either platform.
#[derive(Debug, Clone)]
struct Listed {
    id: String,
    parent: Option<String>,
    author_id: Option<String>,
    author_name: Option<String>,
    text: Option<String>,
    at: DateTime<Utc>,
    hidden: bool,
    from_business: bool,
}

/// Parses Graph's times: `2026-11-28T10:00:00+0000` (also RFC 3339).
pub fn graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One page of the channel's posts, newest first, and the cursor of the next.
async fn list_posts(
    state: &AppState,
    channel: &Channel,
    token: &crate::meta::AccessToken,
    after: Option<String>,
) -> Result<(Vec<PostDetails>, Option<String>), GraphError> {
    let graph = &state.graph;
    if channel.platform == Platform::Instagram {
        let page = graph
            .instagram_media(&channel.platform_id, token, after)
            .await?;
        let next = page.next_cursor();
        let posts = page.data.into_iter().map(super::posts::of_media).collect();
        return Ok((posts, next));
    }
    let page = graph.page_feed(&channel.platform_id, token, after).await?;
    let next = page.next_cursor();
    let posts = page.data.into_iter().map(super::posts::of_post).collect();
    Ok((posts, next))
}

/// Every comment and reply on a post.
async fn list_comments(
    state: &AppState,
    channel: &Channel,
    token: &crate::meta::AccessToken,
    post: &str,
) -> Result<Vec<Listed>, GraphError> {
    let graph = &state.graph;
    let account = channel.platform_id.as_str();
    let mut out = Vec::new();
    if channel.platform != Platform::Instagram {
        let mut after = None;
        loop {
            let page = graph.post_comments(post, token, account, after).await?;
            after = page.next_cursor();
            out.extend(page.data.into_iter().map(|c| {
                let author = c.from.clone();
                Listed {
                    at: c
                        .created_time
                        .as_deref()
                        .and_then(graph_time)
                        .unwrap_or_else(Utc::now),
                    from_business: author.as_ref().is_some_and(|a| a.id == account),
                    author_id: author.as_ref().map(|a| a.id.clone()),
                    author_name: author.and_then(|a| a.name),
                    parent: c.parent.map(|p| p.id),
                    hidden: c.is_hidden.unwrap_or(false),
                    text: c.message,
                    id: c.id,
                }
            }));
            if after.is_none() {
                return Ok(out);
            }
        }
    }
    let username = channel.username.as_deref();
    let to_listed = |c: crate::meta::comments::IgComment, parent: Option<String>| {
        let author_id = c.from.as_ref().map(|f| f.id.clone());
        let author_name = c
            .username
            .clone()
            .or_else(|| c.from.as_ref().and_then(|f| f.username.clone()));
        Listed {
            from_business: author_id.as_deref() == Some(account)
                || (author_name.is_some() && author_name.as_deref() == username),
            at: c
                .timestamp
                .as_deref()
                .and_then(graph_time)
                .unwrap_or_else(Utc::now),
            parent: c.parent_id.or(parent),
            hidden: c.hidden.unwrap_or(false),
            text: c.text,
            id: c.id,
            author_id,
            author_name,
        }
    };
    let mut after = None;
    loop {
        let page = graph
            .instagram_comments(post, token, account, after)
            .await?;
        after = page.next_cursor();
        for top in page.data {
            let top_id = top.id.clone();
            out.push(to_listed(top, None));
            let mut reply_after = None;
            loop {
                let replies = graph
                    .instagram_comment_replies(&top_id, token, account, reply_after)
                    .await?;
                reply_after = replies.next_cursor();
                out.extend(
                    replies
                        .data
                        .into_iter()
                        .map(|r| to_listed(r, Some(top_id.clone()))),
                );
                if reply_after.is_none() {
                    break;
                }
            }
        }
        if after.is_none() {
            return Ok(out);
        }
    }
}

/// Records one post and its comments; the sync's position moves past it in the same
/// transaction.
fn record_post(
    conn: &mut PgConnection,
    channel: &Channel,
    sync: i64,
    post: &PostDetails,
    listed: &[Listed],
) -> QueryResult<()> {
    let (tenant, channel_id) = (channel.tenant_id, channel.id);
    let rules_from = Utc::now() - Duration::hours(RULES_ON_BACKFILL_HOURS);
    let empty = serde_json::json!({});
    conn.transaction(|conn| {
        comment_posts::save(conn, tenant, channel_id, post)?;
        for c in listed {
            comments::record_change(
                conn,
                tenant,
                channel_id,
                &CommentChange {
                    comment_id: &c.id,
                    post_id: Some(&post.platform_post_id),
                    parent_id: c.parent.as_deref(),
                    author_id: c.author_id.as_deref(),
                    author_name: c.author_name.as_deref(),
                    text: c.text.as_deref(),
                    at: c.at,
                    from_business: c.from_business,
                    extra: &empty,
                    // What Meta shows now is the truth about hiding.
                    action: if c.hidden {
                        CommentAction::Hide
                    } else {
                        CommentAction::Unhide
                    },
                },
            )?;
            if c.at >= rules_from {
                crate::comments::auto::on_new_comment(conn, channel, &c.id)?;
            } else {
                crate::models::moderation_rules::claim(
                    conn,
                    tenant,
                    channel_id,
                    channel.platform,
                    &c.id,
                )?;
            }
        }
        // Replies are listed before the comments they answer (newest first): mark those last.
        for c in listed.iter().filter(|c| c.from_business) {
            if let Some(parent) = &c.parent {
                comments::mark_replied_publicly(conn, tenant, channel_id, parent)?;
            }
        }
        comment_syncs::post_done(conn, sync, i32::try_from(listed.len()).unwrap_or(i32::MAX))
    })
}

/// Job `sync_comments`: reads one page of posts of a sync and their comments, then queues
/// itself for the next page.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SyncComments {
    pub sync_id: i64,
}

impl Job for SyncComments {
    const KIND: &'static str = "sync_comments";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.sync_id;
        let found = crate::db::run(&state.pool, move |conn| {
            let Some(sync) = comment_syncs::get(conn, tenant, id)? else {
                return Ok(None);
            };
            let channel = channels::get(conn, tenant, sync.channel_id)?;
            Ok(Some((sync, channel)))
        })
        .await?;
        let Some((sync, channel)) = found.filter(|(s, _)| s.state == RunState::Running) else {
            return Ok(()); // finished already
        };
        let stop = |why: String| async move {
            crate::db::run(&state.pool, move |conn| {
                Ok(comment_syncs::finish(conn, id, Some(&why))?)
            })
            .await
            .map_err(JobError::from)
        };
        let Some(channel) = channel.filter(|c| c.is_connected()) else {
            return stop("The channel is disconnected.".into()).await;
        };
        let token = match open_token(&state.cipher, &channel) {
            Ok(token) => token,
            Err(e) => return stop(format!("The channel's token cannot be used: {e}")).await,
        };
        let channel_ref = &channel;
        let failed = |e: GraphError| async move {
            if e.is_retryable() {
                return Err(JobError::retry("syncing comments", e));
            }
            let _ = health::record_graph_failure(state, channel_ref, &e).await;
            stop(e.describe()).await
        };
        let (posts, next) =
            match list_posts(state, &channel, &token, sync.page_cursor.clone()).await {
                Ok(page) => page,
                Err(e) => return failed(e).await,
            };
        let page_len = posts.len();
        let in_scope: Vec<PostDetails> = posts
            .into_iter()
            .filter(|p| p.posted_at.is_none_or(|t| t >= sync.since))
            .take(usize::try_from(MAX_POSTS - (sync.posts_done - sync.page_done)).unwrap_or(0))
            .collect();
        let before_page = sync.posts_done - sync.page_done;
        let listed_so_far = before_page + i32::try_from(in_scope.len()).unwrap_or(i32::MAX);
        let last_page = next.is_none() || in_scope.len() < page_len || listed_so_far >= MAX_POSTS;
        crate::db::run(&state.pool, move |conn| {
            Ok(comment_syncs::listed(conn, id, listed_so_far, last_page)?)
        })
        .await?;
        let skip = usize::try_from(sync.page_done).unwrap_or(0);
        for post in in_scope.into_iter().skip(skip) {
            let listed = match list_comments(state, &channel, &token, &post.platform_post_id).await
            {
                Ok(listed) => listed,
                Err(e) => return failed(e).await,
            };
            let channel = channel.clone();
            crate::db::run(&state.pool, move |conn| {
                Ok(record_post(conn, &channel, id, &post, &listed)?)
            })
            .await?;
        }
        crate::db::run(&state.pool, move |conn| {
            match next.filter(|_| !last_page) {
                Some(cursor) => {
                    comment_syncs::next_page(conn, id, &cursor)?;
                    enqueue(conn, tenant, id, listed_so_far)?;
                }
                None => comment_syncs::finish(conn, id, None)?,
            }
            Ok(())
        })
        .await?;
        Ok(())
    }
}
