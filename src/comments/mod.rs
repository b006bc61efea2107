//! Comment moderation: the rules a request must pass before anything is asked of Meta (from a
//! moderator or an auto-moderation rule), the job that carries an action out, and the rules
//! themselves.

pub mod auto;
pub mod bulk;
mod job;
pub mod live;
pub mod mentions;
pub mod posts;
pub mod private_reply;
pub mod rules;
pub mod sync;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::DbError;
use crate::db::ids::{ChannelId, CommentId, TenantId, UserId};
use crate::db::statuses::{ActionState, ModerationAction};
use crate::models::channels::Platform;
use crate::models::comment_actions;

pub use job::ModerateComment;

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

/// Who asked for a moderation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    /// An auto-moderation rule (its id).
    Rule(i64),
    /// A moderator's bulk run (its id).
    Bulk {
        user: UserId,
        run: i64,
    },
}

/// Records an action refused before any call as failed, with the reason: a rule or a bulk run
/// (which nobody watches as it happens) leaves it visible in the queue and the log.
pub fn record_refusal(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    action: ModerationAction,
    actor: Actor,
    why: &str,
) -> QueryResult<()> {
    let id = comment_actions::insert(conn, tenant, comment, action, None, actor)?;
    comment_actions::fail(conn, tenant, id, why)
}

/// The longest reply Parley sends, public or private (Meta's Send API limit for text).
pub const MAX_REPLY_CHARS: usize = 2000;

/// How long after a comment Meta accepts a private reply to it.
pub const PRIVATE_REPLY_DAYS: i64 = 7;

impl ModerationAction {
    /// Whether the action carries a text.
    pub fn needs_text(self) -> bool {
        matches!(
            self,
            ModerationAction::Reply | ModerationAction::PrivateReply
        )
    }

    /// The action's name for people.
    pub fn label(self) -> &'static str {
        match self {
            ModerationAction::Hide => "hide",
            ModerationAction::Unhide => "unhide",
            ModerationAction::Delete => "delete",
            ModerationAction::Reply => "public reply",
            ModerationAction::PrivateReply => "private reply",
            ModerationAction::Like => "like",
        }
    }

    /// The chip a pending action shows.
    pub fn pending_label(self) -> &'static str {
        match self {
            ModerationAction::Hide => "hiding…",
            ModerationAction::Unhide => "unhiding…",
            ModerationAction::Delete => "deleting…",
            ModerationAction::Reply => "replying…",
            ModerationAction::PrivateReply => "replying privately…",
            ModerationAction::Like => "liking…",
        }
    }

    /// The confirmation shown when the action was queued.
    pub fn queued_message(self) -> &'static str {
        match self {
            ModerationAction::Hide => "Hiding the comment at Meta…",
            ModerationAction::Unhide => "Unhiding the comment at Meta…",
            ModerationAction::Delete => "Deleting the comment at Meta…",
            ModerationAction::Reply => "Replying at Meta…",
            ModerationAction::PrivateReply => "Sending the private reply…",
            ModerationAction::Like => "Liking the comment at Meta…",
        }
    }
}

/// What the checks need to know about a comment.
#[derive(Debug, Queryable)]
struct Facts {
    hidden: bool,
    deleted: bool,
    from_business: bool,
    channel: ChannelId,
    commented_at: DateTime<Utc>,
    replied_privately: bool,
    liked: bool,
    extra: serde_json::Value,
}

