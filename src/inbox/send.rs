//! Outbound replies: the composer stores a message as `sending` and enqueues a job; the job paces
//! itself with the channel's limits, calls Meta once, and records sent or failed with Meta's reason.
//!
//! A send is never duplicated: each attempt is claimed in the database (`send_started_at`) before
//! Meta is called, so a job that runs again after a crash finds the claim and reports the outcome
//! as unknown instead of calling Meta a second time; an agent's retry is a new attempt only for a
//! message that failed and has no Meta id.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::ids::{ChannelId, ConversationId, MessageId, TenantId, UserId};
use crate::inbox::send_job::SendMessage;
use crate::inbox::uploads::OutboundMedia;
use crate::inbox::window::{SendMode, window};
use crate::inbox::{InboxError, actions};
use crate::jobs::job::Job;
use crate::jobs::queue;
use crate::models::channels::{self, Platform};
use crate::models::conversations::{self, ConversationChange};
use crate::models::{attachments, outbound};

/// Meta's text limits: 2,000 characters on Messenger/Instagram, 4,096 on WhatsApp.
pub fn max_text(platform: Platform) -> usize {
    match platform {
        Platform::Whatsapp => 4096,
        _ => 2000,
    }
}

/// What the agent asked to send.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub text: String,
    /// The "send as human agent" toggle (needed between 24 h and 7 days).
    pub human_agent: bool,
    pub attachment: Option<OutboundMedia>,
}

type Target = outbound::SendTarget;

