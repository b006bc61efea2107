//! Customers of a batch of new messages, resolved to their contacts and conversations with a
//! few set-based statements: existing ones are read (no writes for customers Parley knows), new
//! ones are created, and a name Meta now sends replaces the stored one.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};

use crate::models::conversations::ConversationChange;
use crate::webhooks::apply::Applied;

/// A customer seen in the batch, to be resolved to a contact and a conversation.
pub(crate) struct Customer {
    pub(crate) tenant: i64,
    pub(crate) channel: i64,
    pub(crate) id: String,
    /// The newest name the batch carries for them (WhatsApp sends one with every message).
    pub(crate) name: Option<String>,
    /// The first item that mentions them (credited with a new contact's profile fetch).
    pub(crate) item: usize,
    pub(crate) contact: Option<i64>,
    pub(crate) stored_name: Option<String>,
    pub(crate) conversation: Option<i64>,
    /// What the batch brings their conversation: a new one is inserted with it.
    pub(crate) opening: Option<ConversationChange>,
    /// The conversation was created by this batch, already holding `opening`.
    pub(crate) opened_here: bool,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    contact_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    conversation_id: Option<i64>,
}

#[derive(QueryableByName)]
struct NewContact {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
    #[diesel(sql_type = Text)]
    platform_user_id: String,
}

#[derive(QueryableByName)]
struct NewConversation {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    contact_id: i64,
}

/// Finds or creates every customer's contact and conversation. Reads first, so customers Parley
/// already knows cost no writes; creation uses `ON CONFLICT DO NOTHING`, and a row another
/// worker created meanwhile is found by the next pass (its insert waited for that commit).
pub(crate) fn resolve_customers(
    conn: &mut PgConnection,
    customers: &mut [Customer],
    out: &mut [Applied],
) -> QueryResult<()> {
    for _pass in 0..3 {
        let todo: Vec<usize> = (0..customers.len())
            .filter(|&i| customers[i].conversation.is_none())
            .collect();
        if todo.is_empty() {
            break;
        }
        let found: Vec<Found> = diesel::sql_query(
            "SELECT x.n, c.id AS contact_id, c.name, v.id AS conversation_id
               FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS x(channel_id, uid, n)
               JOIN contacts c ON c.channel_id = x.channel_id AND c.platform_user_id = x.uid
               LEFT JOIN conversations v ON v.channel_id = c.channel_id AND v.contact_id = c.id",
        )
        .bind::<Array<BigInt>, _>(
            todo.iter()
                .map(|&i| customers[i].channel)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(todo.iter().map(|&i| &customers[i].id).collect::<Vec<_>>())
        .load(conn)?;
        for f in found {
            let Some(&i) = usize::try_from(f.n - 1).ok().and_then(|n| todo.get(n)) else {
                continue;
            };
            customers[i].contact = Some(f.contact_id);
            customers[i].stored_name = f.name;
            customers[i].conversation = f.conversation_id;
        }

        let missing: Vec<usize> = todo
            .iter()
            .copied()
            .filter(|&i| customers[i].contact.is_none())
            .collect();
        if !missing.is_empty() {
            let created: Vec<NewContact> = diesel::sql_query(
                // A contact that arrives with its name needs no profile fetch.
                "INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name, profile_fetched_at)
                 SELECT t, ch, uid, n, CASE WHEN n IS NOT NULL THEN now() END
                   FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS x(t, ch, uid, n)
                 ON CONFLICT (channel_id, platform_user_id) DO NOTHING
                 RETURNING id, channel_id, platform_user_id",
            )
            .bind::<Array<BigInt>, _>(
                missing
                    .iter()
                    .map(|&i| customers[i].tenant)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<BigInt>, _>(
                missing
                    .iter()
                    .map(|&i| customers[i].channel)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Text>, _>(
                missing
                    .iter()
                    .map(|&i| &customers[i].id)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<Text>>, _>(
                missing
                    .iter()
                    .map(|&i| customers[i].name.clone())
                    .collect::<Vec<_>>(),
            )
            .load(conn)?;
            let index: HashMap<(i64, &str), usize> = missing
                .iter()
                .map(|&i| ((customers[i].channel, customers[i].id.as_str()), i))
                .collect();
            let mut placed = Vec::new();
            for c in created {
                if let Some(&i) = index.get(&(c.channel_id, c.platform_user_id.as_str())) {
                    placed.push((i, c.id));
                }
            }
            for (i, id) in placed {
                let customer = &mut customers[i];
                customer.contact = Some(id);
                customer.stored_name = customer.name.clone();
                if customer.name.is_none() {
                    out[customer.item].new_contacts.push(id);
                }
            }
        }

        let need: Vec<usize> = todo
            .iter()
            .copied()
            .filter(|&i| customers[i].contact.is_some() && customers[i].conversation.is_none())
            .collect();
        if !need.is_empty() {
            // Inserted with the batch's messages already counted: updating a row inserted
            // moments before would write all of its indexes twice.
            let opening = |i: usize| customers[i].opening.as_ref();
            let created: Vec<NewConversation> = diesel::sql_query(
                "INSERT INTO conversations (tenant_id, channel_id, contact_id, last_message_at,
                                            last_message_preview, last_inbound_at, unread_count)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[],
                                      $5::text[], $6::timestamptz[], $7::int[])
                 ON CONFLICT (channel_id, contact_id) DO NOTHING
                 RETURNING id, contact_id",
            )
            .bind::<Array<BigInt>, _>(
                need.iter()
                    .map(|&i| customers[i].tenant)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<BigInt>, _>(
                need.iter()
                    .map(|&i| customers[i].channel)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<BigInt>, _>(
                need.iter()
                    .filter_map(|&i| customers[i].contact)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<Timestamptz>>, _>(
                need.iter()
                    .map(|&i| opening(i).map(|o| o.last_at))
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<Text>>, _>(
                need.iter()
                    .map(|&i| opening(i).map(|o| o.preview.as_str()))
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<Timestamptz>>, _>(
                need.iter()
                    .map(|&i| opening(i).and_then(|o| o.inbound_at))
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Integer>, _>(
                need.iter()
                    .map(|&i| opening(i).map_or(0, |o| o.inbound))
                    .collect::<Vec<_>>(),
            )
            .load(conn)?;
            let index: HashMap<i64, usize> = need
                .iter()
                .filter_map(|&i| Some((customers[i].contact?, i)))
                .collect();
            for c in created {
                if let Some(&i) = index.get(&c.contact_id) {
                    customers[i].conversation = Some(c.id);
                    customers[i].opened_here = true;
                }
            }
        }
    }
    if customers.iter().any(|c| c.conversation.is_none()) {
        // Only possible if rows vanished between passes; the caller retries the batch carefully.
        return Err(diesel::result::Error::NotFound);
    }
    // A name Meta now sends replaces the stored one (as the per-item path does).
    let renamed: Vec<(i64, String)> = customers
        .iter()
        .filter_map(|c| match (&c.name, c.contact) {
            (Some(name), Some(id)) if c.stored_name.as_ref() != Some(name) => {
                Some((id, name.clone()))
            }
            _ => None,
        })
        .collect();
    if !renamed.is_empty() {
        diesel::sql_query(
            "UPDATE contacts c SET name = x.name FROM unnest($1::bigint[], $2::text[]) AS x(id, name)
              WHERE c.id = x.id AND c.name IS DISTINCT FROM x.name",
        )
        .bind::<Array<BigInt>, _>(renamed.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(renamed.iter().map(|r| &r.1).collect::<Vec<_>>())
        .execute(conn)?;
    }
    Ok(())
}
