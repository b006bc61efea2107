//! WhatsApp Cloud API: the WABA and phone number nodes, `subscribed_apps`, `register`, and
//! `POST /{phone-number-id}/messages` with the 24 h window, templates and pair rate limit,
//! followed by `sent` / `delivered` / `read` status webhooks.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::auth::MetaError;
use super::fields::{paginate, select, select_all};
use super::graph::Ctx;
use super::seed::{APP_NAME, Channel};
use super::util::random_alnum;
use super::webhooks::{self, Target};
use super::world::{SentMessage, State};

const PHONE_DEFAULT: &str = "verified_name,code_verification_status,display_phone_number,quality_rating,platform_type,throughput,last_onboarded_time,id";
const TYPES: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "reaction",
    "location",
    "contacts",
    "interactive",
    "template",
];

fn phone_json(ctx: &Ctx) -> Value {
    let p = &ctx.seed().phone_number;
    json!({
        "id": p.id,
        "display_phone_number": p.display_phone_number,
        "verified_name": p.verified_name,
        "code_verification_status": "VERIFIED",
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "name_status": "APPROVED",
        "status": "CONNECTED",
        "account_mode": "LIVE",
        "is_official_business_account": false,
        "whatsapp_business_manager_messaging_limit": "TIER_2K",
        "last_onboarded_time": "2026-01-15T09:30:00+0000",
    })
}

/// `GET /{waba-id}`, `/{waba-id}/phone_numbers`, `POST|GET|DELETE /{waba-id}/subscribed_apps`.
pub(crate) fn waba(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    let seed = ctx.seed();
    match (ctx.edge.as_deref(), ctx.method()) {
        (None, "GET") => {
            let full = json!({
                "id": seed.waba.id,
                "name": seed.waba.name,
                "currency": seed.waba.currency,
                "timezone_id": seed.waba.timezone_id,
                "message_template_namespace": seed.waba.message_template_namespace,
                "account_review_status": "APPROVED",
                "business_verification_status": "verified",
                "country": "US",
                "ownership_type": "CLIENT_OWNED",
                "primary_business_location": "US",
            });
            select(
                &full,
                &ctx.req.fields("id,name")?,
                "WhatsAppBusinessAccount",
                &[],
            )
        }
        (Some("phone_numbers"), "GET") => {
            let fields = ctx.req.fields(PHONE_DEFAULT)?;
            let mut page = paginate(
                ctx.req,
                &ctx.inner.base_url,
                vec![(seed.phone_number.id.clone(), phone_json(ctx))],
                25,
            )?;
            if let Some(data) = page.get("data").and_then(Value::as_array) {
                page["data"] = Value::Array(select_all(
                    data,
                    &fields,
                    "WhatsAppBusinessPhoneNumber",
                    &[],
                )?);
            }
            Ok(page)
        }
        (Some("subscribed_apps"), "POST") => {
            let mut state = ctx.inner.world.lock();
            state.waba_subscribed = true;
            if let Some(uri) = ctx.req.text("override_callback_uri") {
                if ctx.req.text("verify_token").is_none() {
                    return Err(MetaError::required("verify_token"));
                }
                state.waba_override_uri = Some(uri);
            }
            Ok(json!({"success": true}))
        }
        (Some("subscribed_apps"), "DELETE") => {
            let mut state = ctx.inner.world.lock();
            state.waba_subscribed = false;
            state.waba_override_uri = None;
            Ok(json!({"success": true}))
        }
        (Some("subscribed_apps"), "GET") => {
            let state = ctx.inner.world.lock();
            if !state.waba_subscribed {
                return Ok(json!({"data": []}));
            }
            let mut app = json!({"whatsapp_business_api_data": {"link": format!("https://www.facebook.com/games/?app_id={}", seed.app_id), "name": APP_NAME, "id": seed.app_id}});
            if let Some(uri) = &state.waba_override_uri {
                app["override_callback_uri"] = json!(uri);
            }
            Ok(json!({"data": [app]}))
        }
        _ => Err(ctx.no_such_edge("WhatsAppBusinessAccount")),
    }
}

