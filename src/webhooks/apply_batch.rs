//! Applying the events of a whole batch of items at once. New messages, by far the most common
//! events, are stored with a handful of set-based statements per batch (contacts and
//! conversations resolved together, messages inserted together, each conversation updated once)
//! instead of two planned statements per message; every other event then goes through
//! [`apply::apply`] in item order. The end state equals applying item by item, because each step
//! is idempotent and ordered by the events' own timestamps rather than by statement order.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::db::ids::{ConversationId, MessageId};
use crate::models::batches;
use crate::models::channels::Channel;
use crate::models::conversations::{self, ConversationChange};
use crate::webhooks::apply::{self, Applied, own_echo_id};
use crate::webhooks::customers::{Customer, resolve_customers};
use crate::webhooks::message_events::{Parked, on_message};
use crate::webhooks::normalize::{Direction, Event, NewMessage};

/// A new message to store, with the item it came from.
struct Incoming<'a> {
    item: usize,
    channel: &'a Channel,
    message: NewMessage,
}

/// Applies each item's events (in batch order, each with its routed channel) in the caller's
/// transaction; returns one [`Applied`] per item.
pub fn apply_items(
    conn: &mut PgConnection,
    items: Vec<(&Channel, Vec<Event>)>,
) -> QueryResult<Vec<Applied>> {
    let mut out: Vec<Applied> = items.iter().map(|_| Applied::default()).collect();
    let mut incoming = Vec::new();
    let mut rest = Vec::with_capacity(items.len());
    for (item, (channel, events)) in items.into_iter().enumerate() {
        let mut others = Vec::new();
        for event in events {
            match event {
                // Echoes of Parley's own sends update an existing row: the per-event path.
                Event::Message(message)
                    if !message.customer_id.is_empty() && own_echo_id(&message).is_none() =>
                {
                    incoming.push(Incoming {
                        item,
                        channel,
                        message,
                    })
                }
                other => others.push(other),
            }
        }
        rest.push((item, channel, others));
    }
    if !incoming.is_empty() {
        store_messages(conn, incoming, &mut out)?;
    }
    for (item, channel, events) in rest {
        if !events.is_empty() {
            let applied = apply::apply(conn, channel, events)?;
            let into = &mut out[item];
            into.ignored.extend(applied.ignored);
            into.applied += applied.applied;
            into.conversations.extend(applied.conversations);
            into.new_contacts.extend(applied.new_contacts);
            into.media_messages.extend(applied.media_messages);
        }
    }
    for applied in &mut out {
        applied.conversations.sort_unstable();
        applied.conversations.dedup();
    }
    Ok(out)
}

/// A message row about to be inserted.
struct Row<'a> {
    id: MessageId,
    conversation: ConversationId,
    incoming: Incoming<'a>,
}

/// Adds one message to what a batch changes on its conversation.
fn add_message(change: &mut Option<ConversationChange>, m: &NewMessage) {
    ConversationChange::add(
        change,
        m.at,
        m.text.as_deref(),
        &m.kind,
        m.direction == Direction::Inbound,
    );
}

