//! WhatsApp message templates: list, create (validated like Meta), review after a delay
//! (deterministic approve/reject rule) with a status webhook, delete, read, and the checks a
//! template send must pass.
//!
//! Review rule (see `template_rules::verdict`): a template whose name contains `reject` or whose body has two adjacent
//! parameters (`{{1}}{{2}}`) is REJECTED with INVALID_FORMAT; a body containing `FREE!!!`
//! (any case) is REJECTED as PROMOTIONAL; everything else is APPROVED.

use std::sync::Arc;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::auth::MetaError;
use super::fields::{paginate, select, select_all};
use super::graph::Ctx;
use super::template_rules::{component_text, invalid, validate_new, verdict};
use super::webhooks::{self, Target};

#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub parameter_format: String,
    pub components: Value,
    pub rejected_reason: String,
    pub quality: String,
    pub created: DateTime<Utc>,
    pub deleted: bool,
    /// When an approved version was edited (Meta allows one a day and ten in 30 days).
    pub edits: Vec<DateTime<Utc>>,
}

impl Template {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "rejected_reason": self.rejected_reason,
            "quality_score": {"score": self.quality, "date": self.created.timestamp()},
        })
    }

    pub(crate) fn text_of(&self, kind: &str) -> Option<String> {
        component_text(&self.components, kind)
    }
}

/// A seeded template from `[id, name, language, category, status, parameter_format]`.
fn seed_template(
    [id, name, lang, category, status, format]: [&str; 6],
    components: Value,
    now: DateTime<Utc>,
) -> Template {
    Template {
        id: id.into(),
        name: name.into(),
        language: lang.into(),
        category: category.into(),
        status: status.into(),
        parameter_format: format.into(),
        components,
        rejected_reason: if status == "REJECTED" {
            "INVALID_FORMAT".into()
        } else {
            "NONE".into()
        },
        quality: if status == "PAUSED" {
            "RED".into()
        } else {
            "GREEN".into()
        },
        created: now - TimeDelta::days(20),
        deleted: false,
        edits: Vec::new(),
    }
}

/// The WABA's seeded templates.
pub(crate) fn seeded(now: DateTime<Utc>) -> Vec<Template> {
    vec![
        seed_template(
            [
                "1000000000000101",
                "hello_world",
                "en_US",
                "UTILITY",
                "APPROVED",
                "POSITIONAL",
            ],
            json!([
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
            ]),
            now,
        ),
        seed_template(
            [
                "1000000000000102",
                "order_update",
                "en_US",
                "UTILITY",
                "APPROVED",
                "POSITIONAL",
            ],
            json!([
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is ready for pickup at Acme Coffee.", "example": {"body_text": [["Maria", "#1042"]]}},
            ]),
            now,
        ),
        seed_template(
            [
                "1000000000000103",
                "appointment_reminder",
                "en_US",
                "UTILITY",
                "APPROVED",
                "NAMED",
            ],
            json!([
                {"type": "BODY", "text": "Hi {{customer_name}}, your bike service is booked for {{date}}.", "example": {"body_text_named_params": [{"param_name": "customer_name", "example": "Jonas"}, {"param_name": "date", "example": "Saturday 10:00"}]}},
            ]),
            now,
        ),
        seed_template(
            [
                "1000000000000104",
                "spring_sale",
                "en",
                "MARKETING",
                "APPROVED",
                "POSITIONAL",
            ],
            json!([
                {"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
                {"type": "BODY", "text": "Hi {{1}}, enjoy 20% off all drinks this week at Acme Coffee.", "example": {"body_text": [["Carlos"]]}},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]},
            ]),
            now,
        ),
        seed_template(
            [
                "1000000000000105",
                "winter_promo",
                "en",
                "MARKETING",
                "PAUSED",
                "POSITIONAL",
            ],
            json!([
                {"type": "BODY", "text": "Warm up with our winter menu!"},
            ]),
            now,
        ),
        seed_template(
            [
                "1000000000000106",
                "old_welcome",
                "en_US",
                "UTILITY",
                "REJECTED",
                "POSITIONAL",
            ],
            json!([
                {"type": "BODY", "text": "Welcome {{1}}{{2}}", "example": {"body_text": [["A", "B"]]}},
            ]),
            now,
        ),
    ]
}

