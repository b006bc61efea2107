//! The webhook ledger around processing: what is kept when a body is not a webhook or the
//! database is unreachable, and what admins and operators see and replay.

use diesel::prelude::*;
use diesel::sql_types::Text;
use parley::models::channels::Platform;
use serde_json::json;

use crate::support::TestApp;
use crate::support::{Count, count, messenger, rows, tenant, text};

#[tokio::test]
async fn a_signed_body_that_is_not_a_webhook_is_kept_as_failed_and_acknowledged() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.post_webhook(b"<html>not json</html>").await.status(),
        200
    );
    assert_eq!(
        app.post_webhook(br#"{"hello":"world"}"#).await.status(),
        200
    );
    app.process_webhooks().await;
    let failed = rows(
        &app,
        "SELECT state AS a, last_error AS b FROM webhook_events ORDER BY id",
    )
    .await;
    assert_eq!(failed.len(), 2);
    assert!(
        failed.iter().all(|(s, e)| s == "failed" && e.is_some()),
        "{failed:?}"
    );

    // Replayed as they are, they are split again and fail again, still visible.
    let replayed = app
        .query(|c| parley::models::webhooks::replay_failed_deliveries(c, None).unwrap())
        .await;
    assert_eq!(replayed, 2);
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_events WHERE state = 'failed' AND attempts = 1 AND last_error IS NOT NULL"
        )
        .await,
        2
    );
    // Once Parley understands a delivery (here the stored body stands in for an upgrade),
    // replaying that one delivery splits and processes it.
    let t = tenant(&app, "Acme").await;
    app.connect_channel(t, Platform::Messenger, "1", None).await;
    let id = app
        .query(|c| {
            diesel::sql_query(
                "UPDATE webhook_events SET body = convert_to($1, 'UTF8')
                  WHERE id = (SELECT max(id) FROM webhook_events) RETURNING id AS n",
            )
            .bind::<Text, _>(
                String::from_utf8(messenger("1", json!([text("1", "U", "m_late", 1, "late")])))
                    .unwrap(),
            )
            .get_result::<Count>(c)
            .unwrap()
            .n
        })
        .await;
    let replayed = app
        .query(move |c| {
            parley::models::webhooks::replay_failed_deliveries(
                c,
                Some(parley::db::ids::WebhookEventId(id)),
            )
            .unwrap()
        })
        .await;
    assert_eq!(replayed, 1);
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM messages WHERE text = 'late'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_events WHERE state = 'failed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_batch_for_two_tenants_is_split_so_each_sees_only_its_part() {
    let app = TestApp::spawn().await;
    let (a, b) = (tenant(&app, "A").await, tenant(&app, "B").await);
    app.connect_channel(a, Platform::Messenger, "100", None)
        .await;
    app.connect_channel(b, Platform::Messenger, "200", None)
        .await;
    let body = serde_json::to_vec(&json!({"object":"page","entry":[
        {"id":"100","time":1,"messaging":[text("100","U","m_a",1700000000000,"for A")]},
        {"id":"200","time":1,"messaging":[text("200","U","m_b",1700000000000,"for B")]}
    ]}))
    .unwrap();
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    let by_tenant = app
        .query(move |c| {
            let mut json_of = |t| {
                let listed =
                    parley::models::webhooks::list_for_tenant(c, t, None, None, 50).unwrap();
                assert_eq!(listed.len(), 1);
                let item = parley::models::webhooks::get_for_tenant(c, t, listed[0].id).unwrap();
                item.unwrap().body.unwrap().to_string()
            };
            (json_of(a), json_of(b))
        })
        .await;
    assert!(by_tenant.0.contains("for A") && !by_tenant.0.contains("for B"));
    assert!(by_tenant.1.contains("for B") && !by_tenant.1.contains("for A"));
}

