//! The accounts overview: a card per metric (value, previous period, change, chart) from the
//! daily series kept, and the Instagram audience (demographics, followers online by hour),
//! which Meta gives only to accounts with 100 followers or more.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::{PgConnection, QueryResult};

use crate::db::ids::{ChannelId, TenantId};
use crate::insights::account::{FOLLOWER_MINIMUM, FOLLOWERS_TOTAL};
use crate::insights::period::Period;
use crate::insights::{catalog, chart};
use crate::models::channels::{Channel, Platform};
use crate::models::insights;

/// Metrics whose value is a level (a running total), not a daily count: the card shows the
/// latest value instead of a sum. (Instagram's `follower_count` is new followers per day.)
const LEVELS: [&str; 2] = ["page_follows", FOLLOWERS_TOTAL];

/// Every metric the overview shows a card for, in order.
pub fn card_metrics() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    all.extend(catalog::PAGE_DAILY);
    all.push(FOLLOWERS_TOTAL);
    all.extend(catalog::INSTAGRAM_DAILY);
    all.extend(["follows", "unfollows"]);
    all.extend(catalog::INSTAGRAM_DAILY_TOTALS);
    all
}

/// How the page names a metric.
pub fn label(metric: &str) -> &'static str {
    match metric {
        "page_follows" => "Followers (Page)",
        "page_media_view" => "Media views (Page)",
        "page_total_media_view_unique" => "Unique media viewers (Page)",
        "page_post_engagements" => "Post engagements (Page)",
        "page_views_total" => "Page views",
        "page_video_views" => "Video views (Page)",
        FOLLOWERS_TOTAL => "Followers (Instagram)",
        "reach" => "Accounts reached (Instagram)",
        "follower_count" => "New followers (Instagram)",
        "follows" => "Follows (Instagram)",
        "unfollows" => "Unfollows (Instagram)",
        "views" => "Views (Instagram)",
        "accounts_engaged" => "Accounts engaged (Instagram)",
        "total_interactions" => "Interactions (Instagram)",
        "likes" => "Likes (Instagram)",
        "comments" => "Comments (Instagram)",
        "shares" => "Shares (Instagram)",
        "saves" => "Saves (Instagram)",
        "replies" => "Replies (Instagram)",
        "profile_links_taps" => "Profile link taps (Instagram)",
        _ => "Other metric",
    }
}

/// One metric's card.
pub struct Card {
    pub metric: &'static str,
    pub label: &'static str,
    pub value: Option<i64>,
    pub previous: Option<i64>,
    /// Days with a value in the previous period, and the period's length: a comparison with
    /// a period Parley holds only part of is not shown as a change.
    pub previous_days: i64,
    pub period_days: i64,
    pub chart: String,
    pub points: Vec<(NaiveDate, i64)>,
}

impl Card {
    /// Whether Parley holds (nearly) every day of the previous period.
    pub fn previous_complete(&self) -> bool {
        self.previous_days * 10 >= self.period_days * 9
    }

    /// The change against the previous period, as a signed percentage (none when that period
    /// is only partly known).
    pub fn change(&self) -> Option<String> {
        if !self.previous_complete() {
            return None;
        }
        let (now, before) = (self.value?, self.previous?);
        if before == 0 {
            return None;
        }
        let pct = (now - before) as f64 / before as f64 * 100.0;
        Some(format!("{}{pct:.0}%", if pct >= 0.0 { "+" } else { "" }))
    }

    pub fn up(&self) -> bool {
        matches!((self.value, self.previous), (Some(a), Some(b)) if a >= b)
    }
}

fn value_of(metric: &str, points: &[(NaiveDate, i64)]) -> Option<i64> {
    if points.is_empty() {
        return None; // no data is not zero
    }
    if LEVELS.contains(&metric) {
        return points.last().map(|p| p.1);
    }
    points.iter().try_fold(0i64, |a, p| a.checked_add(p.1))
}

/// The cards of the period (and the one before it), in one query.
pub fn cards(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    period: &Period,
) -> QueryResult<Vec<Card>> {
    let metrics = card_metrics();
    let before = period.previous();
    let rows = insights::daily_totals(conn, tenant, channel, &metrics, before.from, period.to)?;
    let mut by_metric: BTreeMap<String, Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for (metric, day, value) in rows {
        by_metric.entry(metric).or_default().push((day, value));
    }
    let mut cards = Vec::new();
    for metric in metrics {
        let Some(all) = by_metric.remove(metric) else {
            continue;
        };
        let (prior, points): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|(d, _)| *d < period.from);
        cards.push(Card {
            metric,
            label: label(metric),
            value: value_of(metric, &points),
            previous: value_of(metric, &prior),
            previous_days: prior.len() as i64,
            period_days: period.days(),
            chart: chart::line(label(metric), &points),
            points,
        });
    }
    Ok(cards)
}

/// One audience breakdown, drawn and listed.
pub struct AudienceChart {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, i64)>,
}

/// The Instagram audience of the tenant's accounts (or one).
pub struct Audience {
    pub charts: Vec<AudienceChart>,
    /// Instagram accounts under 100 followers: (name, followers).
    pub too_small: Vec<(String, i64)>,
}

fn audience_title(metric: &str, dimension: &str) -> String {
    let who = match metric {
        "follower_demographics" => "Followers",
        "engaged_audience_demographics" => "Engaged audience",
        _ => "Followers online",
    };
    match dimension {
        "hour" => "Followers online by hour (Meta's day, Pacific time)".into(),
        d => format!("{who} by {d}"),
    }
}

/// The audience section: the top 10 of each breakdown, and which accounts are too small.
pub fn audience(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    channels: &[Channel],
) -> QueryResult<Audience> {
    let mut charts = Vec::new();
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    for metric in catalog::INSTAGRAM_DEMOGRAPHICS {
        for dimension in catalog::DEMOGRAPHIC_DIMENSIONS {
            wanted.push((metric, dimension));
        }
    }
    wanted.push(("online_followers", "hour"));
    for (metric, dimension) in wanted {
        let mut rows = insights::breakdown(conn, tenant, channel, metric, dimension)?;
        if rows.is_empty() {
            continue;
        }
        if dimension == "hour" {
            rows.sort_by_key(|(h, _)| h.parse::<u32>().unwrap_or(99));
        } else {
            rows.truncate(10);
        }
        let title = audience_title(metric, dimension);
        let labelled: Vec<(String, i64)> = rows
            .iter()
            .map(|(k, v)| {
                let k = if dimension == "hour" {
                    format!("{k:0>2}:00")
                } else {
                    k.clone()
                };
                (k, *v)
            })
            .collect();
        charts.push(AudienceChart {
            id: format!("{metric}-{dimension}"),
            svg: chart::bars(&title, &labelled),
            title,
            rows: labelled,
        });
    }
    let followers = insights::latest_by_channel(conn, tenant, FOLLOWERS_TOTAL)?;
    let too_small = channels
        .iter()
        .filter(|c| c.platform == Platform::Instagram)
        .filter(|c| channel.is_none_or(|id| id == c.id))
        .filter_map(|c| {
            let n = followers.iter().find(|(id, _)| *id == c.id)?.1;
            (n < FOLLOWER_MINIMUM).then(|| (c.display_name(), n))
        })
        .collect();
    Ok(Audience { charts, too_small })
}
