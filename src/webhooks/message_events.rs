//! Events about one message: statuses, receipts, reactions, edits and unsends. An event about a
//! message Parley has not stored yet is parked and applied when that message arrives (or when
//! Meta answers the send that created it).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::models::channels::Channel;
use crate::webhooks::apply::Applied;

/// An event parked until its message arrives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Parked {
    Status {
        status: String,
        errors: Option<Value>,
    },
    Reaction {
        emoji: Option<String>,
        reaction: Option<String>,
        by_business: bool,
    },
    Edit {
        text: Option<String>,
    },
    Unsend,
    Read,
    Delivered,
}

#[derive(QueryableByName)]
struct Target {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
}

/// Applies an event to the message `mid`, or parks it until that message arrives.
pub(crate) fn by_mid(
    conn: &mut PgConnection,
    ch: &Channel,
    mid: &str,
    ev: Parked,
    at: DateTime<Utc>,
    out: &mut Applied,
) -> QueryResult<()> {
    let target: Option<Target> = diesel::sql_query("SELECT id, conversation_id FROM messages WHERE channel_id = $1 AND platform_message_id = $2")
        .bind::<BigInt, _>(ch.id.0)
        .bind::<Text, _>(mid)
        .get_result(conn)
        .optional()?;
    match target {
        Some(t) => {
            on_message(conn, ch, t.id, &ev, at)?;
            out.conversations.push(t.conversation_id);
        }
        None => {
            let json = serde_json::to_value(&ev).unwrap_or(Value::Null);
            diesel::sql_query(
                "INSERT INTO pending_message_events (tenant_id, channel_id, platform_message_id, event, occurred_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind::<BigInt, _>(ch.tenant_id.0)
            .bind::<BigInt, _>(ch.id.0)
            .bind::<Text, _>(mid)
            .bind::<Jsonb, _>(json)
            .bind::<Timestamptz, _>(at)
            .execute(conn)?;
        }
    }
    Ok(())
}

fn status_rank(s: &str) -> i32 {
    match s {
        "sending" => 0,
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        _ => -1,
    }
}

pub(crate) fn on_message(
    conn: &mut PgConnection,
    ch: &Channel,
    id: i64,
    ev: &Parked,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    match ev {
        Parked::Status { status, errors } if status == "failed" => {
            diesel::sql_query("UPDATE messages SET status = 'failed', status_at = $2, error = $3 WHERE id = $1 AND direction = 'outbound' AND status <> 'read'")
                .bind::<BigInt, _>(id).bind::<Timestamptz, _>(at).bind::<Nullable<Jsonb>, _>(errors).execute(conn)?;
        }
        Parked::Status { status, .. } => advance(conn, id, status, at)?,
        Parked::Delivered => advance(conn, id, "delivered", at)?,
        Parked::Read => {
            // Instagram's read{mid}: that message and everything before it in the conversation.
            diesel::sql_query(
                "UPDATE messages m SET status = 'read', status_at = $2 FROM messages t
                  WHERE t.id = $1 AND m.conversation_id = t.conversation_id AND m.direction = 'outbound'
                    AND m.sent_at <= t.sent_at AND m.status IN ('sent', 'delivered')",
            )
            .bind::<BigInt, _>(id).bind::<Timestamptz, _>(at).execute(conn)?;
        }
        Parked::Reaction {
            emoji: Some(emoji),
            reaction,
            by_business,
        } => {
            diesel::sql_query(
                "INSERT INTO message_reactions (tenant_id, message_id, reactor, emoji, reaction, reacted_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (message_id, reactor) DO UPDATE SET emoji = EXCLUDED.emoji, reaction = EXCLUDED.reaction, reacted_at = EXCLUDED.reacted_at
                 WHERE message_reactions.reacted_at <= EXCLUDED.reacted_at",
            )
            .bind::<BigInt, _>(ch.tenant_id.0).bind::<BigInt, _>(id)
            .bind::<Text, _>(if *by_business { "business" } else { "customer" })
            .bind::<Text, _>(emoji).bind::<Nullable<Text>, _>(reaction).bind::<Timestamptz, _>(at)
            .execute(conn)?;
        }
        Parked::Reaction {
            emoji: None,
            by_business,
            ..
        } => {
            diesel::sql_query("DELETE FROM message_reactions WHERE message_id = $1 AND reactor = $2 AND reacted_at <= $3")
                .bind::<BigInt, _>(id).bind::<Text, _>(if *by_business { "business" } else { "customer" }).bind::<Timestamptz, _>(at)
                .execute(conn)?;
        }
        Parked::Edit { text } => {
            diesel::sql_query(
                "UPDATE messages SET text = COALESCE($2, text), edited_at = $3, edit_count = edit_count + 1
                  WHERE id = $1 AND (edited_at IS NULL OR edited_at < $3)",
            )
            .bind::<BigInt, _>(id).bind::<Nullable<Text>, _>(text).bind::<Timestamptz, _>(at).execute(conn)?;
        }
        Parked::Unsend => {
            diesel::sql_query(
                "UPDATE messages SET deleted_at = COALESCE(deleted_at, $2) WHERE id = $1",
            )
            .bind::<BigInt, _>(id)
            .bind::<Timestamptz, _>(at)
            .execute(conn)?;
        }
    }
    Ok(())
}

/// Receipts and statuses only ever concern what the business sent, and only move forward.
fn advance(conn: &mut PgConnection, id: i64, status: &str, at: DateTime<Utc>) -> QueryResult<()> {
    let rank = status_rank(status);
    diesel::sql_query(
        "UPDATE messages SET status = $2, status_at = $3 WHERE id = $1 AND direction = 'outbound' AND status <> 'failed' AND
           (CASE status WHEN 'sending' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE -1 END) < $4",
    )
    .bind::<BigInt, _>(id).bind::<Text, _>(status).bind::<Timestamptz, _>(at).bind::<Integer, _>(rank)
    .execute(conn)
    .map(|_| ())
}

#[derive(QueryableByName)]
struct ParkedRow {
    #[diesel(sql_type = Jsonb)]
    event: Value,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
}

/// Records the id Meta gave a message Parley sent (`sent` unless a receipt already moved it on),
/// then applies receipts that arrived before Meta's answer: watermarks, and statuses parked under
/// that id (WhatsApp may report `sent` before the send call returns).
pub fn link_sent(conn: &mut PgConnection, ch: &Channel, id: i64, mid: &str) -> QueryResult<()> {
    // An echo that came without Parley's metadata was stored as its own row: it is this message.
    diesel::sql_query(
        "DELETE FROM messages WHERE channel_id = $1 AND platform_message_id = $2 AND id <> $3 AND is_echo",
    )
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(mid)
    .bind::<BigInt, _>(id)
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE messages SET platform_message_id = COALESCE(platform_message_id, $3),
                status = CASE WHEN status IN ('sending', 'failed') THEN 'sent' ELSE status END,
                status_at = now(), error = NULL
          WHERE id = $1 AND channel_id = $2",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(mid)
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE messages m SET status = CASE WHEN v.read_watermark >= m.sent_at THEN 'read' ELSE 'delivered' END
           FROM conversations v WHERE m.id = $1 AND v.id = m.conversation_id AND m.status = 'sent'
            AND (v.read_watermark >= m.sent_at OR v.delivered_watermark >= m.sent_at)",
    )
    .bind::<BigInt, _>(id)
    .execute(conn)?;
    let parked: Vec<ParkedRow> = diesel::sql_query(
        "DELETE FROM pending_message_events WHERE channel_id = $1 AND platform_message_id = $2
         RETURNING event, occurred_at",
    )
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(mid)
    .load(conn)?;
    let mut parked = parked;
    parked.sort_by_key(|p| p.occurred_at);
    for p in parked {
        if let Ok(ev) = serde_json::from_value::<Parked>(p.event) {
            on_message(conn, ch, id, &ev, p.occurred_at)?;
        }
    }
    Ok(())
}
