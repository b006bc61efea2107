//! Post, reel and story figures: a channel's recent posts are listed from Meta and each one's
//! lifetime metrics read and stored in its own transaction, so a failure resumes where it stopped
//! and one bad post never stops the others. Stories are read while they live (24 h), by an
//! hourly poll, and their final figures arrive with the `story_insights` webhook.

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::comments::posts::{of_media, of_post};
use crate::db::ids::{ChannelId, TenantId};
use crate::insights::catalog;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::AccessToken;
use crate::meta::error::{GraphError, GraphErrorKind};
use crate::meta::insights::InsightMetric;
use crate::models::channels::{Channel, Platform};
use crate::models::comment_posts::{self, PostDetails};
use crate::models::post_insights;
use crate::state::AppState;

/// Posts published this many days ago or less are kept current.
pub const POSTS_DAYS: i64 = 28;
/// The most posts one refresh reads.
const MAX_POSTS: i64 = 100;
/// Pages of the feed or media list read to find them.
const MAX_LIST_PAGES: usize = 4;

/// What a post with no figures shows when Meta answers code 10.
pub const TOO_FEW_VIEWERS: &str = "too few viewers";

/// The metrics (and breakdown) to ask for a post of this channel and type.
pub fn metrics_for(
    platform: Platform,
    media_type: Option<&str>,
) -> (&'static [&'static str], Option<&'static str>) {
    match (platform, media_type) {
        (Platform::Instagram, Some("story")) => (
            catalog::INSTAGRAM_STORY,
            Some("story_navigation_action_type"),
        ),
        (Platform::Instagram, Some("reels")) => (catalog::INSTAGRAM_REEL, None),
        (Platform::Instagram, _) => (catalog::INSTAGRAM_FEED, None),
        _ => (catalog::PAGE_POST, None),
    }
}

/// The values of an answer as (metric, value): numbers as they are, a value broken down by
/// type (`post_reactions_by_type_total`) or a `total_value` with breakdowns as `metric.key`
/// entries plus the metric's total. Values that are not whole numbers in range are left out.
pub fn values(answer: &[InsightMetric]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for m in answer {
        if let Some(total) = &m.total_value {
            if let Some(v) = total.value.as_i64() {
                out.push((m.name.clone(), v));
            }
            for b in &total.breakdowns {
                for r in &b.results {
                    if let (Some(key), Some(v)) = (r.dimension_values.first(), r.value.as_i64()) {
                        // Story navigation keys match the webhook's lower-case names; other
                        // keys (countries, cities) are kept as Meta spells them.
                        let key = match m.name.as_str() {
                            "navigation" | "follows_and_unfollows" => key.to_lowercase(),
                            _ => key.clone(),
                        };
                        out.push((format!("{}.{key}", m.name), v));
                    }
                }
            }
            continue;
        }
        match m.values.first().map(|v| &v.value) {
            Some(Value::Object(by_type)) => {
                let parts: Vec<(String, i64)> = by_type
                    .iter()
                    .filter_map(|(k, v)| Some((format!("{}.{k}", m.name), v.as_i64()?)))
                    .collect();
                let sum = parts
                    .iter()
                    .try_fold(0i64, |acc, (_, v)| acc.checked_add(*v));
                out.extend(parts);
                if let Some(sum) = sum {
                    out.push((m.name.clone(), sum));
                }
            }
            Some(v) => {
                if let Some(n) = v.as_i64() {
                    out.push((m.name.clone(), n));
                }
            }
            None => {}
        }
    }
    out
}

async fn ask(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    post: &str,
    metrics: &[&str],
    breakdown: Option<&str>,
) -> Result<Vec<InsightMetric>, GraphError> {
    let account = channel.platform_id.as_str();
    if channel.platform == Platform::Instagram {
        state
            .graph
            .media_insights(post, token, account, metrics, breakdown)
            .await
    } else {
        state
            .graph
            .post_insights(post, token, account, metrics)
            .await
    }
}

/// How reading one post ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Stored(usize),
    /// No figures, with the reason the page shows.
    Noted(String),
    /// Gone from Meta (an expired story, a deleted post): what was kept stays.
    Gone,
}

/// Reads one post's figures and stores them (or why there are none).
pub async fn refresh_post(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    post: &str,
    media_type: Option<&str>,
) -> Result<PostOutcome, JobError> {
    let (metrics, breakdown) = metrics_for(channel.platform, media_type);
    // Metrics Meta refuses are asked for alone and recorded; the overview names them.
    let answer = crate::insights::ask::dropping_refused(metrics, |metrics| async move {
        let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
        ask(state, channel, token, post, &metrics, breakdown).await
    })
    .await;
    let (tenant, channel_id, post_id) = (channel.tenant_id, channel.id, post.to_string());
    let note = match answer {
        Ok((answer, refused)) => {
            let values = values(&answer);
            let n = values.len();
            let today = Utc::now().date_naive();
            crate::db::run(&state.pool, move |conn| {
                use diesel::Connection;
                Ok(conn.transaction(|conn| {
                    for (metric, reason) in &refused {
                        crate::models::insights::refused(conn, tenant, channel_id, metric, reason)?;
                    }
                    post_insights::record(conn, tenant, channel_id, &post_id, &values, today)
                })?)
            })
            .await?;
            return Ok(PostOutcome::Stored(n));
        }
        Err(e) if e.is_retryable() => return Err(JobError::retry("reading a post's insights", e)),
        Err(e) if e.kind == GraphErrorKind::NotFound => return Ok(PostOutcome::Gone),
        Err(e) if e.too_few_viewers() => TOO_FEW_VIEWERS.to_string(),
        Err(e) => e.describe(),
    };
    let shown = note.clone();
    crate::db::run(&state.pool, move |conn| {
        Ok(post_insights::set_note(
            conn,
            tenant,
            channel_id,
            &post_id,
            Some(&note),
        )?)
    })
    .await?;
    Ok(PostOutcome::Noted(shown))
}

