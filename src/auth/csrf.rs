//! CSRF protection for every state-changing request.
//!
//! Forms carry the session's token in a hidden `csrf_token` field; htmx sends it in the
//! `X-CSRF-Token` header (set once on `<body hx-headers>`). Webhooks are exempt: Meta signs them.

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

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Name of the request header htmx sends.
pub const HEADER: &str = "x-csrf-token";
/// Largest urlencoded form read to find the token.
const MAX_FORM_BYTES: usize = 256 * 1024;
/// Multipart forms carry attachments (25 MB) plus their other fields.
pub const MAX_MULTIPART_BYTES: usize = 26 * 1024 * 1024;

/// Paths that are authenticated some other way.
fn is_exempt(path: &str) -> bool {
    path.starts_with("/webhooks/")
}

/// Middleware: refuses an unsafe request whose token is missing or wrong with 403, before any
/// handler runs, so nothing changes.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_exempt(req.path()) {
        return next.call(req).await;
    }
    let Some(expected) = session::existing_csrf_token(&req.get_session()) else {
        // No session token: refuse before reading any body.
        tracing::warn!(path = req.path(), "refused a request without a session");
        return Err(AppError::Csrf.into());
    };
    let expected = Some(expected);
    let submitted = match header_token(&req) {
        Some(token) => Some(token),
        None => form_token(&mut req).await?,
    };
    match (expected, submitted) {
        (Some(expected), Some(submitted))
            if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) =>
        {
            next.call(req).await
        }
        _ => {
            tracing::warn!(
                path = req.path(),
                "refused a request without a valid CSRF token"
            );
            Err(AppError::Csrf.into())
        }
    }
}

fn header_token(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads an urlencoded body to find the token, then puts the body back for the handler.
async fn form_token(req: &mut ServiceRequest) -> Result<Option<String>, actix_web::Error> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let boundary = crate::web::multipart::boundary(&content_type);
    let limit = match (
        &boundary,
        content_type.starts_with("application/x-www-form-urlencoded"),
    ) {
        (Some(_), _) => MAX_MULTIPART_BYTES,
        (None, true) => MAX_FORM_BYTES,
        (None, false) => return Ok(None),
    };
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
    let token = match boundary {
        // Forms put the token first; a file upload without JavaScript still carries it.
        Some(b) => crate::web::multipart::parse(&body, &b)
            .into_iter()
            .find(|p| p.name == FIELD && p.filename.is_none())
            .and_then(|p| String::from_utf8(p.data.to_vec()).ok()),
        None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v)),
    };
    req.set_payload(actix_http::Payload::from(body));
    Ok(token)
}
