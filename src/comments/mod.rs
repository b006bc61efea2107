//! Comment moderation: the rules a moderator's request must pass before anything is asked of
//! Meta, and the job that carries an action out under the channel's limits.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::channels::{health, open_token};
use crate::db::DbError;
use crate::db::ids::{ChannelId, CommentId, TenantId, UserId};
use crate::db::statuses::{ActionState, ModerationAction};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::models::channels::{self, Platform};
use crate::models::comment_actions;
use crate::state::AppState;

/// Why a moderation request was refused.
#[derive(Debug, thiserror::Error)]
pub enum CommentError {
    #[error("not found")]
    NotFound,
    /// The comment's state or Meta's rules forbid it; the text is for the moderator.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CommentError {
    fn from(e: diesel::result::Error) -> Self {
        CommentError::Db(DbError::Query(e))
    }
}

/// The longest public reply Parley sends (Meta's comment limit is larger; a reply is short).
pub const MAX_REPLY_CHARS: usize = 2000;

/// Asks for `action` on the tenant's comment: checked against the comment's state and Meta's
/// rules first, then recorded as pending with the job that carries it out (one transaction).
pub fn request(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    action: ModerationAction,
    message: Option<&str>,
    user: UserId,
) -> Result<(), CommentError> {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    if action == ModerationAction::Reply {
        match message {
            None => return Err(CommentError::Refused("Write the reply first.".into())),
            Some(m) if m.chars().count() > MAX_REPLY_CHARS => {
                return Err(CommentError::Refused(format!(
                    "Replies are limited to {MAX_REPLY_CHARS} characters."
                )));
            }
            Some(_) => {}
        }
    }
    use crate::db::schema::{channels as ch, comments as c};
    conn.transaction(|conn| {
        // The comment's row, locked so two requests for it cannot both pass the checks below
        // (its channel's row is not: token checks and reconnects must not wait on moderation).
        let (hidden, deleted, from_business, channel): (bool, bool, bool, ChannelId) = c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::id.eq(comment))
            .select((
                c::hidden,
                c::deleted_at.is_not_null(),
                c::from_business,
                c::channel_id,
            ))
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(CommentError::NotFound)?;
        let platform: Platform = ch::table
            .filter(ch::id.eq(channel))
            .select(ch::platform)
            .first(conn)?;
        let refuse = |why: &str| Err(CommentError::Refused(why.to_string()));
        if deleted {
            return refuse("This comment was deleted; there is nothing left to moderate.");
        }
        match action {
            ModerationAction::Hide if hidden => return refuse("This comment is already hidden."),
            ModerationAction::Unhide if !hidden => return refuse("This comment is not hidden."),
            _ => {}
        }
        let hides = matches!(action, ModerationAction::Hide | ModerationAction::Unhide);
        if from_business && platform == Platform::Messenger && hides {
            return refuse("Facebook does not let a Page hide or unhide its own comments.");
        }
        let latest = comment_actions::latest(conn, tenant, &[comment])?;
        if latest
            .get(&comment)
            .is_some_and(|a| a.state == ActionState::Pending)
        {
            return refuse("An action on this comment is already on its way to Meta.");
        }
        let id = comment_actions::insert(conn, tenant, comment, action, message, user)?;
        crate::jobs::queue::enqueue(
            conn,
            &ModerateComment { action_id: id }
                .to_new_job()
                .for_tenant(tenant)
                .dedupe(format!("comment-action:{id}")),
        )?;
        Ok(())
    })
}

/// Job `moderate_comment`: carries out one pending moderation action at Meta.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ModerateComment {
    pub action_id: i64,
}

impl Job for ModerateComment {
    const KIND: &'static str = "moderate_comment";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.action_id;
        let found = crate::db::run(&state.pool, move |conn| {
            let Some((action, target)) = comment_actions::pending(conn, tenant, id)? else {
                return Ok(None);
            };
            let channel = channels::get(conn, tenant, target.channel_id)?;
            Ok(Some((action, target, channel)))
        })
        .await?;
        let Some((action, target, channel)) = found else {
            return Ok(()); // settled already (an earlier attempt)
        };
        let give_up = |why: String| async move {
            crate::db::run(&state.pool, move |conn| {
                Ok(comment_actions::fail(conn, tenant, id, &why)?)
            })
            .await
            .map_err(JobError::from)
        };
        let Some(channel) = channel.filter(|c| c.is_connected()) else {
            return give_up("The channel is disconnected; reconnect it, then try again.".into())
                .await;
        };
        if target.deleted_at.is_some() {
            return give_up("The comment was deleted meanwhile.".into()).await;
        }
        let token = match open_token(&state.cipher, &channel) {
            Ok(token) => token,
            Err(e) => return give_up(format!("The channel's token cannot be used: {e}")).await,
        };
        let hidden = action.action == ModerationAction::Hide;
        let comment_id = target.platform_comment_id.as_str();
        let reply = action.message.clone().unwrap_or_default();
        let answer = match channel.platform {
            _ if action.action == ModerationAction::Reply => match channel.platform {
                Platform::Instagram => state
                    .graph
                    .reply_to_instagram_comment(comment_id, &token, &channel.platform_id, &reply)
                    .await
                    .map(|_| ()),
                _ => state
                    .graph
                    .reply_to_facebook_comment(comment_id, &token, &channel.platform_id, &reply)
                    .await
                    .map(|_| ()),
            },
            _ if action.action == ModerationAction::Delete => {
                state
                    .graph
                    .delete_comment(comment_id, &token, &channel.platform_id)
                    .await
            }
            Platform::Instagram => {
                state
                    .graph
                    .set_instagram_comment_hidden(comment_id, &token, &channel.platform_id, hidden)
                    .await
            }
            _ => {
                state
                    .graph
                    .set_facebook_comment_hidden(comment_id, &token, &channel.platform_id, hidden)
                    .await
            }
        };
        match answer {
            Ok(()) => {
                crate::db::run(&state.pool, move |conn| {
                    Ok(comment_actions::succeed(conn, tenant, &action)?)
                })
                .await?;
                Ok(())
            }
            // A reply is not repeated by itself: Meta may have posted it before failing to
            // answer, and a moderator can see the post and try again.
            Err(e) if e.is_retryable() && action.action != ModerationAction::Reply => {
                Err(JobError::retry("moderating a comment", e))
            }
            Err(e) => {
                let _ = health::record_graph_failure(state, &channel, &e).await;
                give_up(e.describe()).await
            }
        }
    }
}
