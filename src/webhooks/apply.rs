//! Applying normalized events to the domain tables. Idempotent: platform ids are unique keys, so
//! a redelivered event changes nothing; ordering follows the events' own timestamps, and an event
//! about a message Parley has not seen yet is parked and applied when the message arrives.

use chrono::Utc;
use diesel::prelude::*;

use serde_json::Value;

use crate::db::ids::{ContactId, ConversationId, MessageId};
use crate::db::statuses::MessageStatus;
use crate::models::channels::Channel;
use crate::models::conversations::{self, ConversationChange, Receipt};
use crate::models::messages::{self, WebhookMessageRow};
use crate::models::{attachments, contacts, receipts};
use crate::webhooks::message_events::{Parked, by_mid, on_message};
use crate::webhooks::normalize::{Direction, Event, NewMessage};

/// What applying an item's events did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Reasons for the parts that were deliberately not applied.
    pub ignored: Vec<String>,
    /// How many events changed something (or were parked for a later message).
    pub applied: usize,
    /// Conversations to notify live pages about.
    pub conversations: Vec<ConversationId>,
    /// Contacts created without a name (their profile is fetched by a job).
    pub new_contacts: Vec<ContactId>,
    /// New messages with attachments to download.
    pub media_messages: Vec<MessageId>,
}

/// The contact and conversation for a customer, created on first sight.
fn thread(
    conn: &mut PgConnection,
    ch: &Channel,
    customer: &str,
    name: Option<&str>,
    out: &mut Applied,
) -> QueryResult<ConversationId> {
    let thread = contacts::open_thread(conn, ch.tenant_id, ch.id, customer, name)?;
    if thread.new_contact && thread.name.is_none() {
        out.new_contacts.push(thread.contact_id);
    }
    Ok(thread.conversation_id)
}

/// The row a webhook's message is stored as.
pub(crate) fn message_row<'m>(
    ch: &Channel,
    conversation: ConversationId,
    m: &'m NewMessage,
) -> WebhookMessageRow<'m> {
    let outbound = m.direction == Direction::Outbound;
    WebhookMessageRow {
        tenant_id: ch.tenant_id,
        conversation_id: conversation,
        channel_id: ch.id,
        direction: if outbound { "outbound" } else { "inbound" },
        platform_message_id: m.mid.as_deref(),
        sent_at: m.at,
        kind: &m.kind,
        text: m.text.as_deref(),
        attachments: attachments::to_stored(&m.attachments),
        reply_to_platform_id: m.reply_to.as_deref(),
        referral: m
            .referral
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok()),
        extra: &m.extra,
        is_echo: outbound,
        status: if outbound {
            MessageStatus::Sent
        } else {
            MessageStatus::Received
        },
        deleted_at: m.deleted.then_some(m.at),
        imported: false,
    }
}

/// Parley's own message id from an echo's metadata (`parley:<id>`): the echo is of a message
/// Parley sent, which then only needs Meta's id.
pub(crate) fn own_echo_id(m: &NewMessage) -> Option<MessageId> {
    if m.direction != Direction::Outbound {
        return None;
    }
    m.extra
        .get("metadata")
        .and_then(Value::as_str)?
        .strip_prefix("parley:")?
        .parse()
        .ok()
        .map(MessageId)
}

