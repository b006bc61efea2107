//! Agents' replies on their way to Meta: stored as `sending`, claimed once per attempt before
//! Meta is called, then recorded sent or failed (see `inbox::send` for the rules).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::ids::{ConversationId, MessageId, TenantId, UserId};
use crate::db::schema::{channels, contacts, conversations, messages as m};
use crate::db::statuses::MessageStatus;
use crate::models::channels::Platform;

/// Where a reply to a conversation goes, and what decides whether it may go now.
#[derive(Debug, Queryable)]
pub struct SendTarget {
    pub channel_id: i64,
    pub platform: Platform,
    pub channel_status: String,
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// The channel and window of the tenant's conversation.
pub fn target(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<Option<SendTarget>> {
    conversations::table
        .inner_join(channels::table)
        .filter(conversations::tenant_id.eq(tenant))
        .filter(conversations::id.eq(conversation))
        .select((
            conversations::channel_id,
            channels::platform,
            channels::status,
            conversations::last_inbound_at,
        ))
        .first(conn)
        .optional()
}

/// One part of a reply to store (`sending`, first attempt).
#[derive(Debug)]
pub struct NewReply<'a> {
    pub tenant: TenantId,
    pub conversation: ConversationId,
    pub channel: i64,
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub text: Option<&'a str>,
    pub attachments: &'a Value,
    pub extra: &'a Value,
    /// The agent who wrote it (none: an auto-moderation rule's private reply).
    pub author: Option<UserId>,
}

/// Stores a reply's part; returns its id.
pub fn insert_reply(conn: &mut PgConnection, reply: &NewReply<'_>) -> QueryResult<MessageId> {
    diesel::insert_into(m::table)
        .values((
            m::tenant_id.eq(reply.tenant),
            m::conversation_id.eq(reply.conversation),
            m::channel_id.eq(reply.channel),
            m::direction.eq("outbound"),
            m::sent_at.eq(reply.at),
            m::kind.eq(reply.kind),
            m::text.eq(reply.text),
            m::attachments.eq(reply.attachments),
            m::extra.eq(reply.extra),
            m::sender_user_id.eq(reply.author),
            m::status.eq(MessageStatus::Sending),
            m::send_attempts.eq(1),
        ))
        .returning(m::id)
        .get_result(conn)
}

/// Locks an agent's outbound message for a retry; its conversation and `extra`.
pub fn lock_for_retry(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: MessageId,
) -> QueryResult<Option<(ConversationId, Value)>> {
    m::table
        .filter(m::tenant_id.eq(tenant))
        .filter(m::id.eq(message))
        .filter(m::direction.eq("outbound"))
        .filter(m::is_echo.eq(false))
        .select((m::conversation_id, m::extra))
        .for_update()
        .first(conn)
        .optional()
}

/// Starts a new attempt of a failed message Meta never took (`extra_patch` is merged into its
/// `extra`); returns the attempt's number, or `None` when it is not such a message.
pub fn restart(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: MessageId,
    extra_patch: &Value,
) -> QueryResult<Option<i32>> {
    diesel::update(
        m::table
            .filter(m::tenant_id.eq(tenant))
            .filter(m::id.eq(message))
            .filter(m::status.eq(MessageStatus::Failed))
            .filter(m::platform_message_id.is_null()),
    )
    .set((
        m::status.eq(MessageStatus::Sending),
        m::error.eq(None::<Value>),
        m::send_started_at.eq(None::<DateTime<Utc>>),
        m::send_attempts.eq(m::send_attempts + 1),
        m::extra.eq(m::extra.concat(extra_patch)),
    ))
    .returning(m::send_attempts)
    .get_result(conn)
    .optional()
}

/// What the send job needs about a message.
#[derive(Debug, Clone, Queryable)]
pub struct PendingSend {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub channel_id: i64,
    pub status: MessageStatus,
    pub platform_message_id: Option<String>,
    pub send_started_at: Option<DateTime<Utc>>,
    pub text: Option<String>,
    pub attachments: Value,
    pub extra: Value,
    /// The customer's id on the platform.
    pub recipient: String,
}

/// Loads an outbound message the job is to send.
pub fn pending(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: MessageId,
) -> QueryResult<Option<PendingSend>> {
    m::table
        // Explicit ON: messages reference conversations by a composite key print-schema skips.
        .inner_join(conversations::table.on(conversations::id.eq(m::conversation_id)))
        .inner_join(contacts::table.on(contacts::id.eq(conversations::contact_id)))
        .filter(m::tenant_id.eq(tenant))
        .filter(m::id.eq(message))
        .filter(m::direction.eq("outbound"))
        .select((
            m::id,
            m::conversation_id,
            m::channel_id,
            m::status,
            m::platform_message_id,
            m::send_started_at,
            m::text,
            m::attachments,
            m::extra,
            contacts::platform_user_id,
        ))
        .first(conn)
        .optional()
}

/// The tenant's message, as a filter.
type TenantMessage = diesel::dsl::Filter<
    diesel::dsl::Filter<m::table, diesel::dsl::Eq<m::tenant_id, TenantId>>,
    diesel::dsl::Eq<m::id, MessageId>,
>;

/// The tenant's message while it is `sending`, as a filter.
type Sending = diesel::dsl::Filter<TenantMessage, diesel::dsl::Eq<m::status, MessageStatus>>;

/// The tenant's message `id` while it is `sending`, as a filter.
fn sending(tenant: TenantId, id: MessageId) -> Sending {
    m::table
        .filter(m::tenant_id.eq(tenant))
        .filter(m::id.eq(id))
        .filter(m::status.eq(MessageStatus::Sending))
}

/// Claims the current attempt: true when this run may call Meta.
pub fn claim(conn: &mut PgConnection, tenant: TenantId, message: MessageId) -> QueryResult<bool> {
    diesel::update(
        sending(tenant, message)
            .filter(m::send_started_at.is_null())
            .filter(m::platform_message_id.is_null()),
    )
    .set(m::send_started_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(|n| n == 1)
}

/// Gives the claim back when Meta certainly did not act (rate limit, transient error).
pub fn release(conn: &mut PgConnection, tenant: TenantId, message: MessageId) -> QueryResult<()> {
    diesel::update(sending(tenant, message))
        .set(m::send_started_at.eq(None::<DateTime<Utc>>))
        .execute(conn)
        .map(|_| ())
}

/// Records a failure with Meta's reason.
pub fn fail(
    conn: &mut PgConnection,
    tenant: TenantId,
    message: MessageId,
    error: &Value,
) -> QueryResult<()> {
    diesel::update(sending(tenant, message))
        .set((
            m::status.eq(MessageStatus::Failed),
            m::status_at.eq(diesel::dsl::now),
            m::error.eq(error),
        ))
        .execute(conn)
        .map(|_| ())
}
