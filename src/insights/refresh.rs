//! The insights refresh: a channel's daily series read from Meta in windows of at most 90 days
//! (Meta's limit for Page insights), each window stored in one transaction. A metric Meta
//! refuses is dropped from the request and recorded, and the others still load: one bad metric
//! never blanks a page.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::db::ids::{ChannelId, TenantId};
use crate::db::statuses::RunState;
use crate::insights::catalog;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::AccessToken;
use crate::meta::error::GraphError;
use crate::meta::insights::{IgInsightsQuery, InsightMetric, Range};
use crate::models::channels::{Channel, Platform};
use crate::models::insights::{self, Point};
use crate::state::AppState;

/// The most days one Page insights request may span.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// The most days one Instagram account insights request may span (the sandbox enforces it as
/// Meta does; the contract does not state it).
pub const MAX_INSTAGRAM_WINDOW_DAYS: i64 = 30;

/// The longest window a request of the platform may span.
pub fn window_days(platform: Platform) -> i64 {
    match platform {
        Platform::Instagram => MAX_INSTAGRAM_WINDOW_DAYS,
        _ => MAX_WINDOW_DAYS,
    }
}
/// How far back Meta keeps insights.
pub const MAX_HISTORY_DAYS: i64 = 730;

/// `[from, to)` cut into windows of at most `max_days`, oldest first.
pub fn windows(from: NaiveDate, to: NaiveDate, max_days: i64) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + Duration::days(max_days.max(1))).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

fn midnight(day: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .timestamp()
}

/// The day a Graph `end_time` closes (Meta reports the end of the day, in Pacific time).
fn day_of(end_time: &str) -> Option<NaiveDate> {
    let end = DateTime::parse_from_str(end_time, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(end_time))
        .ok()?
        .with_timezone(&Utc);
    Some((end - Duration::hours(12)).date_naive())
}

/// Daily points of an answer (values that are not whole numbers are left out: they are
/// breakdowns, which this series does not keep).
pub fn points(object_id: &str, metrics: &[InsightMetric]) -> Vec<Point> {
    metrics
        .iter()
        .flat_map(|m| {
            m.values.iter().filter_map(move |v| {
                Some(Point {
                    object_id: object_id.to_string(),
                    metric: m.name.clone(),
                    day: day_of(v.end_time.as_deref()?)?,
                    value: v.value.as_i64()?,
                })
            })
        })
        .collect()
}

/// One window of the channel's daily metrics: all together, or (when Meta refuses the request
/// for a metric) one by one, so the refused ones are known and the rest still load.
async fn window(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    metrics: &[&str],
    range: Range,
) -> Result<crate::insights::ask::Answer, GraphError> {
    let ask = |metrics: Vec<String>| {
        let graph = &state.graph;
        let id = channel.platform_id.clone();
        async move {
            let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
            if channel.platform == Platform::Instagram {
                let q = IgInsightsQuery {
                    metrics: &metrics,
                    period: "day",
                    metric_type: "time_series",
                    breakdown: None,
                    timeframe: None,
                    range: Some(range),
                };
                graph.instagram_insights(&id, token, &q).await
            } else {
                graph
                    .page_insights(&id, token, &metrics, "day", range)
                    .await
            }
        }
    };
    crate::insights::ask::dropping_refused(metrics, ask).await
}

/// What a refresh stored.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    pub points: usize,
    pub windows: usize,
    pub refused: Vec<String>,
}