/// Why Meta would refuse `action` on the comment, checked before asking it.
fn refusal(
    action: ModerationAction,
    f: &Facts,
    platform: Platform,
    now: DateTime<Utc>,
) -> Option<String> {
    if f.deleted {
        return Some("This comment was deleted; there is nothing left to moderate.".into());
    }
    // Instagram mentions are comments on someone else's media: the business may only reply.
    let mention = f.extra.get("mention").and_then(serde_json::Value::as_bool) == Some(true);
    let hides = matches!(action, ModerationAction::Hide | ModerationAction::Unhide);
    match action {
        ModerationAction::Hide if f.hidden => Some("This comment is already hidden.".into()),
        ModerationAction::Unhide if !f.hidden => Some("This comment is not hidden.".into()),
        _ if mention && (hides || action == ModerationAction::Delete) => Some(
            "This comment is on someone else's Instagram media (it mentions you): Instagram lets you reply to it, not hide or delete it.".into(),
        ),
        _ if f.from_business && platform == Platform::Messenger && hides => {
            Some("Facebook does not let a Page hide or unhide its own comments.".into())
        }
        ModerationAction::PrivateReply if f.from_business => {
            Some("This is your own comment; there is nobody to reply to privately.".into())
        }
        ModerationAction::PrivateReply if f.replied_privately => Some(
            "A private reply was already sent to this comment; Meta allows only one.".into(),
        ),
        ModerationAction::PrivateReply if now - f.commented_at > Duration::days(PRIVATE_REPLY_DAYS) => Some(format!(
            "Private replies are only possible within {PRIVATE_REPLY_DAYS} days of the comment; reply publicly instead."
        )),
        ModerationAction::Like if platform != Platform::Messenger => {
            Some("Instagram does not let a business like comments through its API.".into())
        }
        ModerationAction::Like if f.liked => Some("You already like this comment.".into()),
        _ => None,
    }
}

/// Asks for `action` on the tenant's comment: checked against the comment's state and Meta's
/// rules first, then recorded as pending with the job that carries it out (one transaction).
/// Returns the action's id.
pub fn request(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    action: ModerationAction,
    message: Option<&str>,
    actor: Actor,
) -> Result<i64, CommentError> {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    if action.needs_text() {
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
        let facts: Facts = c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::id.eq(comment))
            .select((
                c::hidden,
                c::deleted_at.is_not_null(),
                c::from_business,
                c::channel_id,
                c::commented_at,
                c::replied_privately_at.is_not_null(),
                c::liked_at.is_not_null(),
                c::extra,
            ))
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(CommentError::NotFound)?;
        let platform: Platform = ch::table
            .filter(ch::id.eq(facts.channel))
            .select(ch::platform)
            .first(conn)?;
        if let Some(why) = refusal(action, &facts, platform, Utc::now()) {
            return Err(CommentError::Refused(why));
        }
        let latest = comment_actions::latest(conn, tenant, &[comment])?;
        if latest
            .get(&comment)
            .is_some_and(|a| a.state == ActionState::Pending)
        {
            return Err(CommentError::Refused(
                "An action on this comment is already on its way to Meta.".into(),
            ));
        }
        let id = comment_actions::insert(conn, tenant, comment, action, message, actor)?;
        crate::jobs::queue::enqueue(
            conn,
            &crate::jobs::job::Job::to_new_job(&ModerateComment { action_id: id })
                .for_tenant(tenant)
                .dedupe(format!("comment-action:{id}")),
        )?;
        live::notify(conn, tenant, comment)?;
        Ok(id)
    })
}

/// Undoes a hide of the tenant's comment: a hide still waiting for the queue is cancelled
/// (Meta is never asked); a hide Meta carried out is reversed with an unhide.
pub fn undo_hide(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    user: UserId,
) -> Result<(), CommentError> {
    let cancelled = conn.transaction(|conn| {
        let latest = comment_actions::latest(conn, tenant, &[comment])?;
        match latest.get(&comment) {
            Some(a) if a.action == ModerationAction::Hide && a.state == ActionState::Pending => {
                comment_actions::fail(conn, tenant, a.id, "Undone before it reached Meta.")?;
                live::notify(conn, tenant, comment)?;
                Ok::<_, CommentError>(true)
            }
            _ => Ok(false),
        }
    })?;
    if cancelled {
        return Ok(());
    }
    request(
        conn,
        tenant,
        comment,
        ModerationAction::Unhide,
        None,
        Actor::User(user),
    )
    .map(|_| ())
}
