//! The `/_sandbox/` control API (JSON) for local operators and tests. Unauthenticated by
//! design: the sandbox must never be reachable from outside the machine or test network.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::events::{self, CustomerEvent, CustomerMessage};
use super::faults::Fault;
use super::world::{IssueToken, TokenKind, TokenSelector};
use super::{Inner, SandboxError};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sandbox")
            .route("", web::get().to(index))
            .route("/", web::get().to(index))
            .route("/world", web::get().to(world))
            .route("/customers/message", web::post().to(customer_message))
            .route("/customers/event", web::post().to(customer_event))
            .route("/sent", web::get().to(sent))
            .route("/inbound", web::get().to(inbound))
            .route("/webhooks", web::get().to(webhooks))
            .route("/webhook_url", web::post().to(set_webhook_url))
            .route("/faults", web::post().to(add_faults))
            .route("/faults", web::delete().to(clear_faults))
            .route("/tokens", web::post().to(issue_token))
            .route("/tokens/revoke", web::post().to(revoke)),
    );
}

fn error(e: SandboxError) -> HttpResponse {
    let body = json!({"error": e.to_string()});
    match e {
        SandboxError::UnknownCustomer(_) | SandboxError::UnknownObject(_) => {
            HttpResponse::NotFound().json(body)
        }
        _ => HttpResponse::BadRequest().json(body),
    }
}

async fn index(data: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "sandbox": "Meta Graph API sandbox",
        "graph_url": data.base_url,
        "graph_version": data.config.graph_version,
        "endpoints": ["GET /_sandbox/world", "POST /_sandbox/customers/message", "POST /_sandbox/customers/event",
            "GET /_sandbox/sent", "GET /_sandbox/inbound", "GET /_sandbox/webhooks", "POST /_sandbox/webhook_url",
            "POST /_sandbox/faults", "DELETE /_sandbox/faults", "POST /_sandbox/tokens", "POST /_sandbox/tokens/revoke"],
    }))
}

async fn world(data: web::Data<Inner>) -> HttpResponse {
    let seed = data.world.seed();
    let subscriptions = data.world.lock().page_subscriptions.clone();
    let waba_subscribed = data.world.lock().waba_subscribed;
    HttpResponse::Ok().json(json!({
        "seed": seed,
        "graph_url": data.base_url,
        "dialog_url": data.base_url,
        "webhook_url": data.webhook_url(),
        "page_subscriptions": subscriptions,
        "waba_subscribed": waba_subscribed,
    }))
}

async fn customer_message(
    data: web::Data<Inner>,
    body: web::Json<CustomerMessage>,
) -> HttpResponse {
    match events::deliver(
        &data.into_inner(),
        CustomerEvent::Message(body.into_inner()),
    )
    .await
    {
        Ok(r) => HttpResponse::Ok().json(r),
        Err(e) => error(e),
    }
}

async fn customer_event(data: web::Data<Inner>, body: web::Json<CustomerEvent>) -> HttpResponse {
    match events::deliver(&data.into_inner(), body.into_inner()).await {
        Ok(r) => HttpResponse::Ok().json(r),
        Err(e) => error(e),
    }
}

async fn sent(data: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(data.world.sent_messages())
}

async fn inbound(data: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(data.world.inbound())
}

async fn webhooks(data: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(data.world.webhooks())
}

#[derive(Deserialize)]
struct WebhookUrl {
    url: Option<String>,
}

async fn set_webhook_url(data: web::Data<Inner>, body: web::Json<WebhookUrl>) -> HttpResponse {
    *data
        .webhook_url
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = body.into_inner().url;
    HttpResponse::Ok().json(json!({"webhook_url": data.webhook_url()}))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Faults {
    One(Fault),
    Many(Vec<Fault>),
}

async fn add_faults(data: web::Data<Inner>, body: web::Json<Faults>) -> HttpResponse {
    let faults = match body.into_inner() {
        Faults::One(f) => vec![f],
        Faults::Many(v) => v,
    };
    let mut state = data.world.lock();
    state.faults.extend(faults);
    HttpResponse::Ok().json(json!({"pending": state.faults}))
}

async fn clear_faults(data: web::Data<Inner>) -> HttpResponse {
    data.world.lock().faults.clear();
    HttpResponse::Ok().json(json!({"pending": []}))
}

async fn issue_token(data: web::Data<Inner>, body: web::Json<IssueToken>) -> HttpResponse {
    match data.world.issue(&body.into_inner()) {
        Ok(token) => HttpResponse::Ok().json(json!({"access_token": token})),
        Err(e) => error(e),
    }
}

#[derive(Deserialize)]
struct Revoke {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    kind: Option<TokenKind>,
    subcode: u32,
}

async fn revoke(data: web::Data<Inner>, body: web::Json<Revoke>) -> HttpResponse {
    let body = body.into_inner();
    let selector = match (body.token, body.kind) {
        (Some(t), _) => TokenSelector::Token(t),
        (None, Some(k)) => TokenSelector::Kind(k),
        (None, None) => TokenSelector::All,
    };
    let n = data.world.revoke(&selector, body.subcode);
    HttpResponse::Ok().json(json!({"revoked": n}))
}
