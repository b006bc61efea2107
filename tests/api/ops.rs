//! Health, readiness, metrics, request ids, static assets and the 404 page.

use parley::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let mut client = app.client();
    let res = client.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = client.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let addr = app.server_without_database();
    let res = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(res.status(), 503);
    // A page that needs the database says it is unavailable (503), not "not found".
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "alive even without a database");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    admin.page("/team").await;
    admin.page("/team").await;
    admin.page("/nope").await;
    let body = admin.get("/metrics").await.text().await.unwrap();
    assert!(body.contains("# TYPE parley_http_requests_total counter"));
    assert!(
        body.contains("parley_http_requests_total{method=\"GET\",route=\"/team\",status=\"200\"}"),
        "{body}"
    );
    assert!(body.contains("parley_http_request_duration_seconds_bucket{method=\"GET\",route=\"/team\",status=\"200\",le=\"+Inf\"}"));
    assert!(body.contains("status=\"404\""));
}

#[tokio::test]
async fn metrics_report_deliveries_lag_items_and_queue_from_the_database() {
    let app = TestApp::spawn().await;
    // An account nobody connected: accepted, then left unrouted.
    let body = br#"{"object":"page","entry":[{"id":"999","time":1,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"999"},"timestamp":1,"message":{"mid":"m.1","text":"hi"}}]}]}"#;
    assert_eq!(app.post_webhook(body).await.status(), 200);
    let refused = reqwest::Client::new()
        .post(app.url("/webhooks/meta"))
        .header("x-hub-signature-256", "sha256=00")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    app.process_webhooks().await;

    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = |line: &str| {
        text.lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("no {line} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        page(r#"parley_webhook_deliveries_total{outcome="accepted"}"#),
        "1"
    );
    assert_eq!(
        page(r#"parley_webhook_deliveries_total{outcome="refused"}"#),
        "1"
    );
    assert_eq!(page(r#"parley_webhook_items{state="unrouted"}"#), "1");
    assert_eq!(page(r#"parley_webhook_items{state="dead"}"#), "0");
    assert_eq!(page("parley_webhook_processing_lag_seconds_count"), "1");
    assert_eq!(
        page(r#"parley_jobs{kind="send_message",state="dead"}"#),
        "0"
    );
    assert!(text.contains("# TYPE parley_webhook_processing_lag_seconds histogram"));
}

#[tokio::test]
async fn responses_carry_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let res = app.client().get("/login").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
}

#[tokio::test]
async fn static_assets_are_served_locally() {
    let app = TestApp::spawn().await;
    let mut client = app.client();
    for path in [
        "/static/htmx.min.js",
        "/static/app.css",
        "/static/app.js",
        "/static/htmx-ext-sse.min.js",
    ] {
        let res = client.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    let (_, login) = client.page("/login").await;
    assert!(!login.contains("https://"), "no CDN links");
}

#[tokio::test]
async fn unknown_pages_are_a_readable_404() {
    let app = TestApp::spawn().await;
    let (status, body) = app.client().page("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(body.contains("Not found"));
}
