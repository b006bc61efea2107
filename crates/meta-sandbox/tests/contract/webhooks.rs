//! Webhooks: signatures over the exact bytes, envelopes, receipts, retries, subscriptions.

use std::sync::atomic::Ordering;

use meta_sandbox::{CustomerEvent, CustomerMessage, IssueToken, Simulator};
use serde_json::json;

use super::{env_with, kind_of, receiver, signature_ok};

#[tokio::test]
async fn customer_messages_arrive_signed_in_meta_envelopes() {
    let hook = receiver().await;
    let url = hook.url.clone();
    let env = env_with(|c| c.webhook_url = Some(url)).await;
    let seed = env.sb.world().seed().clone();
    let page = seed.pages[0].clone();
    let maria = seed.customer("Maria").unwrap().clone();

    // Not subscribed yet: recorded, not delivered.
    let skipped = env
        .sb
        .customer_message(CustomerMessage::text(&maria.id, "hello?"))
        .await
        .unwrap();
    let w = skipped.webhook.unwrap();
    assert_eq!(w.attempt, 0);
    assert!(w.error.unwrap().contains("not subscribed"));

    let token = env.page_token(1);
    let fields = "messages,message_echoes,message_deliveries,message_reads,message_reactions,messaging_postbacks,feed";
    env.post_form(
        &format!("{}/subscribed_apps", page.id),
        &token,
        &[("subscribed_fields", fields)],
    )
    .await
    .ok();

    let record = env
        .sb
        .customer_message(CustomerMessage::text(
            &maria.id,
            "Caf\u{e9} au lait? \u{2615}",
        ))
        .await
        .unwrap();
    assert_eq!(record.webhook.as_ref().unwrap().status, Some(200));
    let (sig, raw) = hook.hits.lock().unwrap()[0].clone();
    assert!(signature_ok(&sig, &raw), "signature over the exact bytes");
    let raw_text = std::str::from_utf8(&raw).unwrap();
    assert!(
        raw_text.is_ascii() && raw_text.contains("Caf\\u00e9"),
        "{raw_text}"
    );
    let body: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(body["object"], "page");
    let event = &body["entry"][0]["messaging"][0];
    assert_eq!(body["entry"][0]["id"], page.id);
    assert_eq!(event["sender"]["id"], maria.id);
    assert_eq!(event["recipient"]["id"], page.id);
    assert_eq!(event["message"]["text"], "Caf\u{e9} au lait? \u{2615}");
    assert_eq!(event["message"]["mid"], record.id);

    // Parley answers: echo, then delivery, then read.
    env.post_json("me/messages", &token, json!({"recipient": {"id": maria.id}, "messaging_type": "RESPONSE", "message": {"text": "Yes!"}})).await.ok();
    hook.wait_for(1, |b| kind_of(b) == "read").await;
    let kinds: Vec<String> = hook.bodies().iter().map(kind_of).collect();
    let pos = |k: &str| kinds.iter().position(|x| x == k).unwrap();
    assert!(pos("delivery") < pos("read"), "{kinds:?}");
    assert!(
        hook.bodies()
            .iter()
            .any(|b| b["entry"][0]["messaging"][0]["message"]["is_echo"] == true)
    );

    // Other events.
    env.sb
        .customer_event(CustomerEvent::Postback {
            customer: maria.id.clone(),
            title: "Menu".into(),
            payload: "MENU".into(),
        })
        .await
        .unwrap();
    env.sb
        .customer_event(CustomerEvent::Reaction {
            customer: maria.id.clone(),
            message_id: None,
            emoji: Some("\u{2764}".into()),
        })
        .await
        .unwrap();
    let comment = env
        .sb
        .customer_event(CustomerEvent::Comment {
            customer: maria.id.clone(),
            text: "Nice post".into(),
        })
        .await
        .unwrap();
    assert_eq!(comment.webhook.unwrap().status, Some(200));
    let feed = hook.wait_for(1, |b| kind_of(b) == "feed").await;
    assert_eq!(
        feed[0]["entry"][0]["changes"][0]["value"]["item"],
        "comment"
    );
    assert_eq!(
        feed[0]["entry"][0]["changes"][0]["value"]["comment_id"],
        comment.id
    );
    for (sig, body) in hook.hits.lock().unwrap().iter() {
        assert!(signature_ok(sig, body));
    }
}

