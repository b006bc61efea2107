//! The processors' loop: rounds of fresh deliveries and ready items, paced to gather fuller
//! batches under load and to idle cheaply, and keeping the planner statistics of the tables a
//! burst grows fresh.

use std::time::Duration as StdDuration;

use tokio::sync::watch;

use crate::state::AppState;
use crate::webhooks::processor::{BATCH, ingest_batch, process_batch};

/// One round: fresh deliveries, then items that are ready (split for the item path, retries,
/// replays, newly routable). Returns the work done.
///
/// The two halves fail independently: deliveries that cannot be split never keep items that are
/// ready from being processed, and the other way round. The round fails only when both do.
pub async fn round(state: &AppState) -> Result<usize, crate::db::DbError> {
    let fresh = crate::db::run(&state.pool, |conn| Ok(ingest_batch(conn)?)).await;
    if let Err(e) = &fresh {
        tracing::warn!(error = %e, "splitting fresh deliveries failed");
    }
    let items = crate::db::run(&state.pool, |conn| Ok(process_batch(conn)?)).await;
    match (fresh, items) {
        (Err(e), Err(_)) => Err(e),
        (fresh, items) => {
            let (count, errors) = items.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "processing webhook items failed");
                (0, Vec::new())
            });
            for error in errors {
                tracing::warn!(%error, "webhook item failed; it will be retried");
            }
            Ok(fresh.unwrap_or(0) + count)
        }
    }
}

/// How often a busy processor checks that the tables it grows have fresh planner statistics.
const STATS_CHECK: StdDuration = StdDuration::from_secs(5);

/// Analyzes the tables a burst has grown (see [`crate::models::table_stats`]); a failure only
/// costs slower plans until autovacuum catches up.
async fn keep_statistics_fresh(state: &AppState) {
    match crate::db::run(&state.pool, |conn| {
        Ok(crate::models::table_stats::analyze_if_stale(conn)?)
    })
    .await
    {
        Ok(tables) if !tables.is_empty() => tracing::info!(?tables, "analyzed tables a burst grew"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not refresh planner statistics"),
    }
}

/// How long a processor waits for more deliveries before a round that would not fill a batch:
/// fuller batches share their statements and their commit, which matters under load.
const GATHER: StdDuration = StdDuration::from_millis(50);
/// How long an idle processor waits before looking again (unless this process stores a delivery).
const IDLE_POLL: StdDuration = StdDuration::from_millis(250);

/// Runs rounds until stopped. A round that filled a batch is followed at once by the next; after
/// a partial one the processor gathers for [`GATHER`]; when idle it waits until this process
/// stores a delivery (then gathers) or [`IDLE_POLL`] passes (deliveries stored by other
/// processes, retries).
pub async fn run(state: AppState, worker: String, mut stopped: watch::Receiver<bool>) {
    tracing::debug!(worker, "webhook processor started");
    let mut stats_checked = std::time::Instant::now();
    while !*stopped.borrow() {
        let result = round(&state).await;
        if matches!(result, Ok(n) if n > 0) && stats_checked.elapsed() >= STATS_CHECK {
            stats_checked = std::time::Instant::now();
            keep_statistics_fresh(&state).await;
        }
        let pause = match result {
            Ok(0) => {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE_POLL) => StdDuration::ZERO,
                    _ = state.deliveries_stored.notified() => GATHER,
                    _ = stopped.changed() => StdDuration::ZERO,
                }
            }
            Ok(work) if work >= BATCH as usize => StdDuration::ZERO,
            Ok(_) => GATHER,
            Err(e) => {
                tracing::warn!(error = %e, "webhook processing round failed");
                StdDuration::from_secs(1)
            }
        };
        if pause > StdDuration::ZERO {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}
