//! Stories' final figures: Meta keeps a story's insights for its 24 hours only, and sends them
//! one last time with the `story_insights` webhook when it expires. They are stored like any
//! post's, under the names the API uses.

use chrono::Utc;

use crate::models::channels::Channel;
use crate::models::post_insights;

/// The figures of a `story_insights` webhook under the names the API uses (`taps_forward` is
/// the navigation breakdown's `tap_forward`; the webhook's `impressions` is taken as `views`,
/// which replaced it in the API, when no `views` is sent).
pub fn story_webhook_values(fields: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for (name, value) in fields {
        let name = match name.as_str() {
            "taps_forward" => "navigation.tap_forward",
            "taps_back" => "navigation.tap_back",
            "exits" => "navigation.tap_exit",
            "swipe_forward" => "navigation.swipe_forward",
            "impressions" if fields.iter().any(|(n, _)| n == "views") => continue,
            "impressions" => "views",
            other => other,
        };
        out.push((name.to_string(), *value));
    }
    let nav: i64 = out
        .iter()
        .filter(|(n, _)| n.starts_with("navigation."))
        .map(|(_, v)| *v)
        .fold(0i64, |a, v| a.saturating_add(v));
    if out.iter().any(|(n, _)| n.starts_with("navigation.")) {
        out.push(("navigation".into(), nav));
    }
    out
}

/// Stores the final figures of a story from the `story_insights` webhook (the story's details
/// are fetched once if Parley has not seen it).
pub fn record_story_webhook(
    conn: &mut diesel::PgConnection,
    channel: &Channel,
    media_id: &str,
    fields: &[(String, i64)],
) -> diesel::QueryResult<()> {
    crate::comments::posts::note(conn, channel.tenant_id, channel.id, media_id)?;
    post_insights::record(
        conn,
        channel.tenant_id,
        channel.id,
        media_id,
        &story_webhook_values(fields),
        Utc::now().date_naive(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_webhook_names_follow_the_api() {
        let v = story_webhook_values(&[
            ("taps_forward".into(), 4),
            ("exits".into(), 3),
            ("impressions".into(), 444),
            ("reach".into(), 44),
        ]);
        assert!(v.contains(&("navigation.tap_forward".into(), 4)));
        assert!(v.contains(&("navigation".into(), 7)));
        assert!(v.contains(&("views".into(), 444)));
        assert!(v.contains(&("reach".into(), 44)));
    }
}
