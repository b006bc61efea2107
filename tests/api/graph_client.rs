//! Graph client behaviours that need one exact answer from Meta (wiremock): retries, ambiguity,
//! authentication, rate-limit headers.

use std::time::Duration;

use parley::meta::messaging::SendRequest;
use parley::meta::{
    AccessToken, GraphClient, GraphErrorKind, GraphSettings, RetryPolicy, SendLimits,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> GraphClient {
    crate::support::install_crypto_provider();
    GraphClient::new(GraphSettings {
        graph_url: server.uri(),
        graph_version: "v24.0".into(),
        dialog_url: server.uri(),
        app_id: Some("123".into()),
        app_secret: Some("app-secret".to_string().into()),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_millis(800),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_total: Duration::from_secs(5),
        },
        send_limits: SendLimits::default(),
        instagram: parley::config::InstagramLoginConfig::from_env(&|_| None).unwrap(),
    })
    .unwrap()
}

const TOKEN: &str = "EAAB-page-token";

#[tokio::test]
async fn reads_carry_bearer_token_and_appsecret_proof() {
    let server = MockServer::start().await;
    let proof = parley::meta::token::appsecret_proof("app-secret", TOKEN);
    Mock::given(method("GET"))
        .and(path("/v24.0/42"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(query_param("appsecret_proof", proof.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id":"42","name":"Acme"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .page("42", &AccessToken::new(TOKEN))
        .await
        .unwrap();
    assert_eq!(page.name, "Acme");
}

#[tokio::test]
async fn reads_are_retried_after_an_html_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id":"42"})))
        .mount(&server)
        .await;
    assert!(
        client(&server)
            .page("42", &AccessToken::new(TOKEN))
            .await
            .is_ok()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_send_is_not_retried_after_an_ambiguous_5xx_or_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&server)
        .await;
    let err = client(&server)
        .send_message(
            "42",
            &AccessToken::new(TOKEN),
            &SendRequest::text("7", "hi"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, GraphErrorKind::Transient);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "never sent twice"
    );

    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&slow)
        .await;
    let err = client(&slow)
        .send_message(
            "42",
            &AccessToken::new(TOKEN),
            &SendRequest::text("7", "hi"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, GraphErrorKind::Network { ambiguous: true });
    assert_eq!(slow.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_send_is_retried_when_meta_says_transient_in_its_error_object() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(serde_json::json!(
            {"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"A1"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"recipient_id":"7","message_id":"m_1"})),
        )
        .mount(&server)
        .await;
    let sent = client(&server)
        .send_message(
            "42",
            &AccessToken::new(TOKEN),
            &SendRequest::text("7", "hi"),
        )
        .await
        .unwrap();
    assert_eq!(sent.message_id, "m_1");
}

#[tokio::test]
async fn a_connection_refused_send_is_safe_to_retry_and_says_so() {
    // Nothing listens on this port: the request never reached anyone.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server_uri = format!("http://127.0.0.1:{port}");
    crate::support::install_crypto_provider();
    let client = GraphClient::new(GraphSettings {
        graph_url: server_uri.clone(),
        dialog_url: server_uri,
        app_id: Some("1".into()),
        app_secret: Some("s".to_string().into()),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_total: Duration::from_secs(2),
        },
        ..GraphSettings::from_config(&parley::config::Config::from_lookup(|_| None).unwrap().meta)
    })
    .unwrap();
    let err = client
        .send_message(
            "42",
            &AccessToken::new(TOKEN),
            &SendRequest::text("7", "hi"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, GraphErrorKind::Network { ambiguous: false });
    assert!(err.is_retryable());
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_rate_limit_with_regain_time_blocks_further_calls_locally() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header(
                    "x-business-use-case-usage",
                    r#"{"42":[{"type":"pages","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":2}]}"#,
                )
                .set_body_json(serde_json::json!({"error":{"message":"(#80001) There have been too many calls to this Page account.","type":"OAuthException","code":80001,"fbtrace_id":"B"}})),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.page("42", &AccessToken::new(TOKEN)).await.unwrap_err();
    assert_eq!(
        err.kind,
        GraphErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    // The next call on that Page does not reach Meta.
    let err = c.page("42", &AccessToken::new(TOKEN)).await.unwrap_err();
    assert!(
        matches!(err.kind, GraphErrorKind::RateLimited { retry_after: Some(d) } if d > Duration::from_secs(100))
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn errors_never_contain_the_token_even_when_meta_echoes_urls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!(
            {"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"C"}})))
        .mount(&server)
        .await;
    let err = client(&server)
        .page("42", &AccessToken::new(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        GraphErrorKind::TokenInvalid(parley::meta::TokenProblem::Expired)
    );
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

#[tokio::test]
async fn missing_app_settings_are_a_clear_error_not_a_call() {
    let server = MockServer::start().await;
    crate::support::install_crypto_provider();
    let c = GraphClient::new(GraphSettings {
        graph_url: server.uri(),
        app_id: None,
        app_secret: None,
        ..GraphSettings::from_config(&parley::config::Config::from_lookup(|_| None).unwrap().meta)
    })
    .unwrap();
    let err = c.page("42", &AccessToken::new(TOKEN)).await.unwrap_err();
    assert_eq!(err.kind, GraphErrorKind::NotConfigured);
    assert!(err.to_string().contains("META_APP_SECRET"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn one_pages_rate_limit_slows_no_other_page_and_a_probe_resumes_it() {
    let server = MockServer::start().await;
    // Page 42 is refused once, with every usage header at 100% and no time to regain access.
    Mock::given(method("GET"))
        .and(path("/v24.0/42"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-app-usage", r#"{"call_count":100,"total_time":100,"total_cputime":100}"#)
                .insert_header(
                    "x-business-use-case-usage",
                    r#"{"42":[{"type":"pages","call_count":100,"total_cputime":100,"total_time":100,"estimated_time_to_regain_access":0}]}"#,
                )
                .set_body_json(serde_json::json!({"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"R"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id":"1","name":"Page"})),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let token = AccessToken::new(TOKEN);
    let err = c.page("42", &token).await.unwrap_err();
    assert!(
        matches!(err.kind, GraphErrorKind::RateLimited { .. }),
        "{err:?}"
    );

    // Another Page is not slowed at all, though the app header said 100%.
    let started = std::time::Instant::now();
    c.page("43", &token).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );

    // Page 42 waits a few seconds without calling Meta...
    let err = c.page("42", &token).await.unwrap_err();
    assert!(
        matches!(err.kind, GraphErrorKind::RateLimited { retry_after: Some(d) } if d <= Duration::from_secs(2)),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // ...then one call probes, Meta accepts, and the Page is back to normal.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    c.page("42", &token).await.unwrap();
    let started = std::time::Instant::now();
    c.page("42", &token).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "not slowed once accepted"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}
