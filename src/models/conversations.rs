//! Conversations: how a message changes its conversation. Webhook messages (one at a time or
//! in batches) and agents' replies all go through [`ConversationChange`] and [`apply_changes`],
//! so the list's preview, order, unread count and reopening follow one rule.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz};

use crate::db::ids::{ChannelId, ConversationId, TenantId, UserId};
use crate::db::schema::conversations as c;
use crate::db::statuses::ConversationStatus;
use crate::models::sql::greatest;

/// Characters of a message the list shows.
const PREVIEW_CHARS: usize = 140;

/// The list preview of a message: its text, or its kind in brackets (`[quick reply]`).
pub fn preview(text: Option<&str>, kind: &str) -> String {
    match text {
        Some(t) => t.chars().take(PREVIEW_CHARS).collect(),
        None => format!("[{}]", kind.replace('_', " ")),
    }
}

/// What some messages change on one conversation (or open a new one with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationChange {
    /// The newest message's time.
    pub last_at: DateTime<Utc>,
    /// The newest message's preview.
    pub preview: String,
    /// The newest customer message's time (the messaging window opens from it).
    pub inbound_at: Option<DateTime<Utc>>,
    /// Customer messages: each counts as unread and reopens a resolved or snoozed conversation.
    pub inbound: i32,
    /// A teammate replied: the conversation is read for the team.
    pub read: bool,
}

impl ConversationChange {
    /// The change one message makes.
    pub fn of_message(at: DateTime<Utc>, text: Option<&str>, kind: &str, inbound: bool) -> Self {
        ConversationChange {
            last_at: at,
            preview: preview(text, kind),
            inbound_at: inbound.then_some(at),
            inbound: i32::from(inbound),
            read: false,
        }
    }

    /// An agent's reply: newest message, and the conversation read.
    pub fn of_reply(at: DateTime<Utc>, text: Option<&str>, kind: &str) -> Self {
        ConversationChange {
            read: true,
            ..Self::of_message(at, text, kind, false)
        }
    }

    /// Adds one message to `change` (starting it if there is none yet).
    pub fn add(
        change: &mut Option<ConversationChange>,
        at: DateTime<Utc>,
        text: Option<&str>,
        kind: &str,
        inbound: bool,
    ) {
        let Some(current) = change else {
            *change = Some(Self::of_message(at, text, kind, inbound));
            return;
        };
        if at >= current.last_at {
            current.last_at = at;
            current.preview = preview(text, kind);
        }
        if inbound {
            current.inbound_at = current.inbound_at.max(Some(at));
            current.inbound += 1;
        }
    }
}

