//! Instagram account figures that are not plain daily series: totals Meta serves only as
//! `total_value` (read one day at a time to keep a daily series), the follower count, and the
//! audience (demographics, followers online by hour), which Meta gives only to accounts with
//! 100 followers or more.

use chrono::{Duration, NaiveDate, Utc};

use crate::insights::catalog;
use crate::insights::posts::values;
use crate::jobs::JobError;
use crate::meta::AccessToken;
use crate::meta::error::GraphError;
use crate::meta::insights::{IgInsightsQuery, InsightMetric, Range};
use crate::models::channels::Channel;
use crate::models::insights::{self, Point};
use crate::state::AppState;

/// Meta serves follower metrics and demographics only from this many followers.
pub const FOLLOWER_MINIMUM: i64 = 100;
/// The most days of totals one refresh reads (one request per day).
pub const TOTALS_DAYS: i64 = 30;
/// The metric the follower count is kept under (a level, one point per day it was read).
pub const FOLLOWERS_TOTAL: &str = "followers_total";

fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default()
}

fn failed(e: GraphError) -> JobError {
    if e.is_retryable() {
        JobError::retry("reading Instagram insights", e)
    } else {
        JobError::Permanent(format!("reading Instagram insights: {}", e.describe()))
    }
}

/// Asks for the query's metrics (each alone when Meta refuses one); the refused ones are added
/// to `refused`.
async fn ask(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    q: IgInsightsQuery<'_>,
    refused: &mut Vec<(String, String)>,
) -> Result<Vec<InsightMetric>, GraphError> {
    let ig = channel.platform_id.as_str();
    let (answer, more) = crate::insights::ask::dropping_refused(q.metrics, |metrics| async move {
        let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
        let one = IgInsightsQuery {
            metrics: &metrics,
            ..q
        };
        state.graph.instagram_insights(ig, token, &one).await
    })
    .await?;
    for (metric, reason) in more {
        if !refused.iter().any(|(m, _)| *m == metric) {
            refused.push((metric, reason));
        }
    }
    Ok(answer)
}

