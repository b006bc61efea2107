//! Applying normalized events to the domain tables. Idempotent: platform ids are unique keys, so
//! a redelivered event changes nothing; ordering follows the events' own timestamps, and an event
//! about a message Parley has not seen yet is parked and applied when the message arrives.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz};
use serde_json::Value;

use crate::db::ids::TenantId;
use crate::models::channels::Channel;
use crate::models::conversations::{self, ConversationChange};
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
    pub conversations: Vec<i64>,
    /// Contacts created without a name (their profile is fetched by a job).
    pub new_contacts: Vec<i64>,
    /// New messages with attachments to download.
    pub media_messages: Vec<i64>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = Jsonb)]
    parked: Value,
}

#[derive(QueryableByName)]
struct Thread {
    #[diesel(sql_type = BigInt)]
    contact_id: i64,
    #[diesel(sql_type = Bool)]
    inserted: bool,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
}

/// The contact and conversation for a customer, created on first sight, in one statement.
fn thread(
    conn: &mut PgConnection,
    ch: &Channel,
    customer: &str,
    name: Option<&str>,
    out: &mut Applied,
) -> QueryResult<i64> {
    let row: Thread = diesel::sql_query(
        "WITH c AS (
           INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name, profile_fetched_at)
           VALUES ($1, $2, $3, $4, CASE WHEN $4::text IS NOT NULL THEN now() END)
           ON CONFLICT (channel_id, platform_user_id) DO UPDATE SET name = COALESCE(EXCLUDED.name, contacts.name)
           RETURNING id, (xmax = 0) AS inserted, name),
         v AS (
           INSERT INTO conversations (tenant_id, channel_id, contact_id) SELECT $1, $2, id FROM c
           ON CONFLICT (channel_id, contact_id) DO UPDATE SET updated_at = conversations.updated_at
           RETURNING id)
         SELECT c.id AS contact_id, c.inserted, c.name, v.id AS conversation_id FROM c, v",
    )
    .bind::<BigInt, _>(ch.tenant_id.0)
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(customer)
    .bind::<Nullable<Text>, _>(name)
    .get_result(conn)?;
    if row.inserted && row.name.is_none() {
        out.new_contacts.push(row.contact_id);
    }
    Ok(row.conversation_id)
}

/// Parley's own message id from an echo's metadata (`parley:<id>`): the echo is of a message
/// Parley sent, which then only needs Meta's id.
pub(crate) fn own_echo_id(m: &NewMessage) -> Option<i64> {
    if m.direction != Direction::Outbound {
        return None;
    }
    m.extra
        .get("metadata")
        .and_then(Value::as_str)?
        .strip_prefix("parley:")?
        .parse()
        .ok()
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
                    diesel::sql_query("UPDATE conversations SET delivered_watermark = GREATEST(delivered_watermark, $2) WHERE id = $1")
                        .bind::<BigInt, _>(conv).bind::<Timestamptz, _>(wm).execute(conn)?;
                    mark_upto(conn, conv, wm, "delivered")?;
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
                    diesel::sql_query("UPDATE conversations SET read_watermark = GREATEST(read_watermark, $2) WHERE id = $1")
                        .bind::<BigInt, _>(conv).bind::<Timestamptz, _>(wm).execute(conn)?;
                    mark_upto(conn, conv, wm, "read")?;
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
                    Parked::Status {
                        status: status.as_str().into(),
                        errors,
                    },
                    at,
                    &mut out,
                )?;
                out.applied += 1;
            }
            Event::Comment(c) => {
                crate::webhooks::apply_comments::comment(conn, ch, c)?;
                out.applied += 1;
            }
            Event::TemplateStatus {
                template_id,
                name,
                language,
                status,
                reason,
                category,
            } => {
                let tenants = template_tenants(conn, ch)?;
                crate::models::message_templates::record_review(
                    conn,
                    &tenants,
                    &crate::models::message_templates::ReviewedTemplate {
                        waba_id: ch.waba_id.as_deref().unwrap_or_default(),
                        template_id: &template_id,
                        name: &name,
                        language: &language,
                        category: category.as_deref(),
                        status: &status,
                        reason: reason.as_deref(),
                    },
                )?;
                out.applied += 1;
            }
            Event::TemplateQuality { template_id, score } => {
                let tenants = template_tenants(conn, ch)?;
                crate::models::message_templates::record_quality(
                    conn,
                    &tenants,
                    &template_id,
                    &score,
                )?;
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
) -> QueryResult<Option<i64>> {
    diesel::sql_query(
        "SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id
          WHERE v.channel_id = $1 AND c.platform_user_id = $2",
    )
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(customer)
    .get_result::<Id>(conn)
    .optional()
    .map(|r| r.map(|r| r.id))
}

