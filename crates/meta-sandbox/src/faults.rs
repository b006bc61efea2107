//! Fault injection (rate limits, edge errors, slow answers, revoked tokens) and the usage
//! headers (`X-App-Usage`, `X-Business-Use-Case-Usage`) every Graph response carries.

use std::collections::{HashMap, VecDeque};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::MetaError;
use super::world::State;

/// A fault: the next `count` Graph requests whose path contains `path` (or any, with `"*"`)
/// and whose method is `method` (any when `None`) get `kind` instead of a normal answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
    /// Matching requests answered normally before the fault starts.
    #[serde(default)]
    pub after: u32,
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

fn fifteen() -> u32 {
    15
}

impl Fault {
    /// A fault affecting the next matching request.
    pub fn new(path: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            path: path.into(),
            method: None,
            count: 1,
            after: 0,
            kind,
        }
    }

    /// Affects `count` matching requests.
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Only requests with this HTTP method.
    /// Lets the first `n` matching requests through.
    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.count > 0
            && (self.path == "*" || path.contains(&self.path))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Throttling error `code` (4, 17, 32, 613, 80001, 80002, 80006, 80007, 80008, 130429) with
    /// usage headers at or above 100% and `estimated_time_to_regain_access` in minutes.
    RateLimit {
        code: u32,
        #[serde(default = "fifteen")]
        regain_minutes: u32,
    },
    /// HTTP `status` (500, 502, 503): Meta's edge HTML page, or with `json` the JSON code 2
    /// `is_transient:true` error.
    ServerError {
        status: u16,
        #[serde(default)]
        json: bool,
    },
    /// Answers normally after `delay_ms`.
    Slow { delay_ms: u64 },
    /// Answers 190 with this subcode, as if the token had been revoked.
    RevokedToken { subcode: u32 },
    /// Answers `(#200)` "Permissions error": the token lacks a permission the call needs
    /// (e.g. `pages_manage_engagement` for comment moderation), as after a partial re-consent.
    MissingPermission {
        #[serde(default = "manage_engagement")]
        permission: String,
    },
    /// Answers Meta's invalid-metric error, as when Meta retires a metric Parley still asks for.
    InvalidMetric,
}

fn manage_engagement() -> String {
    "pages_manage_engagement".into()
}

/// Takes one use of the first fault matching the request.
pub(crate) fn take(state: &mut State, method: &str, path: &str) -> Option<FaultKind> {
    let index = state.faults.iter().position(|f| f.matches(method, path))?;
    let fault = &mut state.faults[index];
    if fault.after > 0 {
        fault.after -= 1;
        return None;
    }
    fault.count -= 1;
    let kind = fault.kind.clone();
    if fault.count == 0 {
        state.faults.remove(index);
    }
    Some(kind)
}

/// The throttling error for `code`.
pub(crate) fn rate_limit_error(code: u32) -> MetaError {
    let rl = "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.";
    match code {
        4 => MetaError::new(4, "(#4) Application request limit reached").transient(),
        17 => MetaError::new(17, "(#17) User request limit reached").transient(),
        32 => MetaError::new(32, "(#32) Page request limit reached"),
        80001 => MetaError::new(
            80001,
            format!(
                "(#80001) There have been too many calls to this Page account. Wait a bit and try again. {rl}"
            ),
        ),
        80002 => MetaError::new(
            80002,
            format!(
                "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. {rl}"
            ),
        ),
        80006 => MetaError::new(
            80006,
            format!(
                "(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again. {rl}"
            ),
        ),
        80007 => MetaError::new(80007, "(#80007) Rate limit issues"),
        80008 => MetaError::new(
            80008,
            format!(
                "(#80008) There have been too many calls to this WhatsApp Business account. Wait a bit and try again. {rl}"
            ),
        ),
        130429 => MetaError::whatsapp(
            130429,
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
            400,
        )
        .subcode(2494055),
        other => MetaError::new(
            other,
            format!("(#{other}) Calls to this api have exceeded the rate limit."),
        ),
    }
}

#[derive(Template)]
#[template(path = "edge_error.html")]
struct EdgeError {
    status: u16,
}

