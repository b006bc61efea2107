//! Failed sign-in counters shared by every Parley process.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};

/// Limits for one kind of throttle key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Failures allowed within `window` before the key is locked.
    pub max_failures: i32,
    pub window: Duration,
    /// How long a lock lasts once `max_failures` is reached.
    pub lockout: Duration,
}

#[derive(QueryableByName)]
struct LockedUntil {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

/// When `key` is locked, the time the lock ends.
pub fn locked_until(conn: &mut PgConnection, key: &str) -> QueryResult<Option<DateTime<Utc>>> {
    let row: Option<LockedUntil> = diesel::sql_query(
        "SELECT locked_until FROM login_throttle WHERE key = $1 AND locked_until > now()",
    )
    .bind::<Text, _>(key)
    .get_result(conn)
    .optional()?;
    Ok(row.and_then(|r| r.locked_until))
}

/// Counts one failure for `key` in one atomic statement; returns the lock end when the failures
/// within the window have reached the limit.
pub fn record_failure(
    conn: &mut PgConnection,
    key: &str,
    limit: Limit,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: LockedUntil = diesel::sql_query(
        "INSERT INTO login_throttle AS t (key, failures, window_started, locked_until)
         VALUES ($1, 1, now(), CASE WHEN 1 >= $3 THEN now() + make_interval(secs => $4) END)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_started < now() - make_interval(secs => $2)
                           THEN 1 ELSE t.failures + 1 END,
           window_started = CASE WHEN t.window_started < now() - make_interval(secs => $2)
                                 THEN now() ELSE t.window_started END,
           locked_until = CASE
             WHEN (CASE WHEN t.window_started < now() - make_interval(secs => $2)
                        THEN 1 ELSE t.failures + 1 END) >= $3
             THEN now() + make_interval(secs => $4)
             ELSE t.locked_until END
         RETURNING CASE WHEN locked_until > now() THEN locked_until END AS locked_until",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(limit.window.num_seconds() as i32)
    .bind::<Integer, _>(limit.max_failures)
    .bind::<Integer, _>(limit.lockout.num_seconds() as i32)
    .get_result(conn)?;
    Ok(row.locked_until)
}

/// Forgets the failures of `key` (after a successful sign-in).
pub fn clear(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM login_throttle WHERE key = $1")
        .bind::<Text, _>(key)
        .execute(conn)
        .map(|_| ())
}