/// `GET /{phone-number-id}`, `POST /{phone-number-id}/register` and `/deregister`.
pub(crate) fn phone(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    match (ctx.edge.as_deref(), ctx.method()) {
        (None, "GET") => select(
            &phone_json(ctx),
            &ctx.req.fields(PHONE_DEFAULT)?,
            "WhatsAppBusinessPhoneNumber",
            &[],
        ),
        (Some(edge @ ("register" | "deregister")), "POST") => {
            if edge == "register" {
                if ctx.req.text("messaging_product").as_deref() != Some("whatsapp") {
                    return Err(MetaError::required("messaging_product"));
                }
                let pin = ctx
                    .req
                    .text("pin")
                    .ok_or_else(|| MetaError::required("pin"))?;
                if pin.len() != 6 || !pin.chars().all(|c| c.is_ascii_digit()) {
                    return Err(MetaError::param("Param pin must be 6 digits").user(
                        "Invalid PIN",
                        "The two-step verification PIN must be 6 digits.",
                    ));
                }
            }
            let now = Utc::now();
            let mut state = ctx.inner.world.lock();
            state
                .registrations
                .retain(|t| now - *t < TimeDelta::hours(72));
            if state.registrations.len() >= 10 {
                return Err(MetaError::whatsapp(
                    133016,
                    "Account register deregister rate limit exceeded",
                    "Registration or deregistration failed because there were too many attempts for this phone number in a short period of time.",
                    400,
                ));
            }
            state.registrations.push(now);
            Ok(json!({"success": true}))
        }
        _ => Err(ctx.no_such_edge("WhatsAppBusinessPhoneNumber")),
    }
}

fn missing(what: &str) -> MetaError {
    MetaError::whatsapp(
        131008,
        "Required parameter is missing",
        format!("The parameter {what} is required."),
        400,
    )
}

fn invalid(details: impl Into<String>) -> MetaError {
    MetaError::whatsapp(131009, "Parameter value is not valid", details, 400)
}

/// Takes one message from the pair bucket (burst 45, refilled 1 per 6 s) or refuses.
fn pair_rate(state: &mut State, wa_id: &str, now: DateTime<Utc>) -> Result<(), MetaError> {
    let (tokens, last) = state
        .pair_buckets
        .get(wa_id)
        .copied()
        .unwrap_or((45.0, now));
    let refilled = (tokens + (now - last).num_milliseconds() as f64 / 6000.0).min(45.0);
    if refilled < 1.0 {
        state
            .pair_buckets
            .insert(wa_id.to_string(), (refilled, now));
        return Err(MetaError::whatsapp(
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
            400,
        ));
    }
    state
        .pair_buckets
        .insert(wa_id.to_string(), (refilled - 1.0, now));
    Ok(())
}

