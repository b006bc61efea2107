//! The normalizer on hand-written payloads, one shape at a time (the real ones are snapshot
//! in tests/api/normalizer_snapshots.rs).

use super::*;

fn at() -> DateTime<Utc> {
    Utc::now()
}

#[test]
fn messenger_text_echo_and_receipts() {
    let entry = json!({"id":"P","messaging":[
        {"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1700000000000_i64,"message":{"mid":"m1","text":"hi","quick_reply":{"payload":"Q"}}},
        {"sender":{"id":"P"},"recipient":{"id":"U"},"timestamp":1700000001000_i64,"message":{"mid":"m2","text":"yo","is_echo":true,"app_id":5}},
        {"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"delivery":{"watermark":1700000001000_i64}},
        {"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"read":{"watermark":1700000001000_i64}}
    ]});
    let ev = normalize("page", "P", &entry, at());
    let Event::Message(m) = &ev[0] else { panic!() };
    assert_eq!(
        (m.customer_id.as_str(), m.direction, m.text.as_deref()),
        ("U", Direction::Inbound, Some("hi"))
    );
    assert_eq!(m.extra["quick_reply_payload"], "Q");
    let Event::Message(e) = &ev[1] else { panic!() };
    assert_eq!(
        (e.customer_id.as_str(), e.direction),
        ("U", Direction::Outbound)
    );
    assert!(matches!(
        &ev[2],
        Event::Delivery {
            watermark: Some(_),
            ..
        }
    ));
    assert!(matches!(
        &ev[3],
        Event::Read {
            watermark: Some(_),
            ..
        }
    ));
}

#[test]
fn events_without_an_id_get_a_key_from_their_content() {
    let body = |first: &str, second: &str| {
        let a = json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1700000000000_i64,"referral":{"ref":first,"source":"SHORTLINK","type":"OPEN_THREAD"}});
        let b = json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1700000000000_i64,"optin":{"ref":second}});
        json!({"id":"P","time":1,"messaging":[a, b]})
    };
    let mids = |v: &Value| -> Vec<String> {
        normalize("page", "P", v, Utc::now())
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(m) => m.mid,
                _ => None,
            })
            .collect()
    };
    let first = mids(&body("spring", "news"));
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|m| m.starts_with("content:")));
    assert_ne!(first[0], first[1]);
    assert_eq!(
        mids(&body("spring", "news")),
        first,
        "a redelivery has the same keys"
    );
    // The same events in another order, or another delivery, keep their keys.
    let swapped = body("spring", "news");
    let reversed =
        json!({"id":"P","time":2,"messaging":[swapped["messaging"][1], swapped["messaging"][0]]});
    let mut again = mids(&reversed);
    again.reverse();
    assert_eq!(again, first);
    assert_ne!(mids(&body("autumn", "news"))[0], first[0]);
}

#[test]
fn instagram_unsend_story_reply_and_seen() {
    let entry = json!({"id":"IG","messaging":[
        {"sender":{"id":"U"},"recipient":{"id":"IG"},"timestamp":1,"message":{"mid":"m1","is_deleted":true}},
        {"sender":{"id":"U"},"recipient":{"id":"IG"},"timestamp":1,"message":{"mid":"m2","text":"nice","reply_to":{"story":{"url":"https://x","id":"s"}}}},
        {"sender":{"id":"U"},"recipient":{"id":"IG"},"timestamp":1,"read":{"mid":"m9"}}
    ]});
    let ev = normalize("instagram", "IG", &entry, at());
    assert!(matches!(&ev[0], Event::Unsend { mid, .. } if mid == "m1"));
    let Event::Message(m) = &ev[1] else { panic!() };
    assert_eq!(m.kind, "story_reply");
    assert!(matches!(&ev[2], Event::Read { mid: Some(mid), .. } if mid == "m9"));
}

#[test]
fn feed_comments_and_other_items() {
    let entry = json!({"id":"P","changes":[
        {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c1","post_id":"P_1","parent_id":"P_1","from":{"id":"U","name":"Ann"},"message":"great","created_time":1700000000}},
        {"field":"feed","value":{"item":"like","verb":"add"}}
    ]});
    let ev = normalize("page", "P", &entry, at());
    let Event::Comment(c) = &ev[0] else { panic!() };
    assert_eq!(
        c.parent_id, None,
        "a top-level comment's parent is the post"
    );
    assert!(matches!(&ev[1], Event::Ignored { .. }));
}

#[test]
fn unknown_objects_and_empty_entries_are_ignored_with_a_reason() {
    assert!(
        matches!(&normalize("user", "x", &json!({}), at())[0], Event::Ignored { reason, .. } if !reason.is_empty())
    );
    assert!(matches!(
        &normalize("page", "x", &json!({"id":"x"}), at())[0],
        Event::Ignored { .. }
    ));
}
