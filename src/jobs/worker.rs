//! The worker loop: claim a job, run it with no transaction open, record the outcome.

use std::time::Duration as StdDuration;

use chrono::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::jobs::queue::{self, JobRow};
use crate::jobs::{JobError, kinds};
use crate::state::AppState;

/// How long a claim is held before another worker may take the job over.
pub const LEASE: Duration = Duration::minutes(5);
/// A job running longer than this is abandoned (and retried); shorter than the lease.
const JOB_TIMEOUT: StdDuration = StdDuration::from_secs(240);
/// How long a stopping worker lets its current job finish before giving it back.
const SHUTDOWN_GRACE: StdDuration = StdDuration::from_secs(20);
/// Pause between polls when the queue is empty.
const IDLE_POLL: StdDuration = StdDuration::from_millis(500);

/// A running set of worker loops.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `concurrency` job worker loops, the configured number of webhook processor loops
    /// and the scheduler of periodic jobs.
    pub fn start(state: AppState, concurrency: usize) -> Self {
        Self::start_with_grace(state, concurrency, SHUTDOWN_GRACE)
    }

    /// Like [`WorkerPool::start`], with the time a stopping worker gives its current job.
    pub fn start_with_grace(state: AppState, concurrency: usize, grace: StdDuration) -> Self {
        let (stop, stopped) = watch::channel(false);
        let process = format!("{}-{}", std::process::id(), &crate::crypto::random_hex(3));
        let mut loops: Vec<JoinHandle<()>> = (0..concurrency.max(1))
            .map(|n| {
                let id = format!("{process}-{n}");
                tokio::spawn(run_loop(state.clone(), id, stopped.clone(), grace))
            })
            .collect();
        for n in 0..state.config.webhook_processors {
            loops.push(tokio::spawn(crate::webhooks::processor::run(
                state.clone(),
                format!("{process}-webhooks-{n}"),
                stopped.clone(),
            )));
        }
        loops.push(tokio::spawn(run_scheduler(state, stopped)));
        WorkerPool { stop, loops }
    }

    /// Stops claiming, lets running jobs finish (or gives them back), and waits for the loops.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.loops {
            let _ = handle.await;
        }
        tracing::info!("job workers stopped");
    }
}

/// Idle workers of this process wait on this besides their poll.
static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Wakes this process's idle workers: jobs were enqueued (told by the live listener, which
/// hears every process's enqueues).
pub fn wake() {
    WAKE.notify_waiters();
}

async fn run_loop(
    state: AppState,
    worker: String,
    mut stopped: watch::Receiver<bool>,
    grace: StdDuration,
) {
    tracing::debug!(worker, "job worker started");
    while !*stopped.borrow() {
        let id = worker.clone();
        // Listening starts before the claim, so a wake between the two is not lost.
        let woken = WAKE.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let claimed =
            crate::db::run(&state.pool, move |conn| Ok(queue::claim(conn, &id, LEASE)?)).await;
        match claimed {
            Ok(Some(job)) => run_one(&state, &worker, job, &mut stopped, grace).await,
            Ok(None) => {
                tokio::select! {
                    () = &mut woken => {}
                    () = idle(&mut stopped, IDLE_POLL) => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim a job; retrying shortly");
                idle(&mut stopped, StdDuration::from_secs(2)).await;
            }
        }
    }
}

async fn run_scheduler(state: AppState, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let due = crate::db::run(&state.pool, |conn| {
            Ok(crate::jobs::scheduler::enqueue_due(
                conn,
                chrono::Utc::now(),
            )?)
        })
        .await;
        match due {
            Ok(kinds) if !kinds.is_empty() => tracing::info!(?kinds, "enqueued periodic jobs"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
        }
        idle(&mut stopped, crate::jobs::scheduler::TICK).await;
    }
}

async fn idle(stopped: &mut watch::Receiver<bool>, pause: StdDuration) {
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = stopped.changed() => {}
    }
}

async fn run_one(
    state: &AppState,
    worker: &str,
    job: JobRow,
    stopped: &mut watch::Receiver<bool>,
    grace: StdDuration,
) {
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts);
    let _enter = span.enter();
    let work = tokio::time::timeout(JOB_TIMEOUT, kinds::run(state, &job));
    tokio::pin!(work);
    let outcome = tokio::select! {
        result = &mut work => Some(result),
        _ = stopped.changed() => {
            // Shutting down: give the job a grace period, then hand it back to the queue.
            tokio::time::timeout(grace, &mut work).await.ok()
        }
    };
    let (id, worker_id) = (job.id, worker.to_string());
    let recorded = match outcome {
        None => {
            tracing::info!("shutting down: job handed back to the queue");
            crate::db::run(&state.pool, move |conn| {
                Ok(queue::release(conn, id, &worker_id).map(|_| ())?)
            })
            .await
        }
        Some(Ok(Ok(()))) => {
            crate::db::run(&state.pool, move |conn| {
                Ok(queue::complete(conn, id, &worker_id).map(|_| ())?)
            })
            .await
        }
        Some(Ok(Err(JobError::Later { after, reason }))) => {
            tracing::debug!(%reason, after_ms = after.as_millis() as u64, "job postponed");
            let later = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::hours(1));
            crate::db::run(&state.pool, move |conn| {
                Ok(queue::postpone(conn, id, &worker_id, &reason, later).map(|_| ())?)
            })
            .await
        }
        Some(result) => {
            let (message, permanent) = match result {
                Ok(Err(e)) => (e.describe(), e.is_permanent()),
                Err(_) => (
                    format!("timed out after {} s", JOB_TIMEOUT.as_secs()),
                    false,
                ),
                Ok(Ok(())) => (String::new(), false),
            };
            tracing::warn!(error = %message, permanent, "job failed");
            let failed = job.clone();
            crate::db::run(&state.pool, move |conn| {
                Ok(queue::fail(conn, &failed, &worker_id, &message, permanent)?)
            })
            .await
        }
    };
    if let Err(e) = recorded {
        // The lease will expire and the job will be claimed again: nothing is lost.
        tracing::error!(error = %e, "could not record a job's outcome");
    }
}
