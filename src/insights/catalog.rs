//! The metrics Parley asks Meta for: current names only. Meta removed a long list of names in
//! v21, v22 and November 2025 (contract §6); those are listed here so a test proves none of
//! them is ever requested.

/// Daily Facebook Page metrics (`period=day`, time series).
pub const PAGE_DAILY: &[&str] = &[
    "page_follows",
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
    "page_views_total",
    "page_video_views",
];

/// Daily Instagram account metrics that Meta serves as time series (`period=day`).
pub const INSTAGRAM_DAILY: &[&str] = &["reach", "follower_count"];

/// Instagram account metrics Meta serves only as totals (`metric_type=total_value`): read one
/// day at a time to keep a daily series. `follows_and_unfollows` comes broken down by
/// `follow_type` and is kept as `follows` and `unfollows`.
pub const INSTAGRAM_DAILY_TOTALS: &[&str] = &[
    "views",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "shares",
    "saves",
    "replies",
    "profile_links_taps",
];

/// Instagram audience breakdowns (need 100 followers): metric and the dimensions read.
pub const INSTAGRAM_DEMOGRAPHICS: &[&str] =
    &["follower_demographics", "engaged_audience_demographics"];
/// The dimensions of the demographics.
pub const DEMOGRAPHIC_DIMENSIONS: &[&str] = &["age", "gender", "country", "city"];

/// Lifetime metrics of a Facebook Page post (`period=lifetime`).
pub const PAGE_POST: &[&str] = &[
    "post_media_view",
    "post_total_media_view_unique",
    "post_clicks",
    "post_reactions_by_type_total",
];

/// Lifetime metrics of an Instagram feed post or carousel (its children have none).
pub const INSTAGRAM_FEED: &[&str] = &[
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
];

/// Lifetime metrics of an Instagram reel.
pub const INSTAGRAM_REEL: &[&str] = &[
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

/// Metrics of an Instagram story (readable for its 24 hours); `navigation` comes broken down
/// by `story_navigation_action_type`.
pub const INSTAGRAM_STORY: &[&str] = &["views", "reach", "replies", "navigation"];

/// Names Meta no longer serves (contract §6.1–6.3). Never requested.
pub const DEPRECATED: &[&str] = &[
    // Facebook Page, November 2025 and earlier.
    "page_impressions",
    "page_impressions_unique",
    "page_impressions_paid",
    "page_impressions_viral",
    "page_impressions_nonviral",
    "page_fans",
    "page_fans_locale",
    "page_fans_city",
    "page_fans_country",
    "page_fan_adds",
    "page_fan_adds_unique",
    "page_fan_removes",
    "page_fan_removes_unique",
    "page_engaged_users",
    "page_consumptions",
    "page_fans_gender_age",
    "post_impressions",
    "post_impressions_paid",
    "post_impressions_organic",
    "post_impressions_fan",
    "post_impressions_viral",
    "post_impressions_nonviral",
    // Instagram account (v21, v22) and media (v22).
    "impressions",
    "email_contacts",
    "get_direction_links",
    "phone_call_clicks",
    "profile_views",
    "text_message_clicks",
    "website_clicks",
    "plays",
    "clips_replays_count",
    "ig_reels_aggregated_all_plays_count",
    "video_views",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_requested_metric_is_one_meta_removed() {
        let all = [
            PAGE_DAILY,
            INSTAGRAM_DAILY,
            INSTAGRAM_DAILY_TOTALS,
            INSTAGRAM_DEMOGRAPHICS,
            &["follows_and_unfollows", "online_followers"],
            PAGE_POST,
            INSTAGRAM_FEED,
            INSTAGRAM_REEL,
            INSTAGRAM_STORY,
        ];
        for metric in all.iter().flat_map(|m| m.iter()) {
            assert!(!DEPRECATED.contains(metric), "{metric} is deprecated");
        }
    }
}
