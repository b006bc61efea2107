//! Enqueue, claim (by lease, `FOR UPDATE SKIP LOCKED`), finish, retry with backoff, and bury.
//!
//! A claim sets a lease (`locked_until`); a worker that dies without finishing leaves the lease to
//! expire, and the job is claimed again. No transaction stays open while a job runs.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::db::ids::{JobId, TenantId};
use crate::db::schema::jobs;
use crate::db::statuses::JobState;

/// A job row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: JobId,
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A job to enqueue.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob {
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    pub dedupe_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` to run now, with the default attempt budget.
    pub fn new(kind: &str, payload: serde_json::Value) -> Self {
        NewJob {
            tenant_id: None,
            kind: kind.to_string(),
            payload,
            run_at: Utc::now(),
            max_attempts: 8,
            dedupe_key: None,
        }
    }

    pub fn for_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant_id = Some(tenant);
        self
    }

    pub fn at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = run_at;
        self
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

/// Enqueues a job. With a dedupe key already live, nothing is added and `None` is returned.
pub fn enqueue(conn: &mut PgConnection, job: &NewJob) -> QueryResult<Option<JobId>> {
    let id = diesel::insert_into(jobs::table)
        .values(job)
        .on_conflict_do_nothing()
        .returning(jobs::id)
        .get_result::<JobId>(conn)
        .optional()?;
    if id.is_some() {
        wake_workers(conn)?;
    }
    Ok(id)
}

/// The notification that wakes idle job workers (in every process that listens).
pub const WAKE_PAYLOAD: &str = "jobs";

/// Wakes idle workers when the enqueuing transaction commits (PostgreSQL delivers NOTIFY then,
/// once per transaction however many jobs it added), instead of their next poll.
fn wake_workers(conn: &mut PgConnection) -> QueryResult<()> {
    crate::models::notifications::notify(
        conn,
        crate::inbox::live::CHANNEL,
        &[WAKE_PAYLOAD.to_string()],
    )
}

/// Enqueues many jobs in one statement per 5,000; those whose dedupe key is live, or repeats
/// one earlier in `jobs` (a tenant's profile sweep asked for by several items), are skipped.
pub fn enqueue_many(conn: &mut PgConnection, jobs: &[NewJob]) -> QueryResult<usize> {
    let mut keys = std::collections::HashSet::new();
    let unique: Vec<&NewJob> = jobs
        .iter()
        .filter(|j| {
            j.dedupe_key
                .as_ref()
                .is_none_or(|k| keys.insert(k.as_str()))
        })
        .collect();
    let mut added = 0;
    // PostgreSQL takes at most 65,535 parameters per statement: 6 per job.
    for chunk in unique.chunks(5000) {
        added += diesel::insert_into(jobs::table)
            .values(chunk.iter().copied().cloned().collect::<Vec<_>>())
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    if added > 0 {
        wake_workers(conn)?;
    }
    Ok(added)
}

/// Claims the next runnable job for `worker` for `lease`: a queued job that is due, or a running
/// one whose lease ran out (its worker died).
pub fn claim(
    conn: &mut PgConnection,
    worker: &str,
    lease: Duration,
) -> QueryResult<Option<JobRow>> {
    diesel::sql_query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1,
                locked_until = now() + make_interval(secs => $2), locked_by = $1, updated_at = now()
          WHERE id = (
            SELECT id FROM jobs
             WHERE (state = 'queued' AND run_at <= now())
                OR (state = 'running' AND locked_until < now())
             ORDER BY run_at, id
             FOR UPDATE SKIP LOCKED
             LIMIT 1)
        RETURNING *",
    )
    .bind::<Text, _>(worker)
    .bind::<Integer, _>(lease.num_seconds() as i32)
    .get_result::<JobRow>(conn)
    .optional()
}

/// Removes a finished job (only while `worker` still holds it).
pub fn complete(conn: &mut PgConnection, id: JobId, worker: &str) -> QueryResult<bool> {
    diesel::delete(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::locked_by.eq(worker)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

/// Delay before attempt `attempts + 1`: exponential from 10 s, capped at 1 h, with ±20% jitter so
/// that jobs failing together do not retry together.
pub fn backoff(attempts: i32) -> Duration {
    let base = 10f64 * 2f64.powi(attempts.clamp(0, 12) - 1);
    let capped = base.min(3600.0);
    let jitter = {
        let b = crate::crypto::random_bytes(1)[0] as f64 / 255.0; // 0..=1
        0.8 + 0.4 * b
    };
    Duration::milliseconds((capped * jitter * 1000.0) as i64)
}

/// Records a failed attempt: back to the queue after a backoff, or `dead` when the attempts are
/// spent or the failure is permanent.
pub fn fail(
    conn: &mut PgConnection,
    job: &JobRow,
    worker: &str,
    error: &str,
    permanent: bool,
) -> QueryResult<()> {
    let dead = permanent || job.attempts >= job.max_attempts;
    let delay = backoff(job.attempts);
    diesel::sql_query(
        "UPDATE jobs SET
            state = CASE WHEN $3 THEN 'dead' ELSE 'queued' END,
            run_at = CASE WHEN $3 THEN run_at ELSE now() + make_interval(secs => $4::float8 / 1000) END,
            locked_until = NULL, locked_by = NULL, last_error = $5, updated_at = now()
          WHERE id = $1 AND locked_by = $2",
    )
    .bind::<BigInt, _>(job.id.0)
    .bind::<Text, _>(worker)
    .bind::<diesel::sql_types::Bool, _>(dead)
    .bind::<BigInt, _>(delay.num_milliseconds())
    .bind::<Text, _>(truncate(error, 2000))
    .execute(conn)
    .map(|_| ())
}

/// Puts a claimed job back to run after `after`, without counting the attempt (it was paced,
/// not failed).
pub fn postpone(
    conn: &mut PgConnection,
    id: JobId,
    worker: &str,
    reason: &str,
    after: Duration,
) -> QueryResult<bool> {
    diesel::update(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::locked_by.eq(worker))
            .filter(jobs::state.eq(JobState::Running)),
    )
    .set((
        jobs::state.eq(JobState::Queued),
        jobs::attempts.eq(jobs::attempts - 1),
        jobs::run_at.eq(Utc::now() + after),
        jobs::locked_until.eq(None::<DateTime<Utc>>),
        jobs::locked_by.eq(None::<String>),
        jobs::last_error.eq(truncate(reason, 2000)),
        jobs::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Gives a claimed job back untouched (a worker shutting down before it could run it to the end).
pub fn release(conn: &mut PgConnection, id: JobId, worker: &str) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0),
                locked_until = NULL, locked_by = NULL, updated_at = now()
          WHERE id = $1 AND locked_by = $2 AND state = 'running'",
    )
    .bind::<BigInt, _>(id.0)
    .bind::<Text, _>(worker)
    .execute(conn)
    .map(|n| n == 1)
}

/// Puts a dead job back in the queue with a fresh attempt budget. Scoped to `tenant` when given.
/// A dead job whose key a newer live job holds (a later period's run) is not retried: the
/// newer one does the same work.
pub fn retry(conn: &mut PgConnection, id: JobId, tenant: Option<TenantId>) -> QueryResult<bool> {
    conn.transaction(|conn| match retry_dead(conn, id, tenant) {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        other => other,
    })
}

fn retry_dead(conn: &mut PgConnection, id: JobId, tenant: Option<TenantId>) -> QueryResult<bool> {
    let mut query = diesel::update(jobs::table)
        .filter(jobs::id.eq(id))
        .filter(jobs::state.eq(JobState::Dead))
        .into_boxed();
    if let Some(tenant) = tenant {
        query = query.filter(jobs::tenant_id.eq(tenant));
    }
    query
        .set((
            jobs::state.eq(JobState::Queued),
            jobs::attempts.eq(0),
            jobs::run_at.eq(diesel::dsl::now),
            jobs::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// How many jobs of each kind are in each state (for `/metrics`).
pub fn counts_by_kind(conn: &mut PgConnection) -> QueryResult<Vec<(String, String, i64)>> {
    jobs::table
        .group_by((jobs::kind, jobs::state))
        .select((jobs::kind, jobs::state, diesel::dsl::count_star()))
        .order((jobs::kind, jobs::state))
        .load(conn)
}

/// The kinds of periodic work with a run that died in the last day, and when the latest did
/// (for every admin: a periodic job is everyone's work; its next period runs anyway).
pub fn dead_periodic(conn: &mut PgConnection) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    let kinds: Vec<&str> = crate::jobs::scheduler::PERIODIC
        .iter()
        .map(|p| p.kind)
        .collect();
    jobs::table
        .filter(jobs::state.eq(JobState::Dead))
        .filter(jobs::kind.eq_any(kinds))
        .filter(jobs::tenant_id.is_null())
        .filter(jobs::updated_at.gt(Utc::now() - Duration::days(1)))
        .group_by(jobs::kind)
        .select((
            jobs::kind,
            diesel::dsl::max(jobs::updated_at).assume_not_null(),
        ))
        .order(jobs::kind)
        .load(conn)
}

/// Jobs, newest first, optionally only one state; for operators (every tenant) when `tenant` is None.
pub fn list(
    conn: &mut PgConnection,
    tenant: Option<TenantId>,
    state: Option<JobState>,
    limit: i64,
) -> QueryResult<Vec<JobRow>> {
    let mut query = jobs::table.select(JobRow::as_select()).into_boxed();
    if let Some(tenant) = tenant {
        query = query.filter(jobs::tenant_id.eq(tenant));
    }
    if let Some(state) = state {
        query = query.filter(jobs::state.eq(state));
    }
    query.order(jobs::id.desc()).limit(limit).load(conn)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// How many of the tenant's jobs of `kind` are waiting or running (a progress figure).
pub fn outstanding(conn: &mut PgConnection, tenant: TenantId, kind: &str) -> QueryResult<i64> {
    jobs::table
        .filter(jobs::tenant_id.eq(Some(tenant)))
        .filter(jobs::kind.eq(kind))
        .filter(jobs::state.eq_any([JobState::Queued, JobState::Running]))
        .count()
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(1).num_milliseconds();
        assert!((8_000..=12_000).contains(&first), "{first}");
        let fourth = backoff(4).num_milliseconds();
        assert!((64_000..=96_000).contains(&fourth), "{fourth}");
        assert!(backoff(30).num_milliseconds() <= 3_600_000 * 12 / 10);
    }
}