/// Reads the channel's daily metrics for `[from, to)` and stores them.
pub async fn refresh(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    metrics: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Refreshed, JobError> {
    refresh_tracked(state, channel, token, metrics, from, to, None).await
}

/// [`refresh`], recording each window in the backfill `progress` (in the window's transaction).
pub async fn refresh_tracked(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    metrics: &[&str],
    from: NaiveDate,
    to: NaiveDate,
    progress: Option<i64>,
) -> Result<Refreshed, JobError> {
    let mut done = Refreshed::default();
    for (start, end) in windows(from, to, window_days(channel.platform)) {
        // Before each window: a long read steps aside when the budget runs high (its progress
        // is kept, and it resumes here).
        crate::insights::budget::check(state, channel)?;
        let range = Range {
            since: midnight(start),
            until: midnight(end),
        };
        let (answer, refused) = match window(state, channel, token, metrics, range).await {
            Ok(read) => read,
            Err(e) if e.is_retryable() => return Err(JobError::retry("reading insights", e)),
            Err(e) => {
                return Err(JobError::Permanent(format!(
                    "reading insights: {}",
                    e.describe()
                )));
            }
        };
        let pts = points(&channel.platform_id, &answer);
        let (tenant, id) = (channel.tenant_id, channel.id);
        let served: Vec<String> = metrics
            .iter()
            .filter(|m| !refused.iter().any(|(r, _)| r == *m))
            .map(|m| m.to_string())
            .collect();
        for (metric, _) in &refused {
            if !done.refused.contains(metric) {
                done.refused.push(metric.clone());
            }
        }
        done.points += crate::db::run(&state.pool, move |conn| {
            use diesel::Connection;
            Ok(conn.transaction(|conn| {
                for (metric, reason) in &refused {
                    insights::refused(conn, tenant, id, metric, reason)?;
                }
                for metric in &served {
                    insights::served(conn, tenant, id, metric)?;
                }
                if let Some(backfill) = progress {
                    crate::models::insight_backfills::advance(conn, backfill, end)?;
                }
                insights::upsert_account(conn, tenant, id, &pts)
            })?)
        })
        .await?;
        done.windows += 1;
    }
    Ok(done)
}

/// How far back a newly connected channel's insights are read.
pub const BACKFILL_DAYS: i64 = 90;
/// How far back the daily refresh reads (Meta revises recent days and lags up to 48 h).
pub const DAILY_DAYS: i64 = 4;

/// Queues a refresh of the channel's last `days` days now (one at a time per channel and range).
pub fn queue(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    days: i64,
) -> diesel::QueryResult<()> {
    queue_at(conn, tenant, channel, days, Utc::now())
}

/// Queues a refresh of the last `days` days of the tenant's connected Pages and Instagram
/// accounts (or only `only`, if it is one of them); returns how many were queued.
pub fn queue_for_tenant(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    only: Option<ChannelId>,
    days: i64,
) -> diesel::QueryResult<usize> {
    let mut queued = 0;
    for channel in crate::models::channels::list(conn, tenant)? {
        let wanted = channel.platform != Platform::Whatsapp
            && channel.is_connected()
            && only.is_none_or(|id| id == channel.id);
        if wanted {
            queue(conn, tenant, channel.id, days)?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues a refresh to run at `at` (the daily refresh spreads its channels).
pub fn queue_at(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    days: i64,
    at: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    crate::jobs::queue::enqueue(
        conn,
        &RefreshInsights::new(channel, days)
            .to_new_job()
            .for_tenant(tenant)
            .at(at)
            .dedupe(format!("insights:{channel}:{days}")),
    )
    .map(|_| ())
}

/// The daily metrics Parley keeps for a channel's platform.
pub fn daily_metrics(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Instagram => catalog::INSTAGRAM_DAILY,
        _ => catalog::PAGE_DAILY,
    }
}

/// Job `refresh_insights`: the channel's daily series for the last `days` days (at most two
/// years), every window stored as it is read, so a re-run after a failure only repeats reads.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RefreshInsights {
    pub channel_id: ChannelId,
    pub days: i64,
}

impl RefreshInsights {
    /// A refresh of the last `days` days, at most two years (Meta keeps no more).
    pub fn new(channel_id: ChannelId, days: i64) -> Self {
        RefreshInsights {
            channel_id,
            days: days.clamp(1, MAX_HISTORY_DAYS),
        }
    }
}

impl Job for RefreshInsights {
    const KIND: &'static str = "refresh_insights";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant: TenantId = ctx.tenant(Self::KIND)?;
        let Some((channel, token)) =
            crate::channels::connected_for_job(state, tenant, self.channel_id).await?
        else {
            return Ok(());
        };
        if channel.platform == Platform::Whatsapp {
            return Ok(());
        }
        let today = Utc::now().date_naive();
        let from = today - Duration::days(self.days.clamp(1, MAX_HISTORY_DAYS));
        // A long read keeps its progress (shown on the page) and resumes where it stopped.
        let backfill = if self.days > DAILY_DAYS {
            let windows = windows(from, today, window_days(channel.platform)).len() as i32;
            let (tenant, id) = (channel.tenant_id, channel.id);
            Some(
                crate::db::run(&state.pool, move |conn| {
                    Ok(crate::models::insight_backfills::resume_or_start(
                        conn, tenant, id, from, today, windows,
                    )?)
                })
                .await?,
            )
        } else {
            None
        };
        let start = backfill.as_ref().map_or(from, |b| b.next_day.max(from));
        let read = async {
            let done = refresh_tracked(
                state,
                &channel,
                &token,
                daily_metrics(channel.platform),
                start,
                today,
                backfill.as_ref().map(|b| b.id),
            )
            .await?;
            if channel.platform == Platform::Instagram {
                crate::insights::account::refresh_totals(state, &channel, &token, from, today)
                    .await?;
                crate::insights::account::refresh_audience(state, &channel, &token).await?;
            }
            Ok::<_, JobError>(done)
        };
        let outcome = read.await;
        if let Some(b) = &backfill {
            let (id, ended) = (b.id, &outcome);
            let end = match ended {
                Ok(_) => Some((RunState::Done, None)),
                Err(JobError::Permanent(reason)) => Some((RunState::Failed, Some(reason.clone()))),
                // A retry resumes at the next window.
                Err(_) => None,
            };
            if let Some((state_now, reason)) = end {
                crate::db::run(&state.pool, move |conn| {
                    Ok(crate::models::insight_backfills::finish(
                        conn,
                        id,
                        state_now,
                        reason.as_deref(),
                    )?)
                })
                .await?;
            }
        }
        let done = outcome?;
        tracing::info!(
            channel = %channel.id,
            points = done.points,
            windows = done.windows,
            refused = ?done.refused,
            "insights refreshed"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_cut_into_windows_of_at_most_90_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = windows(d("2026-01-01"), d("2026-07-01"), MAX_WINDOW_DAYS);
        assert_eq!(
            w,
            [
                (d("2026-01-01"), d("2026-04-01")),
                (d("2026-04-01"), d("2026-06-30")),
                (d("2026-06-30"), d("2026-07-01")),
            ]
        );
        assert!(
            w.iter()
                .all(|(a, b)| (*b - *a).num_days() <= MAX_WINDOW_DAYS)
        );
        assert!(windows(d("2026-01-01"), d("2026-01-01"), MAX_WINDOW_DAYS).is_empty());
        assert_eq!(
            windows(d("2026-01-01"), d("2026-03-01"), MAX_INSTAGRAM_WINDOW_DAYS).len(),
            2
        );
    }

    #[test]
    fn end_times_name_the_day_they_close() {
        assert_eq!(
            day_of("2026-11-29T08:00:00+0000"),
            NaiveDate::from_ymd_opt(2026, 11, 28)
        );
        assert_eq!(
            day_of("2026-11-29T07:00:00+0000"),
            NaiveDate::from_ymd_opt(2026, 11, 28)
        );
    }
}
