//! Messages (the parts the services outside `webhooks::apply` need).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Text};

use crate::db::ids::{ChannelId, ConversationId, MessageId, TenantId, UserId};
use crate::db::schema::messages;
use crate::db::statuses::MessageStatus;
use crate::models::attachments::{self, Attachment, Stored};
use crate::models::sql::coalesce_text;

/// A message's attachments and channel, scoped by tenant.
pub fn attachments(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: MessageId,
) -> QueryResult<Option<(ChannelId, Vec<Attachment>)>> {
    messages::table
        .filter(messages::tenant_id.eq(tenant))
        .filter(messages::id.eq(id))
        .select((messages::channel_id, messages::attachments))
        .first::<(i64, serde_json::Value)>(conn)
        .optional()
        .map(|r| r.map(|(c, a)| (ChannelId(c), attachments::from_stored(&a))))
}

/// Records where attachment `index` of a message was stored (or why it was not).
pub fn set_attachment_stored(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: MessageId,
    index: i32,
    stored: &Stored,
) -> QueryResult<()> {
    let stored = serde_json::to_value(stored).unwrap_or(serde_json::Value::Null);
    diesel::sql_query(
        "UPDATE messages SET attachments = jsonb_set(attachments, ARRAY[$3::text, 'stored'], $4)
          WHERE tenant_id = $1 AND id = $2 AND jsonb_array_length(attachments) > $3",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(id)
    .bind::<Integer, _>(index)
    .bind::<Jsonb, _>(&stored)
    .execute(conn)
    .map(|_| ())
}

/// Deletes rows that echo the message `mid` other than `keep` (an echo stored before Meta
/// answered the send that created `keep`).
pub fn delete_echo_copies(
    conn: &mut PgConnection,
    channel: ChannelId,
    mid: &str,
    keep: MessageId,
) -> QueryResult<usize> {
    diesel::delete(
        messages::table
            .filter(messages::channel_id.eq(channel))
            .filter(messages::platform_message_id.eq(mid))
            .filter(messages::id.ne(keep))
            .filter(messages::is_echo.eq(true)),
    )
    .execute(conn)
}

/// Records the id Meta gave a message Parley sent: `sent` unless a receipt already moved it on.
/// Raw SQL: COALESCE and CASE over the row's own values, in one statement.
pub fn record_sent(
    conn: &mut PgConnection,
    channel: ChannelId,
    id: MessageId,
    mid: &str,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE messages SET platform_message_id = COALESCE(platform_message_id, $3),
                status = CASE WHEN status IN ('sending', 'failed') THEN 'sent' ELSE status END,
                status_at = now(), error = NULL
          WHERE id = $1 AND channel_id = $2",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(channel.0)
    .bind::<Text, _>(mid)
    .execute(conn)
}

/// A message just marked sent takes the receipts its conversation's watermarks already passed.
/// Raw SQL: an UPDATE joined with its conversation (diesel has no UPDATE … FROM).
pub fn catch_up_with_watermarks(conn: &mut PgConnection, id: MessageId) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE messages m SET status = CASE WHEN v.read_watermark >= m.sent_at THEN 'read' ELSE 'delivered' END
           FROM conversations v WHERE m.id = $1 AND v.id = m.conversation_id AND m.status = 'sent'
            AND (v.read_watermark >= m.sent_at OR v.delivered_watermark >= m.sent_at)",
    )
    .bind::<BigInt, _>(id)
    .execute(conn)
}

/// A message as a webhook brought it, to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = messages)]
pub struct WebhookMessageRow<'a> {
    pub tenant_id: TenantId,
    pub conversation_id: ConversationId,
    pub channel_id: ChannelId,
    pub direction: &'a str,
    pub platform_message_id: Option<&'a str>,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub kind: &'a str,
    pub text: Option<&'a str>,
    pub attachments: serde_json::Value,
    pub reply_to_platform_id: Option<&'a str>,
    pub referral: Option<serde_json::Value>,
    pub extra: &'a serde_json::Value,
    pub is_echo: bool,
    pub status: MessageStatus,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Read from the Conversations API on connect (history), not delivered by a webhook.
    pub imported: bool,
}

/// Inserts a webhook's message; `None` when the channel already has a message with its mid
/// (a redelivery).
pub fn insert_from_webhook(
    conn: &mut PgConnection,
    row: &WebhookMessageRow<'_>,
) -> QueryResult<Option<MessageId>> {
    diesel::insert_into(messages::table)
        .values(row)
        .on_conflict((messages::channel_id, messages::platform_message_id))
        .filter_target(messages::platform_message_id.is_not_null())
        .do_nothing()
        .returning(messages::id)
        .get_result(conn)
        .optional()
}

/// Attaches Meta's id to a message Parley sent (its echo carried Parley's id); returns 0 when
/// the channel has no such message.
pub fn link_echo(
    conn: &mut PgConnection,
    channel: ChannelId,
    id: MessageId,
    mid: &str,
) -> QueryResult<usize> {
    diesel::update(
        messages::table
            .filter(messages::id.eq(id))
            .filter(messages::channel_id.eq(channel)),
    )
    .set(messages::platform_message_id.eq(coalesce_text(messages::platform_message_id, mid)))
    .execute(conn)
}

/// Attributes the conversation's business messages that name no sender to `user` (the demo's
/// seeded history, whose replies arrive as echoes, is shown as the team's work).
pub fn attribute_outbound(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    user: UserId,
) -> QueryResult<usize> {
    diesel::update(
        messages::table
            .filter(messages::tenant_id.eq(tenant))
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::direction.eq("outbound"))
            .filter(messages::sender_user_id.is_null()),
    )
    .set(messages::sender_user_id.eq(Some(user)))
    .execute(conn)
}
