//! Fault injection and usage headers.

use std::time::{Duration, Instant};

use meta_sandbox::{Fault, FaultKind, IssueToken};
use serde_json::Value;

use super::{env, read};

fn buc(headers: &reqwest::header::HeaderMap) -> Value {
    serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn injected_faults_behave_like_meta() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let page = seed.pages[0].id.clone();
    let token = env.page_token(1);
    let feed = format!("{page}/feed");

    let normal = env.get(&feed, &token, &[]).await;
    let usage = buc(&normal.headers);
    assert_eq!(usage[&page][0]["type"], "pages");
    assert!(usage[&page][0]["call_count"].as_u64().unwrap() < 100);

    env.sb.inject_fault(
        Fault::new(
            "/feed",
            FaultKind::RateLimit {
                code: 80001,
                regain_minutes: 12,
            },
        )
        .times(2),
    );
    for _ in 0..2 {
        let limited = env.get(&feed, &token, &[]).await;
        assert!(
            limited
                .assert_error(400, 80001, None)
                .starts_with("(#80001) There have been too many calls to this Page account")
        );
        let usage = buc(&limited.headers);
        assert!(usage[&page][0]["call_count"].as_u64().unwrap() >= 100);
        assert_eq!(usage[&page][0]["estimated_time_to_regain_access"], 12);
    }
    env.get(&feed, &token, &[]).await.ok();

    let user = env.token(IssueToken::User);
    env.sb.inject_fault(
        Fault::new(
            "/me",
            FaultKind::RateLimit {
                code: 4,
                regain_minutes: 5,
            },
        )
        .method("GET"),
    );
    let app_limited = env.get("me", &user, &[]).await;
    app_limited.assert_error(400, 4, None);
    let app_usage: Value =
        serde_json::from_str(app_limited.headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert!(app_usage["call_count"].as_u64().unwrap() >= 100);

    env.sb.inject_fault(Fault::new(
        "*",
        FaultKind::ServerError {
            status: 503,
            json: false,
        },
    ));
    let edge = env.get(&feed, &token, &[]).await;
    assert_eq!(edge.status, 503);
    assert!(
        edge.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(edge.text.contains("Sorry, something went wrong"));

    env.sb.inject_fault(Fault::new(
        "*",
        FaultKind::ServerError {
            status: 500,
            json: true,
        },
    ));
    let transient = env.get(&feed, &token, &[]).await;
    transient.assert_error(500, 2, None);
    assert_eq!(transient.body["error"]["is_transient"], true);

    env.sb
        .inject_fault(Fault::new("/feed", FaultKind::Slow { delay_ms: 400 }));
    let start = Instant::now();
    env.get(&feed, &token, &[]).await.ok();
    assert!(start.elapsed() >= Duration::from_millis(400));

    env.sb.inject_fault(Fault::new(
        "/messages",
        FaultKind::RevokedToken { subcode: 463 },
    ));
    let revoked = env
        .post_json("me/messages", &token, serde_json::json!({}))
        .await;
    assert!(
        revoked
            .assert_error(400, 190, Some(463))
            .contains("Session has expired")
    );

    // Over HTTP too.
    let control = format!("{}/_sandbox/faults", env.sb.url());
    let added = env.http.post(&control).json(&serde_json::json!({"path": "/feed", "count": 1, "kind": {"type": "rate_limit", "code": 32}})).send().await.unwrap();
    assert_eq!(added.status(), 200);
    env.http.delete(&control).send().await.unwrap();
    env.get(&feed, &token, &[]).await.ok();
    env.sb.inject_fault(Fault::new(
        "/feed",
        FaultKind::RateLimit {
            code: 32,
            regain_minutes: 1,
        },
    ));
    env.sb.clear_faults();
    env.get(&feed, &token, &[]).await.ok();

    let world = read(
        env.http
            .get(format!("{}/_sandbox/world", env.sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(world.ok()["seed"]["waba"]["name"], "Acme WhatsApp");
}
