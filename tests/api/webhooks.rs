//! Webhook ingestion end to end: real HTTP, real signatures, real processing.

use diesel::prelude::*;
use parley::models::channels::Platform;
use serde_json::json;

use crate::support::{TEST_VERIFY_TOKEN, TestApp, count, messenger, rows, tenant, text};
#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_verify_token() {
    let app = TestApp::spawn().await;
    let ok = reqwest::get(app.url(&format!("/webhooks/meta?hub.mode=subscribe&hub.verify_token={TEST_VERIFY_TOKEN}&hub.challenge=1158201444"))).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = reqwest::get(
        app.url("/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 403);
}

#[tokio::test]
async fn bad_or_missing_signatures_are_401_and_store_nothing() {
    let app = TestApp::spawn().await;
    let body = messenger("1", json!([]));
    let client = reqwest::Client::new();
    let missing = client
        .post(app.url("/webhooks/meta"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let forged = client
        .post(app.url("/webhooks/meta"))
        .header(
            "x-hub-signature-256",
            parley::webhooks::verify::sign("wrong-secret", &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM webhook_events").await,
        0
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn().await;
    let big = vec![b' '; 5 * 1024 * 1024];
    assert_eq!(app.post_webhook(&big).await.status(), 413);
}

#[tokio::test]
async fn a_message_lands_exactly_once_however_often_it_is_delivered() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Messenger, "111", None)
        .await;
    let body = messenger(
        "111",
        json!([text(
            "111",
            "U1",
            "m_1",
            1700000000000,
            "Where is my order?"
        )]),
    );
    for _ in 0..3 {
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    app.process_webhooks().await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM conversations").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'processed'"
        )
        .await,
        3
    );
    let conv = rows(
        &app,
        "SELECT status AS a, last_message_preview AS b FROM conversations",
    )
    .await;
    assert_eq!(conv[0], ("open".into(), Some("Where is my order?".into())));
    assert_eq!(
        count(&app, "SELECT unread_count::bigint AS n FROM conversations").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM jobs WHERE kind = 'fetch_profile'"
        )
        .await,
        1,
        "profile fetched once"
    );
}

#[tokio::test]
async fn receipts_before_their_message_still_apply_and_order_follows_event_time() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Messenger, "111", None)
        .await;
    app.connect_channel(t, Platform::Instagram, "IG1", None)
        .await;
    // Messenger: the read watermark arrives before the echo it covers.
    let read_first = messenger(
        "111",
        json!([
            text("111", "U1", "m_in", 1700000000000, "hi"),
            {"sender":{"id":"U1"},"recipient":{"id":"111"},"timestamp":1700000009000_i64,"read":{"watermark":1700000005000_i64}}
        ]),
    );
    app.post_webhook(&read_first).await;
    app.process_webhooks().await;
    let echo = messenger(
        "111",
        json!([{"sender":{"id":"111"},"recipient":{"id":"U1"},"timestamp":1700000003000_i64,"message":{"mid":"m_out","text":"hello from another tool","is_echo":true,"app_id":42}}]),
    );
    app.post_webhook(&echo).await;
    // Instagram: seen{mid} before the echo with that mid.
    let seen = serde_json::to_vec(&json!({"object":"instagram","entry":[{"id":"IG1","time":1,"messaging":[
        {"sender":{"id":"U2"},"recipient":{"id":"IG1"},"timestamp":1700000010000_i64,"read":{"mid":"ig_out"}}]}]})).unwrap();
    app.post_webhook(&seen).await;
    app.process_webhooks().await;
    let ig_echo = serde_json::to_vec(&json!({"object":"instagram","entry":[{"id":"IG1","time":1,"messaging":[
        {"sender":{"id":"IG1"},"recipient":{"id":"U2"},"timestamp":1700000001000_i64,"message":{"mid":"ig_out","text":"thanks!","is_echo":true}}]}]})).unwrap();
    app.post_webhook(&ig_echo).await;
    app.process_webhooks().await;
    let statuses = rows(&app, "SELECT platform_message_id AS a, status AS b FROM messages WHERE direction = 'outbound' ORDER BY platform_message_id").await;
    assert_eq!(
        statuses,
        vec![
            ("ig_out".into(), Some("read".into())),
            ("m_out".into(), Some("read".into()))
        ]
    );
    // The late echo (event time 3 s) sits before... nothing: the preview stays the latest by event time.
    let older = messenger(
        "111",
        json!([text(
            "111",
            "U1",
            "m_old",
            1699999999000,
            "an older message, delivered late"
        )]),
    );
    app.post_webhook(&older).await;
    app.process_webhooks().await;
    let order = rows(&app, "SELECT platform_message_id AS a, NULL::text AS b FROM messages WHERE channel_id = (SELECT id FROM channels WHERE platform_id='111') ORDER BY sent_at").await;
    assert_eq!(
        order.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["m_old", "m_in", "m_out"]
    );
    let preview = rows(&app, "SELECT last_message_preview AS a, NULL::text AS b FROM conversations v JOIN channels c ON c.id = v.channel_id WHERE c.platform_id = '111'").await;
    assert_eq!(preview[0].0, "hello from another tool");
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM pending_message_events").await,
        0
    );
}

