//! CSRF protection for every state-changing request.
//!
//! Forms carry the session's token in a hidden `csrf_token` field; htmx sends it in the
//! `X-CSRF-Token` header (set once on `<body hx-headers>`). Only `POST /webhooks/meta` is exempt:
//! Meta signs it.
//!
//! The guard runs before routing, so it reads as little as it can: nothing from a request
//! without a session token; an urlencoded body only up to a small limit, and from someone not
//! signed in only on `/login`; a multipart body never (an upload route reads it, token first,
//! see [`crate::web::uploads`]), and multipart is refused outright on every other route.

use actix_session::SessionExt;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use futures_util::StreamExt;

use crate::auth::session;
use crate::crypto::constant_time_eq;
use crate::error::AppError;
use crate::web::uploads;

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Name of the request header htmx sends.
pub const HEADER: &str = "x-csrf-token";
/// Largest urlencoded form a signed-in user posts (saved replies, notes).
const MAX_FORM_BYTES: usize = 256 * 1024;
/// Largest urlencoded form read from someone not signed in (the sign-in form).
const MAX_ANONYMOUS_FORM_BYTES: usize = 8 * 1024;

/// The one request authenticated some other way: Meta's signed webhook deliveries.
fn is_exempt(method: &Method, path: &str) -> bool {
    method == Method::POST && path == "/webhooks/meta"
}

/// Middleware: refuses an unsafe request whose token is missing or wrong with 403, before any
/// handler runs, so nothing changes.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_exempt(req.method(), req.path()) {
        return next.call(req).await;
    }
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if uploads::is_multipart(&content_type) && !uploads::accepts_multipart(req.path()) {
        return Err(AppError::UnsupportedMediaType.into());
    }
    let session = req.get_session();
    let Some(expected) = session::existing_csrf_token(&session) else {
        // No session token: refuse before reading any body.
        tracing::warn!(path = req.path(), "refused a request without a session");
        return Err(AppError::Csrf.into());
    };
    let signed_in = session::identity(&session).is_some();
    if !signed_in && req.path() != "/login" {
        // Only the sign-in form takes a body from someone not signed in.
        return Err(AppError::LoginRequired {
            next: "/".into(),
            htmx: req.headers().contains_key("hx-request"),
        }
        .into());
    }
    if let Some(submitted) = header_token(&req) {
        return if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
            next.call(req).await
        } else {
            Err(refuse(&req))
        };
    }
    if uploads::is_multipart(&content_type) {
        // An upload route: it reads the token as the form's first field, before anything else.
        uploads::expect_token_in_body(&req, expected);
        return next.call(req).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(refuse(&req));
    }
    let limit = if signed_in {
        MAX_FORM_BYTES
    } else {
        MAX_ANONYMOUS_FORM_BYTES
    };
    match form_token(&mut req, limit).await? {
        Some(submitted) if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) => {
            next.call(req).await
        }
        _ => Err(refuse(&req)),
    }
}

fn refuse(req: &ServiceRequest) -> actix_web::Error {
    tracing::warn!(
        path = req.path(),
        "refused a request without a valid CSRF token"
    );
    AppError::Csrf.into()
}

fn header_token(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads an urlencoded body (at most `limit` bytes) to find the token, then puts the body back
/// for the handler.
async fn form_token(
    req: &mut ServiceRequest,
    limit: usize,
) -> Result<Option<String>, actix_web::Error> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge.into());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
    req.set_payload(actix_http::Payload::from(body));
    Ok(token)
}
