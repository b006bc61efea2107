//! Customers of a batch of new messages, resolved to their contacts and conversations with a
//! few set-based statements: existing ones are read (no writes for customers Parley knows), new
//! ones are created, and a name Meta now sends replaces the stored one.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::ids::{ContactId, ConversationId};
use crate::models::batches::{self, CustomerKey, NewContact, NewConversation};
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
    pub(crate) contact: Option<ContactId>,
    pub(crate) stored_name: Option<String>,
    pub(crate) conversation: Option<ConversationId>,
    /// What the batch brings their conversation: a new one is inserted with it.
    pub(crate) opening: Option<ConversationChange>,
    /// The conversation was created by this batch, already holding `opening`.
    pub(crate) opened_here: bool,
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
        let keys: Vec<CustomerKey> = todo
            .iter()
            .map(|&i| CustomerKey {
                channel: customers[i].channel,
                platform_user_id: &customers[i].id,
            })
            .collect();
        let found = batches::find_customers(conn, &keys)?;
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
            let new: Vec<NewContact> = missing
                .iter()
                .map(|&i| NewContact {
                    tenant: customers[i].tenant,
                    channel: customers[i].channel,
                    platform_user_id: &customers[i].id,
                    name: customers[i].name.as_deref(),
                })
                .collect();
            let created = batches::create_contacts(conn, &new)?;
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
            let new: Vec<NewConversation> = need
                .iter()
                .filter_map(|&i| {
                    Some(NewConversation {
                        tenant: customers[i].tenant,
                        channel: customers[i].channel,
                        contact: customers[i].contact?,
                        opening: customers[i].opening.as_ref(),
                    })
                })
                .collect();
            let created = batches::open_conversations(conn, &new)?;
            let index: HashMap<ContactId, usize> = need
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
    let renamed: Vec<(ContactId, String)> = customers
        .iter()
        .filter_map(|c| match (&c.name, c.contact) {
            (Some(name), Some(id)) if c.stored_name.as_ref() != Some(name) => {
                Some((id, name.clone()))
            }
            _ => None,
        })
        .collect();
    batches::rename_contacts(conn, &renamed)?;
    Ok(())
}
