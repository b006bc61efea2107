//! The Graph client's core: URLs, authentication (`Authorization` header + `appsecret_proof`),
//! pacing by usage headers, retries, and decoding. Every call to Meta goes through `call`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use crate::config::MetaConfig;
use crate::meta::error::{GraphError, GraphErrorKind};
use crate::meta::limits::SendLimits;
use crate::meta::redact::redact_url;
use crate::meta::token::{AccessToken, TokenHost, appsecret_proof};
use crate::meta::usage::{Pace, UsageReport, UsageTracker};

/// How hard the client retries on its own.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles each time, with jitter.
    pub base_delay: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_total: Duration::from_secs(15),
        }
    }
}

/// Everything the client needs to know about Meta and Parley's app.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    pub graph_url: String,
    pub graph_version: String,
    pub dialog_url: String,
    pub app_id: Option<String>,
    pub app_secret: Option<SecretString>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub send_limits: SendLimits,
    /// The Instagram Login app and its hosts.
    pub instagram: crate::config::InstagramLoginConfig,
}

impl GraphSettings {
    /// Settings from configuration, with default timeouts, retries and Meta's send rates.
    pub fn from_config(meta: &MetaConfig) -> Self {
        GraphSettings {
            graph_url: meta.graph_url.clone(),
            graph_version: meta.graph_version.clone(),
            dialog_url: meta.dialog_url.clone(),
            app_id: meta.app_id.clone(),
            app_secret: meta.app_secret.clone(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            send_limits: SendLimits::default(),
            instagram: meta.instagram.clone(),
        }
    }
}

/// The one client for Meta's Graph API (cheap to clone; shares connections and rate state).
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) settings: GraphSettings,
    pub(crate) usage: UsageTracker,
}

/// Who a call authenticates as.
pub(crate) enum Auth<'a> {
    /// No token (OAuth code exchange carries the client secret itself).
    None,
    /// The app token `app_id|app_secret` (debug_token).
    App,
    /// A user, Page or system-user token, with `appsecret_proof`.
    Token(&'a AccessToken),
}

/// What a call sends.
pub(crate) enum Body {
    Empty,
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
    Multipart(Box<dyn Fn() -> reqwest::multipart::Form + Send + Sync>),
    /// A file's bytes from `offset` (the Resumable Upload API).
    Raw {
        bytes: Vec<u8>,
        offset: u64,
    },
}

/// Which of Meta's hosts a call goes to. A call made with an Instagram Login token goes to
/// `graph.instagram.com` whatever it says here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    /// `graph.facebook.com/{version}/…`
    Graph,
    /// `graph.instagram.com/…` without a version (`access_token`, `refresh_access_token`).
    InstagramUnversioned,
    /// `api.instagram.com/…` (the code exchange).
    InstagramApi,
}

/// Whether a call may be repeated without effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads and idempotent writes: retried on transient failures and timeouts.
    Safe,
    /// Sends: retried only when Meta certainly did not act (connection refused, or Meta answered
    /// with a transient error); never after an ambiguous failure such as a timeout.
    Once,
}

/// One Graph call.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// Path after the version, e.g. `me/accounts`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Body,
    pub auth: Auth<'a>,
    pub repeat: Repeat,
    /// Business object ids whose usage budget this call spends (Page, IG account, WABA).
    pub budget: Vec<String>,
    pub host: Host,
}

impl<'a> Call<'a> {
    pub fn get(path: impl Into<String>, auth: Auth<'a>) -> Self {
        Call {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            auth,
            repeat: Repeat::Safe,
            budget: Vec::new(),
            host: Host::Graph,
        }
    }

    pub fn post(path: impl Into<String>, auth: Auth<'a>, body: Body, repeat: Repeat) -> Self {
        Call {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body,
            auth,
            repeat,
            budget: Vec::new(),
            host: Host::Graph,
        }
    }

    pub fn delete(path: impl Into<String>, auth: Auth<'a>) -> Self {
        Call {
            method: Method::DELETE,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            auth,
            repeat: Repeat::Safe,
            budget: Vec::new(),
            host: Host::Graph,
        }
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub fn query_opt(self, key: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    pub fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    pub fn budget(mut self, object_id: &str) -> Self {
        self.budget.push(object_id.to_string());
        self
    }
}

/// `{"success": true}` answers.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Success {
    #[serde(default, deserialize_with = "bool_or_string")]
    pub success: bool,
}

/// Meta sometimes says `"success": "true"` (string); accept both.
fn bool_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(matches!(v, serde_json::Value::Bool(true)) || v.as_str() == Some("true"))
}
use serde::Deserialize as _;

