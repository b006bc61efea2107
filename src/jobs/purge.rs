//! The `purge` periodic job: nothing Parley keeps grows forever. What goes, and when:
//!
//! | what | kept for |
//! |---|---|
//! | receipts/reactions parked for a message that never came | 7 days |
//! | public tokens of agents' uploads (Meta fetches within minutes) | 7 days |
//! | processed and ignored webhook items, and their raw deliveries | `PARLEY_WEBHOOK_RETENTION_DAYS` (30) |
//! | dead jobs | 30 days |
//! | ended or expired sign-in sessions | 30 days |
//! | send budgets (one per WhatsApp customer) back to empty | 1 hour |
//!
//! Failed, dead and unrouted webhook items and failed deliveries stay until they are handled.
//! Each category is deleted in batches of [`BATCH`], at most [`MAX_BATCHES`] per run, so one run
//! is short and the next hour goes on where it stopped.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use diesel::result::QueryResult;

use crate::models::retention;

/// Rows per delete statement.
pub const BATCH: i64 = 10_000;
/// Statements per category per run.
pub const MAX_BATCHES: usize = 20;

/// How long things are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub webhooks: Duration,
    pub parked: Duration,
    pub upload_tokens: Duration,
    pub dead_jobs: Duration,
    pub sessions: Duration,
}

impl Retention {
    /// The defaults, with the webhook retention from configuration.
    pub fn with_webhook_days(days: u32) -> Self {
        Retention {
            webhooks: Duration::days(days.into()),
            parked: Duration::days(7),
            upload_tokens: Duration::days(7),
            dead_jobs: Duration::days(30),
            sessions: Duration::days(30),
        }
    }
}

/// What one run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub parked_events: usize,
    pub upload_tokens: usize,
    pub webhook_items: usize,
    pub deliveries: usize,
    pub dead_jobs: usize,
    pub sessions: usize,
    pub send_budgets: usize,
}

fn in_batches(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    delete: fn(&mut PgConnection, DateTime<Utc>, i64) -> QueryResult<usize>,
) -> QueryResult<usize> {
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let n = delete(conn, before, BATCH)?;
        total += n;
        if (n as i64) < BATCH {
            break;
        }
    }
    Ok(total)
}

/// Deletes everything past its retention as of `now`.
pub fn run(conn: &mut PgConnection, now: DateTime<Utc>, keep: Retention) -> QueryResult<Purged> {
    Ok(Purged {
        parked_events: in_batches(conn, now - keep.parked, retention::parked_events)?,
        upload_tokens: in_batches(
            conn,
            now - keep.upload_tokens,
            retention::outbound_media_tokens,
        )?,
        // Items first: a delivery goes once none of its items is left.
        webhook_items: in_batches(conn, now - keep.webhooks, retention::settled_webhook_items)?,
        deliveries: in_batches(conn, now - keep.webhooks, retention::split_deliveries)?,
        dead_jobs: in_batches(conn, now - keep.dead_jobs, retention::dead_jobs)?,
        sessions: in_batches(conn, now - keep.sessions, retention::old_sessions)?,
        // A budget back to empty for an hour holds nothing a new row would not.
        send_budgets: in_batches(
            conn,
            now - Duration::hours(1),
            crate::models::send_budgets::forget_idle,
        )?,
    })
}
