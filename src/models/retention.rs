//! Deleting what has served its time, in bounded batches so that no purge holds locks for long
//! or competes with live traffic. Each function deletes at most `limit` rows and says how many;
//! callers loop while a batch comes back full.
//!
//! Raw SQL throughout: `DELETE … WHERE id IN (SELECT … LIMIT n)` bounds a batch, which diesel's
//! delete statement cannot say.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};

/// Runs one bounded delete whose `$1` is the cut-off time and `$2` the batch size.
fn delete_batch(
    conn: &mut PgConnection,
    sql: &'static str,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    diesel::sql_query(sql)
        .bind::<Timestamptz, _>(before)
        .bind::<BigInt, _>(limit)
        .execute(conn)
}

/// Receipts and reactions parked for a message that never arrived.
pub fn parked_events(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    delete_batch(
        conn,
        "DELETE FROM pending_message_events WHERE id IN (
           SELECT id FROM pending_message_events WHERE created_at < $1 ORDER BY id LIMIT $2)",
        before,
        limit,
    )
}

/// Public tokens of agents' uploads, whose 7 days for Meta's fetch are over. The files stay: the
/// thread's copy of each sent attachment is the same file, named in its message.
pub fn outbound_media_tokens(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    delete_batch(
        conn,
        "DELETE FROM outbound_media WHERE id IN (
           SELECT id FROM outbound_media WHERE created_at < $1 ORDER BY id LIMIT $2)",
        before,
        limit,
    )
}

/// Webhook items settled for good (processed or ignored) before `before`. Failed, dead,
/// unrouted and pending items stay until they are handled.
pub fn settled_webhook_items(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    delete_batch(
        conn,
        "DELETE FROM webhook_items WHERE id IN (
           SELECT id FROM webhook_items
            WHERE created_at < $1 AND state IN ('processed', 'ignored')
            ORDER BY id LIMIT $2)",
        before,
        limit,
    )
}

/// Deliveries (raw bodies) received before `before`, split, and with no item left that still
/// needs handling. Failed deliveries (not a webhook body) stay until an operator handles them.
pub fn split_deliveries(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    delete_batch(
        conn,
        "DELETE FROM webhook_events WHERE id IN (
           SELECT e.id FROM webhook_events e
            WHERE e.received_at < $1 AND e.state = 'split'
              AND NOT EXISTS (SELECT 1 FROM webhook_items i WHERE i.event_id = e.id)
            ORDER BY e.id LIMIT $2)",
        before,
        limit,
    )
}

/// Dead jobs last touched before `before` (an operator had that long to look at them).
pub fn dead_jobs(conn: &mut PgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    delete_batch(
        conn,
        "DELETE FROM jobs WHERE id IN (
           SELECT id FROM jobs WHERE state = 'dead' AND updated_at < $1 ORDER BY id LIMIT $2)",
        before,
        limit,
    )
}

/// Session records that ended, or could only have ended, before `before`.
pub fn old_sessions(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    delete_batch(
        conn,
        "DELETE FROM user_sessions WHERE id IN (
           SELECT id FROM user_sessions
            WHERE coalesce(ended_at, last_seen_at) < $1 ORDER BY id LIMIT $2)",
        before,
        limit,
    )
}