impl GraphClient {
    /// Builds the client (one connection pool for all of Parley).
    pub fn new(settings: GraphSettings) -> Result<GraphClient, GraphError> {
        let http = crate::http_client::build(settings.connect_timeout, settings.timeout)
            .map_err(|e| GraphError::unexpected(format!("cannot build the HTTP client: {e}")))?;
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                settings,
                usage: UsageTracker::default(),
            }),
        })
    }

    /// The configured Graph version (e.g. `v24.0`).
    /// How much of the object's (or, for `"app"`, the app's) call budget Meta last reported
    /// as used, in percent, if known and recent.
    pub fn budget_used(&self, object_id: &str) -> Option<f64> {
        self.inner.usage.used(object_id)
    }

    pub fn version(&self) -> &str {
        &self.inner.settings.graph_version
    }

    /// Settings in force.
    pub fn settings(&self) -> &GraphSettings {
        &self.inner.settings
    }

    pub(crate) fn app_id(&self) -> Result<&str, GraphError> {
        self.inner
            .settings
            .app_id
            .as_deref()
            .ok_or_else(|| GraphError::not_configured("META_APP_ID"))
    }

    pub(crate) fn app_secret(&self) -> Result<&str, GraphError> {
        self.inner
            .settings
            .app_secret
            .as_ref()
            .map(|s| s.expose_secret())
            .ok_or_else(|| GraphError::not_configured("META_APP_SECRET"))
    }

    /// The Instagram Login app's id.
    pub(crate) fn instagram_app_id(&self) -> Result<&str, GraphError> {
        self.inner
            .settings
            .instagram
            .app_id
            .as_deref()
            .ok_or_else(|| GraphError::not_configured("META_INSTAGRAM_APP_ID"))
    }

    /// The Instagram Login app's secret (token exchanges, and the proof of its tokens).
    pub(crate) fn instagram_app_secret(&self) -> Result<&str, GraphError> {
        self.inner
            .settings
            .instagram
            .app_secret
            .as_ref()
            .map(|s| s.expose_secret())
            .ok_or_else(|| GraphError::not_configured("META_INSTAGRAM_APP_SECRET"))
    }

    fn url(&self, call: &Call<'_>) -> String {
        let s = &self.inner.settings;
        let path = call.path.trim_start_matches('/');
        let instagram_token =
            matches!(&call.auth, Auth::Token(t) if t.host() == TokenHost::Instagram);
        match call.host {
            Host::InstagramApi => format!("{}/{path}", s.instagram.api_url),
            Host::InstagramUnversioned => format!("{}/{path}", s.instagram.graph_url),
            Host::Graph if instagram_token => {
                format!("{}/{}/{path}", s.instagram.graph_url, s.graph_version)
            }
            Host::Graph => format!("{}/{}/{path}", s.graph_url, s.graph_version),
        }
    }

    /// Makes one call, pacing, retrying and decoding as its `Repeat` allows.
    pub(crate) async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, GraphError> {
        let body = self.send(call).await?;
        serde_json::from_slice(&body).map_err(|e| {
            GraphError::unexpected(format!(
                "Meta's answer did not have the expected shape: {e}"
            ))
        })
    }

    /// Makes one call and returns the raw body of a successful answer.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Vec<u8>, GraphError> {
        // A Page-token or WhatsApp call spends its business objects' budgets; only calls without
        // one (app and user tokens) are paced by the app's.
        let keys = crate::meta::usage::budget_keys(&call.budget);
        match self.inner.usage.pace(&keys) {
            Pace::Go => {}
            Pace::Delay(d) => tokio::time::sleep(d).await,
            Pace::Blocked(d) => return Err(GraphError::throttled_locally(d)),
        }
        let url = self.url(&call);
        let policy = self.inner.settings.retry;
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.attempt(&call, &url).await;
            let err = match result {
                Ok(body) => return Ok(body),
                Err(err) => err,
            };
            match err.kind {
                GraphErrorKind::RateLimited { retry_after } => {
                    self.inner.usage.refused(&keys, retry_after)
                }
                // Meta answered, and not with a rate limit: for pacing, that is acceptance.
                _ if err.meta.is_some() => self.inner.usage.accepted(&keys),
                // No answer: let another call probe.
                _ => self.inner.usage.probe_ended(&keys),
            }
            let may_retry = match call.repeat {
                Repeat::Safe => matches!(
                    err.kind,
                    GraphErrorKind::Transient | GraphErrorKind::Network { .. }
                ),
                Repeat::Once => {
                    matches!(err.kind, GraphErrorKind::Network { ambiguous: false })
                        || (err.kind == GraphErrorKind::Transient && err.meta.is_some())
                }
            };
            let delay = backoff(policy.base_delay, attempt);
            if !may_retry
                || attempt >= policy.max_attempts
                || started.elapsed() + delay > policy.max_total
            {
                return Err(err);
            }
            tracing::info!(
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %err,
                "retrying a Graph call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, call: &Call<'_>, url: &str) -> Result<Vec<u8>, GraphError> {
        let mut query: Vec<(&str, String)> = call.query.clone();
        let mut request = self.inner.http.request(call.method.clone(), url);
        match &call.auth {
            Auth::None => {}
            Auth::App => {
                let app_token = format!("{}|{}", self.app_id()?, self.app_secret()?);
                request = request.bearer_auth(app_token);
            }
            Auth::Token(token) => {
                // Each app proves its own tokens.
                let secret = match token.host() {
                    TokenHost::Facebook => self.app_secret()?,
                    TokenHost::Instagram => self.instagram_app_secret()?,
                };
                query.push((
                    "appsecret_proof",
                    appsecret_proof(secret, token.expose_secret()),
                ));
                request = request.bearer_auth(token.expose_secret());
            }
        }
        request = request.query(&query);
        request = match &call.body {
            Body::Empty => request,
            Body::Json(v) => request.json(v),
            Body::Form(fields) => request.form(fields),
            Body::Multipart(make) => request.multipart(make()),
            Body::Raw { bytes, offset } => request
                .header("file_offset", offset.to_string())
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(bytes.clone()),
        };
        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            // Connection failures never reached Meta; anything later might have.
            let ambiguous = !e.is_connect();
            GraphError::network(ambiguous, describe_reqwest(&e))
        })?;
        let status = response.status().as_u16();
        let usage = UsageReport::from_headers(response.headers());
        let keys = crate::meta::usage::budget_keys(&call.budget);
        if (200..300).contains(&status) {
            // Before recording: the fresh figures of this answer then replace the refusal's.
            self.inner.usage.accepted(&keys);
        }
        self.inner.usage.record(&usage, &keys);
        let body = response
            .bytes()
            .await
            .map_err(|e| GraphError::network(true, describe_reqwest(&e)))?;
        tracing::debug!(
            method = %call.method,
            url = %redact_url(url),
            status,
            ms = started.elapsed().as_millis() as u64,
            "graph call"
        );
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        let mut err = GraphError::from_response(status, &body);
        crate::telemetry::figures::graph_error(err.meta.as_ref().map(|m| m.code));
        if let GraphErrorKind::RateLimited { retry_after } = &mut err.kind {
            *retry_after = regain_time(&usage, &call.budget);
        }
        Err(err)
    }
}

/// The longest `estimated_time_to_regain_access` announced for the call's budgets.
fn regain_time(usage: &UsageReport, budget: &[String]) -> Option<Duration> {
    let minutes = usage
        .business
        .iter()
        .filter(|(id, _)| budget.is_empty() || budget.contains(id))
        .flat_map(|(_, entries)| entries.iter().map(|e| e.estimated_time_to_regain_access))
        .fold(0.0, f64::max);
    (minutes > 0.0).then(|| Duration::from_secs_f64(minutes * 60.0))
}

/// Exponential backoff with ±50% jitter.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(10) as i32);
    let jitter = 0.5 + crate::crypto::random_bytes(1)[0] as f64 / 255.0;
    Duration::from_secs_f64(exp * jitter)
}

/// reqwest's message without the URL (which may carry a token).
fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    let root = redact_url(&root);
    if root.is_empty() {
        format!("Meta could not be reached: {kind}")
    } else {
        format!("Meta could not be reached: {kind} ({root})")
    }
}
