//! Workers that turn stored deliveries into domain changes: split into items, route, normalize,
//! apply. Any number may run in any number of processes. Each round works on a batch in one
//! transaction that locks its rows (`FOR UPDATE SKIP LOCKED`), so a batch costs one commit and a
//! worker that dies simply rolls back, releasing its rows to the others.
//!
//! Fresh deliveries take the fast path: split, applied set-based and recorded with their
//! outcomes, all in one transaction. If that fails, the batch is only split (items `pending`),
//! and items are then processed set-based again or, failing that, item by item, each in its own
//! savepoint, so one bad item is retried later without spoiling its batch. Retries, replays and
//! items for newly connected accounts go through the same item path.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;

use crate::db::ids::WebhookEventId;
use crate::db::statuses::ItemState;
use crate::inbox::attachments::DownloadAttachments;
use crate::inbox::live::LiveEvent;
use crate::jobs::queue::{NewJob, enqueue_many};
use crate::models::channels::{self, Channel, Platform};
use crate::models::webhooks::{self, ItemOutcome, Settled, WebhookItem};
use crate::telemetry::figures;
use crate::webhooks::apply::Applied;
use crate::webhooks::split::ItemDraft;
use crate::webhooks::{apply, apply_batch, normalize, split};

/// Attempts before an item is left `dead` for an admin to replay.
pub const MAX_ATTEMPTS: i32 = 8;
/// Rows per batch transaction.
pub(crate) const BATCH: i64 = 500;

/// The channel an account's items belong to, if one is connected.
pub fn route(
    conn: &mut PgConnection,
    object: &str,
    account_id: &str,
) -> QueryResult<Option<Channel>> {
    let platform = match object {
        "page" => Platform::Messenger,
        "instagram" => Platform::Instagram,
        "whatsapp_business_account" => Platform::Whatsapp,
        _ => return Ok(None),
    };
    if let Some(ch) = channels::route(conn, platform, account_id)? {
        return Ok(Some(ch));
    }
    if platform == Platform::Whatsapp {
        // Account-level fields (templates) carry the WABA id, not a phone number id.
        return channels::route_by_waba(conn, account_id);
    }
    Ok(None)
}

/// Channels by (object, account id), each looked up once per batch.
#[derive(Default)]
struct Routes(HashMap<(String, String), Option<Channel>>);

impl Routes {
    fn load<'k>(
        conn: &mut PgConnection,
        keys: impl Iterator<Item = (&'k str, &'k str)>,
    ) -> QueryResult<Routes> {
        let mut routes = Routes::default();
        for (object, account) in keys {
            let key = (object.to_string(), account.to_string());
            if let std::collections::hash_map::Entry::Vacant(slot) = routes.0.entry(key) {
                slot.insert(route(conn, object, account)?);
            }
        }
        Ok(routes)
    }

    fn get(&self, object: &str, account: &str) -> Option<&Channel> {
        self.0
            .get(&(object.to_string(), account.to_string()))
            .and_then(Option::as_ref)
    }
}

/// The outcome of an item whose account is not connected: kept until it is.
fn unrouted() -> Settled {
    Settled {
        state: ItemState::Unrouted,
        tenant: None,
        channel: None,
        note: Some("no connected channel for this account".into()),
    }
}

/// What applying an item's events means for the item, its follow-up jobs and live pages.
fn conclude(
    channel: &Channel,
    applied: Applied,
    jobs: &mut Vec<NewJob>,
    notify: &mut Vec<LiveEvent>,
) -> Settled {
    let (state, note) = if applied.applied == 0 {
        (ItemState::Ignored, Some(applied.ignored.join("; ")))
    } else {
        (
            ItemState::Processed,
            (!applied.ignored.is_empty())
                .then(|| format!("partly ignored: {}", applied.ignored.join("; "))),
        )
    };
    let tenant = channel.tenant_id;
    if !applied.new_contacts.is_empty() {
        // One sweep per tenant fetches every contact still without a profile.
        jobs.push(crate::inbox::profiles::sweep_job(tenant));
    }
    jobs.extend(
        applied
            .media_messages
            .iter()
            .map(|&message| DownloadAttachments::for_message(tenant, message)),
    );
    notify.extend(
        applied
            .conversations
            .iter()
            .map(|&id| LiveEvent::Conversation { tenant, id }),
    );
    Settled {
        state,
        tenant: Some(tenant),
        channel: Some(channel.id),
        note,
    }
}