/// `GET|POST|DELETE /{waba-id}/message_templates`.
pub(crate) fn edge(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    match ctx.method() {
        "GET" => {
            let fields = ctx
                .req
                .fields("name,parameter_format,components,language,status,category,id")?;
            let status = ctx.req.param("status").map(str::to_ascii_uppercase);
            let items: Vec<(String, Value)> = ctx
                .inner
                .world
                .lock()
                .templates
                .iter()
                .filter(|t| !t.deleted)
                .filter(|t| {
                    status
                        .as_ref()
                        .is_none_or(|s| s.split(',').any(|x| x == t.status))
                })
                .filter(|t| ctx.req.param("name").is_none_or(|n| t.name.contains(n)))
                .filter(|t| ctx.req.param("language").is_none_or(|l| t.language == l))
                .map(|t| (t.id.clone(), t.json()))
                .collect();
            let mut page = paginate(ctx.req, &ctx.inner.base_url, items, 25)?;
            if let Some(data) = page.get("data").and_then(Value::as_array) {
                page["data"] = Value::Array(select_all(
                    data,
                    &fields,
                    "WhatsAppBusinessHSM",
                    &["sub_category", "previous_category"],
                )?);
            }
            Ok(page)
        }
        "POST" => create(ctx),
        "DELETE" => {
            let name = ctx
                .req
                .text("name")
                .ok_or_else(|| MetaError::required("name"))?;
            let hsm = ctx.req.text("hsm_id");
            let mut state = ctx.inner.world.lock();
            let mut hit = 0;
            for t in state
                .templates
                .iter_mut()
                .filter(|t| t.name == name && !t.deleted)
            {
                if hsm.as_ref().is_none_or(|h| *h == t.id) {
                    t.deleted = true;
                    t.status = "DELETED".into();
                    t.created = Utc::now();
                    hit += 1;
                }
            }
            if hit == 0 {
                return Err(invalid(
                    "Message template not found",
                    format!("There is no message template named {name}."),
                ));
            }
            Ok(json!({"success": true}))
        }
        _ => Err(ctx.unsupported()),
    }
}

fn create(ctx: &Ctx) -> Result<Value, MetaError> {
    let name = ctx
        .req
        .text("name")
        .ok_or_else(|| MetaError::required("name"))?;
    let lang = ctx
        .req
        .text("language")
        .ok_or_else(|| MetaError::required("language"))?;
    let category = ctx
        .req
        .text("category")
        .ok_or_else(|| MetaError::required("category"))?
        .to_ascii_uppercase();
    let format = ctx
        .req
        .text("parameter_format")
        .unwrap_or_else(|| "POSITIONAL".into())
        .to_ascii_uppercase();
    let components = ctx
        .req
        .obj("components")
        .ok_or_else(|| MetaError::required("components"))?;
    let template = {
        let mut state = ctx.inner.world.lock();
        validate_new(&state, &name, &lang, &category, &format, &components)?;
        let t = Template {
            id: state.next_id("1689556", 9),
            name,
            language: lang,
            category: category.clone(),
            status: "PENDING".into(),
            parameter_format: format,
            components,
            rejected_reason: "NONE".into(),
            quality: "UNKNOWN".into(),
            created: Utc::now(),
            deleted: false,
            edits: Vec::new(),
        };
        state.templates.push(t.clone());
        t
    };
    schedule_review(ctx.inner, template.id.clone());
    Ok(json!({"id": template.id, "status": "PENDING", "category": category}))
}

/// `GET /{template-id}`; `POST /{template-id}` edits components (back to review).
pub(crate) fn node(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    if ctx.edge.is_some() {
        return Err(ctx.no_such_edge("WhatsAppBusinessHSM"));
    }
    let mut state = ctx.inner.world.lock();
    let t = state
        .templates
        .iter_mut()
        .find(|t| t.id == ctx.id && !t.deleted)
        .ok_or_else(|| ctx.unsupported())?;
    match ctx.method() {
        "GET" => select(
            &t.json(),
            &ctx.req
                .fields("id,name,status,category,language,components")?,
            "WhatsAppBusinessHSM",
            &[],
        ),
        "POST" => {
            if !matches!(t.status.as_str(), "APPROVED" | "REJECTED" | "PAUSED") {
                return Err(invalid(
                    "Template can't be edited",
                    "Only approved, rejected or paused templates can be edited.",
                ));
            }
            let now = Utc::now();
            if t.status == "APPROVED" {
                let since = |d: i64| {
                    t.edits
                        .iter()
                        .filter(|e| **e > now - TimeDelta::days(d))
                        .count()
                };
                if since(1) >= 1 || since(30) >= 10 {
                    return Err(invalid(
                        "Edit limit reached",
                        "An approved message template can be edited once in 24 hours and up to 10 times in 30 days.",
                    ));
                }
                if ctx
                    .req
                    .text("category")
                    .is_some_and(|c| !c.eq_ignore_ascii_case(&t.category))
                {
                    return Err(invalid(
                        "Category can't be changed",
                        "The category of an approved message template can't be edited.",
                    ));
                }
                t.edits.push(now);
            } else if let Some(category) = ctx.req.text("category") {
                t.category = category.to_ascii_uppercase();
            }
            t.components = ctx
                .req
                .obj("components")
                .ok_or_else(|| MetaError::required("components"))?;
            t.status = "PENDING".into();
            drop(state);
            schedule_review(ctx.inner, ctx.id.clone());
            Ok(json!({"success": true}))
        }
        _ => Err(ctx.unsupported()),
    }
}