#[tokio::test]
async fn a_lost_database_connection_costs_meta_at_most_one_retry() {
    let app = TestApp::spawn().await;
    let before = messenger("1", json!([]));
    assert_eq!(app.post_webhook(&before).await.status(), 200);
    // The ingest writer keeps its connections between commits; the server drops them all.
    let dropped = count(
        &app,
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    assert!(dropped >= 1);
    const STORED: &str = "SELECT count(*) AS n FROM webhook_events
                           WHERE position('m_after' in convert_from(body, 'UTF8')) > 0";
    let body = messenger(
        "1",
        json!([text("1", "U", "m_after", 1700000000000, "after")]),
    );
    let first = app.post_webhook(&body).await.status();
    if first == 503 {
        assert_eq!(count(&app, STORED).await, 0, "a 503 stores nothing");
        assert_eq!(app.post_webhook(&body).await.status(), 200, "the retry");
    } else {
        assert_eq!(first, 200);
    }
    assert_eq!(count(&app, STORED).await, 1);
}

#[tokio::test]
async fn with_the_database_down_deliveries_get_503_so_meta_retries() {
    let app = TestApp::spawn().await;
    let addr = app.server_without_database();
    let body = messenger("1", json!([]));
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/webhooks/meta"))
        .header(
            "x-hub-signature-256",
            parley::webhooks::verify::sign(crate::support::TEST_APP_SECRET, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn the_webhook_log_shows_a_tenant_its_own_items_and_replays_them() {
    let app = TestApp::spawn().await;
    let (mut a_admin, a, _) = app
        .signed_in("A", "admin@a.test", parley::auth::Role::Admin)
        .await;
    let (mut b_admin, _, _) = app
        .signed_in("B", "admin@b.test", parley::auth::Role::Admin)
        .await;
    let (mut agent, _, _) = app
        .signed_in("A", "agent@a.test", parley::auth::Role::Agent)
        .await;
    app.connect_channel(a, Platform::Messenger, "100", None)
        .await;
    app.post_webhook(&messenger(
        "100",
        json!([text("100", "U", "m_1", 1700000000000, "hello A")]),
    ))
    .await;
    app.process_webhooks().await;
    let id = count(&app, "SELECT max(id) AS n FROM webhook_items").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'processed' AND body IS NULL"
        )
        .await,
        1,
        "a processed item keeps no copy of its JSON: the ledger has it"
    );

    let (status, list) = a_admin.page("/webhooks").await;
    assert_eq!(status, 200);
    assert!(list.contains(&format!("href=\"/webhooks/{id}\"")));
    let (status, item) = a_admin.page(&format!("/webhooks/{id}")).await;
    assert_eq!(status, 200);
    assert!(item.contains("hello A"), "raw JSON shown");
    assert_eq!(
        b_admin.page(&format!("/webhooks/{id}")).await.0,
        404,
        "another tenant's item"
    );
    assert!(
        !b_admin
            .page("/webhooks")
            .await
            .1
            .contains(&format!("/webhooks/{id}\""))
    );
    assert_eq!(agent.page("/webhooks").await.0, 403, "admins only");

    // A processed item replays as a no-op: nothing can be applied twice.
    let res = a_admin
        .post_form(&format!("/webhooks/{id}/replay"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'pending'"
        )
        .await,
        0
    );
    assert!(
        a_admin
            .page(&format!("/webhooks/{id}"))
            .await
            .1
            .contains("replaying it would change nothing")
    );
    // One that died (its JSON only in the ledger) is queued again.
    app.query(|c| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query("UPDATE webhook_items SET state = 'dead'"),
            c,
        )
        .unwrap()
    })
    .await;
    let res = a_admin
        .post_form(&format!("/webhooks/{id}/replay"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'pending'"
        )
        .await,
        1
    );
    assert_eq!(
        b_admin
            .post_form(&format!("/webhooks/{id}/replay"), &[])
            .await
            .status(),
        404
    );
    app.process_webhooks().await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM messages").await,
        1,
        "replaying never doubles"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'processed' AND last_error IS NULL"
        )
        .await,
        1,
        "the replayed item got its JSON back from the ledger and was processed, not ignored"
    );
}

#[tokio::test]
async fn items_settled_without_their_json_get_their_own_part_of_a_batch_back() {
    let app = TestApp::spawn().await;
    let (mut admin, tenant, _) = app
        .signed_in("A", "admin@a.test", parley::auth::Role::Admin)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "100", None)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "200", None)
        .await;
    // One delivery, two entries (two Pages): two items, at positions 0 and 1.
    let body = serde_json::to_vec(&json!({"object":"page","entry":[
        {"id":"100","time":1,"messaging":[text("100","U1","m_first",1700000000000,"first page")]},
        {"id":"200","time":1,"messaging":[text("200","U2","m_second",1700000000001,"second page")]}
    ]}))
    .unwrap();
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE body IS NULL"
        )
        .await,
        2
    );
    let first = count(&app, "SELECT id AS n FROM webhook_items WHERE position = 0").await;
    let second = count(&app, "SELECT id AS n FROM webhook_items WHERE position = 1").await;
    let (_, page) = admin.page(&format!("/webhooks/{second}")).await;
    assert!(
        page.contains("second page") && !page.contains("first page"),
        "{page}"
    );
    let (_, page) = admin.page(&format!("/webhooks/{first}")).await;
    assert!(page.contains("first page") && !page.contains("second page"));

    // Items an older Parley ignored are replayed after an upgrade: each is processed from its
    // own part again, idempotently.
    app.query(|c| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query("UPDATE webhook_items SET state = 'ignored'"),
            c,
        )
        .unwrap()
    })
    .await;
    let replayed = app
        .query(move |c| parley::models::webhooks::replay(c, Some(tenant), None, None).unwrap())
        .await;
    assert_eq!(replayed, 2);
    app.process_webhooks().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM webhook_items WHERE state = 'processed' AND body IS NULL"
        )
        .await,
        2
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 2);
}