/// Outbound messages up to `watermark` move forward to `status` (never backwards).
fn mark_upto(
    conn: &mut PgConnection,
    conv: i64,
    watermark: DateTime<Utc>,
    status: &str,
) -> QueryResult<usize> {
    let lower = if status == "read" {
        "('sent','delivered')"
    } else {
        "('sent')"
    };
    diesel::sql_query(format!(
        "UPDATE messages SET status = $3, status_at = $2 WHERE conversation_id = $1 AND direction = 'outbound'
           AND sent_at <= $2 AND status IN {lower}"
    ))
    .bind::<BigInt, _>(conv)
    .bind::<Timestamptz, _>(watermark)
    .bind::<Text, _>(status)
    .execute(conn)
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
        let n = diesel::sql_query(
            "UPDATE messages SET platform_message_id = COALESCE(platform_message_id, $3)
              WHERE id = $1 AND channel_id = $2",
        )
        .bind::<BigInt, _>(own)
        .bind::<BigInt, _>(ch.id.0)
        .bind::<Text, _>(mid)
        .execute(conn)?;
        if n == 1 {
            out.applied += 1;
            return Ok(());
        }
    }
    let stored: Stored = diesel::sql_query(
        "WITH m AS (
           INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, platform_message_id, sent_at,
                                 kind, text, attachments, reply_to_platform_id, referral, extra, is_echo, status, deleted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (channel_id, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
           RETURNING id),
         p AS (
           DELETE FROM pending_message_events
            WHERE channel_id = $3 AND platform_message_id = $5 AND EXISTS (SELECT 1 FROM m)
           RETURNING event, occurred_at)
         SELECT (SELECT id FROM m) AS id,
                COALESCE((SELECT jsonb_agg(jsonb_build_object('event', event, 'at', occurred_at) ORDER BY occurred_at) FROM p), '[]'::jsonb) AS parked",
    )
    .bind::<BigInt, _>(ch.tenant_id.0)
    .bind::<BigInt, _>(conv)
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(if outbound { "outbound" } else { "inbound" })
    .bind::<Nullable<Text>, _>(&m.mid)
    .bind::<Timestamptz, _>(m.at)
    .bind::<Text, _>(&m.kind)
    .bind::<Nullable<Text>, _>(&m.text)
    .bind::<Jsonb, _>(Value::Array(m.attachments.clone()))
    .bind::<Nullable<Text>, _>(&m.reply_to)
    .bind::<Nullable<Jsonb>, _>(&m.referral)
    .bind::<Jsonb, _>(&m.extra)
    .bind::<Bool, _>(outbound)
    .bind::<Text, _>(if outbound { "sent" } else { "received" })
    .bind::<Nullable<Timestamptz>, _>(m.deleted.then_some(m.at))
    .get_result(conn)?;
    let Some(id) = stored.id else {
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
        diesel::sql_query(
            "UPDATE messages m SET status = CASE WHEN v.read_watermark >= m.sent_at THEN 'read' ELSE 'delivered' END
               FROM conversations v WHERE m.id = $1 AND v.id = m.conversation_id
                AND (v.read_watermark >= m.sent_at OR v.delivered_watermark >= m.sent_at)",
        )
        .bind::<BigInt, _>(id)
        .execute(conn)?;
    }
    // Events about this message that arrived before it (rare), oldest first.
    for parked in stored.parked.as_array().into_iter().flatten() {
        let at = parked
            .get("at")
            .and_then(|a| serde_json::from_value::<DateTime<Utc>>(a.clone()).ok())
            .unwrap_or(m.at);
        if let Some(ev) = parked
            .get("event")
            .and_then(|e| serde_json::from_value::<Parked>(e.clone()).ok())
        {
            on_message(conn, ch, id, &ev, at)?;
        }
    }
    if !m.attachments.is_empty() {
        out.media_messages.push(id);
    }
    out.applied += 1;
    out.conversations.push(conv);
    Ok(())
}

/// Every tenant a template event of `ch`'s WhatsApp Business Account concerns: templates belong
/// to the WABA, and each tenant with a connected number on it keeps its own copy.
fn template_tenants(conn: &mut PgConnection, ch: &Channel) -> QueryResult<Vec<TenantId>> {
    let mut tenants = match &ch.waba_id {
        Some(waba) => crate::models::channels::tenants_of_waba(conn, waba)?,
        None => Vec::new(),
    };
    if !tenants.contains(&ch.tenant_id) {
        tenants.push(ch.tenant_id);
    }
    Ok(tenants)
}