/// A delivery and its items.
type Split = (WebhookEventId, Vec<ItemDraft>);

/// Locks a batch of fresh deliveries and splits them; a body that is not a webhook is marked
/// failed (kept, visible, replayable).
fn lock_and_split(conn: &mut PgConnection) -> QueryResult<(usize, Vec<Split>)> {
    let events = webhooks::lock_events(conn, BATCH)?;
    let mut splits = Vec::with_capacity(events.len());
    let now = Utc::now();
    for ev in &events {
        figures::webhook_lag(now - ev.received_at);
        let id = WebhookEventId(ev.id);
        match split::split_bytes(&ev.body) {
            Ok(items) => splits.push((id, items)),
            Err(e) => webhooks::fail_event(conn, id, &e.to_string())?,
        }
    }
    Ok((events.len(), splits))
}

/// Splits one batch of stored deliveries into `pending` items, in one transaction; returns how
/// many deliveries were handled.
pub fn split_batch(conn: &mut PgConnection) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let (count, splits) = lock_and_split(conn)?;
        let splits: Vec<_> = splits
            .into_iter()
            .map(|(id, items)| (id, items.into_iter().map(|i| (i, None)).collect()))
            .collect();
        if !splits.is_empty() {
            webhooks::store_splits(conn, &splits)?;
        }
        Ok(count)
    })
}

/// The fast path for fresh deliveries, all or nothing in one transaction: split, apply the
/// whole batch set-based, and store the items with their outcomes. Returns how many deliveries.
pub fn ingest_batch_set_based(conn: &mut PgConnection) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let (count, splits) = lock_and_split(conn)?;
        let drafts = || splits.iter().flat_map(|(_, items)| items);
        let routes = Routes::load(
            conn,
            drafts().map(|d| (d.object.as_str(), d.account_id.as_str())),
        )?;
        let now = Utc::now();
        let mut work = Vec::new();
        for draft in drafts() {
            if let Some(channel) = routes.get(&draft.object, &draft.account_id) {
                let fallback = draft.occurred_at.unwrap_or(now);
                let events =
                    normalize::normalize(&draft.object, &draft.account_id, &draft.body, fallback);
                work.push((channel, events));
            }
        }
        let mut applied = apply_batch::apply_items(conn, work)?.into_iter();
        let (mut jobs, mut notify) = (Vec::new(), Vec::new());
        let mut settled_splits = Vec::with_capacity(splits.len());
        for (id, items) in splits {
            let mut settled = Vec::with_capacity(items.len());
            for draft in items {
                let outcome = match routes.get(&draft.object, &draft.account_id) {
                    Some(channel) => {
                        // One `Applied` per routed draft, in order.
                        let a = applied.next().ok_or(diesel::result::Error::NotFound)?;
                        conclude(channel, a, &mut jobs, &mut notify)
                    }
                    None => unrouted(),
                };
                settled.push((draft, Some(outcome)));
            }
            settled_splits.push((id, settled));
        }
        if !settled_splits.is_empty() {
            webhooks::store_splits(conn, &settled_splits)?;
        }
        follow_up(conn, &jobs, notify)?;
        Ok(count)
    })
}
/// Processes one batch in one transaction. Fast path: the whole batch is applied set-based
/// (`apply_batch`) without savepoints; if anything fails it is rolled back and done again
/// carefully, item by item, each in its own savepoint, so a bad item is retried later on its
/// own. Returns how many items, and the errors of failed ones.
pub fn process_batch(conn: &mut PgConnection) -> QueryResult<(usize, Vec<String>)> {
    match process_batch_set_based(conn) {
        Ok(done) => Ok((done, Vec::new())),
        Err(error) => {
            tracing::debug!(%error, "set-based batch failed; processing it item by item");
            process_batch_item_by_item(conn).or_else(|error| {
                tracing::warn!(%error, "item-by-item batch failed; processing items alone");
                process_items_alone(conn)
            })
        }
    }
}

