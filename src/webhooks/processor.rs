//! Workers that split stored deliveries into items and process items: route, normalize, apply.
//! Any number may run in any number of processes. Each round works on a batch in one
//! transaction that locks its rows (`FOR UPDATE SKIP LOCKED`), so a batch costs one commit and a
//! worker that dies simply rolls back, releasing its rows to the others. Each item runs in its
//! own savepoint: one bad item is retried later without spoiling its batch.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use diesel::prelude::*;
use tokio::sync::watch;

use crate::db::ids::WebhookEventId;
use crate::models::channels::{self, Channel, Platform};
use crate::models::webhooks::{self, ItemOutcome, WebhookItem};
use crate::state::AppState;
use crate::webhooks::{apply, normalize, split};

/// Attempts before an item is left `dead` for an admin to replay.
pub const MAX_ATTEMPTS: i32 = 8;
/// Rows per batch transaction.
const BATCH: i64 = 200;

/// The channel an item belongs to, if one is connected.
pub fn route(conn: &mut PgConnection, item: &WebhookItem) -> QueryResult<Option<Channel>> {
    let platform = match item.object.as_str() {
        "page" => Platform::Messenger,
        "instagram" => Platform::Instagram,
        "whatsapp_business_account" => Platform::Whatsapp,
        _ => return Ok(None),
    };
    if let Some(ch) = channels::route(conn, platform, &item.account_id)? {
        return Ok(Some(ch));
    }
    if platform == Platform::Whatsapp {
        // Account-level fields (templates) carry the WABA id, not a phone number id.
        return channels::route_by_waba(conn, &item.account_id);
    }
    Ok(None)
}

/// Splits one batch of stored deliveries in one transaction; returns how many were handled.
pub fn split_batch(conn: &mut PgConnection) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let events = webhooks::lock_events(conn, BATCH)?;
        let mut splits = Vec::with_capacity(events.len());
        for ev in &events {
            let id = WebhookEventId(ev.id);
            match split::split_bytes(&ev.body) {
                Ok(items) => splits.push((id, items)),
                Err(e) => webhooks::fail_event(conn, id, &e.to_string())?,
            }
        }
        if !splits.is_empty() {
            webhooks::store_splits(conn, &splits)?;
        }
        Ok(events.len())
    })
}

/// Normalizes and applies one routed item; returns its outcome and conversations to notify.
fn process_routed(
    conn: &mut PgConnection,
    item: &WebhookItem,
    channel: Option<&Channel>,
) -> QueryResult<(ItemOutcome, Vec<String>)> {
    let Some(channel) = channel else {
        let outcome = ItemOutcome {
            id: item.id,
            state: "unrouted",
            tenant: None,
            channel: None,
            note: Some("no connected channel for this account".into()),
        };
        return Ok((outcome, Vec::new()));
    };
    let fallback = item.occurred_at.unwrap_or(item.created_at);
    let events = normalize::normalize(&item.object, &item.account_id, &item.body, fallback);
    let applied = apply::apply(conn, channel, events)?;
    let (state, note) = if applied.applied == 0 {
        ("ignored", Some(applied.ignored.join("; ")))
    } else {
        (
            "processed",
            (!applied.ignored.is_empty())
                .then(|| format!("partly ignored: {}", applied.ignored.join("; "))),
        )
    };
    use crate::jobs::kinds::{DOWNLOAD_ATTACHMENTS, FETCH_PROFILE};
    use crate::jobs::queue::{NewJob, enqueue};
    for contact in &applied.new_contacts {
        enqueue(
            conn,
            &NewJob::new(FETCH_PROFILE, serde_json::json!({ "contact_id": contact }))
                .for_tenant(channel.tenant_id)
                .dedupe(format!("profile:{contact}"))
                .max_attempts(4),
        )?;
    }
    for message in &applied.media_messages {
        enqueue(
            conn,
            &NewJob::new(
                DOWNLOAD_ATTACHMENTS,
                serde_json::json!({ "message_id": message }),
            )
            .for_tenant(channel.tenant_id)
            .dedupe(format!("attachments:{message}"))
            .max_attempts(6),
        )?;
    }
    let notify = applied
        .conversations
        .iter()
        .map(|c| format!("{}:conversation:{c}", channel.tenant_id))
        .collect();
    let outcome = ItemOutcome {
        id: item.id,
        state,
        tenant: Some(channel.tenant_id),
        channel: Some(channel.id),
        note,
    };
    Ok((outcome, notify))
}

/// Processes one batch in one transaction. Fast path: no savepoints; if anything fails the
/// batch is rolled back and done again carefully, each item in its own savepoint, so a bad
/// item is retried later on its own. Returns how many items, and the errors of failed ones.
pub fn process_batch(conn: &mut PgConnection) -> QueryResult<(usize, Vec<String>)> {
    match conn.transaction(|conn| batch(conn, false)) {
        Ok(done) => Ok(done),
        Err(_) => conn.transaction(|conn| batch(conn, true)),
    }
}

fn batch(conn: &mut PgConnection, careful: bool) -> QueryResult<(usize, Vec<String>)> {
    let items = webhooks::lock_items(conn, BATCH)?;
    let mut routes: HashMap<(String, String), Option<Channel>> = HashMap::new();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut notify: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for item in &items {
        let key = (item.object.clone(), item.account_id.clone());
        let channel = match routes.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = route(conn, item)?;
                routes.insert(key, c.clone());
                c
            }
        };
        let result = if careful {
            conn.transaction(|conn| process_routed(conn, item, channel.as_ref()))
        } else {
            process_routed(conn, item, channel.as_ref())
        };
        match result {
            Ok((outcome, n)) => {
                outcomes.push(outcome);
                notify.extend(n);
            }
            Err(e) if careful => {
                let delay = crate::jobs::queue::backoff(item.attempts + 1);
                webhooks::retry_item_later(conn, item, &e.to_string(), delay, MAX_ATTEMPTS)?;
                errors.push(e.to_string());
            }
            Err(e) => return Err(e),
        }
    }
    webhooks::finish_items(conn, &outcomes)?;
    notify.sort_unstable();
    notify.dedup();
    if !notify.is_empty() {
        // Delivered at commit, so pages only ever see committed changes.
        diesel::sql_query("SELECT pg_notify('parley_events', n) FROM unnest($1::text[]) AS n")
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(notify)
            .execute(conn)?;
    }
    Ok((items.len(), errors))
}

/// One round: split pending deliveries, then process ready items. Returns the work done.
pub async fn round(state: &AppState) -> Result<usize, crate::db::DbError> {
    let split = crate::db::run(&state.pool, |conn| Ok(split_batch(conn)?)).await?;
    let (count, errors) = crate::db::run(&state.pool, |conn| Ok(process_batch(conn)?)).await?;
    for error in errors {
        tracing::warn!(%error, "webhook item failed; it will be retried");
    }
    Ok(split + count)
}

/// Runs rounds until stopped, pausing briefly when idle.
pub async fn run(state: AppState, worker: String, mut stopped: watch::Receiver<bool>) {
    tracing::debug!(worker, "webhook processor started");
    while !*stopped.borrow() {
        let pause = match round(&state).await {
            Ok(0) => StdDuration::from_millis(50),
            Ok(_) => StdDuration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "webhook processing round failed");
                StdDuration::from_secs(1)
            }
        };
        if pause > StdDuration::ZERO {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}