#[tokio::test]
async fn whatsapp_inbound_and_statuses_and_retries() {
    let hook = receiver().await;
    let url = hook.url.clone();
    let env = env_with(|c| c.webhook_url = Some(url)).await;
    let seed = env.sb.world().seed().clone();
    let token = env.token(IssueToken::SystemUser);
    env.post_json(
        &format!("{}/subscribed_apps", seed.waba.id),
        &token,
        json!({}),
    )
    .await
    .ok();
    let aisha = seed.customer("Aisha").unwrap().id.clone();

    hook.fail_first.store(2, Ordering::SeqCst);
    let record = env
        .sb
        .customer_message(CustomerMessage::text(&aisha, "Hola! Are you open?"))
        .await
        .unwrap();
    assert_eq!(record.webhook.unwrap().status, Some(500));
    let inbound = hook
        .wait_for(3, |b| {
            b["entry"][0]["changes"][0]["value"]["messages"].is_array()
        })
        .await;
    let value = &inbound[2]["entry"][0]["changes"][0]["value"];
    assert_eq!(inbound[2]["object"], "whatsapp_business_account");
    assert_eq!(value["metadata"]["phone_number_id"], seed.phone_number.id);
    assert_eq!(value["contacts"][0]["wa_id"], aisha);
    assert_eq!(value["messages"][0]["text"]["body"], "Hola! Are you open?");
    assert!(value["messages"][0]["timestamp"].is_string());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let attempts: Vec<u32> = env
        .sb
        .webhooks_delivered()
        .iter()
        .filter(|w| w.body.contains("Hola"))
        .map(|w| w.attempt)
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);

    // Her window is open again: a free-form reply goes out and its statuses follow.
    let sent = env.post_json(&format!("{}/messages", seed.phone_number.id), &token, json!({"messaging_product": "whatsapp", "to": aisha, "type": "text", "text": {"body": "Yes, until 6pm"}})).await;
    let wamid = sent.ok()["messages"][0]["id"].as_str().unwrap().to_string();
    let statuses = hook
        .wait_for(3, |b| {
            b["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] == wamid.as_str()
        })
        .await;
    let names: Vec<String> = statuses
        .iter()
        .map(|b| {
            b["entry"][0]["changes"][0]["value"]["statuses"][0]["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, vec!["sent", "delivered", "read"]);
    let sent_status = &statuses[0]["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(sent_status["pricing"]["pricing_model"], "PMP");
    assert_eq!(sent_status["pricing"]["category"], "service");
    assert!(sent_status.get("conversation").is_none());

    let location = env
        .sb
        .customer_event(CustomerEvent::Location {
            customer: aisha.clone(),
            latitude: 38.7,
            longitude: -9.1,
            name: Some("Shop".into()),
        })
        .await
        .unwrap();
    assert_eq!(location.webhook.unwrap().status, Some(200));
}

#[tokio::test]
async fn the_simulator_is_deterministic_and_delivers() {
    let hook = receiver().await;
    let url = hook.url.clone();
    let env = env_with(|c| c.webhook_url = Some(url)).await;
    let token = env.page_token(1);
    let page = env.sb.world().seed().pages[0].id.clone();
    env.post_form(
        &format!("{page}/subscribed_apps"),
        &token,
        &[(
            "subscribed_fields",
            "messages,feed,messaging_postbacks,messaging_referrals,message_echoes",
        )],
    )
    .await
    .ok();
    let sim = Simulator::start(&env.sb, 1200.0, 7);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    sim.stop();
    let inbound = env.sb.world().inbound();
    assert!(inbound.len() >= 10, "{}", inbound.len());
    for (sig, body) in hook.hits.lock().unwrap().iter() {
        assert!(signature_ok(sig, body));
    }
}
