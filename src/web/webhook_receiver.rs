//! `/webhooks/meta`: Meta's handshake (GET) and deliveries (POST). A delivery is verified on its
//! raw bytes, committed to the ledger, and only then acknowledged; no Graph calls, no parsing
//! beyond the envelope's `object`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

use crate::state::AppState;
use crate::telemetry::figures::{self, Delivery};
use crate::webhooks::ingest::Ingest;
use crate::webhooks::verify;

/// Largest delivery accepted (WhatsApp sends up to 3 MB).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// GET /webhooks/meta: echo `hub.challenge` when the verify token matches.
pub async fn handshake(
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let token = state
        .config
        .meta
        .verify_token
        .as_ref()
        .map(|t| t.expose_secret().to_string());
    match verify::handshake(
        query.get("hub.mode").map(String::as_str),
        query.get("hub.verify_token").map(String::as_str),
        query.get("hub.challenge").map(String::as_str),
        token.as_deref(),
    ) {
        Some(challenge) => HttpResponse::Ok()
            .content_type("text/plain")
            .body(challenge.to_string()),
        None => HttpResponse::Forbidden()
            .content_type("text/plain")
            .body("verification failed"),
    }
}

/// POST /webhooks/meta
pub async fn receive(
    state: web::Data<AppState>,
    ingest: web::Data<Ingest>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    // The Facebook app signs Page, Instagram-through-a-Page and WhatsApp deliveries; the
    // Instagram Login app signs its accounts' deliveries.
    let meta = &state.config.meta;
    let secrets: Vec<&str> = [&meta.app_secret, &meta.instagram.app_secret]
        .into_iter()
        .flatten()
        .map(|s| s.expose_secret())
        .collect();
    let header = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = verify::verify_signed_by_any(&secrets, &body, header) {
        tracing::warn!(error = %e, "refused a webhook delivery");
        figures::webhook_delivery(Delivery::Refused);
        return HttpResponse::Unauthorized()
            .content_type("text/plain")
            .body("invalid signature");
    }
    match ingest.store(body).await {
        Ok(()) => {
            figures::webhook_delivery(Delivery::Accepted);
            HttpResponse::Ok()
                .content_type("text/plain")
                .body("EVENT_RECEIVED")
        }
        Err(e) => {
            figures::webhook_delivery(Delivery::Unavailable);
            // Not stored: make Meta retry.
            tracing::error!(error = %e, "could not store a webhook delivery");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("try again later")
        }
    }
}
