//! The figures an operator watches, recorded through the `metrics` facade and exported in
//! Prometheus text at `/metrics` by `metrics-exporter-prometheus`. Each figure has one typed
//! function here, so names and labels are written once and label values stay bounded.
//!
//! Each process reports its own figures (Prometheus sums them); the queue and item gauges are
//! read from the shared database at scrape time, so every process reports the same ones.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const HTTP_REQUESTS: &str = "parley_http_requests_total";
const HTTP_DURATION: &str = "parley_http_request_duration_seconds";
const WEBHOOK_DELIVERIES: &str = "parley_webhook_deliveries_total";
const WEBHOOK_LAG: &str = "parley_webhook_processing_lag_seconds";
const WEBHOOK_ITEMS: &str = "parley_webhook_items";
const JOBS: &str = "parley_jobs";
const SENDS: &str = "parley_sends_total";
const GRAPH_ERRORS: &str = "parley_graph_errors_total";
const META_USAGE: &str = "parley_meta_usage_percent";

/// Upper bounds (seconds) of the request latency buckets.
const HTTP_BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// Upper bounds (seconds) of the webhook lag buckets: from "at once" to "far behind".
const LAG_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0];

/// Installs the process-wide recorder once (every app in a test process shares it) and returns
/// the handle that renders it; `None` if another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &HTTP_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(WEBHOOK_LAG.into()), &LAG_BUCKETS)
                })
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests by route and status.");
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency."
    );
    metrics::describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook deliveries from Meta: accepted (stored), refused (bad signature) or unavailable (not stored, Meta retries)."
    );
    metrics::describe_histogram!(
        WEBHOOK_LAG,
        metrics::Unit::Seconds,
        "From a delivery's receipt to its processing."
    );
    metrics::describe_gauge!(
        WEBHOOK_ITEMS,
        "Webhook items that need processing or an operator, by state."
    );
    metrics::describe_gauge!(
        JOBS,
        "Jobs in the queue by kind and state (dead jobs wait for an operator)."
    );
    metrics::describe_counter!(SENDS, "Outbound send attempts by platform and outcome.");
    metrics::describe_counter!(
        GRAPH_ERRORS,
        "Errors Meta's Graph API answered, by error code."
    );
    metrics::describe_gauge!(
        META_USAGE,
        "The last usage percentage Meta reported in its rate-limit headers, by budget."
    );
}

/// One finished HTTP request (`route` is the matched pattern, never the raw path).
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// What became of one webhook delivery at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Signed and stored: acknowledged with 200.
    Accepted,
    /// Bad or missing signature: 401.
    Refused,
    /// Not stored (database trouble): 503, so Meta retries.
    Unavailable,
}

/// One webhook delivery.
pub fn webhook_delivery(outcome: Delivery) {
    let outcome = match outcome {
        Delivery::Accepted => "accepted",
        Delivery::Refused => "refused",
        Delivery::Unavailable => "unavailable",
    };
    metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
}

/// How long a delivery waited between its receipt and its processing.
pub fn webhook_lag(waited: chrono::Duration) {
    let seconds = waited.num_milliseconds().max(0) as f64 / 1000.0;
    metrics::histogram!(WEBHOOK_LAG).record(seconds);
}

/// How many webhook items are in `state` (set at scrape time).
pub fn webhook_items(state: &str, count: i64) {
    metrics::gauge!(WEBHOOK_ITEMS, "state" => state.to_string()).set(count as f64);
}

/// How many jobs of `kind` are in `state` (set at scrape time).
pub fn jobs(kind: &str, state: &str, count: i64) {
    metrics::gauge!(JOBS, "kind" => kind.to_string(), "state" => state.to_string())
        .set(count as f64);
}

/// What one send attempt ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Meta accepted the message.
    Sent,
    /// Refused for good (window closed, blocked user, …): the message is marked failed.
    Failed,
    /// Will be tried again (Meta unavailable, throttled).
    Retried,
    /// Waited for a send budget (not a failure).
    Paced,
}

/// One send attempt on `platform`.
pub fn send(platform: &'static str, outcome: SendOutcome) {
    let outcome = match outcome {
        SendOutcome::Sent => "sent",
        SendOutcome::Failed => "failed",
        SendOutcome::Retried => "retried",
        SendOutcome::Paced => "paced",
    };
    metrics::counter!(SENDS, "platform" => platform, "outcome" => outcome).increment(1);
}

/// One error answer from the Graph API. Only Meta's documented numeric code is a label (the
/// subcode and message are in the logs), which keeps the series few.
pub fn graph_error(code: Option<i64>) {
    let code = code.map_or_else(|| "none".to_string(), |c| c.to_string());
    metrics::counter!(GRAPH_ERRORS, "code" => code).increment(1);
}

/// The last usage percentage Meta reported for a kind of budget (`app`, `page`, `business`, …).
pub fn meta_usage(budget: &'static str, percent: f64) {
    metrics::gauge!(META_USAGE, "budget" => budget).set(percent);
}
