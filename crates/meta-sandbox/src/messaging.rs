//! The Messenger / Instagram Send API (`/{page-id}/messages`, `/me/messages`), its window
//! rules, private replies, sender actions, `message_attachments`, and the echo, delivery and
//! read webhooks a customer's phone would cause.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::auth::MetaError;
use super::graph::Ctx;
use super::seed::Channel;
use super::util::random_alnum;
use super::webhooks::{self, Target};
use super::window::{permits, window};
use super::world::SentMessage;

const TYPES: &[&str] = &["RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"];
const TAGS: &[&str] = &[
    "HUMAN_AGENT",
    "ACCOUNT_UPDATE",
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "CUSTOMER_FEEDBACK",
];
const ACTIONS: &[&str] = &["typing_on", "typing_off", "mark_seen", "react", "unreact"];

fn outside_window(channel: Channel) -> MetaError {
    match channel {
        Channel::Instagram => MetaError::new(
            10,
            "(#10) This message is sent outside of allowed window. Instagram allows replies within 24 hours of the person's last message, or up to 7 days with the HUMAN_AGENT tag.",
        )
        .subcode(2534022),
        _ => MetaError::new(10, "(#10) This message is sent outside of allowed window.").subcode(2018278),
    }
}

fn no_user() -> MetaError {
    MetaError::param("No matching user found").subcode(2018001)
}

/// Who a send goes to.
struct Recipient {
    id: String,
    channel: Channel,
    /// Set for private replies.
    comment_id: Option<String>,
}

