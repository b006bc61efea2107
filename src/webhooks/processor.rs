//! Workers that split stored deliveries into items and process items: route, normalize, apply.
//! Any number may run in any number of processes (claims use `FOR UPDATE SKIP LOCKED` leases).

use std::time::Duration as StdDuration;

use chrono::Duration;
use diesel::prelude::*;
use tokio::sync::watch;

use crate::db::ids::WebhookEventId;
use crate::models::channels::{self, Channel, Platform};
use crate::models::webhooks::{self, WebhookItem};
use crate::state::AppState;
use crate::webhooks::{apply, normalize, split};

/// How long a claim lasts before another worker may take the work over.
const LEASE: Duration = Duration::seconds(60);
/// Attempts before an item is left `dead` for an admin to replay.
pub const MAX_ATTEMPTS: i32 = 8;
const BATCH: i64 = 100;

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

/// Splits up to one batch of stored deliveries; returns how many were handled.
pub fn split_batch(conn: &mut PgConnection, worker: &str) -> QueryResult<usize> {
    let events = webhooks::claim_events(conn, worker, BATCH, LEASE)?;
    for ev in &events {
        let id = WebhookEventId(ev.id);
        match split::split_bytes(&ev.body) {
            Ok(items) => webhooks::store_split(conn, id, &items)?,
            Err(e) => webhooks::fail_event(conn, id, &e.to_string())?,
        }
    }
    Ok(events.len())
}

/// Processes one claimed item in one transaction; returns the tenant's touched conversations.
pub fn process_item(
    conn: &mut PgConnection,
    item: &WebhookItem,
    worker: &str,
) -> QueryResult<Vec<i64>> {
    conn.transaction(|conn| {
        let Some(channel) = route(conn, item)? else {
            webhooks::finish_item(
                conn,
                item.id,
                worker,
                "unrouted",
                None,
                None,
                Some("no connected channel for this account"),
            )?;
            return Ok(Vec::new());
        };
        let fallback = item.occurred_at.unwrap_or(item.created_at);
        let events = normalize::normalize(&item.object, &item.account_id, &item.body, fallback);
        let applied = apply::apply(conn, &channel, events)?;
        let (state, note) = if applied.applied == 0 {
            ("ignored", Some(applied.ignored.join("; ")))
        } else {
            (
                "processed",
                (!applied.ignored.is_empty())
                    .then(|| format!("partly ignored: {}", applied.ignored.join("; "))),
            )
        };
        webhooks::finish_item(
            conn,
            item.id,
            worker,
            state,
            Some(channel.tenant_id),
            Some(channel.id),
            note.as_deref(),
        )?;
        for contact in &applied.new_contacts {
            crate::jobs::queue::enqueue(
                conn,
                &crate::jobs::queue::NewJob::new(
                    crate::jobs::kinds::FETCH_PROFILE,
                    serde_json::json!({ "contact_id": contact }),
                )
                .for_tenant(channel.tenant_id)
                .dedupe(format!("profile:{contact}"))
                .max_attempts(4),
            )?;
        }
        for message in &applied.media_messages {
            crate::jobs::queue::enqueue(
                conn,
                &crate::jobs::queue::NewJob::new(
                    crate::jobs::kinds::DOWNLOAD_ATTACHMENTS,
                    serde_json::json!({ "message_id": message }),
                )
                .for_tenant(channel.tenant_id)
                .dedupe(format!("attachments:{message}"))
                .max_attempts(6),
            )?;
        }
        for conv in &applied.conversations {
            diesel::sql_query("SELECT pg_notify('parley_events', $1)")
                .bind::<diesel::sql_types::Text, _>(format!(
                    "{}:conversation:{conv}",
                    channel.tenant_id
                ))
                .execute(conn)?;
        }
        Ok(applied.conversations)
    })
}

/// One round: split pending deliveries, then process ready items. Returns the work done.
pub async fn round(state: &AppState, worker: &str) -> Result<usize, crate::db::DbError> {
    let w = worker.to_string();
    let split = crate::db::run(&state.pool, move |conn| Ok(split_batch(conn, &w)?)).await?;
    let w = worker.to_string();
    let items = crate::db::run(&state.pool, move |conn| {
        Ok(webhooks::claim_items(conn, &w, BATCH, LEASE)?)
    })
    .await?;
    let count = items.len();
    for item in items {
        let w = worker.to_string();
        let result = crate::db::run(&state.pool, move |conn| {
            match process_item(conn, &item, &w) {
                Ok(_) => Ok(None),
                Err(e) => {
                    let delay = crate::jobs::queue::backoff(item.attempts);
                    webhooks::retry_item_later(
                        conn,
                        &item,
                        &w,
                        &e.to_string(),
                        delay,
                        MAX_ATTEMPTS,
                    )?;
                    Ok(Some(e.to_string()))
                }
            }
        })
        .await?;
        if let Some(error) = result {
            tracing::warn!(%error, "webhook item failed; it will be retried");
        }
    }
    Ok(split + count)
}

/// Runs rounds until stopped, pausing briefly when idle.
pub async fn run(state: AppState, worker: String, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let pause = match round(&state, &worker).await {
            Ok(0) => StdDuration::from_millis(100),
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