/// Lists the channel's recent posts (or live stories) from Meta.
async fn list_recent(
    state: &AppState,
    channel: &Channel,
    token: &AccessToken,
    stories_only: bool,
) -> Result<Vec<PostDetails>, GraphError> {
    let since = Utc::now() - Duration::days(POSTS_DAYS);
    let account = channel.platform_id.as_str();
    let mut found: Vec<PostDetails> = Vec::new();
    if channel.platform == Platform::Instagram {
        let stories = state.graph.instagram_stories(account, token).await?;
        found.extend(stories.data.into_iter().map(of_media));
    }
    let mut after = None;
    for _ in 0..MAX_LIST_PAGES {
        if stories_only {
            break;
        }
        let (items, next): (Vec<PostDetails>, _) = if channel.platform == Platform::Instagram {
            let page = state.graph.instagram_media(account, token, after).await?;
            let next = page.next_cursor();
            (page.data.into_iter().map(of_media).collect(), next)
        } else {
            let page = state.graph.page_feed(account, token, after).await?;
            let next = page.next_cursor();
            (page.data.into_iter().map(of_post).collect(), next)
        };
        let older = items.iter().any(|p| p.posted_at.is_some_and(|t| t < since));
        found.extend(items);
        match next {
            Some(n) if !older => after = Some(n),
            _ => break,
        }
    }
    Ok(found)
}

/// Job `refresh_post_insights`: the figures of the channel's posts of the last 28 days (or of
/// its live stories only, the hourly poll).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RefreshPostInsights {
    pub channel_id: ChannelId,
    #[serde(default)]
    pub stories_only: bool,
}

/// Queues the refresh of a channel's posts (or stories) now, one at a time per channel and kind.
pub fn queue(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    stories_only: bool,
) -> diesel::QueryResult<()> {
    queue_at(conn, tenant, channel, stories_only, Utc::now())
}

/// Queues the refresh to run at `at` (the daily refresh spreads its channels).
pub fn queue_at(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    stories_only: bool,
    at: chrono::DateTime<Utc>,
) -> diesel::QueryResult<()> {
    crate::jobs::queue::enqueue(
        conn,
        &RefreshPostInsights {
            channel_id: channel,
            stories_only,
        }
        .to_new_job()
        .for_tenant(tenant)
        .at(at)
        .dedupe(format!("post-insights:{channel}:{stories_only}")),
    )
    .map(|_| ())
}

impl Job for RefreshPostInsights {
    const KIND: &'static str = "refresh_post_insights";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant: TenantId = ctx.tenant(Self::KIND)?;
        let Some((channel, token)) =
            crate::channels::connected_for_job(state, tenant, self.channel_id).await?
        else {
            return Ok(());
        };
        if channel.platform == Platform::Whatsapp
            || (self.stories_only && channel.platform != Platform::Instagram)
        {
            return Ok(());
        }
        crate::insights::budget::check(state, &channel)?;
        match list_recent(state, &channel, &token, self.stories_only).await {
            Ok(found) => {
                let (tenant, id) = (channel.tenant_id, channel.id);
                crate::db::run(&state.pool, move |conn| {
                    for post in &found {
                        comment_posts::save(conn, tenant, id, post)?;
                    }
                    Ok(())
                })
                .await?;
            }
            Err(e) if e.is_retryable() => return Err(JobError::retry("listing posts", e)),
            // The posts already known are still read.
            Err(e) => {
                tracing::warn!(channel = %channel.id, error = %e.describe(), "listing posts failed")
            }
        }
        let since = Utc::now() - Duration::days(if self.stories_only { 1 } else { POSTS_DAYS });
        let id = channel.id;
        let posts = crate::db::run(&state.pool, move |conn| {
            Ok(post_insights::recent(conn, tenant, id, since, MAX_POSTS)?)
        })
        .await?;
        let mut stored = 0;
        for (post, media_type) in posts {
            crate::insights::budget::check(state, &channel)?;
            if self.stories_only && media_type.as_deref() != Some("story") {
                continue;
            }
            if let PostOutcome::Stored(_) =
                refresh_post(state, &channel, &token, &post, media_type.as_deref()).await?
            {
                stored += 1;
            }
        }
        tracing::info!(channel = %channel.id, posts = stored, "post insights refreshed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(json: serde_json::Value) -> InsightMetric {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn numbers_reactions_by_type_and_breakdowns_become_values() {
        let answer = [
            metric(serde_json::json!({"name": "views", "values": [{"value": 120}]})),
            metric(
                serde_json::json!({"name": "post_reactions_by_type_total", "values": [{"value": {"like": 5, "love": 2}}]}),
            ),
            metric(
                serde_json::json!({"name": "navigation", "total_value": {"value": 9, "breakdowns": [{"dimension_keys": ["story_navigation_action_type"], "results": [{"dimension_values": ["TAP_FORWARD"], "value": 7}]}]}}),
            ),
            metric(serde_json::json!({"name": "reach", "values": [{"value": 1e30}]})),
        ];
        let v = values(&answer);
        assert!(v.contains(&("views".into(), 120)));
        assert!(v.contains(&("post_reactions_by_type_total.like".into(), 5)));
        assert!(v.contains(&("post_reactions_by_type_total".into(), 7)));
        assert!(v.contains(&("navigation".into(), 9)));
        assert!(v.contains(&("navigation.tap_forward".into(), 7)));
        assert!(
            !v.iter().any(|(n, _)| n == "reach"),
            "a huge number is left out"
        );
    }
}
