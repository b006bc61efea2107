//! The Meta sandbox's contract tests: over real HTTP with plain reqwest (no Parley Graph client),
//! so the sandbox is checked against Meta's contract on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod content;
mod faults;
mod graph;
mod instagram_login;
mod messaging;
mod oauth;
mod webhooks;
mod whatsapp;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, KeyInit, Mac};
use meta_sandbox::{IssueToken, Sandbox, SandboxConfig};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const SECRET: &str = "test-app-secret";

/// A running sandbox and a client for it.
pub struct Env {
    pub sb: Sandbox,
    pub http: reqwest::Client,
}

/// One Graph answer.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn env() -> Env {
    env_with(|_| {}).await
}

pub async fn env_with(change: impl FnOnce(&mut SandboxConfig)) -> Env {
    let mut config = SandboxConfig {
        app_id: "1000000000000001".into(),
        app_secret: SECRET.into(),
        template_review_delay: Duration::from_millis(300),
        receipt_delay: Duration::from_millis(50),
        webhook_retry_backoff: Duration::from_millis(50),
        ..SandboxConfig::default()
    };
    change(&mut config);
    let sb = Sandbox::start_local(config).await.unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Env { sb, http }
}

/// appsecret_proof computed independently of the sandbox.
pub fn proof(token: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn signature_ok(header: &str, body: &[u8]) -> bool {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    header == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Env {
    pub fn graph(&self, path: &str) -> String {
        format!("{}/v24.0/{path}", self.sb.url())
    }

    pub fn token(&self, request: IssueToken) -> String {
        self.sb.issue_token(request).unwrap()
    }

    pub fn page_token(&self, n: usize) -> String {
        let page_id = self.sb.world().seed().pages[n - 1].id.clone();
        self.token(IssueToken::Page { page_id })
    }

    fn with_auth(token: &str, params: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut q: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !token.is_empty() {
            q.push(("access_token".into(), token.into()));
            q.push(("appsecret_proof".into(), proof(token)));
        }
        q
    }

    pub async fn get(&self, path: &str, token: &str, params: &[(&str, &str)]) -> Resp {
        read(
            self.http
                .get(self.graph(path))
                .query(&Self::with_auth(token, params))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn get_url(&self, url: &str) -> Resp {
        read(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Resp {
        let req = self
            .http
            .post(self.graph(path))
            .query(&Self::with_auth(token, &[]))
            .json(&body);
        read(req.send().await.unwrap()).await
    }

    pub async fn post_form(&self, path: &str, token: &str, form: &[(&str, &str)]) -> Resp {
        read(
            self.http
                .post(self.graph(path))
                .form(&Self::with_auth(token, form))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str, params: &[(&str, &str)]) -> Resp {
        read(
            self.http
                .delete(self.graph(path))
                .query(&Self::with_auth(token, params))
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

impl Resp {
    /// Asserts a Meta error body with this HTTP status, code and subcode.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: u64, subcode: Option<u64>) -> &str {
        assert_eq!(self.status, status, "{}", self.text);
        let e = &self.body["error"];
        assert_eq!(e["code"], code, "{}", self.text);
        assert_eq!(e["error_subcode"].as_u64(), subcode, "{}", self.text);
        assert!(
            e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()),
            "{}",
            self.text
        );
        assert!(e["type"].is_string(), "{}", self.text);
        e["message"].as_str().unwrap()
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.text);
        &self.body
    }
}

/// A webhook receiver recording the exact bytes and signature of every POST; the first
/// `fail_first` requests get a 500.
pub struct Receiver {
    pub url: String,
    pub hits: Arc<Mutex<Vec<(String, web::Bytes)>>>,
    pub fail_first: Arc<AtomicUsize>,
}

pub async fn receiver() -> Receiver {
    let hits: Arc<Mutex<Vec<(String, web::Bytes)>>> = Arc::default();
    let fail_first = Arc::new(AtomicUsize::new(0));
    let (h, f) = (hits.clone(), fail_first.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhooks/meta", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let (h, f) = (h.clone(), f.clone());
        App::new().route(
            "/webhooks/meta",
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let (h, f) = (h.clone(), f.clone());
                async move {
                    let sig = req
                        .headers()
                        .get("x-hub-signature-256")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    h.lock().unwrap().push((sig, body));
                    if f.load(Ordering::SeqCst) > 0 {
                        f.fetch_sub(1, Ordering::SeqCst);
                        return HttpResponse::InternalServerError().finish();
                    }
                    HttpResponse::Ok().body("EVENT_RECEIVED")
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver {
        url,
        hits,
        fail_first,
    }
}

impl Receiver {
    /// The parsed bodies received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }

    /// Waits until `n` webhooks matching `pred` arrived (5 s at most).
    pub async fn wait_for(&self, n: usize, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        for _ in 0..100 {
            let found: Vec<Value> = self.bodies().into_iter().filter(&pred).collect();
            if found.len() >= n {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("webhooks did not arrive; got {:?}", self.bodies());
    }
}

/// The field of the first change or the first key of the first messaging event.
pub fn kind_of(body: &Value) -> String {
    let entry = &body["entry"][0];
    if let Some(f) = entry["changes"][0]["field"].as_str() {
        return f.to_string();
    }
    entry["messaging"][0]
        .as_object()
        .and_then(|m| {
            m.keys()
                .find(|k| !["sender", "recipient", "timestamp"].contains(&k.as_str()))
                .cloned()
        })
        .unwrap_or_default()
}
