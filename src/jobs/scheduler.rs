//! Periodic work: every worker process ticks the scheduler, and exactly one job per period is
//! enqueued however many processes run (the `periodic_runs` row is the arbiter).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;

use crate::db::schema::periodic_runs;
use crate::jobs::job::Job;
use crate::jobs::kinds::{
    CleanupLoginThrottle, FoldMessagingCounts, PollStories, Purge, PurgeConnectSessions,
    QueueProfileSweeps, RefreshAllInsights, RequeueRoutable, ResyncComments, TokenHealth,
    WakeSnoozed,
};
use crate::jobs::queue::{self, NewJob};
use crate::message_templates::poll::{PollTemplates, SyncAllTemplates};

/// A job kind run once per `every`.
#[derive(Debug, Clone, Copy)]
pub struct Periodic {
    pub kind: &'static str,
    pub every: Duration,
    /// The job to enqueue (also what `parley jobs enqueue KIND` adds).
    pub make: fn() -> NewJob,
}

impl Periodic {
    const fn of<J: Job + Default>(every: Duration) -> Periodic {
        Periodic {
            kind: J::KIND,
            every,
            make: new_default::<J>,
        }
    }

    /// The periodic kind called `name`.
    pub fn named(name: &str) -> Option<&'static Periodic> {
        PERIODIC.iter().find(|p| p.kind == name)
    }
}

fn new_default<J: Job + Default>() -> NewJob {
    J::default().to_new_job()
}

/// Parley's periodic jobs.
pub const PERIODIC: &[Periodic] = &[
    Periodic::of::<TokenHealth>(Duration::hours(1)),
    Periodic::of::<crate::channels::instagram_login::RefreshInstagramTokens>(Duration::hours(1)),
    Periodic::of::<CleanupLoginThrottle>(Duration::hours(1)),
    Periodic::of::<WakeSnoozed>(Duration::minutes(1)),
    Periodic::of::<PurgeConnectSessions>(Duration::minutes(15)),
    Periodic::of::<RequeueRoutable>(Duration::minutes(1)),
    Periodic::of::<Purge>(Duration::hours(1)),
    Periodic::of::<QueueProfileSweeps>(Duration::minutes(5)),
    Periodic::of::<ResyncComments>(Duration::hours(6)),
    Periodic::of::<RefreshAllInsights>(Duration::hours(24)),
    Periodic::of::<PollStories>(Duration::hours(1)),
    Periodic::of::<FoldMessagingCounts>(Duration::minutes(1)),
    Periodic::of::<PollTemplates>(Duration::minutes(1)),
    Periodic::of::<SyncAllTemplates>(Duration::hours(24)),
];

/// How often each process looks for due periods.
pub const TICK: StdDuration = StdDuration::from_secs(30);

/// Start of the period containing `now` (periods are aligned to the Unix epoch).
pub fn period_start(now: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let secs = every.num_seconds().max(1);
    let start = now.timestamp().div_euclid(secs) * secs;
    Utc.timestamp_opt(start, 0).single().unwrap_or(now)
}

/// Enqueues every periodic job whose current period has not run yet; returns the kinds enqueued.
pub fn enqueue_due(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<&'static str>> {
    let mut enqueued = Vec::new();
    for p in PERIODIC {
        let start = period_start(now, p.every);
        let won = conn.transaction(|conn| {
            let inserted = diesel::insert_into(periodic_runs::table)
                .values((
                    periodic_runs::name.eq(p.kind),
                    periodic_runs::period_start.eq(start),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
            if inserted == 1 {
                queue::enqueue(conn, &(p.make)().dedupe(format!("periodic:{}", p.kind)))?;
            }
            QueryResult::Ok(inserted == 1)
        })?;
        if won {
            enqueued.push(p.kind);
        }
    }
    // Old bookkeeping rows are of no further use.
    diesel::delete(
        periodic_runs::table.filter(periodic_runs::period_start.lt(now - Duration::days(7))),
    )
    .execute(conn)?;
    Ok(enqueued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_aligned() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 10, 47, 13).unwrap();
        assert_eq!(
            period_start(t, Duration::hours(1)),
            Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
        );
        assert_eq!(
            period_start(t, Duration::minutes(15)),
            Utc.with_ymd_and_hms(2026, 11, 21, 10, 45, 0).unwrap()
        );
    }
}
