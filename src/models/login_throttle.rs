//! Failed sign-in counters shared by every Parley process.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};

use crate::db::schema::login_throttle;

/// Limits for one kind of throttle key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Failures allowed within `window` before the key is locked.
    pub max_failures: i32,
    pub window: Duration,
    /// How long a lock lasts once `max_failures` is reached.
    pub lockout: Duration,
}

/// What counting one sign-in attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Within the limit: the password may be checked.
    pub admitted: bool,
    /// The key is locked until then (by this attempt, if it was the last one allowed).
    pub locked_until: Option<DateTime<Utc>>,
}

/// Counts one attempt for `key` as a failure *before* its password is checked, in one atomic
/// statement, so that any number of parallel attempts admit at most `max_failures` per window;
/// a success takes its count back with [`forgive`]. A locked key counts on but admits nothing.
/// Raw SQL: an upsert whose new values depend on the old row's (diesel's `on_conflict` cannot
/// refer to the existing row's columns in `CASE` expressions).
pub fn record_attempt(conn: &mut PgConnection, key: &str, limit: Limit) -> QueryResult<Attempt> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        failures: i32,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        locked_until: Option<DateTime<Utc>>,
    }
    let row: Row = diesel::sql_query(
        "INSERT INTO login_throttle AS t (key, failures, window_started, locked_until)
         VALUES ($1, 1, now(), CASE WHEN 1 >= $3 THEN now() + make_interval(secs => $4) END)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_started < now() - make_interval(secs => $2)
                            AND NOT coalesce(t.locked_until > now(), false)
                           THEN 1 ELSE least(t.failures, 1000000) + 1 END,
           window_started = CASE WHEN t.window_started < now() - make_interval(secs => $2)
                                  AND NOT coalesce(t.locked_until > now(), false)
                                 THEN now() ELSE t.window_started END,
           locked_until = CASE
             WHEN coalesce(t.locked_until > now(), false) THEN t.locked_until
             WHEN (CASE WHEN t.window_started < now() - make_interval(secs => $2)
                        THEN 1 ELSE t.failures + 1 END) >= $3
             THEN now() + make_interval(secs => $4)
             END
         RETURNING failures, CASE WHEN locked_until > now() THEN locked_until END AS locked_until",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(limit.window.num_seconds() as i32)
    .bind::<Integer, _>(limit.max_failures)
    .bind::<Integer, _>(limit.lockout.num_seconds() as i32)
    .get_result(conn)?;
    Ok(Attempt {
        admitted: row.failures <= limit.max_failures,
        locked_until: row.locked_until,
    })
}

/// Takes back the count of an attempt that succeeded (for a key other attempts share, such as a
/// client address), lifting a lock that this attempt had set.
pub fn forgive(conn: &mut PgConnection, key: &str, limit: Limit) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE login_throttle SET failures = greatest(failures - 1, 0),
           locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END
         WHERE key = $1",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(limit.max_failures)
    .execute(conn)
    .map(|_| ())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub fn clear(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq(key)))
        .execute(conn)
        .map(|_| ())
}

/// Deletes the rows whose window (a day at most) and lock have both passed; returns how many.
pub fn delete_stale(conn: &mut PgConnection) -> QueryResult<usize> {
    let now = Utc::now();
    diesel::delete(
        login_throttle::table
            .filter(login_throttle::window_started.lt(now - Duration::days(1)))
            .filter(
                login_throttle::locked_until
                    .is_null()
                    .or(login_throttle::locked_until.lt(now)),
            ),
    )
    .execute(conn)
}
