//! The ledger of deliveries: stored exactly as received, claimed for splitting, and the ones
//! that were not a webhook body kept for the operator.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Array;

use crate::db::ids::WebhookEventId;
use crate::db::schema::webhook_events;
use crate::db::statuses::DeliveryState;

/// Stores deliveries exactly as received, in one statement (the ingest writer's group commit).
/// The statement's text is the same for any number of deliveries, so the server parses and
/// plans a small statement rather than one with a row of parameters per delivery.
pub fn insert_events(
    conn: &mut PgConnection,
    bodies: &[actix_web::web::Bytes],
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO webhook_events (body, signature_ok) SELECT b, TRUE FROM unnest($1::bytea[]) AS b",
    )
    .bind::<Array<diesel::sql_types::Bytea>, _>(bodies.iter().map(|b| b.as_ref()).collect::<Vec<&[u8]>>())
    .execute(conn)
}

/// A claimed delivery.
#[derive(Debug, Clone, Queryable)]
pub struct ClaimedEvent {
    pub id: i64,
    pub body: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

/// Locks up to `limit` received deliveries for the caller's transaction (`SKIP LOCKED`: other
/// workers take the rest; a worker that dies releases its rows with its transaction).
pub fn lock_events(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<ClaimedEvent>> {
    lock_events_query(limit).load(conn)
}

/// The statement behind [`lock_events`] (its SQL is checked by a test).
fn lock_events_query(
    limit: i64,
) -> impl diesel::query_dsl::methods::LoadQuery<'static, PgConnection, ClaimedEvent>
+ diesel::query_builder::QueryFragment<diesel::pg::Pg> {
    webhook_events::table
        // A literal, not a bound parameter: the partial index `webhook_events_pending_idx`
        // (`WHERE state = 'received'`) serves only a query that names the state itself, and a
        // prepared statement's generic plan with a parameter would scan the whole ledger.
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "state = 'received'",
        ))
        .order(webhook_events::id)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select((
            webhook_events::id,
            webhook_events::body,
            webhook_events::received_at,
        ))
}

/// Marks a delivery that is not a webhook body as failed (kept, visible, replayable).
pub fn fail_event(conn: &mut PgConnection, event: WebhookEventId, error: &str) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(event))
        .set((
            webhook_events::state.eq(DeliveryState::Failed),
            webhook_events::last_error.eq(error.replace('\0', "")),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Queues deliveries that were not a webhook body (state `failed`) to be split again, for
/// instance after an upgrade that understands them; all of them, or the one `delivery`. Such a
/// delivery has no items (splitting failed before any were stored), so nothing is stored twice.
pub fn replay_failed_deliveries(
    conn: &mut PgConnection,
    delivery: Option<WebhookEventId>,
) -> QueryResult<usize> {
    let mut q = diesel::update(webhook_events::table)
        .filter(webhook_events::state.eq(DeliveryState::Failed))
        .into_boxed();
    if let Some(id) = delivery {
        q = q.filter(webhook_events::id.eq(id));
    }
    q.set((
        webhook_events::state.eq("received"),
        webhook_events::attempts.eq(webhook_events::attempts + 1),
        webhook_events::last_error.eq(None::<String>),
    ))
    .execute(conn)
}

/// A delivery that failed to split: id, arrival, reason.
pub type FailedEvent = (WebhookEventId, DateTime<Utc>, Option<String>);

/// Deliveries that failed to split (not JSON / not a webhook), for the operator.
pub fn failed_events(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<FailedEvent>> {
    webhook_events::table
        .filter(webhook_events::state.eq(DeliveryState::Failed))
        .order(webhook_events::id.desc())
        .limit(limit)
        .select((
            webhook_events::id,
            webhook_events::received_at,
            webhook_events::last_error,
        ))
        .load(conn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn claiming_deliveries_names_the_state_its_partial_index_covers() {
        let sql =
            diesel::debug_query::<diesel::pg::Pg, _>(&super::lock_events_query(500)).to_string();
        assert!(sql.contains("state = 'received'"), "{sql}");
        assert!(sql.contains("FOR UPDATE SKIP LOCKED"), "{sql}");
    }
}
