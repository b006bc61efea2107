//! Requests that should cost little or be refused: multipart bodies where no upload is expected,
//! long boundaries, sign-in floods, `/metrics` for strangers, the webhook CSRF exemption, and
//! redirects after sign-in.

use std::time::{Duration, Instant};

use parley::auth::Role;

use crate::support::{PASSWORD, TestApp, location};

/// A multipart body of `size` bytes whose boundary is `boundary_len` long and never closes:
/// the shape that made the old hand-written parser spend seconds per request.
fn hostile_multipart(size: usize, boundary_len: usize) -> (String, Vec<u8>) {
    let boundary = "b".repeat(boundary_len);
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n")
        .into_bytes();
    // Near-misses of the boundary, over and over.
    let near = format!("\r\n--{}", &boundary[..boundary_len - 1]);
    while body.len() < size {
        body.extend_from_slice(near.as_bytes());
        body.push(b'x');
    }
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn multipart_is_refused_outside_the_composer_without_reading_the_body() {
    let app = TestApp::spawn().await;
    let mut anonymous = app.client();
    anonymous.page("/login").await;
    let (ct, body) = hostile_multipart(64 * 1024, 60_000);
    for path in ["/team/users", "/login", "/webhooks/replay-dead", "/logout"] {
        let res = anonymous
            .http
            .post(app.url(path))
            .header("content-type", &ct)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415, "{path}");
    }
    // The composer's route takes uploads, but not from someone who is not signed in.
    let res = anonymous
        .http
        .post(app.url("/inbox/1/messages"))
        .header("content-type", &ct)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));

    // Signed in, a boundary over RFC 2046's 70 characters is refused before the body is read.
    let (mut agent, _, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let csrf = agent.csrf.clone().unwrap();
    let res = agent
        .http
        .post(app.url("/inbox/1/messages"))
        .header("content-type", &ct)
        .header("x-csrf-token", &csrf)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("70 characters"));

    // Without the header, the token must be the form's first field.
    let form = reqwest::multipart::Form::new()
        .text("text", "hello")
        .text("csrf_token", csrf.clone());
    let res = agent
        .http
        .post(app.url("/inbox/1/messages"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", "0".repeat(64))
        .text("text", "hello");
    let res = agent
        .http
        .post(app.url("/inbox/1/messages"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // With the right token first the form is read (and the missing conversation is a 404).
    agent.page("/inbox").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", agent.csrf.clone().unwrap())
        .text("text", "hello");
    let res = agent
        .http
        .post(app.url("/inbox/999999/messages"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Latencies of `/healthz` and of a signed webhook while `attack` runs.
async fn probe_while(
    app: &TestApp,
    attack: impl std::future::Future<Output = ()>,
) -> Vec<Duration> {
    // Warm up: the first request of a client pays for its TLS roots and connection.
    let http = reqwest::Client::new();
    http.get(app.url("/healthz")).send().await.unwrap();
    app.post_webhook(br#"{"object":"page","entry":[]}"#).await;
    let probe = async {
        // Let the attack get going first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut took = Vec::new();
        for i in 0..20 {
            let started = Instant::now();
            let res = http.get(app.url("/healthz")).send().await.unwrap();
            assert_eq!(res.status(), 200);
            took.push(started.elapsed());
            let body = format!(
                r#"{{"object":"page","entry":[{{"id":"probe{i}","time":1,"messaging":[]}}]}}"#
            );
            let started = Instant::now();
            let res = app.post_webhook(body.as_bytes()).await;
            assert_eq!(res.status(), 200);
            took.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        took
    };
    let (took, ()) = tokio::join!(probe, attack);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_uploads_and_sign_in_floods_do_not_delay_health_or_webhooks() {
    // Each sign-in comes from its own forwarded address, so the address throttle does not
    // stop the flood and every attempt costs an argon2 verification.
    let app = TestApp::spawn_with(&[("PARLEY_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let (ct, body) = hostile_multipart(4 * 1024 * 1024, 60_000);
    let body = reqwest::Body::from(body);
    let deadline = Instant::now() + Duration::from_secs(3);
    let uploads = (0..4).map(|n| {
        let (app, ct, body) = (&app, ct.clone(), body.as_bytes().unwrap().to_vec());
        async move {
            let mut anonymous = app.client();
            anonymous.page("/login").await;
            while Instant::now() < deadline {
                let path = if n % 2 == 0 {
                    "/inbox/1/messages"
                } else {
                    "/team/users"
                };
                // The server may answer before the body is sent and close: either is fine.
                let _ = anonymous
                    .http
                    .post(app.url(path))
                    .header("content-type", &ct)
                    .body(body.clone())
                    .send()
                    .await;
            }
        }
    });
    let sign_ins = (0..8).map(|n| {
        let app = &app;
        async move {
            let mut client = app.client();
            client.page("/login").await;
            let mut i = 0;
            while Instant::now() < deadline {
                i += 1;
                let token = client.csrf.clone().unwrap();
                let _ = client
                    .http
                    .post(app.url("/login"))
                    .header("x-forwarded-for", format!("198.51.{n}.{}", i % 250))
                    .form(&[
                        ("email", format!("nobody{n}-{i}@acme.test")),
                        ("password", "wrong password, long".into()),
                        ("csrf_token", token),
                    ])
                    .send()
                    .await;
            }
        }
    });
    let attack = async {
        futures_util::future::join(
            futures_util::future::join_all(uploads),
            futures_util::future::join_all(sign_ins),
        )
        .await;
    };
    let took = probe_while(&app, attack).await;
    let worst = took.iter().max().unwrap();
    eprintln!("answers under attack (healthz, webhook, ...): {took:?}");
    assert!(
        *worst < Duration::from_millis(100),
        "slowest /healthz or webhook answer took {worst:?}: {took:?}"
    );
}

#[tokio::test]
async fn parallel_sign_in_attempts_cannot_all_slip_past_the_throttle() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let attempts = (0..12).map(|_| {
        let app = &app;
        async move {
            let mut client = app.client();
            client.page("/login").await;
            let res = client
                .post_form(
                    "/login",
                    &[("email", "ann@acme.test"), ("password", "not the password")],
                )
                .await;
            res.status().as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    // Five failures lock the account: the fifth answer already says so.
    assert_eq!(checked, 4, "{statuses:?}");
    assert_eq!(throttled, 8, "{statuses:?}");
    // Even the right password waits for the lock to end.
    let mut client = app.client();
    assert_eq!(client.login("ann@acme.test", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn metrics_are_for_configured_addresses_or_the_token_and_methods_cannot_grow_them() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    for n in 0..30 {
        let method = reqwest::Method::from_bytes(format!("M{n}X").as_bytes()).unwrap();
        let _ = http
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let res = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200, "loopback is allowed by default");
    let text = res.text().await.unwrap();
    assert!(!text.contains("M0X") && !text.contains("M29X"), "{text}");
    assert!(text.contains("method=\"OTHER\""));

    let elsewhere = TestApp::spawn_with(&[
        ("PARLEY_METRICS_ALLOW", "192.0.2.10"),
        ("PARLEY_METRICS_TOKEN", "scrape-secret"),
    ])
    .await;
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };
    let metrics = || http.get(elsewhere.url("/metrics"));
    assert_eq!(status(metrics()).await, 403);
    assert_eq!(status(metrics().bearer_auth("wrong")).await, 403);
    assert_eq!(status(metrics().bearer_auth("scrape-secret")).await, 200);
    // A client cannot claim an allowed address through X-Forwarded-For without a trusted proxy.
    assert_eq!(
        status(metrics().header("x-forwarded-for", "192.0.2.10")).await,
        403
    );
}

#[tokio::test]
async fn only_the_webhook_receiver_is_exempt_from_csrf() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    for path in ["/webhooks/replay-dead", "/webhooks/1/replay"] {
        let res = admin.post_form_raw(path, &[]).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(res.text().await.unwrap().contains("Form expired"));
    }
    let res = admin.post_form("/webhooks/replay-dead", &[]).await;
    assert_eq!(res.status(), 303, "with the token it goes through");
}

#[tokio::test]
async fn sign_in_never_leads_off_site() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    for next in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "https://evil.example",
    ] {
        let mut client = app.client();
        let (status, body) = client.page(&format!("/login?next={next}")).await;
        assert_eq!(status, 200);
        assert!(body.contains(r#"name="next" value="/""#), "{next}: {body}");
        let decoded: String = url_decode(next);
        let res = client
            .post_form(
                "/login",
                &[
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                    ("next", &decoded),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/", "{next}");
    }
    let mut client = app.client();
    client.page("/login").await;
    let res = client
        .post_form(
            "/login",
            &[
                ("email", "ann@acme.test"),
                ("password", PASSWORD),
                ("next", "/team?x=1"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/team?x=1");
}

fn url_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .unwrap()
        .remove(0)
        .1
}
