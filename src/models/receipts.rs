//! What happens to a message after it is stored: statuses and read receipts (which only move an
//! outbound message forward), reactions, edits and unsends, and the events parked for a message
//! Parley has not stored yet.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::ids::{ChannelId, ConversationId, MessageId, TenantId};
use crate::db::schema::{message_reactions, messages as m, pending_message_events as parked};
use crate::db::statuses::MessageStatus;

const OUTBOUND: &str = "outbound";

/// The message Meta calls `mid` on the channel: its id and conversation.
pub fn find_by_mid(
    conn: &mut PgConnection,
    channel: ChannelId,
    mid: &str,
) -> QueryResult<Option<(MessageId, ConversationId)>> {
    m::table
        .filter(m::channel_id.eq(channel))
        .filter(m::platform_message_id.eq(mid))
        .select((m::id, m::conversation_id))
        .first(conn)
        .optional()
}

/// Parks an event (its typed form as JSON) until the message `mid` arrives.
pub fn park(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    mid: &str,
    event: &Value,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(parked::table)
        .values((
            parked::tenant_id.eq(tenant),
            parked::channel_id.eq(channel),
            parked::platform_message_id.eq(mid),
            parked::event.eq(event),
            parked::occurred_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Takes the events parked for `mid`, oldest first.
pub fn take_parked(
    conn: &mut PgConnection,
    channel: ChannelId,
    mid: &str,
) -> QueryResult<Vec<(Value, DateTime<Utc>)>> {
    let mut events: Vec<(Value, DateTime<Utc>)> = diesel::delete(
        parked::table
            .filter(parked::channel_id.eq(channel))
            .filter(parked::platform_message_id.eq(mid)),
    )
    .returning((parked::event, parked::occurred_at))
    .get_results(conn)?;
    events.sort_by_key(|(_, at)| *at);
    Ok(events)
}

/// Meta could not deliver an outbound message (unless it was already read).
pub fn fail(
    conn: &mut PgConnection,
    id: MessageId,
    at: DateTime<Utc>,
    errors: Option<&Value>,
) -> QueryResult<()> {
    diesel::update(
        m::table
            .filter(m::id.eq(id))
            .filter(m::direction.eq(OUTBOUND))
            .filter(m::status.ne(MessageStatus::Read)),
    )
    .set((
        m::status.eq(MessageStatus::Failed),
        m::status_at.eq(at),
        m::error.eq(errors),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Moves an outbound message forward to `status` (never backwards, never out of `failed`).
pub fn advance(
    conn: &mut PgConnection,
    id: MessageId,
    status: MessageStatus,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        m::table
            .filter(m::id.eq(id))
            .filter(m::direction.eq(OUTBOUND))
            .filter(m::status.eq_any(status.before())),
    )
    .set((m::status.eq(status), m::status_at.eq(at)))
    .execute(conn)
    .map(|_| ())
}

/// Outbound messages of a conversation sent up to `watermark` move forward to `status`.
pub fn advance_upto(
    conn: &mut PgConnection,
    conversation: ConversationId,
    watermark: DateTime<Utc>,
    status: MessageStatus,
) -> QueryResult<usize> {
    // Only sent messages take receipts: `sending` ones have no id Meta could acknowledge yet.
    let from: &[MessageStatus] = if status == MessageStatus::Read {
        &[MessageStatus::Sent, MessageStatus::Delivered]
    } else {
        &[MessageStatus::Sent]
    };
    diesel::update(
        m::table
            .filter(m::conversation_id.eq(conversation))
            .filter(m::direction.eq(OUTBOUND))
            .filter(m::sent_at.le(watermark))
            .filter(m::status.eq_any(from)),
    )
    .set((m::status.eq(status), m::status_at.eq(watermark)))
    .execute(conn)
}

/// Instagram's `read{mid}`: that outbound message and every earlier one of its conversation.
pub fn read_through(conn: &mut PgConnection, id: MessageId, at: DateTime<Utc>) -> QueryResult<()> {
    let Some((conversation, sent_at)) = m::table
        .filter(m::id.eq(id))
        .select((m::conversation_id, m::sent_at))
        .first::<(ConversationId, DateTime<Utc>)>(conn)
        .optional()?
    else {
        return Ok(());
    };
    diesel::update(
        m::table
            .filter(m::conversation_id.eq(conversation))
            .filter(m::direction.eq(OUTBOUND))
            .filter(m::sent_at.le(sent_at))
            .filter(m::status.eq_any([MessageStatus::Sent, MessageStatus::Delivered])),
    )
    .set((m::status.eq(MessageStatus::Read), m::status_at.eq(at)))
    .execute(conn)
    .map(|_| ())
}

/// Who reacted: the customer or the business.
pub fn reactor(by_business: bool) -> &'static str {
    if by_business { "business" } else { "customer" }
}

/// Sets (or replaces) a reactor's reaction, unless a newer one is already recorded.
/// Raw SQL: diesel's `ON CONFLICT DO UPDATE` has no `WHERE` to keep the newer reaction.
pub fn react(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: MessageId,
    by_business: bool,
    emoji: &str,
    reaction: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
    diesel::sql_query(
        "INSERT INTO message_reactions (tenant_id, message_id, reactor, emoji, reaction, reacted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (message_id, reactor) DO UPDATE
            SET emoji = EXCLUDED.emoji, reaction = EXCLUDED.reaction, reacted_at = EXCLUDED.reacted_at
          WHERE message_reactions.reacted_at <= EXCLUDED.reacted_at",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(reactor(by_business))
    .bind::<Text, _>(emoji)
    .bind::<Nullable<Text>, _>(reaction)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .map(|_| ())
}

/// Takes a reactor's reaction away (unless it was set after `at`).
pub fn unreact(
    conn: &mut PgConnection,
    id: MessageId,
    by_business: bool,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(
        message_reactions::table
            .filter(message_reactions::message_id.eq(id))
            .filter(message_reactions::reactor.eq(reactor(by_business)))
            .filter(message_reactions::reacted_at.le(at)),
    )
    .execute(conn)
    .map(|_| ())
}

/// An edit newer than the last one seen: the new text (when Meta sent one) and the count.
pub fn edit(
    conn: &mut PgConnection,
    id: MessageId,
    text: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let target = m::table
        .filter(m::id.eq(id))
        .filter(m::edited_at.is_null().or(m::edited_at.lt(at)));
    let counted = (m::edited_at.eq(at), m::edit_count.eq(m::edit_count + 1));
    match text {
        Some(text) => diesel::update(target)
            .set((m::text.eq(text), counted))
            .execute(conn),
        None => diesel::update(target).set(counted).execute(conn),
    }
    .map(|_| ())
}

/// The sender unsent the message: it shows as removed from the first time Meta said so.
pub fn unsend(conn: &mut PgConnection, id: MessageId, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        m::table
            .filter(m::id.eq(id))
            .filter(m::deleted_at.is_null()),
    )
    .set(m::deleted_at.eq(at))
    .execute(conn)
    .map(|_| ())
}

/// The business's current reaction to a message, if any (what a reaction job makes Meta show).
pub fn business_reaction(conn: &mut PgConnection, id: MessageId) -> QueryResult<Option<String>> {
    message_reactions::table
        .filter(message_reactions::message_id.eq(id))
        .filter(message_reactions::reactor.eq(reactor(true)))
        .select(message_reactions::emoji)
        .first(conn)
        .optional()
}