fn target(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<Target, InboxError> {
    outbound::target(conn, tenant, conversation)?.ok_or(InboxError::NotFound)
}

/// Checks the channel and Meta's window for a send now; returns the mode to send with.
fn admit_window(t: &Target, human_agent: bool, now: DateTime<Utc>) -> Result<SendMode, InboxError> {
    if t.channel_status != "connected" {
        return Err(InboxError::Invalid(
            "This channel is disconnected. An admin must reconnect it on the Channels page before replies can be sent.".into(),
        ));
    }
    Ok(window(t.platform, t.last_inbound_at, now).mode_for(human_agent)?)
}

/// Checks the reply's content, then the channel and window.
fn admit(t: &Target, reply: &Reply, now: DateTime<Utc>) -> Result<SendMode, InboxError> {
    let text = reply.text.trim();
    if text.is_empty() && reply.attachment.is_none() {
        return Err(InboxError::Invalid(
            "Write a message or attach a file.".into(),
        ));
    }
    let max = max_text(t.platform);
    if text.chars().count() > max {
        return Err(InboxError::Invalid(format!(
            "{} messages are limited to {max} characters; this one has {}.",
            t.platform.label(),
            text.chars().count()
        )));
    }
    admit_window(t, reply.human_agent, now)
}

/// One message row to create: text, an attachment, or (WhatsApp media) an attachment with caption.
struct Outgoing {
    kind: String,
    text: Option<String>,
    attachments: Value,
}

fn split(platform: Platform, reply: &Reply) -> Vec<Outgoing> {
    let text = Some(reply.text.trim().to_string()).filter(|t| !t.is_empty());
    let Some(media) = &reply.attachment else {
        return vec![Outgoing {
            kind: "text".into(),
            text,
            attachments: json!([]),
        }];
    };
    let kind = crate::inbox::uploads::kind_of(&media.content_type).to_string();
    let attachment = attachments::to_stored(&[media.attachment()]);
    // WhatsApp images, videos and documents carry a caption; Messenger sends text separately.
    let captioned = platform == Platform::Whatsapp && kind != "audio";
    if captioned || text.is_none() {
        return vec![Outgoing {
            kind,
            text: if captioned { text } else { None },
            attachments: attachment,
        }];
    }
    vec![
        Outgoing {
            kind,
            text: None,
            attachments: attachment,
        },
        Outgoing {
            kind: "text".into(),
            text,
            attachments: json!([]),
        },
    ]
}

/// Stores the reply as `sending` (one or two messages) and enqueues the sends. Returns their ids.
pub fn compose(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    author: UserId,
    reply: &Reply,
    now: DateTime<Utc>,
) -> Result<Vec<MessageId>, InboxError> {
    conn.transaction(|conn| {
        let t = target(conn, tenant, conversation)?;
        let mode = admit(&t, reply, now)?;
        let mut ids = Vec::new();
        for (i, out) in split(t.platform, reply).into_iter().enumerate() {
            // Keep the order of the parts even within one microsecond.
            let at = now + chrono::Duration::microseconds(i as i64);
            let extra = json!({"send_mode": mode.as_str()});
            let id = outbound::insert_reply(
                conn,
                &outbound::NewReply {
                    tenant,
                    conversation,
                    channel: t.channel_id,
                    at,
                    kind: &out.kind,
                    text: out.text.as_deref(),
                    attachments: &out.attachments,
                    extra: &extra,
                    author: Some(author),
                },
            )?;
            enqueue_send(conn, tenant, id, 1)?;
            // Replying reads the conversation for the team.
            conversations::apply_change(
                conn,
                conversation,
                ConversationChange::of_reply(at, out.text.as_deref(), &out.kind),
            )?;
            ids.push(id);
        }
        actions::notify(conn, tenant, conversation)?;
        Ok(ids)
    })
}

pub(crate) fn enqueue_send(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: MessageId,
    attempt: i32,
) -> QueryResult<()> {
    let job = SendMessage {
        message_id: message,
    };
    queue::enqueue(
        conn,
        &job.to_new_job()
            .for_tenant(tenant)
            .dedupe(format!("send:{message}:{attempt}")),
    )
    .map(|_| ())
}

/// An agent's retry of a failed message: a new attempt, unless Meta already has it or the window
/// has closed since.
pub fn retry(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: MessageId,
    now: DateTime<Utc>,
) -> Result<ConversationId, InboxError> {
    conn.transaction(|conn| {
        let (conversation_id, extra) =
            outbound::lock_for_retry(conn, tenant, message)?.ok_or(InboxError::NotFound)?;
        let t = target(conn, tenant, conversation_id)?;
        let human_agent =
            extra.get("send_mode").and_then(Value::as_str) == Some(SendMode::HumanAgent.as_str());
        let mode = admit_window(&t, human_agent, now)?;
        let attempt =
            outbound::restart(conn, tenant, message, &json!({"send_mode": mode.as_str()}))?;
        let Some(attempt) = attempt else {
            return Err(InboxError::Invalid(
                "This message is already being sent or Meta has it; it cannot be sent again."
                    .into(),
            ));
        };
        enqueue_send(conn, tenant, message, attempt)?;
        actions::notify(conn, tenant, conversation_id)?;
        Ok(conversation_id)
    })
}

pub use crate::models::outbound::{PendingSend, claim, pending, release};

/// Records a failure with a reason for agents (and Meta's code when there is one).
pub fn fail(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: &PendingSend,
    error: &Value,
) -> QueryResult<()> {
    outbound::fail(conn, tenant, message.id, error)?;
    actions::notify(conn, tenant, message.conversation_id)
}

/// Records Meta's id for a sent message and applies any receipts that were waiting for it.
pub fn succeed(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: &PendingSend,
    platform_message_id: &str,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        let Some(channel) = channels::get(conn, tenant, ChannelId(message.channel_id))? else {
            return Ok(());
        };
        crate::webhooks::message_events::link_sent(
            conn,
            &channel,
            message.id,
            platform_message_id,
        )?;
        actions::notify(conn, tenant, message.conversation_id)
    })
}

/// How long the job waits in-process for the channel's rate limit before handing the job back.
pub const MAX_PACING_WAIT: StdDuration = StdDuration::from_secs(5);