fn validate(ctx: &Ctx, kind: &str, body: &Value) -> Result<(), MetaError> {
    let obj = body.get(kind).cloned().unwrap_or(Value::Null);
    match kind {
        "text" => {
            let text = obj
                .get("body")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| missing("text['body']"))?;
            if text.chars().count() > 4096 {
                return Err(invalid(
                    "Param text['body'] must be at most 4096 characters long.",
                ));
            }
        }
        "image" | "video" | "audio" | "document" | "sticker" => {
            if let Some(id) = obj.get("id").and_then(Value::as_str) {
                if !ctx.inner.world.lock().media.contains_key(id) {
                    return Err(invalid(format!("Invalid media id {id}")));
                }
            } else {
                let link = obj
                    .get("link")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing(&format!("{kind}['id'] or {kind}['link']")))?;
                if !(link.starts_with("http://") || link.starts_with("https://")) {
                    return Err(invalid(format!(
                        "Param {kind}['link'] must be a valid http(s) URL."
                    )));
                }
            }
        }
        "reaction" => {
            obj.get("message_id")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("reaction['message_id']"))?;
            obj.get("emoji")
                .ok_or_else(|| missing("reaction['emoji']"))?;
        }
        "location" => {
            for f in ["latitude", "longitude"] {
                obj.get(f)
                    .ok_or_else(|| missing(&format!("location['{f}']")))?;
            }
        }
        "contacts" => {
            body.get("contacts")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| missing("contacts"))?;
        }
        "interactive" => {
            let t = obj
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("interactive['type']"))?;
            if t == "button" {
                let buttons = obj
                    .pointer("/action/buttons")
                    .and_then(Value::as_array)
                    .ok_or_else(|| missing("interactive['action']['buttons']"))?;
                if buttons.is_empty() || buttons.len() > 3 {
                    return Err(invalid("Reply buttons must number 1 to 3."));
                }
                if buttons.iter().any(|b| {
                    b.pointer("/reply/title")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t.chars().count() > 20)
                }) {
                    return Err(invalid("Button titles must be 1 to 20 characters."));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `POST /{phone-number-id}/messages`.
pub(crate) fn send(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    if ctx.method() != "POST" {
        return Err(ctx.no_such_edge("WhatsAppBusinessPhoneNumber"));
    }
    let req = ctx.req;
    let body = req.params_json();
    if req.text("messaging_product").as_deref() != Some("whatsapp") {
        return Err(MetaError::required("messaging_product"));
    }
    if req.text("status").as_deref() == Some("read") {
        req.text("message_id")
            .ok_or_else(|| MetaError::required("message_id"))?;
        return Ok(json!({"success": true}));
    }
    let input = req.text("to").ok_or_else(|| MetaError::required("to"))?;
    let wa_id: String = input.chars().filter(char::is_ascii_digit).collect();
    if wa_id.len() < 8 {
        return Err(invalid(format!(
            "Param to has an invalid phone number: {input}"
        )));
    }
    let kind = req.text("type").unwrap_or_else(|| "text".into());
    if !TYPES.contains(&kind.as_str()) {
        return Err(MetaError::param(format!(
            "Param type must be one of {{{}}} - got \"{kind}\"",
            TYPES.join(", ")
        )));
    }
    validate(ctx, &kind, &body)?;
    let now = Utc::now();
    let known = ctx
        .seed()
        .customers
        .iter()
        .any(|c| c.channel == Channel::WhatsApp && c.id == wa_id);
    let in_window = ctx
        .inner
        .world
        .last_inbound(&wa_id)
        .is_some_and(|t| now - t < TimeDelta::hours(24));
    let category = if kind == "template" {
        let template = req.obj("template").ok_or_else(|| missing("template"))?;
        Some(super::template_rules::check_send(
            &ctx.inner.world.lock(),
            &template,
        )?)
    } else {
        if !in_window {
            return Err(MetaError::whatsapp(
                131047,
                "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
                400,
            ));
        }
        None
    };
    let wamid = format!("wamid.HBgL{}", random_alnum(48));
    {
        let mut state = ctx.inner.world.lock();
        pair_rate(&mut state, &wa_id, now)?;
        state.last_outbound.insert(wa_id.clone(), wamid.clone());
        state.sent.push(SentMessage {
            message_id: wamid.clone(),
            channel: Channel::WhatsApp,
            account_id: ctx.seed().phone_number.id.clone(),
            recipient: wa_id.clone(),
            path: req.path.clone(),
            body: body.clone(),
            at: now,
        });
    }
    let pricing = pricing(category.as_deref(), in_window);
    statuses(
        ctx,
        &wamid,
        &wa_id,
        known,
        pricing,
        req.text("biz_opaque_callback_data"),
    );
    let mut message = json!({"id": wamid});
    if category.is_some() {
        message["message_status"] = json!("accepted");
    }
    Ok(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": input, "wa_id": wa_id}], "messages": [message]}),
    )
}

/// Per-message pricing (PMP): service replies and utility templates in the window are free.
fn pricing(template_category: Option<&str>, in_window: bool) -> Value {
    let category = template_category
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "service".into());
    let free = category == "service" || (category == "utility" && in_window);
    json!({
        "billable": !free,
        "pricing_model": "PMP",
        "type": if free { "free_customer_service" } else { "regular" },
        "category": category,
    })
}

fn statuses(
    ctx: &Ctx,
    wamid: &str,
    wa_id: &str,
    known: bool,
    pricing: Value,
    callback: Option<String>,
) {
    let delay = ctx.inner.config.receipt_delay;
    let status = |name: &str, offset: i64, with_pricing: bool| {
        let mut s = json!({
            "id": wamid,
            "status": name,
            "timestamp": (Utc::now().timestamp() + offset).to_string(),
            "recipient_id": wa_id,
        });
        if with_pricing {
            s["pricing"] = pricing.clone();
        }
        if let Some(c) = &callback {
            s["biz_opaque_callback_data"] = json!(c);
        }
        s
    };
    let mut sequence = vec![(status("sent", 0, true), delay / 4)];
    if known {
        sequence.push((status("delivered", 1, true), delay));
        sequence.push((status("read", 2, false), delay * 2));
    } else {
        let mut failed = status("failed", 1, false);
        failed["errors"] = json!([{
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }]);
        sequence.push((failed, delay));
    }
    for (s, after) in sequence {
        let mut value = webhooks::whatsapp_value(ctx.inner);
        value["statuses"] = json!([s]);
        let body = webhooks::whatsapp_envelope(ctx.inner, value);
        webhooks::schedule(ctx.inner, Target::Waba { field: "messages" }, body, after);
    }
}
