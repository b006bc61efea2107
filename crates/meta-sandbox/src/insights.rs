//! Page, Instagram account and Instagram media insights, from a deterministic series
//! generator: the same object, metric and day always give the same value.

use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::auth::MetaError;
use super::graph::Ctx;
use super::util::{graph_time, stable_hash};

const PAGE_METRICS: &[&str] = &[
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
    "page_follows",
    "page_daily_follows",
    "page_daily_follows_unique",
    "page_daily_unfollows_unique",
    "page_views_total",
    "page_total_actions",
    "page_video_views",
    "page_messages_total_messaging_connections",
    "page_messages_new_conversations_unique",
];
/// Instagram account metrics that only come as `metric_type=total_value`.
const IG_TOTAL_ONLY: &[&str] = &[
    "views",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "shares",
    "saves",
    "replies",
    "reposts",
    "follows_and_unfollows",
    "profile_links_taps",
];
const IG_SERIES: &[&str] = &["reach", "follower_count", "online_followers"];
const IG_DEMOGRAPHICS: &[&str] = &["follower_demographics", "engaged_audience_demographics"];
/// The value of `metric` for `object_id` on `date`: a base level per object and metric, a
/// slow upward trend, weekly seasonality (busier at weekends) and ±15% noise.
pub fn daily_value(object_id: &str, metric: &str, date: NaiveDate) -> u64 {
    let h = stable_hash(&[object_id, metric]);
    let (lo, hi) = if metric.contains("unfollow") {
        (0, 6)
    } else if metric.contains("follow") {
        (2, 30)
    } else if metric.contains("view") || metric.contains("reach") {
        (200, 2000)
    } else if metric.contains("message") || metric.contains("conversation") {
        (3, 40)
    } else {
        (20, 240)
    };
    let base = (lo + h % (hi - lo + 1)) as f64;
    let epoch = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(date);
    let days = (date - epoch).num_days().max(0) as f64;
    let trend = 1.0 + 0.0008 * days;
    let weekly =
        [0.86, 0.92, 0.95, 1.0, 1.08, 1.22, 1.15][date.weekday().num_days_from_monday() as usize];
    let day = date.to_string();
    let noise = (stable_hash(&[object_id, metric, &day]) % 3001) as f64 / 10_000.0 - 0.15;
    (base * trend * weekly * (1.0 + noise)).round().max(0.0) as u64
}

pub(crate) fn invalid_metric() -> MetaError {
    MetaError::param("The value must be a valid insights metric")
}

