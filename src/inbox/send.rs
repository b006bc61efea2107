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
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};
use serde_json::{Value, json};

use crate::db::ids::{ChannelId, MessageId, TenantId, UserId};
use crate::inbox::send_job::SendMessage;
use crate::inbox::uploads::OutboundMedia;
use crate::inbox::window::{SendMode, window};
use crate::inbox::{InboxError, actions};
use crate::jobs::job::Job;
use crate::jobs::queue;
use crate::models::channels::{self, Platform};
use crate::models::conversations::{self, ConversationChange};

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

#[derive(QueryableByName)]
struct Target {
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
    #[diesel(sql_type = Text)]
    platform: Platform,
    #[diesel(sql_type = Text)]
    channel_status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_inbound_at: Option<DateTime<Utc>>,
}

fn target(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
) -> Result<Target, InboxError> {
    diesel::sql_query(
        "SELECT c.channel_id, ch.platform, ch.status AS channel_status, c.last_inbound_at
           FROM conversations c JOIN channels ch ON ch.id = c.channel_id
          WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .get_result(conn)
    .optional()?
    .ok_or(InboxError::NotFound)
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
    let attachment = json!([media.attachment_json()]);
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
    conversation: i64,
    author: UserId,
    reply: &Reply,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, InboxError> {
    conn.transaction(|conn| {
        let t = target(conn, tenant, conversation)?;
        let mode = admit(&t, reply, now)?;
        let mut ids = Vec::new();
        for (i, out) in split(t.platform, reply).into_iter().enumerate() {
            // Keep the order of the parts even within one microsecond.
            let at = now + chrono::Duration::microseconds(i as i64);
            let id: i64 = diesel::sql_query(
                "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, sent_at, kind, text,
                                       attachments, extra, sender_user_id, status, send_attempts)
                 VALUES ($1, $2, $3, 'outbound', $4, $5, $6, $7, $8, $9, 'sending', 1) RETURNING id",
            )
            .bind::<BigInt, _>(tenant.0)
            .bind::<BigInt, _>(conversation)
            .bind::<BigInt, _>(t.channel_id)
            .bind::<Timestamptz, _>(at)
            .bind::<Text, _>(&out.kind)
            .bind::<Nullable<Text>, _>(&out.text)
            .bind::<Jsonb, _>(&out.attachments)
            .bind::<Jsonb, _>(json!({"send_mode": mode.as_str()}))
            .bind::<BigInt, _>(author.0)
            .get_result::<Id>(conn)?
            .id;
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

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

fn enqueue_send(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: i64,
    attempt: i32,
) -> QueryResult<()> {
    let job = SendMessage {
        message_id: MessageId(message),
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
    message: i64,
    now: DateTime<Utc>,
) -> Result<i64, InboxError> {
    conn.transaction(|conn| {
        #[derive(QueryableByName)]
        struct Failed {
            #[diesel(sql_type = BigInt)]
            conversation_id: i64,
            #[diesel(sql_type = Jsonb)]
            extra: Value,
        }
        let failed: Failed = diesel::sql_query(
            "SELECT conversation_id, extra FROM messages
              WHERE tenant_id = $1 AND id = $2 AND direction = 'outbound' AND NOT is_echo FOR UPDATE",
        )
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(message)
        .get_result(conn)
        .optional()?
        .ok_or(InboxError::NotFound)?;
        let t = target(conn, tenant, failed.conversation_id)?;
        let human_agent = failed.extra.get("send_mode").and_then(Value::as_str)
            == Some(SendMode::HumanAgent.as_str());
        let mode = admit_window(&t, human_agent, now)?;
        let attempt: Option<i32> = diesel::sql_query(
            "UPDATE messages SET status = 'sending', error = NULL, send_started_at = NULL,
                    send_attempts = send_attempts + 1, extra = extra || $3
              WHERE tenant_id = $1 AND id = $2 AND status = 'failed' AND platform_message_id IS NULL
              RETURNING send_attempts",
        )
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(message)
        .bind::<Jsonb, _>(json!({"send_mode": mode.as_str()}))
        .get_result::<Attempt>(conn)
        .optional()?
        .map(|a| a.send_attempts);
        let Some(attempt) = attempt else {
            return Err(InboxError::Invalid(
                "This message is already being sent or Meta has it; it cannot be sent again.".into(),
            ));
        };
        enqueue_send(conn, tenant, message, attempt)?;
        actions::notify(conn, tenant, failed.conversation_id)?;
        Ok(failed.conversation_id)
    })
}

#[derive(QueryableByName)]
struct Attempt {
    #[diesel(sql_type = Integer)]
    send_attempts: i32,
}

/// What the send job needs about a message.
#[derive(Debug, Clone, QueryableByName)]
pub struct PendingSend {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    pub channel_id: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub platform_message_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub send_started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub text: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub attachments: Value,
    #[diesel(sql_type = Jsonb)]
    pub extra: Value,
    #[diesel(sql_type = Text)]
    pub recipient: String,
}

/// Loads a message the job is to send.
pub fn pending(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: i64,
) -> QueryResult<Option<PendingSend>> {
    diesel::sql_query(
        "SELECT m.id, m.conversation_id, m.channel_id, m.status, m.platform_message_id, m.send_started_at,
                m.text, m.attachments, m.extra, ct.platform_user_id AS recipient
           FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id
          WHERE m.tenant_id = $1 AND m.id = $2 AND m.direction = 'outbound'",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(message)
    .get_result(conn)
    .optional()
}

/// Claims the current attempt: true when this run may call Meta.
pub fn claim(conn: &mut PgConnection, tenant: TenantId, message: i64) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE messages SET send_started_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status = 'sending' AND send_started_at IS NULL
            AND platform_message_id IS NULL",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(message)
    .execute(conn)
    .map(|n| n == 1)
}

/// Gives the claim back when Meta certainly did not act (rate limit, transient error).
pub fn release(conn: &mut PgConnection, tenant: TenantId, message: i64) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE messages SET send_started_at = NULL WHERE tenant_id = $1 AND id = $2 AND status = 'sending'",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(message)
    .execute(conn)
    .map(|_| ())
}

/// Records a failure with a reason for agents (and Meta's code when there is one).
pub fn fail(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: &PendingSend,
    error: &Value,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE messages SET status = 'failed', status_at = now(), error = $3
          WHERE tenant_id = $1 AND id = $2 AND status = 'sending'",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(message.id)
    .bind::<Jsonb, _>(error)
    .execute(conn)?;
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
