//! Lifetime insights of one Facebook post or Instagram media item (feed, reel, story), and the
//! life of a story: listed and measurable for 24 hours, then gone, with a `story_insights`
//! webhook carrying its final figures when it expires.

use std::sync::Arc;

use chrono::{Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::auth::MetaError;
use super::content::IgMedia;
use super::graph::Ctx;
use super::insights::{breakdown, daily_value, invalid_metric, metrics, title};
use super::webhooks::{self, Target};

const POST_METRICS: &[&str] = &[
    "post_media_view",
    "post_total_media_view_unique",
    "post_clicks",
    "post_reactions_by_type_total",
];
const MEDIA_FEED: &[&str] = &[
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "follows",
    "profile_visits",
    "profile_activity",
];
const MEDIA_REELS: &[&str] = &[
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
];
const MEDIA_STORY: &[&str] = &[
    "views",
    "reach",
    "replies",
    "navigation",
    "shares",
    "total_interactions",
    "follows",
    "profile_visits",
    "profile_activity",
];

/// How long a story lives.
const STORY_HOURS: i64 = 24;

/// A lifetime value: views and reach are large, interactions a fraction of them.
fn lifetime(id: &str, metric: &str, day: chrono::NaiveDate) -> u64 {
    let big = metric.contains("view") || metric.contains("reach") || metric == "navigation";
    daily_value(id, metric, day) / if big { 1 } else { 8 }
}

fn entry(id: &str, metric: &str, value: Value) -> Value {
    json!({"name": metric, "period": "lifetime", "values": [{"value": value}], "title": title(metric), "description": format!("{} (sandbox series)", title(metric)), "id": format!("{id}/insights/{metric}/lifetime")})
}

/// `GET /{page-post-id}/insights?metric=` (lifetime values).
pub(crate) fn fb_post(ctx: &Ctx) -> Result<Value, MetaError> {
    let (page_id, created) = {
        let state = ctx.inner.world.lock();
        let p = state
            .posts
            .iter()
            .find(|p| p.id == ctx.id)
            .ok_or_else(|| ctx.unsupported())?;
        (p.page_id.clone(), p.created)
    };
    ctx.require_page_token(&page_id)?;
    let names = metrics(ctx)?;
    if names.iter().any(|m| !POST_METRICS.contains(&m.as_str())) {
        return Err(invalid_metric());
    }
    let day = created.date_naive();
    let data: Vec<Value> = names
        .iter()
        .map(|m| {
            if m == "post_reactions_by_type_total" {
                let total = lifetime(&ctx.id, m, day);
                let by_type: serde_json::Map<String, Value> =
                    breakdown(&ctx.id, m, "reactions", total)
                        .into_iter()
                        .filter_map(|r| {
                            let key = r["dimension_values"][0].as_str()?.to_string();
                            Some((key, r["value"].clone()))
                        })
                        .collect();
                entry(&ctx.id, m, Value::Object(by_type))
            } else {
                entry(&ctx.id, m, json!(lifetime(&ctx.id, m, day)))
            }
        })
        .collect();
    Ok(json!({"data": data}))
}

/// `GET /{ig-media-id}/insights?metric=&breakdown=` (lifetime values).
pub(crate) fn media(ctx: &Ctx) -> Result<Value, MetaError> {
    let (ig_id, product, created, low) = {
        let state = ctx.inner.world.lock();
        let m = state
            .ig_media
            .iter()
            .find(|m| m.id == ctx.id)
            .ok_or_else(|| ctx.unsupported())?;
        (m.ig_id.clone(), m.product_type, m.created, m.low_viewers)
    };
    ctx.require_ig_access(&ig_id)?;
    if product == "STORY" && Utc::now() - created > TimeDelta::hours(STORY_HOURS) {
        // An expired story is gone from the API.
        return Err(ctx.unsupported());
    }
    let names = metrics(ctx)?;
    let allowed = match product {
        "STORY" => MEDIA_STORY,
        "REELS" => MEDIA_REELS,
        _ => MEDIA_FEED,
    };
    if names.iter().any(|m| !allowed.contains(&m.as_str())) {
        return Err(invalid_metric());
    }
    if low {
        return Err(MetaError::new(
            10,
            "(#10) Not enough viewers for the media to show insights",
        )
        .user(
            "Media Insights Unavailable",
            "This story has fewer than 5 viewers.",
        ));
    }
    let day = created.date_naive();
    let wanted = ctx.req.param("breakdown");
    let data: Vec<Value> = names
        .iter()
        .map(|m| {
            let value = lifetime(&ctx.id, m, day);
            match wanted {
                Some(b @ "story_navigation_action_type") if m == "navigation" => {
                    json!({"name": m, "period": "lifetime", "title": title(m), "id": format!("{}/insights/{m}/lifetime", ctx.id),
                           "total_value": {"value": value, "breakdowns": [{"dimension_keys": [b], "results": breakdown(&ctx.id, m, b, value)}]}})
                }
                _ => entry(&ctx.id, m, json!(value)),
            }
        })
        .collect();
    Ok(json!({"data": data}))
}

/// Whether a story is still live (listed by `/stories`).
pub(crate) fn is_live(m: &IgMedia) -> bool {
    m.product_type != "STORY" || Utc::now() - m.created <= TimeDelta::hours(STORY_HOURS)
}

/// Posts a story on the account now; returns its id.
pub(crate) fn post_story(inner: &Inner, ig_id: &str, caption: &str, few_viewers: bool) -> String {
    let mut state = inner.world.lock();
    let id = state.next_id("179", 14);
    let media_url = format!("{}/_media/static/ig/{id}.png", inner.base_url);
    state.ig_media.push(IgMedia {
        id: id.clone(),
        ig_id: ig_id.into(),
        caption: caption.into(),
        media_type: "IMAGE",
        product_type: "STORY",
        created: Utc::now(),
        likes: 0,
        media_url,
        low_viewers: few_viewers,
    });
    id
}

/// Ends a story's life now and sends the `story_insights` webhook with its final figures
/// (none for a story with too few viewers). Returns whether the story existed.
pub(crate) async fn expire_story(inner: &Arc<Inner>, media_id: &str) -> bool {
    let found = {
        let mut state = inner.world.lock();
        state
            .ig_media
            .iter_mut()
            .find(|m| m.id == media_id && m.product_type == "STORY")
            .map(|m| {
                m.created = Utc::now() - TimeDelta::hours(STORY_HOURS) - TimeDelta::seconds(1);
                (m.ig_id.clone(), m.low_viewers, m.created.date_naive())
            })
    };
    let Some((ig_id, low, day)) = found else {
        return false;
    };
    if !low {
        let v = |m| lifetime(media_id, m, day);
        let value = json!({"media_id": media_id, "exits": v("navigation") / 10, "replies": v("replies"),
            "reach": v("reach"), "taps_forward": v("navigation") / 2, "taps_back": v("navigation") / 6,
            "impressions": v("views")});
        let body = webhooks::changes_envelope("instagram", &ig_id, "story_insights", value);
        let target = Target::Instagram {
            ig_id,
            field: "story_insights",
        };
        webhooks::deliver(inner, target, body).await;
    }
    true
}
