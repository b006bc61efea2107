//! The webhook ledger (`webhook_events`) and its routed parts (`webhook_items`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text};

use crate::db::ids::{ChannelId, TenantId, WebhookEventId, WebhookItemId};
use crate::db::schema::{webhook_events, webhook_items};
use crate::webhooks::split::ItemDraft;

/// Stores a delivery exactly as received; returns its id. One INSERT, one commit.
pub fn insert_event(
    conn: &mut PgConnection,
    object: Option<&str>,
    body: &[u8],
    state: &str,
    error: Option<&str>,
) -> QueryResult<WebhookEventId> {
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::object.eq(object),
            webhook_events::body.eq(body),
            webhook_events::signature_ok.eq(true),
            webhook_events::state.eq(state),
            webhook_events::last_error.eq(error),
        ))
        .returning(webhook_events::id)
        .get_result(conn)
}

/// A claimed delivery.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedEvent {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    pub body: Vec<u8>,
}

/// Claims up to `limit` received deliveries (or ones whose splitter died) for `worker`.
pub fn claim_events(
    conn: &mut PgConnection,
    worker: &str,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<ClaimedEvent>> {
    diesel::sql_query(
        "UPDATE webhook_events SET attempts = attempts + 1, locked_by = $1,
                locked_until = now() + make_interval(secs => $3)
          WHERE id IN (SELECT id FROM webhook_events
                        WHERE state = 'received' AND (locked_until IS NULL OR locked_until < now())
                        ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $2)
        RETURNING id, body",
    )
    .bind::<Text, _>(worker)
    .bind::<BigInt, _>(limit)
    .bind::<Integer, _>(lease.num_seconds() as i32)
    .load(conn)
}

/// Records the items of a delivery and marks it split, in one transaction. Inserting the same
/// delivery's items twice is impossible (unique event_id, position).
pub fn store_split(
    conn: &mut PgConnection,
    event: WebhookEventId,
    items: &[ItemDraft],
) -> QueryResult<()> {
    conn.transaction(|conn| {
        for item in items {
            diesel::insert_into(webhook_items::table)
                .values((
                    webhook_items::event_id.eq(event),
                    webhook_items::position.eq(item.position),
                    webhook_items::object.eq(&item.object),
                    webhook_items::account_id.eq(&item.account_id),
                    webhook_items::kind.eq(&item.kind),
                    webhook_items::body.eq(&item.body),
                    webhook_items::occurred_at.eq(item.occurred_at),
                ))
                .on_conflict((webhook_items::event_id, webhook_items::position))
                .do_nothing()
                .execute(conn)?;
        }
        diesel::update(webhook_events::table.find(event))
            .set((
                webhook_events::state.eq("split"),
                webhook_events::processed_at.eq(diesel::dsl::now),
                webhook_events::locked_until.eq(None::<DateTime<Utc>>),
                webhook_events::locked_by.eq(None::<String>),
            ))
            .execute(conn)
            .map(|_| ())
    })
}

/// Marks a delivery that is not a webhook body as failed (kept, visible, replayable).
pub fn fail_event(conn: &mut PgConnection, event: WebhookEventId, error: &str) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(event))
        .set((
            webhook_events::state.eq("failed"),
            webhook_events::last_error.eq(error),
            webhook_events::locked_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A routed part of a delivery.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_items)]