fn schedule_review(inner: &Arc<Inner>, id: String) {
    let inner = inner.clone();
    tokio::spawn(async move {
        tokio::time::sleep(inner.config.template_review_delay).await;
        if inner.is_stopped() {
            return;
        }
        let decided = {
            let mut state = inner.world.lock();
            let Some(t) = state
                .templates
                .iter_mut()
                .find(|t| t.id == id && t.status == "PENDING")
            else {
                return;
            };
            let (status, reason, info) = verdict(&t.name, &t.text_of("BODY").unwrap_or_default());
            t.status = status.into();
            t.rejected_reason = reason.into();
            if status == "APPROVED" {
                t.quality = "GREEN".into();
            }
            (t.clone(), reason, info)
        };
        let (t, reason, info) = decided;
        let mut value = json!({
            "event": t.status,
            "message_template_id": t.id.parse::<u64>().unwrap_or_default(),
            "message_template_name": t.name,
            "message_template_language": t.language,
            "reason": reason,
            "message_template_category": t.category,
        });
        if let Some((why, recommendation)) = info {
            value["rejection_info"] = json!({"reason": why, "recommendation": recommendation});
        }
        account_webhook(&inner, "message_template_status_update", value).await;
    });
}

/// Sends one of the account's template webhooks, unless they are muted.
async fn account_webhook(inner: &Arc<Inner>, field: &'static str, value: Value) {
    if inner.world.lock().template_webhooks_muted {
        return;
    }
    let waba = inner.world.seed().waba.id.clone();
    let body = webhooks::changes_envelope("whatsapp_business_account", &waba, field, value);
    webhooks::deliver(inner, Target::Waba { field }, body).await;
}

/// Meta rates a template's quality; RED pauses an approved template (and a paused one is
/// disabled), each with its webhook. False for an unknown template.
pub(crate) async fn rate(inner: &Arc<Inner>, name: &str, language: &str, score: &str) -> bool {
    let changed = {
        let mut state = inner.world.lock();
        let Some(t) = state
            .templates
            .iter_mut()
            .find(|t| t.name == name && t.language == language && !t.deleted)
        else {
            return false;
        };
        let previous = std::mem::replace(&mut t.quality, score.to_string());
        let status = match (score, t.status.as_str()) {
            ("RED", "APPROVED") => Some("PAUSED"),
            ("RED", "PAUSED") => Some("DISABLED"),
            _ => None,
        };
        if let Some(s) = status {
            t.status = s.into();
        }
        (t.clone(), previous, status)
    };
    let (t, previous, status) = changed;
    let id = t.id.parse::<u64>().unwrap_or_default();
    account_webhook(
        inner,
        "message_template_quality_update",
        json!({"previous_quality_score": previous, "new_quality_score": score,
               "message_template_id": id, "message_template_name": t.name,
               "message_template_language": t.language}),
    )
    .await;
    if let Some(status) = status {
        account_webhook(
            inner,
            "message_template_status_update",
            json!({"event": status, "message_template_id": id, "message_template_name": t.name,
                   "message_template_language": t.language, "reason": "NONE"}),
        )
        .await;
    }
    true
}

/// Meta re-categorises a template, with the `template_category_update` webhook.
pub(crate) async fn recategorise(
    inner: &Arc<Inner>,
    name: &str,
    language: &str,
    category: &str,
) -> bool {
    let found = {
        let mut state = inner.world.lock();
        state
            .templates
            .iter_mut()
            .find(|t| t.name == name && t.language == language && !t.deleted)
            .map(|t| {
                let previous = std::mem::replace(&mut t.category, category.to_string());
                (t.clone(), previous)
            })
    };
    let Some((t, previous)) = found else {
        return false;
    };
    account_webhook(
        inner,
        "template_category_update",
        json!({"message_template_id": t.id.parse::<u64>().unwrap_or_default(),
               "message_template_name": t.name, "message_template_language": t.language,
               "previous_category": previous, "new_category": category}),
    )
    .await;
    true
}

/// Adds `count` approved utility templates to the account (`bulk_<n>`, en_US): a library
/// longer than one page of Meta's listing.
pub(crate) fn add_bulk(state: &mut super::world::State, count: usize) {
    let now = Utc::now();
    for n in 0..count {
        let id = state.next_id("1777000", 9);
        state.templates.push(seed_template(
            [&id, &format!("bulk_{n:04}"), "en_US", "UTILITY", "APPROVED", "POSITIONAL"],
            json!([{"type": "BODY", "text": format!("Hi {{{{1}}}}, this is notice number {n} from Acme.")}]),
            now,
        ));
    }
}
