//! Webhooks to Parley: Meta's envelopes, `X-Hub-Signature-256` over the exact bytes sent,
//! delivery with retries, and a record of every attempt.
//!
//! Like Meta, a webhook goes out only when it is subscribed: a Page field through the Page's
//! `subscribed_apps`, Instagram events when the linked Page has any subscription, WhatsApp
//! events when the WABA's `subscribed_apps` has the app.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::Inner;
use super::util::{escape_unicode_json, hmac_hex};
use super::world::DeliveredWebhook;

/// Where a webhook belongs, for the subscription check and the record.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Page {
        page_id: String,
        field: &'static str,
    },
    Instagram {
        ig_id: String,
        field: &'static str,
    },
    Waba {
        field: &'static str,
    },
}

impl Target {
    fn object(&self) -> &'static str {
        match self {
            Target::Page { .. } => "page",
            Target::Instagram { .. } => "instagram",
            Target::Waba { .. } => "whatsapp_business_account",
        }
    }

    fn field(&self) -> &'static str {
        match self {
            Target::Page { field, .. }
            | Target::Instagram { field, .. }
            | Target::Waba { field } => field,
        }
    }
}

/// `{"object","entry":[{"id","time"(ms),"messaging":[event]}]}`.
pub(crate) fn messaging_envelope(object: &str, entry_id: &str, event: Value) -> Value {
    json!({"object": object, "entry": [{"id": entry_id, "time": Utc::now().timestamp_millis(), "messaging": [event]}]})
}

/// `{"object","entry":[{"id","time"(s),"changes":[{"field","value"}]}]}`.
pub(crate) fn changes_envelope(object: &str, entry_id: &str, field: &str, value: Value) -> Value {
    json!({"object": object, "entry": [{"id": entry_id, "time": Utc::now().timestamp(), "changes": [{"field": field, "value": value}]}]})
}

/// A WhatsApp `messages` change for the WABA.
pub(crate) fn whatsapp_envelope(inner: &Inner, value: Value) -> Value {
    let seed = inner.world.seed();
    json!({"object": "whatsapp_business_account", "entry": [{"id": seed.waba.id, "changes": [{"value": value, "field": "messages"}]}]})
}

/// The `value` head every WhatsApp `messages` change starts with.
pub(crate) fn whatsapp_value(inner: &Inner) -> Value {
    let phone = &inner.world.seed().phone_number;
    json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.digits, "phone_number_id": phone.id},
    })
}

/// Why a webhook for `target` would not be sent, if it would not.
fn unsubscribed(inner: &Inner, target: &Target) -> Option<String> {
    let state = inner.world.lock();
    match target {
        Target::Page { page_id, field } => {
            let subscribed = state
                .page_subscriptions
                .get(page_id)
                .is_some_and(|f| f.iter().any(|x| x == field));
            (!subscribed).then(|| {
                format!("not sent: Page {page_id} is not subscribed to the {field} field (POST /{page_id}/subscribed_apps)")
            })
        }
        Target::Instagram { ig_id, field } if inner.world.seed().is_instagram_login_only(ig_id) => {
            let subscribed = state
                .ig_subscriptions
                .get(ig_id)
                .is_some_and(|f| f.iter().any(|x| x == field));
            (!subscribed).then(|| {
                format!("not sent: Instagram account {ig_id} is not subscribed to the {field} field (POST /me/subscribed_apps)")
            })
        }
        Target::Instagram { ig_id, .. } => {
            let page = inner
                .world
                .seed()
                .page_of_account(ig_id)
                .map(|p| p.id.clone());
            let subscribed = page
                .as_ref()
                .and_then(|p| state.page_subscriptions.get(p))
                .is_some_and(|f| !f.is_empty());
            (!subscribed).then(|| {
                format!(
                    "not sent: the Page linked to Instagram account {ig_id} has no subscribed_apps subscription"
                )
            })
        }
        Target::Waba { .. } => (!state.waba_subscribed).then(|| {
            "not sent: the WhatsApp Business Account has no subscribed_apps subscription".into()
        }),
    }
}

/// Delivers after `delay` in the background.
pub(crate) fn schedule(inner: &Arc<Inner>, target: Target, body: Value, delay: Duration) {
    let inner = inner.clone();
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if !inner.is_stopped() {
            deliver(&inner, target, body).await;
        }
    });
}

/// Signs and posts one webhook; returns the first attempt. Failed deliveries are retried in
/// the background (3 more times, backoff doubling from `webhook_retry_backoff`).
pub(crate) async fn deliver(inner: &Arc<Inner>, target: Target, body: Value) -> DeliveredWebhook {
    let bytes = escape_unicode_json(&body.to_string());
    // An account without a Page is served by the Instagram app, which signs its webhooks.
    let secret = match &target {
        Target::Instagram { ig_id, .. } if inner.world.seed().is_instagram_login_only(ig_id) => {
            &inner.config.instagram_app_secret
        }
        _ => &inner.config.app_secret,
    };
    let signature = format!("sha256={}", hmac_hex(secret.as_bytes(), bytes.as_bytes()));
    let url = match &target {
        Target::Waba { .. } => inner
            .world
            .lock()
            .waba_override_uri
            .clone()
            .or_else(|| inner.webhook_url()),
        _ => inner.webhook_url(),
    };
    let problem = unsubscribed(inner, &target).or_else(|| {
        url.is_none()
            .then(|| "not sent: no webhook_url is configured".to_string())
    });
    let mut record = DeliveredWebhook {
        delivery_id: inner.world.lock().next_delivery_id(),
        attempt: 0,
        url: url.clone(),
        object: target.object().into(),
        field: target.field().into(),
        body: bytes,
        signature,
        status: None,
        error: problem.clone(),
        at: Utc::now(),
    };
    let Some(url) = url.filter(|_| problem.is_none()) else {
        inner.world.lock().webhooks.push(record.clone());
        return record;
    };
    record.attempt = 1;
    let first = attempt(inner, &url, record).await;
    if first.status != Some(200) {
        let inner = inner.clone();
        let mut next = first.clone();
        tokio::spawn(async move {
            let mut backoff = inner.config.webhook_retry_backoff;
            for n in 2..=4 {
                tokio::time::sleep(backoff).await;
                if inner.is_stopped() {
                    return;
                }
                next.attempt = n;
                next = attempt(&inner, &url, next).await;
                if next.status == Some(200) {
                    return;
                }
                backoff *= 2;
            }
        });
    }
    first
}

async fn attempt(inner: &Inner, url: &str, mut record: DeliveredWebhook) -> DeliveredWebhook {
    record.at = Utc::now();
    let result = inner
        .client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature-256", &record.signature)
        .header("User-Agent", "facebookexternalua")
        .body(record.body.clone())
        .send()
        .await;
    match result {
        Ok(resp) => {
            record.status = Some(resp.status().as_u16());
            record.error = (!resp.status().is_success()).then(|| format!("HTTP {}", resp.status()));
        }
        Err(e) => {
            record.status = None;
            record.error = Some(e.to_string());
        }
    }
    tracing::debug!(object = %record.object, field = %record.field, attempt = record.attempt, status = ?record.status, "sandbox webhook");
    inner.world.lock().webhooks.push(record.clone());
    record
}