pub struct WebhookItem {
    pub id: WebhookItemId,
    pub event_id: WebhookEventId,
    pub position: i32,
    pub object: String,
    pub account_id: String,
    pub tenant_id: Option<TenantId>,
    pub channel_id: Option<ChannelId>,
    pub kind: String,
    pub body: serde_json::Value,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` items ready to process, oldest event time first.
pub fn claim_items(
    conn: &mut PgConnection,
    worker: &str,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<WebhookItem>> {
    diesel::sql_query(
        "UPDATE webhook_items SET attempts = attempts + 1, locked_by = $1,
                locked_until = now() + make_interval(secs => $3)
          WHERE id IN (SELECT id FROM webhook_items
                        WHERE state IN ('pending', 'failed') AND next_attempt_at <= now()
                          AND (locked_until IS NULL OR locked_until < now())
                        ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $2)
        RETURNING *",
    )
    .bind::<Text, _>(worker)
    .bind::<BigInt, _>(limit)
    .bind::<Integer, _>(lease.num_seconds() as i32)
    .load(conn)
}

/// Records an item's outcome (only while `worker` still holds it).
pub fn finish_item(
    conn: &mut PgConnection,
    id: WebhookItemId,
    worker: &str,
    state: &str,
    tenant: Option<TenantId>,
    channel: Option<ChannelId>,
    error: Option<&str>,
) -> QueryResult<bool> {
    diesel::update(
        webhook_items::table
            .filter(webhook_items::id.eq(id))
            .filter(webhook_items::locked_by.eq(worker)),
    )
    .set((
        webhook_items::state.eq(state),
        webhook_items::tenant_id.eq(tenant),
        webhook_items::channel_id.eq(channel),
        webhook_items::last_error.eq(error),
        webhook_items::processed_at.eq(diesel::dsl::now),
        webhook_items::locked_until.eq(None::<DateTime<Utc>>),
        webhook_items::locked_by.eq(None::<String>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records a failed attempt: retried after `delay`, or dead after `max_attempts`.
pub fn retry_item_later(
    conn: &mut PgConnection,
    item: &WebhookItem,
    worker: &str,
    error: &str,
    delay: Duration,
    max_attempts: i32,
) -> QueryResult<()> {
    let dead = item.attempts >= max_attempts;
    diesel::update(
        webhook_items::table
            .filter(webhook_items::id.eq(item.id))
            .filter(webhook_items::locked_by.eq(worker)),
    )
    .set((
        webhook_items::state.eq(if dead { "dead" } else { "failed" }),
        webhook_items::last_error.eq(error),
        webhook_items::next_attempt_at.eq(Utc::now() + delay),
        webhook_items::locked_until.eq(None::<DateTime<Utc>>),
        webhook_items::locked_by.eq(None::<String>),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Puts unrouted items for a newly connected account back in the queue.
pub fn requeue_unrouted(
    conn: &mut PgConnection,
    object: &str,
    account_ids: &[String],
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE webhook_items SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
          WHERE state = 'unrouted' AND object = $1 AND account_id = ANY($2)",
    )
    .bind::<Text, _>(object)
    .bind::<Array<Text>, _>(account_ids)
    .execute(conn)
}

/// A tenant's items, newest first, with keyset pagination (`before` an id).
pub fn list_for_tenant(
    conn: &mut PgConnection,
    tenant: TenantId,
    state: Option<&str>,
    before: Option<WebhookItemId>,
    limit: i64,
) -> QueryResult<Vec<WebhookItem>> {
    let mut q = webhook_items::table
        .filter(webhook_items::tenant_id.eq(tenant))
        .select(WebhookItem::as_select())
        .into_boxed();
    if let Some(state) = state {
        q = q.filter(webhook_items::state.eq(state.to_string()));
    }
    if let Some(before) = before {
        q = q.filter(webhook_items::id.lt(before));
    }
    q.order(webhook_items::id.desc()).limit(limit).load(conn)
}

/// One item of a tenant.
pub fn get_for_tenant(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: WebhookItemId,
) -> QueryResult<Option<WebhookItem>> {
    webhook_items::table
        .filter(webhook_items::tenant_id.eq(tenant))
        .filter(webhook_items::id.eq(id))
        .select(WebhookItem::as_select())
        .first(conn)
        .optional()
}

/// Queues items again (after a fix); scoped to `tenant` when given, else any (operator CLI).
pub fn replay(
    conn: &mut PgConnection,
    tenant: Option<TenantId>,
    ids: Option<&[WebhookItemId]>,
    only_state: Option<&str>,
) -> QueryResult<usize> {
    let mut q = diesel::update(webhook_items::table).into_boxed();
    if let Some(t) = tenant {
        q = q.filter(webhook_items::tenant_id.eq(t));
    }
    if let Some(ids) = ids {
        q = q.filter(webhook_items::id.eq_any(ids.to_vec()));
    }
    if let Some(s) = only_state {
        q = q.filter(webhook_items::state.eq(s.to_string()));
    }
    q.set((
        webhook_items::state.eq("pending"),
        webhook_items::attempts.eq(0),
        webhook_items::next_attempt_at.eq(diesel::dsl::now),
        webhook_items::last_error.eq(None::<String>),
    ))
    .execute(conn)
}

/// Items in `state` across tenants (operator CLI).
pub fn list_by_state(
    conn: &mut PgConnection,
    state: &str,
    limit: i64,
) -> QueryResult<Vec<WebhookItem>> {
    webhook_items::table
        .filter(webhook_items::state.eq(state.to_string()))
        .order(webhook_items::id.desc())
        .limit(limit)
        .select(WebhookItem::as_select())
        .load(conn)
}

/// A delivery that failed to split: id, arrival, reason.
pub type FailedEvent = (WebhookEventId, DateTime<Utc>, Option<String>);

/// Deliveries that failed to split (not JSON / not a webhook), for the operator.
pub fn failed_events(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<FailedEvent>> {
    webhook_events::table
        .filter(webhook_events::state.eq("failed"))
        .order(webhook_events::id.desc())
        .limit(limit)
        .select((
            webhook_events::id,
            webhook_events::received_at,
            webhook_events::last_error,
        ))
        .load(conn)
}