/// A 5xx as Meta's edge sends it (HTML), or the JSON code 2 transient error.
pub(crate) fn server_error(status: u16, json_body: bool) -> HttpResponse {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    if json_body {
        let e = MetaError::new(
            2,
            "An unexpected error has occurred. Please retry your request later.",
        )
        .transient()
        .status(status);
        return e.response();
    }
    match (EdgeError { status }).render() {
        Ok(html) => HttpResponse::build(code)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::build(code).finish(),
    }
}

/// Calls per rolling hour that make 100% of a budget.
/// Calls per hour of a small Page (the default budget of a business object).
pub const SMALL_PAGE_CALLS_PER_HOUR: usize = 200;

/// Calls per usage key in the last hour.
#[derive(Default)]
pub(crate) struct Usage {
    calls: HashMap<String, VecDeque<DateTime<Utc>>>,
}

impl Usage {
    fn record(&mut self, key: &str, now: DateTime<Utc>) -> usize {
        let q = self.calls.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| *t < now - TimeDelta::hours(1)) {
            q.pop_front();
        }
        q.push_back(now);
        q.len()
    }
}

/// Whose budget a call spends: the app's (user and app tokens) or a business object's (Page,
/// IG account or WABA, for Page and system-user tokens).
#[derive(Debug, Clone)]
pub(crate) enum UsageScope {
    App,
    Business { id: String, kind: &'static str },
}

/// Records one call and returns the usage header for it. `throttled` forces ≥100% with the
/// given minutes until access is regained.
pub(crate) fn usage_header(
    state: &mut State,
    scope: &UsageScope,
    throttled: Option<u32>,
    budget: usize,
) -> (&'static str, String) {
    let now = Utc::now();
    let key = match scope {
        UsageScope::App => "app".to_string(),
        UsageScope::Business { id, kind } => format!("{id}:{kind}"),
    };
    let calls = state.usage.record(&key, now);
    let budget = match scope {
        UsageScope::App => SMALL_PAGE_CALLS_PER_HOUR,
        UsageScope::Business { .. } => budget.max(1),
    };
    let mut pct = (calls * 100 / budget).min(99);
    let regain = throttled.unwrap_or(0);
    if throttled.is_some() {
        pct = 100 + calls % 20;
    }
    let (cpu, time) = if throttled.is_some() {
        (pct, pct)
    } else {
        (pct * 3 / 5, pct * 4 / 5)
    };
    match scope {
        UsageScope::App => (
            "X-App-Usage",
            json!({"call_count": pct, "total_cputime": cpu, "total_time": time}).to_string(),
        ),
        UsageScope::Business { id, kind } => (
            "X-Business-Use-Case-Usage",
            json!({ id.clone(): [{
                "type": kind,
                "call_count": pct,
                "total_cputime": cpu,
                "total_time": time,
                "estimated_time_to_regain_access": regain,
            }]})
            .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_by_path_and_method_and_run_out() {
        let mut state = State::default();
        state.faults.push(
            Fault::new("/messages", FaultKind::Slow { delay_ms: 1 })
                .times(2)
                .method("post"),
        );
        assert!(take(&mut state, "GET", "/v24.0/me/messages").is_none());
        assert!(take(&mut state, "POST", "/v24.0/me/messages").is_some());
        assert!(take(&mut state, "POST", "/v24.0/me/messages").is_some());
        assert!(take(&mut state, "POST", "/v24.0/me/messages").is_none());
    }

    #[test]
    fn usage_grows_with_traffic_and_shows_throttling() {
        let mut state = State::default();
        let scope = UsageScope::Business {
            id: "1".into(),
            kind: "pages",
        };
        for _ in 0..20 {
            usage_header(&mut state, &scope, None, SMALL_PAGE_CALLS_PER_HOUR);
        }
        let (_, v) = usage_header(&mut state, &scope, None, SMALL_PAGE_CALLS_PER_HOUR);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        assert_eq!(v["1"][0]["call_count"], 10);
        let (_, v) = usage_header(&mut state, &scope, Some(7), SMALL_PAGE_CALLS_PER_HOUR);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        assert!(v["1"][0]["call_count"].as_u64().unwrap() >= 100);
        assert_eq!(v["1"][0]["estimated_time_to_regain_access"], 7);
    }
}
