//! The job that carries one moderation action out at Meta, under the channel's limits.

use serde::{Deserialize, Serialize};

use crate::channels::{health, open_token};
use crate::comments::{live, private_reply};
use crate::db::statuses::ModerationAction;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::error::GraphErrorKind;
use crate::meta::messaging::{OutgoingMessage, Recipient, SendRequest};
use crate::models::channels::{self, Platform};
use crate::models::comment_actions;
use crate::state::AppState;

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
        let comment = action.comment_id;
        let give_up = |why: String| async move {
            crate::db::run(&state.pool, move |conn| {
                comment_actions::fail(conn, tenant, id, &why)?;
                Ok(live::notify(conn, tenant, comment)?)
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
        let comment_id = target.platform_comment_id.as_str();
        let account = channel.platform_id.as_str();
        let text = action.message.clone().unwrap_or_default();
        let graph = &state.graph;
        let mention = crate::comments::mentions::is_mention(&target.extra);
        let answer = match (action.action, channel.platform) {
            // A mention is on someone else's media: replies go through the account's mentions.
            (ModerationAction::Reply, Platform::Instagram) if mention => graph
                .reply_to_instagram_mention(
                    account,
                    target.post_id.as_deref().unwrap_or_default(),
                    comment_id,
                    &token,
                    &text,
                )
                .await
                .map(|_| None),
            (ModerationAction::Reply, Platform::Instagram) => graph
                .reply_to_instagram_comment(comment_id, &token, account, &text)
                .await
                .map(|_| None),
            (ModerationAction::Reply, _) => graph
                .reply_to_facebook_comment(comment_id, &token, account, &text)
                .await
                .map(|_| None),
            (ModerationAction::PrivateReply, _) => {
                let send = SendRequest {
                    recipient: Recipient::Comment {
                        comment_id: comment_id.to_string(),
                    },
                    messaging_type: None,
                    tag: None,
                    message: Some(OutgoingMessage {
                        text: Some(text.clone()),
                        ..Default::default()
                    }),
                    sender_action: None,
                };
                graph.send_message(account, &token, &send).await.map(Some)
            }
            (ModerationAction::Like, _) => graph
                .like_comment(comment_id, &token, account)
                .await
                .map(|_| None),
            (ModerationAction::Delete, _) => graph
                .delete_comment(comment_id, &token, account)
                .await
                .map(|_| None),
            (hide_or_unhide, Platform::Instagram) => graph
                .set_instagram_comment_hidden(
                    comment_id,
                    &token,
                    account,
                    hide_or_unhide == ModerationAction::Hide,
                )
                .await
                .map(|_| None),
            (hide_or_unhide, _) => graph
                .set_facebook_comment_hidden(
                    comment_id,
                    &token,
                    account,
                    hide_or_unhide == ModerationAction::Hide,
                )
                .await
                .map(|_| None),
        };
        match answer {
            Ok(sent) => {
                let channel_id = channel.id;
                crate::db::run(&state.pool, move |conn| {
                    match sent {
                        Some(sent) => private_reply::record(
                            conn, tenant, channel_id, &action, &target, &sent,
                        )?,
                        None => comment_actions::succeed(conn, tenant, &action)?,
                    }
                    Ok(live::notify(conn, tenant, comment)?)
                })
                .await?;
                Ok(())
            }
            // A reply is not repeated by itself: Meta may have posted it before failing to
            // answer, and a moderator can see the post and try again.
            Err(e) if e.is_retryable() && !action.action.needs_text() => {
                Err(JobError::retry("moderating a comment", e))
            }
            // Meta no longer has the comment: it was deleted there (by its author, or by
            // someone on Facebook or Instagram). A delete is then done; anything else is moot.
            Err(e)
                if e.kind == GraphErrorKind::NotFound
                    && action.action != ModerationAction::Like =>
            {
                crate::db::run(&state.pool, move |conn| {
                    comment_actions::gone_at_meta(conn, tenant, &action)?;
                    Ok(live::notify(conn, tenant, comment)?)
                })
                .await?;
                Ok(())
            }
            Err(e) => {
                let _ = health::record_graph_failure(state, &channel, &e).await;
                give_up(e.describe()).await
            }
        }
    }
}