/// Records the metrics Meta refused for the channel (the overview names them).
async fn record_refused(
    state: &AppState,
    channel: &Channel,
    refused: Vec<(String, String)>,
) -> Result<(), JobError> {
    let (tenant, id) = (channel.tenant_id, channel.id);
    crate::db::run(&state.pool, move |conn| {
        for (metric, reason) in &refused {
            insights::refused(conn, tenant, id, metric, reason)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// The account's totals for each day of `[from, to)` (at most the last 30), stored as daily
/// points; `follows_and_unfollows` becomes `follows` and `unfollows`.
pub async fn refresh_totals(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<usize, JobError> {
    let from = from.max(to - Duration::days(TOTALS_DAYS));
    let mut stored = 0;
    let mut refused = Vec::new();
    let mut day = from;
    while day < to {
        crate::insights::budget::check(state, channel)?;
        let range = Some(Range {
            since: midnight(day),
            until: midnight(day + Duration::days(1)),
        });
        let q = |metrics, breakdown| IgInsightsQuery {
            metrics,
            period: "day",
            metric_type: "total_value",
            breakdown,
            timeframe: None,
            range,
        };
        let mut answer = ask(
            state,
            channel,
            token,
            q(catalog::INSTAGRAM_DAILY_TOTALS, None),
            &mut refused,
        )
        .await
        .map_err(failed)?;
        answer.extend(
            ask(
                state,
                channel,
                token,
                q(&["follows_and_unfollows"], Some("follow_type")),
                &mut refused,
            )
            .await
            .map_err(failed)?,
        );
        let points: Vec<Point> = values(&answer)
            .into_iter()
            .filter_map(|(metric, value)| {
                let metric = match metric.as_str() {
                    "follows_and_unfollows.follower" => "follows".to_string(),
                    "follows_and_unfollows.non_follower" => "unfollows".to_string(),
                    "follows_and_unfollows" => return None,
                    _ => metric,
                };
                Some(Point {
                    object_id: channel.platform_id.clone(),
                    metric,
                    day,
                    value,
                })
            })
            .collect();
        let (tenant, id) = (channel.tenant_id, channel.id);
        stored += crate::db::run(&state.pool, move |conn| {
            Ok(insights::upsert_account(conn, tenant, id, &points)?)
        })
        .await?;
        day += Duration::days(1);
    }
    record_refused(state, channel, refused).await?;
    Ok(stored)
}

/// One breakdown read: metric, dimension and (key, value) rows.
type Breakdown = (String, String, Vec<(String, i64)>);

/// The follower count (kept as yesterday's `followers_total`) and, from 100 followers, the
/// demographics and followers online by hour. Returns the follower count.
pub async fn refresh_audience(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
) -> Result<Option<i64>, JobError> {
    crate::insights::budget::check(state, channel)?;
    let ig = channel.platform_id.clone();
    let followers = state
        .graph
        .instagram_followers(&ig, token)
        .await
        .map_err(failed)?;
    let (tenant, id) = (channel.tenant_id, channel.id);
    // Kept as yesterday's closing count: the pages' ranges end yesterday (Meta's lag), and a
    // count read now is what stood at the end of it, give or take today's hours.
    let day = Utc::now().date_naive() - Duration::days(1);
    if let Some(n) = followers {
        let point = Point {
            object_id: ig.clone(),
            metric: FOLLOWERS_TOTAL.into(),
            day,
            value: n,
        };
        crate::db::run(&state.pool, move |conn| {
            Ok(insights::upsert_account(conn, tenant, id, &[point])?)
        })
        .await?;
    }
    if followers.unwrap_or(0) < FOLLOWER_MINIMUM {
        return Ok(followers);
    }
    let mut breakdowns: Vec<Breakdown> = Vec::new();
    let mut refused = Vec::new();
    for metric in catalog::INSTAGRAM_DEMOGRAPHICS {
        for dimension in catalog::DEMOGRAPHIC_DIMENSIONS {
            let q = IgInsightsQuery {
                metrics: std::slice::from_ref(metric),
                period: "lifetime",
                metric_type: "total_value",
                breakdown: Some(dimension),
                timeframe: Some("this_month"),
                range: None,
            };
            let answer = ask(state, channel, token, q, &mut refused)
                .await
                .map_err(failed)?;
            let prefix = format!("{metric}.");
            let rows = values(&answer)
                .into_iter()
                .filter_map(|(m, v)| Some((m.strip_prefix(&prefix)?.to_string(), v)))
                .collect();
            breakdowns.push((metric.to_string(), dimension.to_string(), rows));
        }
    }
    let q = IgInsightsQuery {
        metrics: &["online_followers"],
        period: "lifetime",
        metric_type: "time_series",
        breakdown: None,
        timeframe: None,
        range: None,
    };
    let online = ask(state, channel, token, q, &mut refused)
        .await
        .map_err(failed)?;
    record_refused(state, channel, refused).await?;
    // The latest day's hour → followers online.
    let hours: Vec<(String, i64)> = online
        .iter()
        .filter_map(|m| m.values.last())
        .filter_map(|v| v.value.as_object())
        .flat_map(|o| o.iter().filter_map(|(h, n)| Some((h.clone(), n.as_i64()?))))
        .collect();
    breakdowns.push(("online_followers".into(), "hour".into(), hours));
    crate::db::run(&state.pool, move |conn| {
        use diesel::Connection;
        Ok(conn.transaction(|conn| {
            for (metric, dimension, rows) in &breakdowns {
                // Meta sends nothing for a breakdown it has no data on: keep the last one.
                if !rows.is_empty() {
                    insights::replace_breakdown(conn, tenant, id, &ig, metric, dimension, rows)?;
                }
            }
            diesel::QueryResult::Ok(())
        })?)
    })
    .await?;
    Ok(followers)
}