/// Applies the changes, one UPDATE for every conversation, each row changed once and in id
/// order (so concurrent batches lock rows in the same order). A change older than the
/// conversation's newest message leaves the preview alone.
/// Raw SQL: a set-based update from `unnest` arrays, which diesel's builder cannot express.
pub fn apply_changes(
    conn: &mut PgConnection,
    changes: HashMap<ConversationId, ConversationChange>,
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut changes: Vec<(ConversationId, ConversationChange)> = changes.into_iter().collect();
    changes.sort_unstable_by_key(|(id, _)| *id);
    diesel::sql_query(
        "UPDATE conversations v SET
           last_message_preview = CASE WHEN v.last_message_at IS NULL OR x.last_at >= v.last_message_at
                                       THEN x.preview ELSE v.last_message_preview END,
           last_message_at = GREATEST(v.last_message_at, x.last_at),
           last_inbound_at = GREATEST(v.last_inbound_at, x.inbound_at),
           unread_count = CASE WHEN x.read THEN 0 ELSE v.unread_count + x.inbound END,
           status = CASE WHEN x.inbound > 0 AND v.status IN ('resolved', 'snoozed') THEN 'open' ELSE v.status END,
           snoozed_until = CASE WHEN x.inbound > 0 THEN NULL ELSE v.snoozed_until END,
           updated_at = now()
          FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::timestamptz[], $5::int[], $6::bool[])
               AS x(id, last_at, preview, inbound_at, inbound, read)
         WHERE v.id = x.id",
    )
    .bind::<Array<BigInt>, _>(changes.iter().map(|c| c.0).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(changes.iter().map(|c| c.1.last_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(changes.iter().map(|c| &c.1.preview).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(
        changes.iter().map(|c| c.1.inbound_at).collect::<Vec<_>>(),
    )
    .bind::<Array<Integer>, _>(changes.iter().map(|c| c.1.inbound).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(changes.iter().map(|c| c.1.read).collect::<Vec<_>>())
    .execute(conn)
    .map(|_| ())
}

/// Applies one conversation's change.
pub fn apply_change(
    conn: &mut PgConnection,
    conversation: ConversationId,
    change: ConversationChange,
) -> QueryResult<()> {
    apply_changes(conn, HashMap::from([(conversation, change)]))
}

/// Assigns the tenant's conversation (or unassigns it with `None`); returns the rows changed.
pub fn set_assignee(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    assignee: Option<UserId>,
) -> QueryResult<usize> {
    diesel::update(one(tenant, conversation))
        .set((
            c::assignee_id.eq(assignee),
            c::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Sets the status and when a snooze ends; returns the rows changed.
pub fn set_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    status: ConversationStatus,
    snoozed_until: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    diesel::update(one(tenant, conversation))
        .set((
            c::status.eq(status),
            c::snoozed_until.eq(snoozed_until),
            c::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Reopens snoozed conversations (of every tenant) whose time has come; returns them.
pub fn wake_snoozed(conn: &mut PgConnection) -> QueryResult<Vec<(TenantId, ConversationId)>> {
    diesel::update(
        c::table
            .filter(c::status.eq(ConversationStatus::Snoozed))
            .filter(c::snoozed_until.le(diesel::dsl::now)),
    )
    .set((
        c::status.eq(ConversationStatus::Open),
        c::snoozed_until.eq(None::<DateTime<Utc>>),
        c::updated_at.eq(diesel::dsl::now),
    ))
    .returning((c::tenant_id, c::id))
    .get_results(conn)
}

/// Marks the conversation read (`unread_count` 0) or unread (at least 1) for the team; returns
/// the rows changed.
pub fn set_read(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    read: bool,
) -> QueryResult<usize> {
    let target = diesel::update(one(tenant, conversation));
    if read {
        target.set(c::unread_count.eq(0)).execute(conn)
    } else {
        target
            .set(c::unread_count.eq(greatest(c::unread_count, 1)))
            .execute(conn)
    }
}

/// Reads a conversation that has unread messages, without waiting for the disk; returns
/// whether it had any. Runs in its own transaction.
pub fn read_if_unread(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        // A read marker is worth no wait for the disk: after a crash the conversation would
        // only show as unread again. Without this, opening a conversation during a burst of
        // webhooks queues behind the burst's commits. Raw SQL: a session setting, not a query.
        diesel::sql_query("SET LOCAL synchronous_commit = off").execute(conn)?;
        let n = diesel::update(one(tenant, conversation).filter(c::unread_count.gt(0)))
            .set(c::unread_count.eq(0))
            .execute(conn)?;
        Ok(n > 0)
    })
}

/// The conversation of a channel's customer (Meta's id for them), if there is one.
pub fn of_customer(
    conn: &mut PgConnection,
    channel: ChannelId,
    customer: &str,
) -> QueryResult<Option<ConversationId>> {
    use crate::db::schema::contacts;
    c::table
        .inner_join(contacts::table)
        .filter(c::channel_id.eq(channel))
        .filter(contacts::platform_user_id.eq(customer))
        .select(c::id)
        .first(conn)
        .optional()
}

/// The kind of receipt a customer's phone sent for everything up to a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    Delivered,
    Read,
}

/// Moves the conversation's delivered or read watermark forward to `at` (never back).
pub fn raise_watermark(
    conn: &mut PgConnection,
    conversation: ConversationId,
    receipt: Receipt,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let this = c::table.filter(c::id.eq(conversation));
    match receipt {
        Receipt::Delivered => diesel::update(
            this.filter(
                c::delivered_watermark
                    .is_null()
                    .or(c::delivered_watermark.lt(at)),
            ),
        )
        .set(c::delivered_watermark.eq(at))
        .execute(conn),
        Receipt::Read => {
            diesel::update(this.filter(c::read_watermark.is_null().or(c::read_watermark.lt(at))))
                .set(c::read_watermark.eq(at))
                .execute(conn)
        }
    }
}

/// Whether the tenant has the conversation.
pub fn exists(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(one(tenant, conversation))).get_result(conn)
}

/// The tenant's conversation `id`, as a filter.
fn one(
    tenant: TenantId,
    id: ConversationId,
) -> diesel::dsl::Filter<
    diesel::dsl::Filter<c::table, diesel::dsl::Eq<c::tenant_id, TenantId>>,
    diesel::dsl::Eq<c::id, ConversationId>,
> {
    c::table
        .filter(c::tenant_id.eq(tenant))
        .filter(c::id.eq(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_newest_message_sets_the_preview_and_customer_messages_count() {
        let t = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let mut change = None;
        ConversationChange::add(&mut change, t(10), Some("second"), "text", true);
        ConversationChange::add(&mut change, t(5), Some("first"), "text", true);
        ConversationChange::add(&mut change, t(20), None, "quick_reply", false);
        let change = change.unwrap();
        assert_eq!(change.preview, "[quick reply]");
        assert_eq!(change.last_at, t(20));
        assert_eq!(change.inbound_at, Some(t(10)));
        assert_eq!(change.inbound, 2);
        assert!(!change.read);
        let long = "é".repeat(300);
        assert_eq!(preview(Some(&long), "text").chars().count(), 140);
        assert!(ConversationChange::of_reply(t(1), None, "image").read);
    }
}
