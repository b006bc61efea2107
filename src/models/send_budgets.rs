//! Send budgets in PostgreSQL, so that N worker processes together keep Meta's send rates and
//! WhatsApp's pair limit with no setting to divide. Each budget is one row holding the
//! generic-cell-rate algorithm's "theoretical arrival time" (`next_at`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::send_budgets;
use crate::meta::limits::BucketSpec;

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Takes one send from every budget in `specs` at once, or from none: `Ok(Ok(()))`, or
/// `Ok(Err(wait))` with how long until all have room. Rows are locked in key order, so
/// concurrent takers never deadlock.
pub fn take(conn: &mut PgConnection, specs: &[BucketSpec]) -> QueryResult<Result<(), Duration>> {
    let mut specs: Vec<&BucketSpec> = specs.iter().collect();
    specs.sort_by(|a, b| a.key.cmp(&b.key));
    conn.transaction(|conn| {
        // The database's clock, the same for every process (read again after the locks).
        let clock = || {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "clock_timestamp()",
            ))
        };
        let now: DateTime<Utc> = clock().get_result(conn)?;
        let fresh: Vec<_> = specs
            .iter()
            .map(|s| (send_budgets::key.eq(&s.key), send_budgets::next_at.eq(now)))
            .collect();
        diesel::insert_into(send_budgets::table)
            .values(&fresh)
            .on_conflict_do_nothing()
            .execute(conn)?;
        let keys: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
        let rows: Vec<(String, DateTime<Utc>)> = send_budgets::table
            .filter(send_budgets::key.eq_any(&keys))
            .order(send_budgets::key)
            .for_update()
            .select((send_budgets::key, send_budgets::next_at))
            .load(conn)?;
        let now: DateTime<Utc> = clock().get_result(conn)?;
        let mut wait = chrono::Duration::zero();
        let mut updates = Vec::with_capacity(specs.len());
        for spec in &specs {
            let Some((_, next_at)) = rows.iter().find(|(k, _)| *k == spec.key) else {
                // Forgotten between the insert and the lock (the purge): try again shortly.
                return Ok(Err(spec.interval));
            };
            let interval = chrono(spec.interval);
            let tolerance = interval * (spec.burst.max(1) as i32 - 1);
            let allowed_at = *next_at - tolerance;
            if allowed_at > now {
                wait = wait.max(allowed_at - now);
            }
            updates.push((spec.key.as_str(), (*next_at).max(now) + interval));
        }
        if wait > chrono::Duration::zero() {
            return Ok(Err(wait.to_std().unwrap_or(Duration::from_secs(1))));
        }
        for (key, next_at) in updates {
            diesel::update(send_budgets::table.find(key))
                .set(send_budgets::next_at.eq(next_at))
                .execute(conn)?;
        }
        Ok(Ok(()))
    })
}

/// Deletes budgets that have been back to empty for a while (one pair row per customer would
/// otherwise grow forever). A deleted row starts again empty, which is what it was.
pub fn forget_idle(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    let idle: Vec<String> = send_budgets::table
        .filter(send_budgets::next_at.lt(before))
        .select(send_budgets::key)
        .limit(limit)
        .load(conn)?;
    diesel::delete(send_budgets::table.filter(send_budgets::key.eq_any(&idle)))
        .filter(send_budgets::next_at.lt(before))
        .execute(conn)
}
