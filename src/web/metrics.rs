//! Per-request figures (counts and latencies by route and status, see
//! [`crate::telemetry::figures`]) and one log line per request inside the request's span
//! (which carries the request id).

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

use crate::telemetry::figures;

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
    let result = next.call(req).await;
    let elapsed = started.elapsed();
    let (status, route) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
        ),
        Err(e) => (e.as_response_error().status_code().as_u16(), "error".into()),
    };
    figures::http_request(&method, &route, status, elapsed);
    tracing::info!(
        status,
        ms = (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
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
}