pub(crate) fn metrics(ctx: &Ctx) -> Result<Vec<String>, MetaError> {
    let m: Vec<String> = ctx
        .req
        .text("metric")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if m.is_empty() {
        return Err(MetaError::new(3001, "Invalid query").subcode(1504028).user(
            "No Metric Specified",
            "No metric was specified to be fetched. Please specify one or more metrics to be fetched.",
        ));
    }
    Ok(m)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(secs) = s.parse::<i64>() {
        return Utc.timestamp_opt(secs, 0).single();
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

/// Days covered by since/until (end exclusive), defaulting to `default_days` ending `end`.
fn range(
    ctx: &Ctx,
    max_days: i64,
    default_end: NaiveDate,
    default_days: i64,
) -> Result<(NaiveDate, NaiveDate), MetaError> {
    let since = ctx
        .req
        .text("since")
        .map(|s| {
            parse_time(&s)
                .ok_or_else(|| MetaError::param("Param since must be a unix timestamp or a date"))
        })
        .transpose()?;
    let until = ctx
        .req
        .text("until")
        .map(|s| {
            parse_time(&s)
                .ok_or_else(|| MetaError::param("Param until must be a unix timestamp or a date"))
        })
        .transpose()?;
    let (since, until) = match (since, until) {
        (Some(s), Some(u)) => (s, u),
        (Some(s), None) => (s, s + TimeDelta::days(default_days)),
        (None, Some(u)) => (u - TimeDelta::days(default_days), u),
        (None, None) => {
            let end = Utc.from_utc_datetime(&default_end.and_hms_opt(0, 0, 0).unwrap_or_default());
            (end - TimeDelta::days(default_days), end)
        }
    };
    if since > until {
        return Err(MetaError::param(
            "The since parameter must be earlier than the until parameter",
        ));
    }
    if until - since > TimeDelta::days(max_days) {
        return Err(MetaError::param(format!(
            "There cannot be more than {max_days} days ({} s) between since and until",
            max_days * 86_400
        )));
    }
    Ok((since.date_naive(), until.date_naive()))
}

/// End of a Pacific day, as Graph reports `end_time`.
fn end_time(day: NaiveDate) -> String {
    let next = day.succ_opt().unwrap_or(day);
    graph_time(Utc.from_utc_datetime(&next.and_hms_opt(8, 0, 0).unwrap_or_default()))
}

pub(crate) fn title(metric: &str) -> String {
    let words = metric.trim_start_matches("page_").replace('_', " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `GET /{page-id}/insights?metric=&period=&since=&until=` (90 days at most per request).
pub(crate) fn page(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_page_token(&ctx.id)?;
    let names = metrics(ctx)?;
    if names.iter().any(|m| !PAGE_METRICS.contains(&m.as_str())) {
        return Err(invalid_metric());
    }
    let period = ctx.req.param("period").unwrap_or("day");
    let window = match period {
        "day" => 1,
        "week" => 7,
        "days_28" => 28,
        other => {
            return Err(MetaError::param(format!(
                "Param period must be one of {{day, week, days_28}} - got \"{other}\""
            )));
        }
    };
    let today = Utc::now().date_naive();
    let (from, to) = range(ctx, 90, today, 2)?;
    let oldest = today - TimeDelta::days(730);
    let data: Vec<Value> = names
        .iter()
        .map(|m| {
            let values: Vec<Value> = days(from, to)
                .filter(|d| *d < today && *d >= oldest)
                .map(|d| {
                    let value = if m == "page_follows" {
                        // A running total, not a daily count.
                        1000 + (d - oldest).num_days() as u64 / 3 + daily_value(&ctx.id, m, d) % 5
                    } else {
                        (0..window)
                            .map(|i| daily_value(&ctx.id, m, d - TimeDelta::days(i)))
                            .sum()
                    };
                    json!({"value": value, "end_time": end_time(d)})
                })
                .collect();
            json!({
                "name": m,
                "period": period,
                "values": values,
                "title": format!("Daily {}", title(m)),
                "description": format!("Daily: {} (sandbox series)", title(m)),
                "id": format!("{}/insights/{m}/{period}", ctx.id),
            })
        })
        .collect();
    let span = (to - from).num_days().max(1);
    let shift = |days: i64| {
        let s = Utc
            .from_utc_datetime(
                &(from + TimeDelta::days(days))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            )
            .timestamp();
        let u = Utc
            .from_utc_datetime(
                &(to + TimeDelta::days(days))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            )
            .timestamp();
        format!(
            "{}/{}/{}/insights?metric={}&period={period}&since={s}&until={u}",
            ctx.inner.base_url,
            ctx.req.version,
            ctx.id,
            names.join(",")
        )
    };
    Ok(json!({"data": data, "paging": {"previous": shift(-span), "next": shift(span)}}))
}

fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    (0..(to - from).num_days()).map(move |i| from + TimeDelta::days(i))
}

/// `GET /{ig-user-id}/insights?metric=&period=&metric_type=&since=&until=&breakdown=`.
pub(crate) fn ig_user(ctx: &Ctx) -> Result<Value, MetaError> {
    let (_, ig) = ctx
        .seed()
        .ig_account(&ctx.id)
        .ok_or_else(|| ctx.unsupported())?;
    ctx.require_ig_access(&ig.id)?;
    let names = metrics(ctx)?;
    let known = |m: &str| {
        IG_TOTAL_ONLY.contains(&m) || IG_SERIES.contains(&m) || IG_DEMOGRAPHICS.contains(&m)
    };
    if names.iter().any(|m| !known(m)) {
        return Err(invalid_metric());
    }
    let period = ctx
        .req
        .param("period")
        .ok_or_else(|| MetaError::required("period"))?;
    let metric_type = ctx.req.param("metric_type").unwrap_or("time_series");
    let total_only: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|m| IG_TOTAL_ONLY.contains(m) || IG_DEMOGRAPHICS.contains(m))
        .collect();
    if metric_type != "total_value" && !total_only.is_empty() {
        return Err(MetaError::param(format!(
            "The following metrics ({}) should be specified with parameter metric_type=total_value",
            total_only.join(", ")
        )));
    }
    // Data lags up to 48 h.
    let today = Utc::now().date_naive();
    let latest = today - TimeDelta::days(2);
    let (from, to) = range(ctx, 30, today - TimeDelta::days(1), 2)?;
    let mut data = Vec::new();
    for m in &names {
        let days_with_data: Vec<NaiveDate> = days(from, to)
            .filter(|d| *d < latest)
            // follower_count and online_followers need 100 followers and cover the last 30
            // days only.
            .filter(|d| {
                (m != "follower_count" && m != "online_followers")
                    || (ig.followers_count >= 100 && today - *d <= TimeDelta::days(30))
            })
            .collect();
        let demographic = IG_DEMOGRAPHICS.contains(&m.as_str());
        if (days_with_data.is_empty() && !demographic) || (demographic && ig.followers_count < 100)
        {
            continue; // Missing data is an empty set, not zeros.
        }
        let id = format!("{}/insights/{m}/{period}", ctx.id);
        let mut entry = json!({"name": m, "period": period, "title": title(m), "description": format!("{} (sandbox series)", title(m)), "id": id});
        if metric_type == "total_value" {
            let value: u64 = days_with_data
                .iter()
                .map(|d| daily_value(&ctx.id, m, *d))
                .sum();
            let mut total = json!({"value": value});
            if let Some(b) = ctx
                .req
                .param("breakdown")
                .or(IG_DEMOGRAPHICS.contains(&m.as_str()).then_some("country"))
            {
                total["breakdowns"] =
                    json!([{"dimension_keys": [b], "results": breakdown(&ctx.id, m, b, value)}]);
            }
            entry["total_value"] = total;
        } else {
            entry["values"] = days_with_data
                .iter()
                .map(|d| {
                    let value = if m == "online_followers" {
                        // Followers online in each hour of the day (Pacific time).
                        let hours: serde_json::Map<String, Value> = (0..24)
                            .map(|h| {
                                let peak = [
                                    0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.9, 1.0,
                                    1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 0.9, 0.8, 0.6, 0.4, 0.3,
                                ][h];
                                let n = (ig.followers_count as f64 * 0.4 * peak) as u64;
                                (h.to_string(), json!(n))
                            })
                            .collect();
                        Value::Object(hours)
                    } else {
                        json!(daily_value(&ctx.id, m, *d))
                    };
                    json!({"value": value, "end_time": end_time(*d)})
                })
                .collect();
        }
        data.push(entry);
    }
    Ok(json!({"data": data}))
}

pub(crate) fn breakdown(id: &str, metric: &str, dimension: &str, total: u64) -> Vec<Value> {
    if dimension == "follow_type" {
        // Follows outnumber unfollows.
        let unfollows = total * (5 + stable_hash(&[id, metric]) % 15) / 100;
        return vec![
            json!({"dimension_values": ["FOLLOWER"], "value": total - unfollows}),
            json!({"dimension_values": ["NON_FOLLOWER"], "value": unfollows}),
        ];
    }
    let keys: &[&str] = match dimension {
        "age" => &["18-24", "25-34", "35-44", "45-54", "55-64"],
        "gender" => &["F", "M", "U"],
        "city" => &["Lisbon, Lisboa", "Berlin, Berlin", "Austin, Texas"],
        "follow_type" => &["FOLLOWER", "NON_FOLLOWER"],
        "media_product_type" => &["POST", "REEL", "STORY"],
        "story_navigation_action_type" => &["tap_forward", "tap_back", "tap_exit", "swipe_forward"],
        "reactions" => &["like", "love", "wow", "haha", "sorry", "anger"],
        _ => &["US", "PT", "DE", "BR"],
    };
    let weights: Vec<u64> = keys
        .iter()
        .map(|k| 1 + stable_hash(&[id, metric, k]) % 9)
        .collect();
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    keys.iter()
        .zip(weights)
        .map(|(k, w)| json!({"dimension_values": [k], "value": total.max(1) * w / sum}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_is_deterministic_and_varies() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
        let a = daily_value("101000000000001", "page_media_view", d);
        assert_eq!(a, daily_value("101000000000001", "page_media_view", d));
        assert!((200..5000).contains(&a), "{a}");
        let week: Vec<u64> = (0..7)
            .map(|i| daily_value("1", "page_media_view", d + TimeDelta::days(i)))
            .collect();
        assert!(week.iter().any(|v| *v != week[0]));
        assert_ne!(a, daily_value("101000000000002", "page_media_view", d));
        assert!(daily_value("1", "page_daily_unfollows_unique", d) < 20);
    }
}
