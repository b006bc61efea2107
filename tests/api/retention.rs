//! Nothing grows forever: the purge job deletes what has served its time and keeps what still
//! needs handling; a refused reply keeps no upload.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use parley::models::channels::Platform;
use serde_json::json;

use crate::support::TestApp;

#[derive(QueryableByName, Debug, PartialEq)]
struct Left {
    #[diesel(sql_type = BigInt)]
    items: i64,
    #[diesel(sql_type = BigInt)]
    unrouted: i64,
    #[diesel(sql_type = BigInt)]
    deliveries: i64,
    #[diesel(sql_type = BigInt)]
    failed_deliveries: i64,
    #[diesel(sql_type = BigInt)]
    parked: i64,
    #[diesel(sql_type = BigInt)]
    uploads: i64,
    #[diesel(sql_type = BigInt)]
    dead_jobs: i64,
    #[diesel(sql_type = BigInt)]
    sessions: i64,
    #[diesel(sql_type = BigInt)]
    messages: i64,
}

async fn left(app: &TestApp) -> Left {
    app.query(|c| {
        diesel::sql_query(
            "SELECT (SELECT count(*) FROM webhook_items) AS items,
                    (SELECT count(*) FROM webhook_items WHERE state = 'unrouted') AS unrouted,
                    (SELECT count(*) FROM webhook_events) AS deliveries,
                    (SELECT count(*) FROM webhook_events WHERE state = 'failed') AS failed_deliveries,
                    (SELECT count(*) FROM pending_message_events) AS parked,
                    (SELECT count(*) FROM outbound_media) AS uploads,
                    (SELECT count(*) FROM jobs WHERE state = 'dead') AS dead_jobs,
                    (SELECT count(*) FROM user_sessions) AS sessions,
                    (SELECT count(*) FROM messages) AS messages",
        )
        .get_result(c)
        .unwrap()
    })
    .await
}

fn message(page: &str, mid: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"object":"page","entry":[{"id":page,"time":1700000000000_i64,"messaging":[
        {"sender":{"id":"U1"},"recipient":{"id":page},"timestamp":1700000000000_i64,"message":{"mid":mid,"text":"hi"}}]}]}))
    .unwrap()
}

#[tokio::test]
async fn the_purge_deletes_what_has_served_its_time_and_keeps_what_needs_handling() {
    let app = TestApp::spawn().await;
    let (_, tenant, _) = app
        .signed_in("Acme", "ann@acme.test", parley::auth::Role::Admin)
        .await;
    let channel = app
        .connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    for body in [
        message("P1", "m1"),
        message("P1", "m2"),
        message("P404", "lost"),
        b"{\"not\":\"a webhook\"}".to_vec(),
    ] {
        app.post_webhook(&body).await;
    }
    app.process_webhooks().await;
    let ch = channel.id.0;
    app.query(move |c| {
        // A receipt parked for a message that never came, an upload, a dead job, a session.
        c.batch_execute(&format!(
            "INSERT INTO pending_message_events (tenant_id, channel_id, platform_message_id, event, occurred_at)
             VALUES ({t}, {ch}, 'never', '{{}}', now()), ({t}, {ch}, 'soon', '{{}}', now());
             INSERT INTO outbound_media (tenant_id, token, file, filename, content_type, size_bytes)
             VALUES ({t}, 'old', 'out-old', 'a.png', 'image/png', 1), ({t}, 'new', 'out-new', 'b.png', 'image/png', 1);
             INSERT INTO jobs (kind, state, last_error) VALUES ('token_health', 'dead', 'x'), ('token_health', 'dead', 'y');",
            t = tenant.0
        ))
        .unwrap();
    })
    .await;
    let before = left(&app).await;
    assert_eq!(before.items, 3);
    assert_eq!(before.deliveries, 4);
    // Everything but the second of each pair ages past its retention.
    app.query(|c| {
        for sql in [
            "UPDATE webhook_items SET created_at = now() - interval '31 days'",
            "UPDATE webhook_events SET received_at = now() - interval '31 days'",
            "UPDATE pending_message_events SET created_at = now() - interval '8 days' WHERE platform_message_id = 'never'",
            "UPDATE outbound_media SET created_at = now() - interval '8 days' WHERE token = 'old'",
            "UPDATE jobs SET updated_at = now() - interval '31 days' WHERE last_error = 'x'",
            "UPDATE user_sessions SET ended_at = now() - interval '31 days', end_reason = 'signed out'",
        ] {
            diesel::sql_query(sql).execute(c).unwrap();
        }
    })
    .await;
    let purged = app
        .query(|c| {
            parley::jobs::purge::run(
                c,
                chrono::Utc::now(),
                parley::jobs::purge::Retention::with_webhook_days(30),
            )
            .unwrap()
        })
        .await;
    assert_eq!(
        purged,
        parley::jobs::purge::Purged {
            parked_events: 1,
            upload_tokens: 1,
            webhook_items: 2,
            deliveries: 2,
            dead_jobs: 1,
            sessions: 1,
            send_budgets: 0,
        }
    );
    assert_eq!(
        left(&app).await,
        Left {
            items: 1,
            unrouted: 1,
            // The unrouted item's delivery and the failed one wait to be handled.
            deliveries: 2,
            failed_deliveries: 1,
            parked: 1,
            uploads: 1,
            dead_jobs: 1,
            sessions: 0,
            messages: 2,
        }
    );
    // The purge is a periodic job like the others.
    assert!(
        parley::jobs::scheduler::PERIODIC
            .iter()
            .any(|p| p.kind == "purge")
    );
}

#[tokio::test]
async fn a_refused_reply_keeps_no_upload() {
    let mut env = crate::support::env().await;
    // Ten days ago: beyond even the HUMAN_AGENT tag's seven.
    let conv = env.customer_writes("Old question", 24 * 10).await;
    env.agent.page(&format!("/inbox/{conv}")).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", env.agent.csrf.clone().unwrap())
        .text("text", "Late answer")
        .part(
            "attachment",
            reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\nimage".to_vec())
                .file_name("late.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let res = env
        .agent
        .http
        .post(format!("{}/inbox/{conv}/messages", env.agent.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(left(&env.app).await.uploads, 0, "no upload row");
    let dir = parley::inbox::attachments::media_dir(&env.app.state, env.tenant);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        files.is_empty(),
        "no file left in {}: {files:?}",
        dir.display()
    );
}