#[tokio::test]
async fn reactions_edits_and_unsends_apply_to_their_message() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Messenger, "111", None)
        .await;
    let body = messenger(
        "111",
        json!([
            text("111", "U1", "m_1", 1700000000000, "first"),
            {"sender":{"id":"U1"},"recipient":{"id":"111"},"timestamp":1700000001000_i64,"reaction":{"mid":"m_1","action":"react","reaction":"love","emoji":"\u{2764}"}},
            {"sender":{"id":"U1"},"recipient":{"id":"111"},"timestamp":1700000002000_i64,"message_edit":{"mid":"m_1","text":"first (edited)","num_edit":1}}
        ]),
    );
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM message_reactions").await,
        1
    );
    let m = rows(
        &app,
        "SELECT text AS a, edit_count::text AS b FROM messages",
    )
    .await;
    assert_eq!(m[0], ("first (edited)".into(), Some("1".into())));
    let undo = messenger(
        "111",
        json!([{"sender":{"id":"U1"},"recipient":{"id":"111"},"timestamp":1700000003000_i64,"reaction":{"mid":"m_1","action":"unreact"}}]),
    );
    app.post_webhook(&undo).await;
    app.process_webhooks().await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM message_reactions").await,
        0
    );
}

#[tokio::test]
async fn unrouted_events_wait_and_are_processed_when_the_account_is_connected() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.post_webhook(&messenger(
        "777",
        json!([text("777", "U1", "m_1", 1700000000000, "anyone there?")]),
    ))
    .await;
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'unrouted'"
        )
        .await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 0);
    app.connect_channel(t, Platform::Messenger, "777", None)
        .await;
    app.process_webhooks().await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'processed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_item_left_unrouted_while_its_account_was_connected_is_swept_up() {
    use parley::jobs::job::Job;
    use parley::jobs::kinds::RequeueRoutable;
    const REQUEUE_ROUTABLE: &str = RequeueRoutable::KIND;
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    for (page, mid) in [("777", "m_late"), ("888", "m_never")] {
        app.post_webhook(&messenger(
            page,
            json!([text(page, "U1", mid, 1700000000000, "anyone there?")]),
        ))
        .await;
    }
    app.process_webhooks().await;
    // The account is connected while a processor is marking its item unrouted: the processor
    // commits after the connect's requeue, so the item stays unrouted.
    app.connect_channel(t, Platform::Messenger, "777", None)
        .await;
    app.query(|c| {
        diesel::sql_query("UPDATE webhook_items SET state = 'unrouted' WHERE account_id = '777'")
            .execute(c)
            .unwrap()
    })
    .await;
    app.process_webhooks().await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 0);

    // The periodic sweep queues it (and only it: page 888 is still not connected).
    assert!(
        parley::jobs::scheduler::PERIODIC
            .iter()
            .any(|p| p.kind == REQUEUE_ROUTABLE)
    );
    app.query(|c| {
        parley::jobs::queue::enqueue(c, &RequeueRoutable::default().to_new_job()).unwrap()
    })
    .await;
    assert_eq!(app.run_queued_jobs(REQUEUE_ROUTABLE).await, vec![Ok(())]);
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM messages WHERE platform_message_id = 'm_late'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'unrouted' AND account_id = '888'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn whatsapp_messages_statuses_and_template_updates_land() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Whatsapp, "PN1", Some("WABA1"))
        .await;
    let body = serde_json::to_vec(&json!({"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[
        {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100","phone_number_id":"PN1"},
          "contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"15550001001"}],
          "messages":[{"from":"15550001001","id":"wamid.A","timestamp":"1700000000","type":"text","text":{"body":"Is the shop open?"}},
                      {"from":"15550001001","id":"wamid.B","timestamp":"1700000001","type":"location","location":{"latitude":1.5,"longitude":2.5,"name":"Home"}}]}},
        {"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":594425479261596_i64,"message_template_name":"order_update","message_template_language":"en_US","reason":"INVALID_FORMAT"}}
    ]}]})).unwrap();
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    let contact = rows(
        &app,
        "SELECT platform_user_id AS a, name AS b FROM contacts",
    )
    .await;
    assert_eq!(
        contact[0],
        ("15550001001".into(), Some("Kerry Fisher".into()))
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM messages WHERE kind IN ('text','location')"
        )
        .await,
        2
    );
    let tpl = rows(
        &app,
        "SELECT status AS a, status_reason AS b FROM message_templates",
    )
    .await;
    assert_eq!(tpl[0], ("REJECTED".into(), Some("INVALID_FORMAT".into())));
}

