//! The registry of job kinds this version of Parley runs, and the periodic kinds defined here
//! (tenant work — sends, downloads, profile fetches — lives with its domain in `inbox`).

use serde::{Deserialize, Serialize};

use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext, dispatch};
use crate::jobs::queue::JobRow;
use crate::state::AppState;

/// Lists every kind once: the names and the dispatch below are generated from it, so a kind
/// cannot be enqueued under one name and looked for under another.
macro_rules! registry {
    ($($job:ty),* $(,)?) => {
        /// The name of every kind this version runs.
        pub const ALL: &[&str] = &[$(<$job as Job>::KIND),*];

        /// Runs one job row with its kind's code. An unknown kind (enqueued by a newer Parley)
        /// is permanent for this process.
        pub async fn run(state: &AppState, row: &JobRow) -> Result<(), JobError> {
            $(
                if row.kind == <$job as Job>::KIND {
                    return dispatch::<$job>(state, row).await;
                }
            )*
            Err(JobError::Permanent(format!(
                "this version of Parley has no job kind {:?}",
                row.kind
            )))
        }
    };
}

registry![
    crate::inbox::send_job::SendMessage,
    crate::inbox::signals::SendSignal,
    crate::inbox::reactions::SendReaction,
    crate::inbox::attachments::DownloadAttachments,
    crate::inbox::profiles::FetchProfiles,
    crate::comments::ModerateComment,
    crate::comments::sync::SyncComments,
    crate::comments::bulk::BulkModerate,
    crate::comments::posts::FetchCommentPost,
    crate::comments::mentions::FetchMention,
    crate::insights::refresh::RefreshInsights,
    crate::insights::posts::RefreshPostInsights,
    crate::message_templates::jobs::SyncTemplates,
    crate::message_templates::jobs::SubmitTemplate,
    crate::message_templates::at_meta::EditTemplate,
    crate::message_templates::at_meta::DeleteTemplates,
    crate::message_templates::poll::PollTemplates,
    crate::message_templates::poll::SyncAllTemplates,
    ResyncComments,
    RefreshAllInsights,
    PollStories,
    FoldMessagingCounts,
    CleanupLoginThrottle,
    TokenHealth,
    crate::channels::instagram_login::RefreshInstagramTokens,
    crate::channels::history::ImportHistory,
    PurgeConnectSessions,
    WakeSnoozed,
    RequeueRoutable,
    QueueProfileSweeps,
    Purge,
];

/// Deletes sign-in throttle rows whose window and lock have both passed.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CleanupLoginThrottle {}

impl Job for CleanupLoginThrottle {
    const KIND: &'static str = "cleanup_login_throttle";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let removed = crate::db::run(&state.pool, |conn| {
            Ok(crate::models::login_throttle::delete_stale(conn)?)
        })
        .await?;
        tracing::debug!(removed, "cleaned up sign-in throttle rows");
        Ok(())
    }
}

/// Starts a re-sync of the last days' comments on every connected Facebook and Instagram
/// channel, to catch deliveries Meta missed (a channel already syncing is left alone).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ResyncComments {}

impl Job for ResyncComments {
    const KIND: &'static str = "resync_comments";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let started = crate::db::run(&state.pool, |conn| {
            let since = chrono::Utc::now() - chrono::Duration::days(crate::comments::sync::RESYNC_DAYS);
            let mut started = 0;
            for channel in crate::models::channels::facebook_and_instagram(conn)? {
                // One channel's trouble (a failed start) must not keep the others from syncing.
                match crate::comments::sync::start(conn, channel.tenant_id, channel.id, since, None) {
                    Ok(Some(_)) => started += 1,
                    Ok(None) => {}
                    Err(e) => tracing::warn!(channel = %channel.id, error = %e, "could not start a comment re-sync"),
                }
            }
            Ok(started)
        })
        .await?;
        tracing::info!(started, "comment re-syncs started");
        Ok(())
    }
}

/// Queues the daily insights refresh of every connected Facebook Page and Instagram account,
/// one job per channel (so one channel's failure or throttling does not hold the others).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RefreshAllInsights {}

