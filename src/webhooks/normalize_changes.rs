//! Normalizing `changes[]` of Page and Instagram deliveries: Facebook feed comments, Instagram
//! comments and mentions, and the dashboard's test messages.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::models::comments::CommentAction;
use crate::webhooks::normalize::{CommentEvent, Event, ignored, messaging_event, s};
use crate::webhooks::split::timestamp;

pub(crate) fn page_change(
    change: &Value,
    account_id: &str,
    instagram: bool,
    fallback: DateTime<Utc>,
) -> Vec<Event> {
    let field = change.get("field").and_then(Value::as_str).unwrap_or("");
    let v = change.get("value").cloned().unwrap_or(Value::Null);
    match (instagram, field) {
        (false, "feed") => feed_change(&v, account_id, fallback),
        (true, "comments" | "live_comments") => {
            let Some(id) = s(&v, "/id").or_else(|| s(&v, "/comment_id")) else {
                return vec![ignored(field, "comment without an id")];
            };
            let from_business = v.pointer("/from/self_ig_scoped_id").is_some()
                || s(&v, "/from/id").as_deref() == Some(account_id);
            vec![Event::Comment(CommentEvent {
                comment_id: id,
                verb: CommentAction::Add,
                post_id: s(&v, "/media/id"),
                parent_id: s(&v, "/parent_id"),
                author_id: s(&v, "/from/id"),
                author_name: s(&v, "/from/username"),
                text: s(&v, "/text"),
                at: timestamp(v.get("timestamp")).unwrap_or(fallback),
                from_business,
                extra: json!({ "media_product_type": v.pointer("/media/media_product_type"), "live": field == "live_comments" }),
            })]
        }
        (true, "mentions") => match s(&v, "/comment_id") {
            Some(comment_id) => vec![Event::Comment(CommentEvent {
                comment_id,
                verb: CommentAction::Add,
                post_id: s(&v, "/media_id"),
                parent_id: None,
                author_id: None,
                author_name: None,
                text: None,
                at: fallback,
                from_business: false,
                extra: json!({ "mention": true }),
            })],
            None => vec![ignored(
                "mention in a caption",
                "caption mentions are not comments; see the media on Instagram",
            )],
        },
        (true, "messages") => messaging_event(&v, account_id, true, false, fallback),
        (true, "story_insights") => story_insights(&v),
        (_, other) => vec![ignored(
            format!("field {other}"),
            "Parley does not use this webhook field",
        )],
    }
}

/// A story's final figures. Only whole numbers in range are kept (a hostile value is dropped,
/// not wrapped).
fn story_insights(v: &Value) -> Vec<Event> {
    let Some(media_id) = s(v, "/media_id").filter(|id| !id.trim().is_empty()) else {
        return vec![ignored(
            "story_insights",
            "the event names no story (media_id)",
        )];
    };
    let values: Vec<(String, i64)> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "media_id")
        .filter_map(|(k, n)| Some((k.clone(), n.as_i64().filter(|n| *n >= 0)?)))
        .collect();
    vec![Event::StoryInsights { media_id, values }]
}

fn feed_change(v: &Value, account_id: &str, fallback: DateTime<Utc>) -> Vec<Event> {
    let item = v.get("item").and_then(Value::as_str).unwrap_or("");
    let verb = v.get("verb").and_then(Value::as_str).unwrap_or("");
    if item != "comment" {
        return vec![ignored(
            format!("feed {item} {verb}"),
            "only comments are moderated in Parley",
        )];
    }
    let Some(comment_id) = s(v, "/comment_id") else {
        return vec![ignored("feed comment", "comment without an id")];
    };
    let verb = match verb {
        "add" => CommentAction::Add,
        "edited" => CommentAction::Edit,
        "remove" => CommentAction::Remove,
        "hide" => CommentAction::Hide,
        "unhide" => CommentAction::Unhide,
        other => {
            return vec![ignored(
                format!("feed comment {other}"),
                "unknown comment verb",
            )];
        }
    };
    let post_id = s(v, "/post_id").or_else(|| s(v, "/post/id"));
    let parent = s(v, "/parent_id").filter(|p| Some(p) != post_id.as_ref());
    let author_id = s(v, "/from/id");
    let mut extra = json!({});
    if let Some(photo) = v.get("photo") {
        extra["photo"] = photo.clone();
    }
    if let Some(video) = v.get("video") {
        extra["video"] = video.clone();
    }
    vec![Event::Comment(CommentEvent {
        from_business: author_id.as_deref() == Some(account_id),
        comment_id,
        verb,
        post_id,
        parent_id: parent,
        author_name: s(v, "/from/name"),
        author_id,
        text: s(v, "/message"),
        at: timestamp(v.get("created_time")).unwrap_or(fallback),
        extra,
    })]
}