#[tokio::test]
async fn facebook_comments_are_added_hidden_edited_and_removed() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Messenger, "P9", None)
        .await;
    let change = |verb: &str, msg: &str, ts: i64| json!({"field":"feed","value":{"item":"comment","verb":verb,"comment_id":"P9_1_c1","post_id":"P9_1","parent_id":"P9_1","from":{"id":"U7","name":"Dana"},"message":msg,"created_time":ts}});
    let body = |c: serde_json::Value| {
        serde_json::to_vec(&json!({"object":"page","entry":[{"id":"P9","time":1,"changes":[c]}]}))
            .unwrap()
    };
    app.post_webhook(&body(change("add", "Love it", 1700000000)))
        .await;
    app.post_webhook(&body(change("hide", "Love it", 1700000001)))
        .await;
    app.post_webhook(&body(change("edited", "Love it!!", 1700000002)))
        .await;
    app.process_webhooks().await;
    let c = rows(&app, "SELECT text AS a, hidden::text AS b FROM comments").await;
    assert_eq!(c, vec![("Love it!!".into(), Some("true".into()))]);
    app.post_webhook(&body(change("remove", "", 1700000003)))
        .await;
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM comments WHERE deleted_at IS NOT NULL"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Messenger, "111", None)
        .await;
    for i in 0..5 {
        app.post_webhook(&messenger(
            "111",
            json!([text(
                "111",
                "U1",
                &format!("m_{i}"),
                1700000000000 + i,
                "hi"
            )]),
        ))
        .await;
    }
    // A worker locks everything in its batch transaction, then dies without committing.
    let mut doomed = parley::db::connect(&app.db.url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut doomed).unwrap();
    diesel::sql_query("SELECT id FROM webhook_events FOR UPDATE")
        .execute(&mut doomed)
        .unwrap();
    app.process_webhooks().await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM messages").await,
        0,
        "locked rows are left to their worker"
    );
    drop(doomed); // the worker dies: its transaction rolls back, its rows are free again
    app.process_webhooks().await;
    // Process again: nothing is doubled.
    app.post_webhook(&messenger(
        "111",
        json!([text("111", "U1", "m_0", 1700000000000, "hi")]),
    ))
    .await;
    app.process_webhooks().await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 5);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'processed'"
        )
        .await,
        6
    );
}

#[tokio::test]
async fn deliveries_signed_by_the_instagram_login_app_are_taken_and_strangers_are_not() {
    let app = TestApp::spawn_with(&[("META_INSTAGRAM_APP_SECRET", "instagram-login-secret")]).await;
    let body =
        br#"{"object":"instagram","entry":[{"id":"17841400000000001","time":1,"messaging":[]}]}"#;
    let post = |secret: &'static str| {
        let url = app.url("/webhooks/meta");
        async move {
            reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .header(
                    "x-hub-signature-256",
                    parley::webhooks::verify::sign(secret, body),
                )
                .body(body.to_vec())
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(post("instagram-login-secret").await, 200);
    assert_eq!(post(crate::support::TEST_APP_SECRET).await, 200);
    assert_eq!(post("someone-else").await, 401);
}