impl Job for RefreshAllInsights {
    const KIND: &'static str = "refresh_all_insights";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let queued = crate::db::run(&state.pool, |conn| {
            let channels = crate::models::channels::facebook_and_instagram(conn)?;
            for c in &channels {
                // Spread over hours: many channels never ask Meta at once.
                crate::insights::refresh::queue_at(
                    conn,
                    c.tenant_id,
                    c.id,
                    crate::insights::refresh::DAILY_DAYS,
                    crate::insights::budget::spread_start(c.id.0),
                )?;
                crate::insights::posts::queue_at(
                    conn,
                    c.tenant_id,
                    c.id,
                    false,
                    crate::insights::budget::spread_start(c.id.0),
                )?;
            }
            Ok(channels.len())
        })
        .await?;
        tracing::info!(queued, "daily insights refreshes queued");
        Ok(())
    }
}

/// Queues a read of every Instagram account's live stories, whose figures Meta keeps for 24
/// hours only (the `story_insights` webhook brings the final ones).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PollStories {}

impl Job for PollStories {
    const KIND: &'static str = "poll_stories";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let queued = crate::db::run(&state.pool, |conn| {
            let accounts: Vec<_> = crate::models::channels::facebook_and_instagram(conn)?
                .into_iter()
                .filter(|c| c.platform == crate::models::channels::Platform::Instagram)
                .collect();
            for c in &accounts {
                crate::insights::posts::queue(conn, c.tenant_id, c.id, true)?;
            }
            Ok(accounts.len())
        })
        .await?;
        tracing::debug!(queued, "story polls queued");
        Ok(())
    }
}

/// Folds the message counts webhooks and sends appended into the hourly counts the insights
/// pages read (appending keeps concurrent writers of one channel from waiting on each other).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FoldMessagingCounts {}

impl Job for FoldMessagingCounts {
    const KIND: &'static str = "fold_messaging_counts";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let folded = crate::db::run(&state.pool, |conn| {
            Ok(crate::models::messaging_counts::fold_deltas(conn)?)
        })
        .await?;
        tracing::debug!(folded, "message counts folded");
        Ok(())
    }
}

/// Checks every connected channel's token with Meta's debug_token.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TokenHealth {}

impl Job for TokenHealth {
    const KIND: &'static str = "token_health";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let report = crate::channels::health::sweep(state)
            .await
            .map_err(|e| JobError::retry("token health sweep", e))?;
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
}

/// Deletes expired OAuth states and pending connect selections (they hold encrypted tokens).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PurgeConnectSessions {}

impl Job for PurgeConnectSessions {
    const KIND: &'static str = "purge_connect_sessions";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        crate::db::run(&state.pool, |conn| {
            Ok(crate::models::connect::purge_expired(conn)?)
        })
        .await?;
        Ok(())
    }
}

/// Reopens snoozed conversations whose time has come.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WakeSnoozed {}

impl Job for WakeSnoozed {
    const KIND: &'static str = "wake_snoozed";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let woken = crate::db::run(&state.pool, |conn| {
            Ok(crate::inbox::actions::wake_snoozed(conn)?)
        })
        .await?;
        tracing::debug!(woken, "reopened snoozed conversations");
        Ok(())
    }
}

/// Queues unrouted webhook items whose account has been connected since (a safety net for an
/// item marked unrouted while its account was being connected).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RequeueRoutable {}

impl Job for RequeueRoutable {
    const KIND: &'static str = "requeue_routable";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
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
}

/// Queues a profile sweep for every tenant with contacts still without a profile.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct QueueProfileSweeps {}

impl Job for QueueProfileSweeps {
    const KIND: &'static str = "queue_profile_sweeps";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        crate::inbox::profiles::queue_sweeps(state).await
    }
}

/// Deletes what has served its time (see [`crate::jobs::purge`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Purge {}

impl Job for Purge {
    const KIND: &'static str = "purge";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let keep =
            crate::jobs::purge::Retention::with_webhook_days(state.config.webhook_retention_days);
        let purged = crate::db::run(&state.pool, move |conn| {
            Ok(crate::jobs::purge::run(conn, chrono::Utc::now(), keep)?)
        })
        .await?;
        tracing::info!(?purged, "purged what has served its time");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_registered_once() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn every_periodic_kind_is_registered_and_its_payload_reads_back() {
        for p in crate::jobs::scheduler::PERIODIC {
            assert!(ALL.contains(&p.kind), "{} is not registered", p.kind);
            let row = (p.make)();
            assert_eq!(row.kind, p.kind);
            assert_eq!(row.payload, serde_json::json!({}));
        }
    }
}
