//! Messenger and Instagram Send API: window rules, private replies, sender actions.

use chrono::{Duration, Utc};
use meta_sandbox::{Channel, CustomerMessage};
use serde_json::json;

use super::env;

fn text(psid: &str, messaging_type: &str, tag: Option<&str>) -> serde_json::Value {
    let mut body = json!({"recipient": {"id": psid}, "messaging_type": messaging_type, "message": {"text": "Hello from Parley"}});
    if let Some(t) = tag {
        body["tag"] = json!(t);
    }
    body
}

#[tokio::test]
async fn send_api_enforces_meta_windows() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let token = env.page_token(1);
    let id = |name: &str| seed.customer(name).unwrap().id.clone();

    // Maria wrote 2 h ago: anything goes.
    let ok = env
        .post_json("me/messages", &token, text(&id("Maria"), "RESPONSE", None))
        .await;
    assert_eq!(ok.ok()["recipient_id"], id("Maria"));
    assert!(ok.body["message_id"].as_str().unwrap().starts_with("m_"));
    assert!(
        ok.headers
            .get("x-business-use-case-usage")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("messenger")
    );

    // Tom wrote 30 h ago: only HUMAN_AGENT.
    let late = env
        .post_json(
            &format!("{}/messages", seed.pages[0].id),
            &token,
            text(&id("Tom"), "RESPONSE", None),
        )
        .await;
    assert_eq!(
        late.assert_error(400, 10, Some(2018278)),
        "(#10) This message is sent outside of allowed window."
    );
    env.post_json(
        "me/messages",
        &token,
        text(&id("Tom"), "MESSAGE_TAG", Some("ACCOUNT_UPDATE")),
    )
    .await
    .assert_error(400, 10, Some(2018278));
    env.post_json(
        "me/messages",
        &token,
        text(&id("Tom"), "MESSAGE_TAG", Some("HUMAN_AGENT")),
    )
    .await
    .ok();

    // Priya wrote 9 days ago: nothing.
    env.post_json(
        "me/messages",
        &token,
        text(&id("Priya"), "MESSAGE_TAG", Some("HUMAN_AGENT")),
    )
    .await
    .assert_error(400, 10, Some(2018278));

    // Moving Maria 8 days back closes her window too; a new message reopens it.
    let maria = id("Maria");
    env.sb
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - Duration::days(8)),
            ..CustomerMessage::text(maria.clone(), "old")
        })
        .await
        .unwrap();
    env.post_json(
        "me/messages",
        &token,
        text(&maria, "MESSAGE_TAG", Some("HUMAN_AGENT")),
    )
    .await
    .assert_error(400, 10, Some(2018278));
    env.sb
        .customer_message(CustomerMessage::text(maria.clone(), "I'm back"))
        .await
        .unwrap();
    env.post_json("me/messages", &token, text(&maria, "UPDATE", None))
        .await
        .ok();

    // Instagram: Kenji wrote 30 h ago.
    let ig = env
        .post_json(
            "me/messages",
            &token,
            text(&id("kenji_w"), "RESPONSE", None),
        )
        .await;
    ig.assert_error(400, 10, Some(2534022));
    let sofia = env
        .post_json(
            "me/messages",
            &token,
            text(&id("sofia.brews"), "RESPONSE", None),
        )
        .await;
    assert!(sofia.ok()["message_id"].is_string());

    // Unknown recipient, and a customer of another Page.
    env.post_json("me/messages", &token, text("1234567", "RESPONSE", None))
        .await
        .assert_error(400, 100, Some(2018001));
    env.post_json("me/messages", &token, text(&id("Jonas"), "RESPONSE", None))
        .await
        .assert_error(400, 100, Some(2018001));

    // Sender actions go alone.
    let typing = env
        .post_json(
            "me/messages",
            &token,
            json!({"recipient": {"id": maria}, "sender_action": "typing_on"}),
        )
        .await;
    assert_eq!(typing.ok(), &json!({"recipient_id": maria}));
    env.post_json(
        "me/messages",
        &token,
        json!({"recipient": {"id": maria}, "sender_action": "typing_on", "message": {"text": "x"}}),
    )
    .await
    .assert_error(400, 100, None);

    // Form-encoded bodies work too.
    let form = env
        .post_form(
            "me/messages",
            &token,
            &[
                ("recipient", &json!({"id": maria}).to_string()),
                ("messaging_type", "RESPONSE"),
                ("message", &json!({"text": "form"}).to_string()),
            ],
        )
        .await;
    form.ok();

    let sent = env.sb.sent_messages();
    assert_eq!(sent.iter().filter(|s| !s.message_id.is_empty()).count(), 5);
    assert!(sent.iter().any(
        |s| s.channel == Channel::Instagram && s.body["message"]["text"] == "Hello from Parley"
    ));
    let attach = env.post_json(&format!("{}/message_attachments", seed.pages[0].id), &token, json!({"message": {"attachment": {"type": "image", "payload": {"url": "https://example.com/a.png", "is_reusable": true}}}})).await;
    let attachment_id = attach.ok()["attachment_id"].as_str().unwrap().to_string();
    let with = env.post_json("me/messages", &token, json!({"recipient": {"id": maria}, "messaging_type": "RESPONSE", "message": {"attachment": {"type": "image", "payload": {"attachment_id": attachment_id}}}})).await;
    with.ok();
}

#[tokio::test]
async fn a_comment_gets_one_private_reply() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let token = env.page_token(1);
    let feed = env
        .get(&format!("{}/feed", seed.pages[0].id), &token, &[])
        .await;
    let post = feed.ok()["data"][0]["id"].as_str().unwrap().to_string();
    let comments = env
        .get(
            &format!("{post}/comments"),
            &token,
            &[("fields", "id,from,can_reply_privately")],
        )
        .await;
    let comment = comments.ok()["data"][0].clone();
    assert_eq!(comment["can_reply_privately"], true);
    let comment_id = comment["id"].as_str().unwrap();
    let body = json!({"recipient": {"comment_id": comment_id}, "message": {"text": "We sent you the menu privately"}});
    let first = env.post_json("me/messages", &token, body.clone()).await;
    assert_eq!(first.ok()["recipient_id"], comment["from"]["id"]);
    let second = env.post_json("me/messages", &token, body).await;
    assert!(
        second
            .assert_error(400, 100, Some(2018108))
            .contains("Cannot message this user")
    );

    // A comment older than 7 days cannot get one.
    let old_post = feed.body["data"][2]["id"].as_str().unwrap().to_string();
    let old = env.get(&format!("{old_post}/comments"), &token, &[]).await;
    let old_comment = old.ok()["data"][0]["id"].as_str().unwrap().to_string();
    env.post_json(
        "me/messages",
        &token,
        json!({"recipient": {"comment_id": old_comment}, "message": {"text": "late"}}),
    )
    .await
    .assert_error(400, 10, Some(2018278));
}
