//! What customers send through Meta cannot turn into script or a crash: links and pictures keep
//! to http(s), and absurd time input is refused.

use parley::auth::Role;
use parley::models::channels::Platform;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn links_and_pictures_from_payloads_render_only_as_web_urls() {
    let app = TestApp::spawn().await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "ann@acme.test", Role::Agent).await;
    app.connect_channel(tenant, Platform::Instagram, "IG1", None)
        .await;
    let body = serde_json::to_vec(&json!({"object":"instagram","entry":[{"id":"IG1","time":1,"messaging":[
        {"sender":{"id":"U1"},"recipient":{"id":"IG1"},"timestamp":1700000000000_i64,
         "message":{"mid":"m1","text":"look","attachments":[
            {"type":"share","payload":{"url":"javascript:alert(document.cookie)"}},
            {"type":"fallback","payload":{"url":" JavaScript:alert(2)","title":"Click me"}},
            {"type":"ig_reel","payload":{"url":"https://www.instagram.com/reel/abc","title":"A reel"}}]}},
        {"sender":{"id":"U1"},"recipient":{"id":"IG1"},"timestamp":1700000001000_i64,
         "message":{"mid":"m2","text":"nice","reply_to":{"story":{"url":"data:text/html,<script>alert(3)</script>","id":"s1"}}}}
    ]}]}))
    .unwrap();
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.process_webhooks().await;
    app.query(|c| {
        use diesel::prelude::*;
        diesel::sql_query("UPDATE contacts SET picture_url = 'javascript:alert(4)'")
            .execute(c)
            .unwrap()
    })
    .await;
    let conversation = app.first_conversation().await;
    for path in [format!("/inbox/{conversation}"), "/inbox".to_string()] {
        let (status, page) = agent.page(&path).await;
        assert_eq!(status, 200, "{path}");
        let lower = page.to_ascii_lowercase();
        for scheme in ["javascript:", "data:text/html"] {
            assert!(!lower.contains(scheme), "{path} renders {scheme}: {page}");
        }
    }
    let (_, page) = agent.page(&format!("/inbox/{conversation}")).await;
    assert!(page.contains(r#"href="https://www.instagram.com/reel/abc""#));
    assert!(page.contains("look"), "the message itself is shown");
}

#[tokio::test]
async fn an_absurd_time_zone_offset_is_refused_not_a_crash() {
    let app = TestApp::spawn().await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "ann@acme.test", Role::Agent).await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    let body = serde_json::to_vec(
        &json!({"object":"page","entry":[{"id":"P1","time":1,"messaging":[
        {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":1700000000000_i64,
         "message":{"mid":"m1","text":"hello"}}]}]}),
    )
    .unwrap();
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    let conversation = app.first_conversation().await;
    agent.page(&format!("/inbox/{conversation}")).await;
    for offset in ["9223372036854775807", "-9223372036854775808", "100000"] {
        let res = agent
            .post_form(
                &format!("/inbox/{conversation}/status"),
                &[
                    ("status", "snoozed"),
                    ("snooze_until", "2030-01-01T09:00"),
                    ("tz_offset", offset),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{offset}");
        let (_, page) = agent.page(&format!("/inbox/{conversation}")).await;
        assert!(
            page.contains("Choose until when to snooze"),
            "{offset}: the refusal is explained"
        );
    }
    // The server is still answering.
    assert_eq!(agent.get("/healthz").await.status(), 200);
}