/// Applies every event of one item in the caller's transaction.
pub fn apply(conn: &mut PgConnection, ch: &Channel, events: Vec<Event>) -> QueryResult<Applied> {
    let mut out = Applied::default();
    for event in events {
        match event {
            Event::Message(m) => message(conn, ch, m, &mut out)?,
            Event::Delivery {
                customer_id,
                mids,
                watermark,
            } => {
                let conv = conversation_of(conn, ch, &customer_id)?;
                if let (Some(conv), Some(wm)) = (conv, watermark) {
                    conversations::raise_watermark(conn, conv, Receipt::Delivered, wm)?;
                    receipts::advance_upto(conn, conv, wm, MessageStatus::Delivered)?;
                    out.conversations.push(conv);
                }
                for mid in mids {
                    by_mid(conn, ch, &mid, Parked::Delivered, Utc::now(), &mut out)?;
                }
                out.applied += 1;
            }
            Event::Read {
                customer_id,
                watermark,
                mid,
                at,
            } => {
                if let Some(wm) = watermark
                    && let Some(conv) = conversation_of(conn, ch, &customer_id)?
                {
                    conversations::raise_watermark(conn, conv, Receipt::Read, wm)?;
                    receipts::advance_upto(conn, conv, wm, MessageStatus::Read)?;
                    out.conversations.push(conv);
                }
                if let Some(mid) = mid {
                    by_mid(conn, ch, &mid, Parked::Read, at, &mut out)?;
                }
                out.applied += 1;
            }
            Event::Reaction {
                mid,
                emoji,
                reaction,
                by_business,
                at,
                ..
            } => {
                by_mid(
                    conn,
                    ch,
                    &mid,
                    Parked::Reaction {
                        emoji,
                        reaction,
                        by_business,
                    },
                    at,
                    &mut out,
                )?;
                out.applied += 1;
            }
            Event::Edit { mid, text, at } => {
                by_mid(conn, ch, &mid, Parked::Edit { text }, at, &mut out)?;
                out.applied += 1;
            }
            Event::Unsend { mid, at } => {
                by_mid(conn, ch, &mid, Parked::Unsend, at, &mut out)?;
                out.applied += 1;
            }
            Event::Status {
                mid,
                status,
                at,
                errors,
                ..
            } => {
                by_mid(
                    conn,
                    ch,
                    &mid,
                    Parked::Status { status, errors },
                    at,
                    &mut out,
                )?;
                out.applied += 1;
            }
            Event::Comment(c) => {
                crate::webhooks::apply_comments::comment(conn, ch, c)?;
                out.applied += 1;
            }
            Event::StoryInsights { media_id, values } => {
                crate::insights::stories::record_story_webhook(conn, ch, &media_id, &values)?;
                out.applied += 1;
            }
            e @ (Event::TemplateStatus { .. }
            | Event::TemplateQuality { .. }
            | Event::TemplateCategory { .. }) => {
                crate::webhooks::apply_templates::template_event(conn, ch, e)?;
                out.applied += 1;
            }
            Event::Ignored { what, reason } => out.ignored.push(format!("{what}: {reason}")),
        }
    }
    out.conversations.sort_unstable();
    out.conversations.dedup();
    Ok(out)
}

fn conversation_of(
    conn: &mut PgConnection,
    ch: &Channel,
    customer: &str,
) -> QueryResult<Option<ConversationId>> {
    conversations::of_customer(conn, ch.id, customer)
}

fn message(
    conn: &mut PgConnection,
    ch: &Channel,
    m: NewMessage,
    out: &mut Applied,
) -> QueryResult<()> {
    if m.customer_id.is_empty() {
        out.ignored
            .push(format!("{}: message without a customer id", m.kind));
        return Ok(());
    }
    let conv = thread(conn, ch, &m.customer_id, m.customer_name.as_deref(), out)?;
    let outbound = m.direction == Direction::Outbound;
    // An echo of a message Parley sent carries Parley's id in its metadata: attach the mid to it.
    if let (Some(own), Some(mid)) = (own_echo_id(&m), &m.mid) {
        let n = messages::link_echo(conn, ch.id, own, mid)?;
        if n == 1 {
            out.applied += 1;
            return Ok(());
        }
    }
    let row = message_row(ch, conv, &m);
    let Some(id) = messages::insert_from_webhook(conn, &row)? else {
        out.applied += 1; // redelivered: already stored, nothing to change
        return Ok(());
    };
    conversations::apply_change(
        conn,
        conv,
        ConversationChange::of_message(m.at, m.text.as_deref(), &m.kind, !outbound),
    )?;
    if outbound {
        // Receipts that arrived before this message still apply.
        messages::catch_up_with_watermarks(conn, id)?;
    }
    // Events about this message that arrived before it (rare), oldest first.
    if let Some(mid) = m.mid.as_deref() {
        for (event, at) in receipts::take_parked(conn, ch.id, mid)? {
            if let Ok(ev) = serde_json::from_value::<Parked>(event) {
                on_message(conn, ch, id, &ev, at)?;
            }
        }
    }
    if !m.attachments.is_empty() {
        out.media_messages.push(id);
    }
    out.applied += 1;
    out.conversations.push(conv);
    Ok(())
}
