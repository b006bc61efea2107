//! The job kinds this version of Parley runs, and the dispatch from a job row to its code.

use diesel::RunQueryDsl;

use crate::jobs::JobError;
use crate::jobs::queue::Job;
use crate::state::AppState;

/// Deletes sign-in throttle rows whose window and lock have both passed.
pub const CLEANUP_LOGIN_THROTTLE: &str = "cleanup_login_throttle";

/// Checks every connected channel's token with Meta's debug_token.
pub const TOKEN_HEALTH: &str = "token_health";
/// Deletes expired OAuth states and pending connect selections (they hold encrypted tokens).
pub const PURGE_CONNECT_SESSIONS: &str = "purge_connect_sessions";

/// Fetches a new contact's name and picture from Meta.
pub const FETCH_PROFILE: &str = "fetch_profile";

/// Downloads a message's attachments into Parley's storage.
pub const DOWNLOAD_ATTACHMENTS: &str = "download_attachments";

/// Sends one outbound message to Meta.
pub const SEND_MESSAGE: &str = "send_message";

/// Reopens snoozed conversations whose time has come.
pub const WAKE_SNOOZED: &str = "wake_snoozed";

/// Queues unrouted webhook items whose account has been connected since (a safety net for an
/// item marked unrouted while its account was being connected).
pub const REQUEUE_ROUTABLE: &str = "requeue_routable";

/// Queues a profile sweep for every tenant with contacts still without a profile.
pub const QUEUE_PROFILE_SWEEPS: &str = "queue_profile_sweeps";

/// Deletes what has served its time (see [`crate::jobs::purge`]).
pub const PURGE: &str = "purge";

/// Every kind an operator may enqueue by name (`parley jobs enqueue KIND`).
pub const KNOWN: &[&str] = &[
    CLEANUP_LOGIN_THROTTLE,
    TOKEN_HEALTH,
    PURGE_CONNECT_SESSIONS,
    WAKE_SNOOZED,
    REQUEUE_ROUTABLE,
    PURGE,
    QUEUE_PROFILE_SWEEPS,
];

/// Runs one job. An unknown kind (e.g. enqueued by a newer Parley) is permanent for this process.
pub async fn run(state: &AppState, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        CLEANUP_LOGIN_THROTTLE => cleanup_login_throttle(state).await,
        TOKEN_HEALTH => token_health(state).await,
        FETCH_PROFILE => crate::inbox::profiles::fetch(state, job).await,
        DOWNLOAD_ATTACHMENTS => crate::inbox::attachments::download(state, job).await,
        SEND_MESSAGE => crate::inbox::send_job::run(state, job).await,
        WAKE_SNOOZED => {
            let woken = crate::db::run(&state.pool, |conn| {
                Ok(crate::inbox::actions::wake_snoozed(conn)?)
            })
            .await?;
            tracing::debug!(woken, "reopened snoozed conversations");
            Ok(())
        }
        REQUEUE_ROUTABLE => {
            let queued = crate::db::run(&state.pool, |conn| {
                Ok(crate::models::webhooks::requeue_routable(conn)?)
            })
            .await?;
            if queued > 0 {
                tracing::info!(
                    queued,
                    "queued unrouted webhook items whose account is connected"
                );
            }
            Ok(())
        }
        QUEUE_PROFILE_SWEEPS => crate::inbox::profiles::queue_sweeps(state).await,
        PURGE => {
            let keep = crate::jobs::purge::Retention::with_webhook_days(
                state.config.webhook_retention_days,
            );
            let purged = crate::db::run(&state.pool, move |conn| {
                Ok(crate::jobs::purge::run(conn, chrono::Utc::now(), keep)?)
            })
            .await?;
            tracing::info!(?purged, "purged what has served its time");
            Ok(())
        }
        PURGE_CONNECT_SESSIONS => {
            crate::db::run(&state.pool, |conn| {
                Ok(crate::models::connect::purge_expired(conn)?)
            })
            .await?;
            Ok(())
        }
        other => Err(JobError::Permanent(format!(
            "this version of Parley has no job kind {other:?}"
        ))),
    }
}

async fn cleanup_login_throttle(state: &AppState) -> Result<(), JobError> {
    let removed = crate::db::run(&state.pool, |conn| {
        Ok(diesel::sql_query(
            "DELETE FROM login_throttle
              WHERE window_started < now() - interval '1 day'
                AND (locked_until IS NULL OR locked_until < now())",
        )
        .execute(conn)?)
    })
    .await?;
    tracing::debug!(removed, "cleaned up sign-in throttle rows");
    Ok(())
}

async fn token_health(state: &AppState) -> Result<(), JobError> {
    let report = crate::channels::health::sweep(state)
        .await
        .map_err(|e| JobError::Retryable(e.to_string()))?;
    tracing::info!(
        verified = report.verified,
        disconnected = report.disconnected,
        unchecked = report.unchecked,
        "token health sweep finished"
    );
    if report.unchecked > 0 && report.verified == 0 && report.disconnected == 0 {
        return Err(JobError::Retryable(format!(
            "none of {} channels could be checked; Meta may be unreachable",
            report.unchecked
        )));
    }
    Ok(())
}