/// Whether an error will likely pass by itself (so the work is retried, not set aside): a
/// deadlock, a serialization failure, a cancelled statement or a lost connection.
pub fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            [
                "deadlock detected",
                "canceling statement",
                "could not obtain lock",
                "terminating connection",
            ]
            .iter()
            .any(|m| message.contains(m))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// The last resort for items: one item per transaction. An item whose transaction fails even
/// alone (not only its savepoint) is left `dead` with the reason, so it never holds up others.
pub fn process_items_alone(conn: &mut PgConnection) -> QueryResult<(usize, Vec<String>)> {
    let (mut done, mut errors) = (0, Vec::new());
    for _ in 0..BATCH {
        let mut locked = None;
        let result = conn.transaction(|conn| {
            let items = webhooks::lock_items(conn, 1)?;
            locked = items.first().map(|i| i.id);
            careful(conn, items)
        });
        match (result, locked) {
            (Ok((0, _)), _) | (Err(_), None) => break,
            (Ok((n, errs)), _) => {
                done += n;
                errors.extend(errs);
            }
            // A passing trouble (deadlock, timeout, lost connection): a later round retries.
            (Err(e), Some(_)) if is_transient(&e) => return Err(e),
            (Err(e), Some(id)) => {
                let reason = format!("could not be processed even alone: {e}");
                conn.transaction(|conn| webhooks::bury_item(conn, id, &reason))?;
                errors.push(reason);
                done += 1;
            }
        }
    }
    Ok((done, errors))
}

/// The fast path alone: one batch applied set-based in one transaction, all or nothing.
pub fn process_batch_set_based(conn: &mut PgConnection) -> QueryResult<usize> {
    conn.transaction(batch_fast)
}

/// The careful path alone: one batch, each item in its own savepoint; a failing item is
/// scheduled for a retry with backoff (or left `dead`). Returns the count and the errors.
pub fn process_batch_item_by_item(conn: &mut PgConnection) -> QueryResult<(usize, Vec<String>)> {
    conn.transaction(batch_careful)
}

fn routes_of(conn: &mut PgConnection, items: &[WebhookItem]) -> QueryResult<Routes> {
    Routes::load(
        conn,
        items
            .iter()
            .map(|i| (i.object.as_str(), i.account_id.as_str())),
    )
}

fn normalize_item(item: &WebhookItem) -> Vec<normalize::Event> {
    let fallback = item.occurred_at.unwrap_or(item.created_at);
    match &item.body {
        Some(body) => normalize::normalize(&item.object, &item.account_id, body, fallback),
        None => vec![normalize::ignored(
            "item",
            "its part of the delivery is no longer in the ledger",
        )],
    }
}

fn batch_fast(conn: &mut PgConnection) -> QueryResult<usize> {
    let items = webhooks::lock_items(conn, BATCH)?;
    let routes = routes_of(conn, &items)?;
    let mut outcomes = Vec::with_capacity(items.len());
    let mut routed = Vec::with_capacity(items.len());
    let mut work = Vec::with_capacity(items.len());
    for item in &items {
        match routes.get(&item.object, &item.account_id) {
            None => outcomes.push(ItemOutcome {
                id: item.id,
                settled: unrouted(),
            }),
            Some(channel) => {
                work.push((channel, normalize_item(item)));
                routed.push((item, channel));
            }
        }
    }
    let applied = apply_batch::apply_items(conn, work)?;
    let (mut jobs, mut notify) = (Vec::new(), Vec::new());
    for ((item, channel), applied) in routed.into_iter().zip(applied) {
        outcomes.push(ItemOutcome {
            id: item.id,
            settled: conclude(channel, applied, &mut jobs, &mut notify),
        });
    }
    webhooks::finish_items(conn, &outcomes)?;
    follow_up(conn, &jobs, notify)?;
    Ok(items.len())
}