/// `POST /{page-id}/messages`, `/me/messages` or `/{ig-user-id}/messages`.
pub(crate) fn send(ctx: &Ctx) -> Result<Value, MetaError> {
    if ctx.method() != "POST" {
        return Err(ctx.no_such_edge("Page"));
    }
    let seed = ctx.seed();
    // With Instagram Login the account sends for itself; otherwise the Page does, for
    // Messenger and for its linked Instagram account.
    let (page_id, ig_id) = if ctx.caller.kind == Some(super::world::TokenKind::InstagramUser) {
        ctx.require_ig_access(&ctx.id)?;
        (String::new(), Some(ctx.id.clone()))
    } else {
        let page = seed
            .page_of_account(&ctx.id)
            .ok_or_else(|| ctx.unsupported())?;
        ctx.require_page_token(&page.id)?;
        (
            page.id.clone(),
            page.instagram.as_ref().map(|ig| ig.id.clone()),
        )
    };
    let req = ctx.req;
    let recipient = req
        .obj("recipient")
        .ok_or_else(|| MetaError::required("recipient"))?;
    let message = req.obj("message");
    let action = req.param("sender_action");
    match (&message, action) {
        (Some(_), Some(_)) => {
            return Err(MetaError::param(
                "sender_action cannot be sent together with message",
            ));
        }
        (None, None) => return Err(MetaError::param("Must send either message or state")),
        (None, Some(a)) if !ACTIONS.contains(&a) => {
            return Err(MetaError::param(format!(
                "Param sender_action must be one of {{{}}} - got \"{a}\"",
                ACTIONS.join(", ")
            )));
        }
        _ => {}
    }
    let messaging_type = req.param("messaging_type").unwrap_or("RESPONSE");
    if !TYPES.contains(&messaging_type) {
        return Err(MetaError::param(format!(
            "Param messaging_type must be one of {{{}}} - got \"{messaging_type}\"",
            TYPES.join(", ")
        )));
    }
    let tag = req.param("tag");
    if messaging_type == "MESSAGE_TAG" {
        match tag {
            None => {
                return Err(MetaError::param(
                    "Param tag is required when messaging_type is MESSAGE_TAG",
                ));
            }
            Some(t) if !TAGS.contains(&t) => {
                return Err(MetaError::param(format!(
                    "Param tag must be one of {{{}}} - got \"{t}\"",
                    TAGS.join(", ")
                )));
            }
            _ => {}
        }
    }
    if let Some(m) = &message {
        validate_message(ctx, m)?;
    }
    let now = Utc::now();
    let to = resolve_recipient(ctx, &recipient, &page_id, ig_id.as_deref(), now)?;
    if to.comment_id.is_none() {
        let last = ctx.inner.world.last_inbound(&to.id);
        if !permits(window(last, now), messaging_type, tag) {
            return Err(outside_window(to.channel));
        }
    }
    if action.is_some_and(|a| a == "react" || a == "unreact")
        && req
            .obj("payload")
            .and_then(|p| p.get("message_id").cloned())
            .is_none()
    {
        return Err(MetaError::param(
            "The parameter payload[message_id] is required",
        ));
    }
    let account_id = match to.channel {
        Channel::Instagram => ig_id.clone().unwrap_or_default(),
        _ => page_id.clone(),
    };
    let mid = match (&message, to.channel) {
        (None, _) => String::new(),
        (Some(_), Channel::Instagram) => {
            format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj{}", random_alnum(52))
        }
        (Some(_), _) => format!("m_{}", random_alnum(86)),
    };
    {
        let mut state = ctx.inner.world.lock();
        if let Some(comment) = &to.comment_id {
            state.private_replies.insert(comment.clone());
        }
        if !mid.is_empty() {
            state.last_outbound.insert(to.id.clone(), mid.clone());
            if to.comment_id.is_none() {
                let text = message
                    .as_ref()
                    .and_then(|m| m.get("text"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                state.history.push(super::conversations::HistoryMessage {
                    id: mid.clone(),
                    customer_id: to.id.clone(),
                    from_business: true,
                    text,
                    at: now,
                });
            }
        }
        state.sent.push(SentMessage {
            message_id: mid.clone(),
            channel: to.channel,
            account_id: account_id.clone(),
            recipient: to
                .comment_id
                .as_ref()
                .map(|c| format!("comment:{c}"))
                .unwrap_or(to.id.clone()),
            path: req.path.clone(),
            body: req.params_json(),
            at: now,
        });
    }
    let Some(message) = message else {
        return Ok(json!({"recipient_id": to.id}));
    };
    receipts(ctx, &to, &account_id, &mid, &message);
    Ok(json!({"recipient_id": to.id, "message_id": mid}))
}

fn validate_message(ctx: &Ctx, m: &Value) -> Result<(), MetaError> {
    let text = m.get("text").and_then(Value::as_str);
    let attachment = m.get("attachment");
    if text.is_none_or(str::is_empty) && attachment.is_none() {
        return Err(MetaError::param(
            "Message cannot be empty, must provide valid attachment or text",
        ));
    }
    if text.is_some_and(|t| t.chars().count() > 2000) {
        return Err(MetaError::param(
            "Length of param message[text] must be less than or equal to 2000",
        ));
    }
    if let Some(a) = attachment {
        let kind = a.get("type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "image" | "audio" | "video" | "file" | "template") {
            return Err(MetaError::param(format!(
                "Param message[attachment][type] must be one of {{image, audio, video, file, template}} - got \"{kind}\""
            )));
        }
        let payload = a.get("payload").cloned().unwrap_or(Value::Null);
        if kind == "template" {
            if payload.get("template_type").is_none() {
                return Err(MetaError::required(
                    "message[attachment][payload][template_type]",
                ));
            }
        } else if let Some(id) = payload.get("attachment_id") {
            let id = id.as_str().map(str::to_string).unwrap_or(id.to_string());
            if !ctx.inner.world.lock().attachments.contains(&id) {
                return Err(MetaError::param("Attachment Id is invalid").subcode(2018047));
            }
        } else {
            let url = payload.get("url").and_then(Value::as_str).unwrap_or("");
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(
                    MetaError::param("Invalid URL in message[attachment][payload][url]")
                        .subcode(2018047),
                );
            }
        }
    }
    if let Some(qr) = m.get("quick_replies") {
        let items = qr
            .as_array()
            .ok_or_else(|| MetaError::param("Param message[quick_replies] must be an array"))?;
        if items.len() > 13 {
            return Err(MetaError::param(
                "param message[quick_replies] must have at most 13 items",
            ));
        }
        for q in items {
            let title = q.get("title").and_then(Value::as_str).unwrap_or("");
            if q.get("content_type").and_then(Value::as_str) == Some("text")
                && (title.is_empty() || title.chars().count() > 20)
            {
                return Err(MetaError::param(
                    "Quick reply titles must be 1 to 20 characters",
                ));
            }
        }
    }
    Ok(())
}

fn resolve_recipient(
    ctx: &Ctx,
    recipient: &Value,
    page_id: &str,
    ig_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Recipient, MetaError> {
    let as_text = |v: &Value| v.as_str().map(str::to_string).unwrap_or(v.to_string());
    if let Some(id) = recipient.get("id").map(as_text) {
        let c = ctx
            .seed()
            .customers
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(no_user)?;
        let ours = match c.channel {
            Channel::Messenger => c.account_id == page_id,
            Channel::Instagram => Some(c.account_id.as_str()) == ig_id,
            Channel::WhatsApp => false,
        };
        if !ours {
            return Err(no_user());
        }
        return Ok(Recipient {
            id,
            channel: c.channel,
            comment_id: None,
        });
    }
    let Some(comment_id) = recipient.get("comment_id").map(as_text) else {
        return Err(no_user());
    };
    let state = ctx.inner.world.lock();
    let found = state
        .fb_comments
        .iter()
        .find(|c| c.id == comment_id && c.page_id == page_id && !c.deleted)
        .map(|c| {
            (
                c.from_id.clone(),
                c.created,
                Channel::Messenger,
                c.from_id == page_id,
            )
        })
        .or_else(|| {
            state
                .ig_comments
                .iter()
                .find(|c| c.id == comment_id && Some(c.ig_id.as_str()) == ig_id && !c.deleted)
                .map(|c| {
                    (
                        c.from_id.clone(),
                        c.created,
                        Channel::Instagram,
                        Some(c.from_id.as_str()) == ig_id,
                    )
                })
        });
    let Some((from, created, channel, own)) = found else {
        return Err(no_user());
    };
    if own || state.private_replies.contains(&comment_id) {
        return Err(MetaError::param("Cannot message this user")
            .subcode(2018108)
            .user(
                "Cannot message this user",
                "A private reply has already been sent to this comment; only one is allowed.",
            ));
    }
    if now - created > TimeDelta::days(7) {
        return Err(outside_window(channel));
    }
    Ok(Recipient {
        id: from,
        channel,
        comment_id: Some(comment_id),
    })
}

/// Echo now; delivery and read receipts later, as the customer's phone would send them.
fn receipts(ctx: &Ctx, to: &Recipient, account_id: &str, mid: &str, message: &Value) {
    let now_ms = Utc::now().timestamp_millis();
    let delay = ctx.inner.config.receipt_delay;
    let app_id: Value = ctx
        .seed()
        .app_id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or(json!(ctx.seed().app_id));
    let mut echo = json!({"mid": mid, "is_echo": true, "app_id": app_id});
    if let Some(t) = message.get("text") {
        echo["text"] = t.clone();
    }
    if let Some(m) = message.get("metadata") {
        echo["metadata"] = m.clone();
    }
    if let Some(a) = message.get("attachment") {
        echo["attachments"] = json!([{"type": a.get("type").cloned().unwrap_or(json!("fallback")), "payload": a.get("payload").cloned().unwrap_or(Value::Null)}]);
    }
    let (object, echo_field) = match to.channel {
        Channel::Instagram => ("instagram", "messages"),
        _ => ("page", "message_echoes"),
    };
    let echo_event = json!({"sender": {"id": account_id}, "recipient": {"id": to.id}, "timestamp": now_ms, "message": echo});
    let target = |field: &'static str| match to.channel {
        Channel::Instagram => Target::Instagram {
            ig_id: account_id.to_string(),
            field,
        },
        _ => Target::Page {
            page_id: account_id.to_string(),
            field,
        },
    };
    let inner = ctx.inner;
    webhooks::schedule(
        inner,
        target(echo_field),
        webhooks::messaging_envelope(object, account_id, echo_event),
        std::time::Duration::ZERO,
    );
    if to.comment_id.is_some() {
        return;
    }
    let customer = json!({"id": to.id});
    let business = json!({"id": account_id});
    if to.channel == Channel::Messenger {
        let delivery = json!({"sender": customer, "recipient": business, "delivery": {"mids": [mid], "watermark": now_ms}});
        webhooks::schedule(
            inner,
            target("message_deliveries"),
            webhooks::messaging_envelope("page", account_id, delivery),
            delay,
        );
        let read = json!({"sender": customer, "recipient": business, "timestamp": now_ms + 1, "read": {"watermark": now_ms}});
        webhooks::schedule(
            inner,
            target("message_reads"),
            webhooks::messaging_envelope("page", account_id, read),
            delay * 2,
        );
    } else {
        let seen = json!({"sender": customer, "recipient": business, "timestamp": now_ms + 1, "read": {"mid": mid}});
        webhooks::schedule(
            inner,
            target("messaging_seen"),
            webhooks::messaging_envelope("instagram", account_id, seen),
            delay * 2,
        );
    }
}

/// `POST /{page-id}/message_attachments`: `{"attachment_id"}` for a reusable URL attachment.
pub(crate) fn upload_attachment(ctx: &Ctx) -> Result<Value, MetaError> {
    if ctx.method() != "POST" {
        return Err(ctx.no_such_edge("Page"));
    }
    ctx.require_page_token(&ctx.id)?;
    let message = ctx
        .req
        .obj("message")
        .ok_or_else(|| MetaError::required("message"))?;
    let attachment = message
        .get("attachment")
        .ok_or_else(|| MetaError::required("message[attachment]"))?;
    let kind = attachment.get("type").and_then(Value::as_str).unwrap_or("");
    if !matches!(kind, "image" | "audio" | "video" | "file") {
        return Err(MetaError::param(format!(
            "Param message[attachment][type] must be one of {{image, audio, video, file}} - got \"{kind}\""
        )));
    }
    let url = attachment
        .pointer("/payload/url")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(
            MetaError::param("Invalid URL in message[attachment][payload][url]").subcode(2018047),
        );
    }
    let mut state = ctx.inner.world.lock();
    let id = state.next_id("1001", 12);
    state.attachments.insert(id.clone());
    Ok(json!({"attachment_id": id}))
}
