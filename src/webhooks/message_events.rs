//! Events about one message: statuses, receipts, reactions, edits and unsends. An event about a
//! message Parley has not stored yet is parked and applied when that message arrives (or when
//! Meta answers the send that created it).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::ids::MessageId;
use crate::db::statuses::MessageStatus;
use crate::models::channels::Channel;
use crate::models::{messages, receipts};
use crate::webhooks::apply::Applied;

/// An event parked until its message arrives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Parked {
    Status {
        status: MessageStatus,
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

/// Applies an event to the message `mid`, or parks it until that message arrives.
pub(crate) fn by_mid(
    conn: &mut PgConnection,
    ch: &Channel,
    mid: &str,
    ev: Parked,
    at: DateTime<Utc>,
    out: &mut Applied,
) -> QueryResult<()> {
    match receipts::find_by_mid(conn, ch.id, mid)? {
        Some((id, conversation)) => {
            on_message(conn, ch, id, &ev, at)?;
            out.conversations.push(conversation);
        }
        None => {
            let json = serde_json::to_value(&ev).unwrap_or(Value::Null);
            receipts::park(conn, ch.tenant_id, ch.id, mid, &json, at)?;
        }
    }
    Ok(())
}

pub(crate) fn on_message(
    conn: &mut PgConnection,
    ch: &Channel,
    id: MessageId,
    ev: &Parked,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    match ev {
        Parked::Status {
            status: MessageStatus::Failed,
            errors,
        } => receipts::fail(conn, id, at, errors.as_ref()),
        Parked::Status { status, .. } => receipts::advance(conn, id, *status, at),
        Parked::Delivered => receipts::advance(conn, id, MessageStatus::Delivered, at),
        Parked::Read => receipts::read_through(conn, id, at),
        Parked::Reaction {
            emoji: Some(emoji),
            reaction,
            by_business,
        } => receipts::react(
            conn,
            ch.tenant_id,
            id,
            *by_business,
            emoji,
            reaction.as_deref(),
            at,
        ),
        Parked::Reaction {
            emoji: None,
            by_business,
            ..
        } => receipts::unreact(conn, id, *by_business, at),
        Parked::Edit { text } => receipts::edit(conn, id, text.as_deref(), at),
        Parked::Unsend => receipts::unsend(conn, id, at),
    }
}

/// Records the id Meta gave a message Parley sent (`sent` unless a receipt already moved it on),
/// then applies receipts that arrived before Meta's answer: watermarks, and statuses parked under
/// that id (WhatsApp may report `sent` before the send call returns).
pub fn link_sent(
    conn: &mut PgConnection,
    ch: &Channel,
    id: MessageId,
    mid: &str,
) -> QueryResult<()> {
    // An echo that came without Parley's metadata was stored as its own row: it is this message.
    messages::delete_echo_copies(conn, ch.id, mid, id)?;
    messages::record_sent(conn, ch.id, id, mid)?;
    messages::catch_up_with_watermarks(conn, id)?;
    for (event, at) in receipts::take_parked(conn, ch.id, mid)? {
        if let Ok(ev) = serde_json::from_value::<Parked>(event) {
            on_message(conn, ch, id, &ev, at)?;
        }
    }
    Ok(())
}