fn batch_careful(conn: &mut PgConnection) -> QueryResult<(usize, Vec<String>)> {
    let items = webhooks::lock_items(conn, BATCH)?;
    careful(conn, items)
}

/// Applies locked items one by one, each in its own savepoint.
fn careful(conn: &mut PgConnection, items: Vec<WebhookItem>) -> QueryResult<(usize, Vec<String>)> {
    let routes = routes_of(conn, &items)?;
    let mut outcomes = Vec::with_capacity(items.len());
    let (mut jobs, mut notify) = (Vec::new(), Vec::new());
    let mut errors = Vec::new();
    for item in &items {
        let Some(channel) = routes.get(&item.object, &item.account_id) else {
            outcomes.push(ItemOutcome {
                id: item.id,
                settled: unrouted(),
            });
            continue;
        };
        match conn.transaction(|conn| apply::apply(conn, channel, normalize_item(item))) {
            Ok(applied) => outcomes.push(ItemOutcome {
                id: item.id,
                settled: conclude(channel, applied, &mut jobs, &mut notify),
            }),
            Err(e) => {
                let delay = crate::jobs::queue::backoff(item.attempts + 1);
                webhooks::retry_item_later(conn, item, &e.to_string(), delay, MAX_ATTEMPTS)?;
                errors.push(e.to_string());
            }
        }
    }
    webhooks::finish_items(conn, &outcomes)?;
    follow_up(conn, &jobs, notify)?;
    Ok((items.len(), errors))
}

/// Queues follow-up jobs and notifies live pages (delivered at commit, so pages only ever see
/// committed changes).
fn follow_up(conn: &mut PgConnection, jobs: &[NewJob], notify: Vec<LiveEvent>) -> QueryResult<()> {
    enqueue_many(conn, jobs)?;
    crate::inbox::live::publish(conn, &notify)
}

/// Fresh deliveries: the set-based path; if it fails, only splitting them into items for the
/// item path; if even that fails, splitting them one by one, so that the one PostgreSQL refuses
/// is marked failed with its reason and the others go on. Returns how many were handled.
pub fn ingest_batch(conn: &mut PgConnection) -> QueryResult<usize> {
    match ingest_batch_set_based(conn) {
        Ok(done) => Ok(done),
        Err(error) => {
            tracing::debug!(%error, "set-based delivery batch failed; splitting it for item-by-item processing");
            split_batch(conn).or_else(|error| {
                tracing::warn!(%error, "splitting a delivery batch failed; splitting delivery by delivery");
                split_one_by_one(conn)
            })
        }
    }
}

/// The last resort for fresh deliveries: each split and stored in its own savepoint; one that
/// fails is marked failed with the reason (shown in the Webhook log, replayable).
pub fn split_one_by_one(conn: &mut PgConnection) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let events = webhooks::lock_events(conn, BATCH)?;
        let now = Utc::now();
        for ev in &events {
            figures::webhook_lag(now - ev.received_at);
            let id = WebhookEventId(ev.id);
            let items = match split::split_bytes(&ev.body) {
                Ok(items) => items,
                Err(e) => {
                    webhooks::fail_event(conn, id, &e.to_string())?;
                    continue;
                }
            };
            let stored = conn.transaction(|conn| {
                let items = items.into_iter().map(|i| (i, None)).collect();
                webhooks::store_splits(conn, &[(id, items)])
            });
            if let Err(e) = stored {
                if is_transient(&e) {
                    return Err(e);
                }
                tracing::warn!(delivery = %id, error = %e, "a delivery could not be stored as items; marked failed");
                webhooks::fail_event(conn, id, &format!("could not be stored: {e}"))?;
            }
        }
        Ok(events.len())
    })
}

pub use crate::webhooks::rounds::{round, run};
