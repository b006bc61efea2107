//! One conversation's thread: messages in platform-time order (newest page first, earlier pages
//! by keyset), with quoted replies, reactions, senders and private notes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz};
use serde_json::Value;

use crate::db::ids::{ConversationId, TenantId};
use crate::inbox::list::Cursor;

/// A message as the thread shows it.
#[derive(Debug, Clone, QueryableByName)]
pub struct ThreadMessage {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub direction: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub platform_message_id: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub sent_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub text: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub attachments: Value,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub referral: Option<Value>,
    #[diesel(sql_type = Jsonb)]
    pub extra: Value,
    #[diesel(sql_type = Bool)]
    pub is_echo: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub sender_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub error: Option<Value>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deleted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub edited_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Integer)]
    pub send_attempts: i32,
    /// Read from Meta's history when the channel was connected.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub imported: bool,
    /// The text (or kind) of the message this one replies to, when Parley has it.
    #[diesel(sql_type = Nullable<Text>)]
    pub quoted: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reply_to_platform_id: Option<String>,
    /// `[{"reactor": "customer"|"business", "emoji": "…"}]`
    #[diesel(sql_type = Jsonb)]
    pub reactions: Value,
}

/// A private note in the thread.
#[derive(Debug, Clone, QueryableByName)]
pub struct Note {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub author_name: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// The newest messages of a conversation (or those before `before`), oldest first, and the
/// cursor of an earlier page when there is one.
pub struct ThreadPage {
    pub messages: Vec<ThreadMessage>,
    pub notes: Vec<Note>,
    pub earlier: Option<Cursor>,
}

const SELECT: &str = "SELECT m.id, m.direction, m.platform_message_id, m.sent_at, m.kind, m.text, m.attachments,
        m.referral, m.extra, m.is_echo, u.display_name AS sender_name, m.status, m.error, m.deleted_at,
        m.edited_at, m.send_attempts, m.imported, m.reply_to_platform_id,
        (SELECT COALESCE(r.text, '[' || replace(r.kind, '_', ' ') || ']') FROM messages r
          WHERE r.channel_id = m.channel_id AND r.platform_message_id = m.reply_to_platform_id) AS quoted,
        COALESCE((SELECT jsonb_agg(jsonb_build_object('reactor', x.reactor, 'emoji', x.emoji) ORDER BY x.reacted_at)
                    FROM message_reactions x WHERE x.message_id = m.id), '[]'::jsonb) AS reactions
   FROM messages m LEFT JOIN users u ON u.id = m.sender_user_id
  WHERE m.tenant_id = $1 AND m.conversation_id = $2";

/// A page of `conversation`'s thread, scoped by tenant.
pub fn page(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    before: Option<Cursor>,
    limit: i64,
) -> QueryResult<ThreadPage> {
    let mut messages: Vec<ThreadMessage> = match before {
        None => diesel::sql_query(format!(
            "{SELECT} ORDER BY m.sent_at DESC, m.id DESC LIMIT $3"
        ))
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(conversation)
        .bind::<BigInt, _>(limit + 1)
        .load(conn)?,
        Some(c) => diesel::sql_query(format!(
            "{SELECT} AND (m.sent_at, m.id) < ($4, $5) ORDER BY m.sent_at DESC, m.id DESC LIMIT $3"
        ))
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(conversation)
        .bind::<BigInt, _>(limit + 1)
        .bind::<Timestamptz, _>(c.at)
        .bind::<BigInt, _>(c.id)
        .load(conn)?,
    };
    let earlier = if messages.len() as i64 > limit {
        messages.truncate(limit as usize);
        messages.last().map(|m| Cursor {
            at: m.sent_at,
            id: m.id,
        })
    } else {
        None
    };
    messages.reverse();
    // Notes between the first message shown and the end of this page (all of them when the
    // page reaches the start of the conversation).
    let from = earlier.and_then(|_| messages.first().map(|m| m.sent_at));
    let to = before.map(|c| c.at);
    let notes = diesel::sql_query(
        "SELECT n.id, n.body, u.display_name AS author_name, n.created_at
           FROM conversation_notes n LEFT JOIN users u ON u.id = n.author_id
          WHERE n.tenant_id = $1 AND n.conversation_id = $2
            AND ($3::timestamptz IS NULL OR n.created_at >= $3)
            AND ($4::timestamptz IS NULL OR n.created_at < $4)
          ORDER BY n.created_at, n.id",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .load(conn)?;
    Ok(ThreadPage {
        messages,
        notes,
        earlier,
    })
}

/// One message as the thread shows it (for live updates of a single bubble).
pub fn message(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    id: i64,
) -> QueryResult<Option<ThreadMessage>> {
    diesel::sql_query(format!("{SELECT} AND m.id = $3"))
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(conversation)
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .optional()
}
