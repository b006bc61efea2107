//! Set-based statements of the webhook fast path: a whole batch of customers and messages in a
//! handful of round trips. Raw SQL throughout: each statement reads or writes many rows from
//! `unnest` arrays, which diesel's query builder cannot express.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};

use crate::db::ids::{ContactId, ConversationId, MessageId};
use crate::models::conversations::ConversationChange;
use crate::models::messages::WebhookMessageRow;

/// A customer as Meta names them on a channel.
pub struct CustomerKey<'a> {
    pub channel: i64,
    pub platform_user_id: &'a str,
}

/// A known customer: `n` is the 1-based position of their key in the request.
#[derive(Debug, QueryableByName)]
pub struct KnownCustomer {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    #[diesel(sql_type = BigInt)]
    pub contact_id: ContactId,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub conversation_id: Option<ConversationId>,
}

/// The contacts (and conversations, when they have one) of the customers Parley already knows.
pub fn find_customers(
    conn: &mut PgConnection,
    keys: &[CustomerKey<'_>],
) -> QueryResult<Vec<KnownCustomer>> {
    diesel::sql_query(
        "SELECT x.n, c.id AS contact_id, c.name, v.id AS conversation_id
           FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS x(channel_id, uid, n)
           JOIN contacts c ON c.channel_id = x.channel_id AND c.platform_user_id = x.uid
           LEFT JOIN conversations v ON v.channel_id = c.channel_id AND v.contact_id = c.id",
    )
    .bind::<Array<BigInt>, _>(keys.iter().map(|k| k.channel).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(keys.iter().map(|k| k.platform_user_id).collect::<Vec<_>>())
    .load(conn)
}

/// A contact to create.
pub struct NewContact<'a> {
    pub tenant: i64,
    pub channel: i64,
    pub platform_user_id: &'a str,
    pub name: Option<&'a str>,
}

/// A contact this batch created.
#[derive(Debug, QueryableByName)]
pub struct CreatedContact {
    #[diesel(sql_type = BigInt)]
    pub id: ContactId,
    #[diesel(sql_type = BigInt)]
    pub channel_id: i64,
    #[diesel(sql_type = Text)]
    pub platform_user_id: String,
}

/// Creates contacts; one another worker created meanwhile is skipped (and found next pass). A
/// contact that arrives with its name needs no profile fetch.
pub fn create_contacts(
    conn: &mut PgConnection,
    contacts: &[NewContact<'_>],
) -> QueryResult<Vec<CreatedContact>> {
    diesel::sql_query(
        "INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name, profile_fetched_at)
         SELECT t, ch, uid, n, CASE WHEN n IS NOT NULL THEN now() END
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS x(t, ch, uid, n)
         ON CONFLICT (channel_id, platform_user_id) DO NOTHING
         RETURNING id, channel_id, platform_user_id",
    )
    .bind::<Array<BigInt>, _>(contacts.iter().map(|c| c.tenant).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(contacts.iter().map(|c| c.channel).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        contacts
            .iter()
            .map(|c| c.platform_user_id)
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Text>>, _>(contacts.iter().map(|c| c.name).collect::<Vec<_>>())
    .load(conn)
}

/// A conversation to open, with what the batch's messages already make of it.
pub struct NewConversation<'a> {
    pub tenant: i64,
    pub channel: i64,
    pub contact: ContactId,
    pub opening: Option<&'a ConversationChange>,
}

/// A conversation this batch opened.
#[derive(Debug, QueryableByName)]
pub struct OpenedConversation {
    #[diesel(sql_type = BigInt)]
    pub id: ConversationId,
    #[diesel(sql_type = BigInt)]
    pub contact_id: ContactId,
}

/// Opens conversations already holding the batch's messages (updating a row inserted moments
/// before would write all of its indexes twice).
pub fn open_conversations(
    conn: &mut PgConnection,
    conversations: &[NewConversation<'_>],
) -> QueryResult<Vec<OpenedConversation>> {
    use diesel::sql_types::{Integer, Timestamptz};
    let opening = |f: fn(&ConversationChange) -> Option<DateTime<Utc>>| {
        conversations
            .iter()
            .map(|c| c.opening.and_then(f))
            .collect::<Vec<_>>()
    };
    diesel::sql_query(
        "INSERT INTO conversations (tenant_id, channel_id, contact_id, last_message_at,
                                    last_message_preview, last_inbound_at, unread_count)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[],
                              $5::text[], $6::timestamptz[], $7::int[])
         ON CONFLICT (channel_id, contact_id) DO NOTHING
         RETURNING id, contact_id",
    )
    .bind::<Array<BigInt>, _>(conversations.iter().map(|c| c.tenant).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(conversations.iter().map(|c| c.channel).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(conversations.iter().map(|c| c.contact).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(opening(|o| Some(o.last_at)))
    .bind::<Array<Nullable<Text>>, _>(
        conversations
            .iter()
            .map(|c| c.opening.map(|o| o.preview.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Timestamptz>>, _>(opening(|o| o.inbound_at))
    .bind::<Array<Integer>, _>(
        conversations
            .iter()
            .map(|c| c.opening.map_or(0, |o| o.inbound))
            .collect::<Vec<_>>(),
    )
    .load(conn)
}

/// Gives contacts the names Meta now sends (`(contact id, name)`), where they differ.
pub fn rename_contacts(
    conn: &mut PgConnection,
    names: &[(ContactId, String)],
) -> QueryResult<usize> {
    if names.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE contacts c SET name = x.name FROM unnest($1::bigint[], $2::text[]) AS x(id, name)
          WHERE c.id = x.id AND c.name IS DISTINCT FROM x.name",
    )
    .bind::<Array<BigInt>, _>(names.iter().map(|r| r.0.0).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(names.iter().map(|r| &r.1).collect::<Vec<_>>())
    .execute(conn)
}

/// Takes `n` message ids from the sequence (so inserted rows map back to their events).
pub fn reserve_message_ids(conn: &mut PgConnection, n: usize) -> QueryResult<Vec<MessageId>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    let ids: Vec<Id> =
        diesel::sql_query("SELECT nextval('messages_id_seq') AS id FROM generate_series(1, $1)")
            .bind::<diesel::sql_types::Integer, _>(n)
            .load(conn)?;
    Ok(ids.into_iter().map(|i| MessageId(i.id)).collect())
}

/// Inserts webhook messages with their reserved ids; returns the ids inserted (a message whose
/// mid the channel already has is a redelivery and is skipped).
pub fn insert_messages(
    conn: &mut PgConnection,
    rows: &[(MessageId, WebhookMessageRow<'_>)],
) -> QueryResult<Vec<MessageId>> {
    use diesel::sql_types::{Bool, Jsonb, Timestamptz};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids: Vec<Id> = diesel::sql_query(
        "INSERT INTO messages (id, tenant_id, conversation_id, channel_id, direction, platform_message_id, sent_at,
                               kind, text, attachments, reply_to_platform_id, referral, extra, is_echo, status, deleted_at)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
                              $7::timestamptz[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::jsonb[],
                              $13::jsonb[], $14::bool[], $15::text[], $16::timestamptz[])
         ON CONFLICT (channel_id, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|(id, _)| id.0).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, r)| r.tenant_id.0).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, r)| r.conversation_id.0).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, r)| r.channel_id.0).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, r)| r.direction).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|(_, r)| r.platform_message_id).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|(_, r)| r.sent_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, r)| r.kind).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|(_, r)| r.text).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(rows.iter().map(|(_, r)| &r.attachments).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|(_, r)| r.reply_to_platform_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Jsonb>>, _>(rows.iter().map(|(_, r)| r.referral.as_ref()).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(rows.iter().map(|(_, r)| r.extra).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(rows.iter().map(|(_, r)| r.is_echo).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, r)| r.status.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(
        rows.iter().map(|(_, r)| r.deleted_at).collect::<Vec<_>>(),
    )
    .load(conn)?;
    Ok(ids.into_iter().map(|i| MessageId(i.id)).collect())
}

/// Outbound messages just stored take the receipts their conversations' watermarks passed.
pub fn catch_up_with_watermarks(conn: &mut PgConnection, ids: &[MessageId]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE messages m SET status = CASE WHEN v.read_watermark >= m.sent_at THEN 'read' ELSE 'delivered' END
           FROM conversations v WHERE m.id = ANY($1) AND v.id = m.conversation_id
            AND (v.read_watermark >= m.sent_at OR v.delivered_watermark >= m.sent_at)",
    )
    .bind::<Array<BigInt>, _>(ids.iter().map(|id| id.0).collect::<Vec<_>>())
    .execute(conn)
}

/// An event that waited for its message.
#[derive(Debug, QueryableByName)]
pub struct ParkedEvent {
    #[diesel(sql_type = BigInt)]
    pub channel_id: i64,
    #[diesel(sql_type = Text)]
    pub platform_message_id: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub event: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub occurred_at: DateTime<Utc>,
}

/// Takes the events parked for any of `(channel, mid)`, oldest first.
pub fn take_parked(conn: &mut PgConnection, keys: &[(i64, &str)]) -> QueryResult<Vec<ParkedEvent>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (channels, mids): (Vec<i64>, Vec<&str>) = keys.iter().copied().unzip();
    let mut parked: Vec<ParkedEvent> = diesel::sql_query(
        "DELETE FROM pending_message_events p USING unnest($1::bigint[], $2::text[]) AS x(channel_id, mid)
          WHERE p.channel_id = x.channel_id AND p.platform_message_id = x.mid
         RETURNING p.channel_id, p.platform_message_id, p.event, p.occurred_at",
    )
    .bind::<Array<BigInt>, _>(channels)
    .bind::<Array<Text>, _>(mids)
    .load(conn)?;
    parked.sort_by_key(|p| p.occurred_at);
    Ok(parked)
}
