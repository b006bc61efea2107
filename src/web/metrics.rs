//! Request counts and latencies by route and status, exposed as Prometheus text at `/metrics`,
//! plus one log line per request inside the request's span (which carries the request id).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use crate::state::AppState;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// In-process request metrics (each process reports its own; Prometheus sums them).
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut series) = self.series.lock() else {
            return;
        };
        let s = series
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP parley_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE parley_http_requests_total counter\n");
        let Ok(series) = self.series.lock() else {
            return out;
        };
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "parley_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP parley_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE parley_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in series.iter() {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "parley_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "parley_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "parley_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "parley_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

/// The method as a label: the standard ones by name, any other (clients may invent methods
/// freely) as `OTHER`, so the series cannot grow without bound.
fn method_label(method: &actix_web::http::Method) -> String {
    use actix_web::http::Method;
    let known = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if known.contains(method) {
        method.as_str().to_string()
    } else {
        "OTHER".to_string()
    }
}

/// Gauges of the job queue: jobs by kind and state (`dead` ones included, periodic or not).
pub fn render_jobs(counts: &[(String, String, i64)]) -> String {
    let mut out = String::new();
    out.push_str("# HELP parley_jobs Jobs in the queue by kind and state (dead jobs wait for an operator).\n");
    out.push_str("# TYPE parley_jobs gauge\n");
    for (kind, state, n) in counts {
        let _ = writeln!(
            out,
            "parley_jobs{{kind=\"{}\",state=\"{}\"}} {n}",
            escape(kind),
            escape(state)
        );
    }
    out
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware: measures each request, logs it (path without query string, which may hold OAuth
/// codes) and returns the request id in `X-Request-Id`.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let request_id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let result = next.call(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (status, route) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
        ),
        Err(e) => (e.as_response_error().status_code().as_u16(), "error".into()),
    };
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed);
    }
    tracing::info!(
        status,
        ms = (elapsed * 1000.0 * 10.0).round() / 10.0,
        "request finished"
    );
    result.map(|mut res| {
        if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), id);
        }
        res
    })
}

/// The root span of every request: method, path (never the query string, which can carry OAuth
/// codes) and the request id, so every log line of a request can be found together.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            request_id = %request_id
        )
    }

    fn on_request_end<B: MessageBody>(
        _span: tracing::Span,
        _outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        use actix_web::http::Method;
        assert_eq!(method_label(&Method::GET), "GET");
        let made_up = Method::from_bytes(b"FOO123").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
    }

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/team", 200, 0.003);
        m.observe("GET", "/team", 200, 0.2);
        let text = m.render();
        assert!(text.contains(
            "parley_http_requests_total{method=\"GET\",route=\"/team\",status=\"200\"} 2"
        ));
        assert!(text.contains("route=\"/team\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/team\",status=\"200\",le=\"0.25\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
