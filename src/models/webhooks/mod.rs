//! The webhook ledger (`webhook_events`) and its routed parts (`webhook_items`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use crate::db::ids::{ChannelId, TenantId, WebhookEventId, WebhookItemId};
use crate::db::schema::{webhook_events, webhook_items};
use crate::db::statuses::ItemState;
use crate::webhooks::split::ItemDraft;

mod events;

pub use events::{
    ClaimedEvent, FailedEvent, fail_event, failed_events, insert_events, lock_events,
    replay_failed_deliveries,
};

/// A delivery's items, each with its outcome when it was already processed.
pub type DeliverySplit = (WebhookEventId, Vec<(ItemDraft, Option<Settled>)>);

/// Records the items of deliveries and marks the deliveries split (in the caller's
/// transaction), in two statements for the whole batch. An item comes with its [`Settled`]
/// outcome when it was processed in the same transaction, else it is stored `pending`. Storing a
/// delivery's items twice is impossible (unique event_id, position). Items that are settled for
/// good keep no copy of their JSON: see [`needs_own_body`].
pub fn store_splits(conn: &mut PgConnection, splits: &[DeliverySplit]) -> QueryResult<()> {
    use diesel::sql_types::{Integer, Jsonb, Nullable, Timestamptz};
    let now = Utc::now();
    let items = || {
        splits.iter().flat_map(|(event, items)| {
            items
                .iter()
                .map(move |(item, settled)| (*event, item, settled.as_ref()))
        })
    };
    diesel::sql_query(
        "INSERT INTO webhook_items (event_id, position, object, account_id, kind, body, occurred_at,
                                    state, tenant_id, channel_id, last_error, attempts, processed_at)
         SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
                              $7::timestamptz[], $8::text[], $9::bigint[], $10::bigint[], $11::text[],
                              $12::int[], $13::timestamptz[])
         ON CONFLICT (event_id, position) DO NOTHING",
    )
    .bind::<Array<BigInt>, _>(items().map(|(e, _, _)| e.0).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(items().map(|(_, i, _)| i.position).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items().map(|(_, i, _)| i.object.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items().map(|(_, i, _)| i.account_id.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items().map(|(_, i, _)| i.kind.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Jsonb>>, _>(
        items()
            .map(|(_, i, s)| needs_own_body(s.map_or(ItemState::Pending, |s| s.state)).then_some(&i.body))
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Timestamptz>>, _>(items().map(|(_, i, _)| i.occurred_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items().map(|(_, _, s)| s.map_or(ItemState::Pending, |s| s.state).as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(items().map(|(_, _, s)| s.and_then(|s| s.tenant).map(|t| t.0)).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(items().map(|(_, _, s)| s.and_then(|s| s.channel).map(|c| c.0)).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(items().map(|(_, _, s)| s.and_then(|s| s.note.as_deref())).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(items().map(|(_, _, s)| i32::from(s.is_some())).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(items().map(|(_, _, s)| s.map(|_| now)).collect::<Vec<_>>())
    .execute(conn)?;
    let ids: Vec<i64> = splits.iter().map(|(e, _)| e.0).collect();
    let objects: Vec<Option<&str>> = splits
        .iter()
        .map(|(_, items)| items.first().map(|(i, _)| i.object.as_str()))
        .collect();
    diesel::sql_query(
        "UPDATE webhook_events e SET state = 'split', processed_at = now(), object = x.object
           FROM unnest($1::bigint[], $2::text[]) AS x(id, object)
          WHERE e.id = x.id",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<Array<diesel::sql_types::Nullable<Text>>, _>(objects)
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
    /// The item's part of its delivery; `None` once settled for good (see [`needs_own_body`]),
    /// when [`restore_bodies`] splits it from the ledger again.
    pub body: Option<serde_json::Value>,
    pub state: ItemState,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// Locks up to `limit` items ready to process for the caller's transaction, each with its JSON.
pub fn lock_items(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<WebhookItem>> {
    let mut items = diesel::sql_query(
        "SELECT * FROM webhook_items
          WHERE state IN ('pending', 'failed') AND next_attempt_at <= now()
          ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    restore_bodies(conn, &mut items)?;
    Ok(items)
}

/// Whether an item in `state` keeps its own copy of its JSON. Only items that may still be
/// processed do (pending, failed, unrouted, dead): for the processed and ignored majority the raw
/// delivery in the ledger is the one copy, which saves parsing and storing the JSON twice.
pub fn needs_own_body(state: ItemState) -> bool {
    !matches!(state, ItemState::Processed | ItemState::Ignored)
}

/// Gives items stored without their JSON their part of the delivery again, split from the
/// ledger exactly as when they were stored (a delivery is never changed). An item whose part
/// cannot be found keeps `None`.
pub fn restore_bodies(conn: &mut PgConnection, items: &mut [WebhookItem]) -> QueryResult<()> {
    let mut events: Vec<i64> = items
        .iter()
        .filter(|i| i.body.is_none())
        .map(|i| i.event_id.0)
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    events.sort_unstable();
    events.dedup();
    let deliveries: Vec<(i64, Vec<u8>)> = webhook_events::table
        .filter(webhook_events::id.eq_any(events))
        .select((webhook_events::id, webhook_events::body))
        .load(conn)?;
    let mut parts = std::collections::HashMap::new();
    for (delivery, body) in deliveries {
        for draft in crate::webhooks::split::split_bytes(&body).unwrap_or_default() {
            parts.insert((delivery, draft.position), draft.body);
        }
    }
    for item in items.iter_mut().filter(|i| i.body.is_none()) {
        item.body = parts.remove(&(item.event_id.0, item.position));
    }
    Ok(())
}

/// What processing an item decided: its state, its tenant and channel once routed, and a note
/// (why it was ignored or is unrouted).
#[derive(Debug, Clone)]
pub struct Settled {
    pub state: ItemState,
    pub tenant: Option<TenantId>,
    pub channel: Option<ChannelId>,
    pub note: Option<String>,
}

/// A stored item's outcome, recorded with others in one statement.
pub struct ItemOutcome {
    pub id: WebhookItemId,
    pub settled: Settled,
}

/// Records many outcomes at once (the caller holds the rows' locks); items settled for good drop
/// their copy of the JSON (see [`needs_own_body`]).
pub fn finish_items(conn: &mut PgConnection, outcomes: &[ItemOutcome]) -> QueryResult<usize> {
    use diesel::sql_types::Nullable;
    if outcomes.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE webhook_items i SET state = x.state, tenant_id = x.tenant, channel_id = x.channel,
                last_error = x.note, processed_at = now(), attempts = i.attempts + 1,
                body = CASE WHEN x.state IN ('processed', 'ignored') THEN NULL ELSE i.body END
           FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS x(id, state, tenant, channel, note)
          WHERE i.id = x.id",
    )
    .bind::<Array<BigInt>, _>(outcomes.iter().map(|o| o.id.0).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(outcomes.iter().map(|o| o.settled.state.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(outcomes.iter().map(|o| o.settled.tenant.map(|t| t.0)).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(outcomes.iter().map(|o| o.settled.channel.map(|c| c.0)).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(outcomes.iter().map(|o| o.settled.note.clone()).collect::<Vec<_>>())
    .execute(conn)
}

/// Records a failed attempt: retried after `delay`, or dead after `max_attempts`.
pub fn retry_item_later(
    conn: &mut PgConnection,
    item: &WebhookItem,
    error: &str,
    delay: Duration,
    max_attempts: i32,
) -> QueryResult<()> {
    let dead = item.attempts + 1 >= max_attempts;
    diesel::update(webhook_items::table.filter(webhook_items::id.eq(item.id)))
        .set((
            webhook_items::state.eq(if dead {
                ItemState::Dead
            } else {
                ItemState::Failed
            }),
            webhook_items::last_error.eq(error),
            webhook_items::next_attempt_at.eq(Utc::now() + delay),
            webhook_items::attempts.eq(webhook_items::attempts + 1),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Leaves an item `dead` with the reason: it failed even alone, outside any batch.
pub fn bury_item(conn: &mut PgConnection, id: WebhookItemId, error: &str) -> QueryResult<()> {
    diesel::update(webhook_items::table.find(id))
        .set((
            webhook_items::state.eq(ItemState::Dead),
            webhook_items::last_error.eq(error.replace('\0', "")),
            webhook_items::attempts.eq(webhook_items::attempts + 1),
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

/// Puts back in the queue every unrouted item whose account is connected now. Connecting an
/// account requeues its items at once ([`requeue_unrouted`]), but an item a processor was
/// marking unrouted at that moment committed after the requeue and would wait for ever; the
/// `requeue_routable` job sweeps such items up. It joins the connected channels' accounts to the
/// unrouted items' own partial index, so it reads unrouted items only, never the processed ones.
pub fn requeue_routable(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE webhook_items i
            SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
           FROM (SELECT CASE platform WHEN 'messenger' THEN 'page'
                                      WHEN 'instagram' THEN 'instagram'
                                      ELSE 'whatsapp_business_account' END AS object,
                        platform_id AS account_id
                   FROM channels WHERE status = 'connected'
                 UNION
                 SELECT 'whatsapp_business_account', waba_id
                   FROM channels WHERE status = 'connected' AND platform = 'whatsapp' AND waba_id IS NOT NULL
                ) AS routable
          WHERE i.state = 'unrouted' AND i.object = routable.object AND i.account_id = routable.account_id",
    )
    .execute(conn)
}

/// A tenant's items, newest first, with keyset pagination (`before` an id).
pub fn list_for_tenant(
    conn: &mut PgConnection,
    tenant: TenantId,
    state: Option<ItemState>,
    before: Option<WebhookItemId>,
    limit: i64,
) -> QueryResult<Vec<WebhookItem>> {
    let mut q = webhook_items::table
        .filter(webhook_items::tenant_id.eq(tenant))
        .select(WebhookItem::as_select())
        .into_boxed();
    if let Some(state) = state {
        q = q.filter(webhook_items::state.eq(state));
    }
    if let Some(before) = before {
        q = q.filter(webhook_items::id.lt(before));
    }
    q.order(webhook_items::id.desc()).limit(limit).load(conn)
}

/// One item of a tenant, with its JSON.
pub fn get_for_tenant(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: WebhookItemId,
) -> QueryResult<Option<WebhookItem>> {
    let item = webhook_items::table
        .filter(webhook_items::tenant_id.eq(tenant))
        .filter(webhook_items::id.eq(id))
        .select(WebhookItem::as_select())
        .first(conn)
        .optional()?;
    let mut items: Vec<WebhookItem> = item.into_iter().collect();
    restore_bodies(conn, &mut items)?;
    Ok(items.pop())
}

/// States an item may be replayed from: those that applied nothing (failed, dead, unrouted, and
/// ignored, which an upgraded Parley may understand). A processed item replays as a no-op, so
/// a replay can never apply an event twice.
pub const REPLAYABLE: [ItemState; 4] = [
    ItemState::Failed,
    ItemState::Dead,
    ItemState::Unrouted,
    ItemState::Ignored,
];

/// Item states that need processing or an operator (few rows, under a partial index).
pub const ATTENTION: [ItemState; 4] = [
    ItemState::Pending,
    ItemState::Failed,
    ItemState::Dead,
    ItemState::Unrouted,
];

/// How many items are in each [`ATTENTION`] state, every state listed (zero when empty).
pub fn attention_counts(conn: &mut PgConnection) -> QueryResult<Vec<(ItemState, i64)>> {
    let found: Vec<(ItemState, i64)> = webhook_items::table
        .filter(webhook_items::state.eq_any(ATTENTION))
        .group_by(webhook_items::state)
        .select((webhook_items::state, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(ATTENTION
        .iter()
        .map(|state| {
            let n = found
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            (*state, n)
        })
        .collect())
}

/// Whether an item in `state` may be replayed.
pub fn is_replayable(state: ItemState) -> bool {
    state.is_replayable()
}

/// Queues items again (after a fix); scoped to `tenant` when given, else any (operator CLI).
/// Only [`REPLAYABLE`] items move.
pub fn replay(
    conn: &mut PgConnection,
    tenant: Option<TenantId>,
    ids: Option<&[WebhookItemId]>,
    only_state: Option<ItemState>,
) -> QueryResult<usize> {
    let mut q = diesel::update(webhook_items::table)
        .filter(webhook_items::state.eq_any(REPLAYABLE))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(webhook_items::tenant_id.eq(t));
    }
    if let Some(ids) = ids {
        q = q.filter(webhook_items::id.eq_any(ids.to_vec()));
    }
    if let Some(s) = only_state {
        q = q.filter(webhook_items::state.eq(s));
    }
    q.set((
        webhook_items::state.eq(ItemState::Pending),
        webhook_items::attempts.eq(0),
        webhook_items::next_attempt_at.eq(diesel::dsl::now),
        webhook_items::last_error.eq(None::<String>),
    ))
    .execute(conn)
}

/// Items in `state` across tenants (operator CLI).
pub fn list_by_state(
    conn: &mut PgConnection,
    state: ItemState,
    limit: i64,
) -> QueryResult<Vec<WebhookItem>> {
    webhook_items::table
        .filter(webhook_items::state.eq(state))
        .order(webhook_items::id.desc())
        .limit(limit)
        .select(WebhookItem::as_select())
        .load(conn)
}