fn store_messages(
    conn: &mut PgConnection,
    incoming: Vec<Incoming>,
    out: &mut [Applied],
) -> QueryResult<()> {
    // Customers, in a stable order so concurrent workers lock rows alike.
    let mut by_key: HashMap<(i64, &str), usize> = HashMap::new();
    let mut customers: Vec<Customer> = Vec::new();
    let mut customer_of = Vec::with_capacity(incoming.len());
    for inc in &incoming {
        let key = (inc.channel.id.0, inc.message.customer_id.as_str());
        let i = *by_key.entry(key).or_insert_with(|| {
            customers.push(Customer {
                tenant: inc.channel.tenant_id.0,
                channel: inc.channel.id.0,
                id: inc.message.customer_id.clone(),
                name: None,
                item: inc.item,
                contact: None,
                stored_name: None,
                conversation: None,
                opening: None,
                opened_here: false,
            });
            customers.len() - 1
        });
        if inc.message.customer_name.is_some() {
            customers[i].name = inc.message.customer_name.clone();
        }
        customer_of.push(i);
    }
    // A message delivered twice within the batch is stored once. What the batch brings each
    // customer's conversation is summed up too: a new conversation is inserted with it, once.
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    let mut kept = Vec::with_capacity(incoming.len());
    for (inc, customer) in incoming.into_iter().zip(customer_of) {
        if let Some(mid) = &inc.message.mid
            && !seen.insert((inc.channel.id.0, mid.clone()))
        {
            out[inc.item].applied += 1;
            continue;
        }
        add_message(&mut customers[customer].opening, &inc.message);
        kept.push(inc);
    }
    resolve_customers(conn, &mut customers, out)?;
    let opened_here: HashSet<ConversationId> = customers
        .iter()
        .filter(|c| c.opened_here)
        .filter_map(|c| c.conversation)
        .collect();
    let conversation_of: HashMap<(i64, String), ConversationId> = customers
        .iter()
        .filter_map(|c| Some(((c.channel, c.id.clone()), c.conversation?)))
        .collect();

    // Ids are taken first so that inserted rows map back to their events.
    let ids = batches::reserve_message_ids(conn, kept.len())?;
    let rows: Vec<Row> = kept
        .into_iter()
        .zip(ids)
        .filter_map(|(incoming, id)| {
            let key = (incoming.channel.id.0, incoming.message.customer_id.clone());
            Some(Row {
                id,
                conversation: *conversation_of.get(&key)?,
                incoming,
            })
        })
        .collect();
    let stored: Vec<_> = rows
        .iter()
        .map(|r| {
            let row = apply::message_row(r.incoming.channel, r.conversation, &r.incoming.message);
            (r.id, row)
        })
        .collect();
    let inserted: HashSet<MessageId> = batches::insert_messages(conn, &stored)?
        .into_iter()
        .collect();

    let mut changes: HashMap<ConversationId, ConversationChange> = HashMap::new();
    let mut outbound = Vec::new();
    let mut with_mid: HashMap<(i64, &str), &Row> = HashMap::new();
    for row in &rows {
        let (item, m) = (row.incoming.item, &row.incoming.message);
        out[item].applied += 1;
        if !inserted.contains(&row.id) {
            continue; // redelivered: already stored, nothing to change
        }
        if !opened_here.contains(&row.conversation) {
            // A conversation opened by this batch was inserted with all of it already.
            let mut change = changes.remove(&row.conversation);
            add_message(&mut change, m);
            if let Some(change) = change {
                changes.insert(row.conversation, change);
            }
        }
        if m.direction == Direction::Outbound {
            outbound.push(row.id);
        }
        if let Some(mid) = &m.mid {
            with_mid.insert((row.incoming.channel.id.0, mid.as_str()), row);
        }
        if !m.attachments.is_empty() {
            out[item].media_messages.push(row.id);
        }
        out[item].conversations.push(row.conversation);
    }
    conversations::apply_changes(conn, changes)?;
    // Receipts whose watermark arrived before these messages still apply.
    batches::catch_up_with_watermarks(conn, &outbound)?;
    apply_parked(conn, &with_mid)
}

/// Events that arrived before their message (rare) now apply to it, oldest first.
fn apply_parked(conn: &mut PgConnection, with_mid: &HashMap<(i64, &str), &Row>) -> QueryResult<()> {
    if with_mid.is_empty() {
        return Ok(());
    }
    let keys: Vec<(i64, &str)> = with_mid.keys().copied().collect();
    for p in batches::take_parked(conn, &keys)? {
        let Some(row) = with_mid.get(&(p.channel_id, p.platform_message_id.as_str())) else {
            continue;
        };
        if let Ok(event) = serde_json::from_value::<Parked>(p.event) {
            on_message(conn, row.incoming.channel, row.id, &event, p.occurred_at)?;
        }
    }
    Ok(())
}
