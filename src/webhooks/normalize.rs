//! Normalizing one routed item into Parley's events: a pure function over JSON that tests call
//! directly. Every input yields events or an `Ignored` with the reason; nothing is dropped.

use crate::db::statuses::MessageStatus;
use crate::models::attachments::{Attachment, Referral};
use crate::models::comments::CommentAction;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::webhooks::split::{id_str, timestamp};

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    /// Sent by the business (an echo: from Parley or from another Meta tool).
    Outbound,
}

/// A message for the conversation with `customer_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub mid: Option<String>,
    pub at: DateTime<Utc>,
    pub direction: Direction,
    /// text, image, audio, video, file, sticker, location, contacts, share, story_mention,
    /// postback, interactive, button, referral, optin, handover, order, system, unsupported…
    pub kind: String,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub reply_to: Option<String>,
    pub referral: Option<Referral>,
    pub extra: Value,
    /// The message was unsent (Instagram `is_deleted`).
    pub deleted: bool,
}

/// A comment change on a Facebook post or Instagram media.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentEvent {
    pub comment_id: String,
    pub verb: CommentAction,
    pub post_id: Option<String>,
    pub parent_id: Option<String>,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub text: Option<String>,
    pub at: DateTime<Utc>,
    pub from_business: bool,
    pub extra: Value,
}

/// What an item means for Parley.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Message(NewMessage),
    /// Everything outbound up to `watermark` (and the listed mids) reached the customer.
    Delivery {
        customer_id: String,
        mids: Vec<String>,
        watermark: Option<DateTime<Utc>>,
    },
    /// The customer read up to `watermark` (Messenger) or the message `mid` (Instagram).
    Read {
        customer_id: String,
        watermark: Option<DateTime<Utc>>,
        mid: Option<String>,
        at: DateTime<Utc>,
    },
    Reaction {
        customer_id: String,
        mid: String,
        emoji: Option<String>,
        reaction: Option<String>,
        by_business: bool,
        at: DateTime<Utc>,
    },
    Edit {
        mid: String,
        text: Option<String>,
        at: DateTime<Utc>,
    },
    Unsend {
        mid: String,
        at: DateTime<Utc>,
    },
    Status {
        customer_id: String,
        mid: String,
        status: MessageStatus,
        at: DateTime<Utc>,
        errors: Option<Value>,
    },
    Comment(CommentEvent),
    /// An Instagram story's final figures (`story_insights`), as Meta names them.
    StoryInsights {
        media_id: String,
        values: Vec<(String, i64)>,
    },
    TemplateStatus {
        template_id: String,
        name: String,
        language: String,
        status: String,
        reason: Option<String>,
        category: Option<String>,
        /// When Meta sent it (the entry's time): older news never moves a status back.
        at: DateTime<Utc>,
    },
    TemplateQuality {
        template_id: String,
        name: String,
        language: String,
        score: String,
    },
    /// Meta re-categorised a template.
    TemplateCategory {
        template_id: String,
        name: String,
        language: String,
        category: String,
    },
    Ignored {
        what: String,
        reason: String,
    },
}

pub(crate) fn ignored(what: impl Into<String>, reason: impl Into<String>) -> Event {
    Event::Ignored {
        what: what.into(),
        reason: reason.into(),
    }
}

pub(crate) fn s(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Normalizes one item (`object` as in the envelope, `account_id` its routing id).
pub fn normalize(
    object: &str,
    account_id: &str,
    body: &Value,
    fallback_at: DateTime<Utc>,
) -> Vec<Event> {
    let mut out = Vec::new();
    match object {
        "page" | "instagram" => {
            let instagram = object == "instagram";
            for (list, standby) in [("messaging", false), ("standby", true)] {
                for ev in body
                    .get(list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.extend(with_content_keys(
                        messaging_event(ev, account_id, instagram, standby, fallback_at),
                        ev,
                    ));
                }
            }
            let mut changes: Vec<&Value> = body
                .get("changes")
                .and_then(Value::as_array)
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            if body.get("field").is_some() {
                changes.push(body);
            }
            for change in changes {
                out.extend(crate::webhooks::normalize_changes::page_change(
                    change,
                    account_id,
                    instagram,
                    fallback_at,
                ));
            }
        }
        "whatsapp_business_account" => {
            for change in body
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(with_content_keys(
                    crate::webhooks::normalize_whatsapp::change(change, fallback_at),
                    change,
                ));
            }
        }
        other => out.push(ignored(
            format!("object {other}"),
            "Parley does not handle this webhook object",
        )),
    }
    if out.is_empty() {
        out.push(ignored("empty entry", "the entry carried no events"));
    }
    out
}

/// The idempotency key of a message Meta sent without an id (referrals, opt-ins, handovers,
/// some postbacks): made from the event's own content, so every redelivery of the same event
/// gets the same key (and lands once), whatever its position in whichever delivery.
pub fn content_key(source: &Value, index: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(source.to_string().as_bytes());
    format!("content:{}:{index}", hex::encode(&digest[..16]))
}

/// Gives every message among `events` without an id a [`content_key`] of `source`.
fn with_content_keys(mut events: Vec<Event>, source: &Value) -> Vec<Event> {
    let mut index = 0;
    for event in &mut events {
        if let Event::Message(msg) = event
            && msg.mid.is_none()
        {
            msg.mid = Some(content_key(source, index));
            index += 1;
        }
    }
    events
}

pub(crate) fn messaging_event(
    ev: &Value,
    account_id: &str,
    instagram: bool,
    standby: bool,
    fallback: DateTime<Utc>,
) -> Vec<Event> {
    let at = timestamp(ev.get("timestamp")).unwrap_or(fallback);
    let sender = s(ev, "/sender/id");
    let recipient = s(ev, "/recipient/id");
    let is_echo = ev
        .pointer("/message/is_echo")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || (sender.as_deref() == Some(account_id) && ev.get("message").is_some());
    let customer = if is_echo {
        recipient.clone()
    } else {
        sender.clone()
    }
    .or_else(|| s(ev, "/sender/user_ref"))
    .unwrap_or_default();
    let mut extra = json!({});
    if standby {
        extra["standby"] = json!(true);
    }
    let base = |kind: &str| NewMessage {
        customer_id: customer.clone(),
        customer_name: None,
        mid: None,
        at,
        direction: if is_echo {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        kind: kind.into(),
        text: None,
        attachments: Vec::new(),
        reply_to: None,
        referral: None,
        extra: extra.clone(),
        deleted: false,
    };
    if let Some(m) = ev.get("message") {
        let mid = s(m, "/mid");
        if m.get("is_deleted").and_then(Value::as_bool) == Some(true) {
            return match mid {
                Some(mid) => vec![Event::Unsend { mid, at }],
                None => vec![ignored("unsend", "no message id")],
            };
        }
        let mut msg = base("text");
        msg.mid = mid;
        msg.text = s(m, "/text");
        let atts: Vec<Value> = m
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(first) = atts.first() {
            msg.kind = match first.get("type").and_then(Value::as_str).unwrap_or("file") {
                "story_mention" => "story_mention".into(),
                "fallback" => "share".into(),
                "template" => "template".into(),
                t => t.to_string(),
            };
            msg.attachments = atts.iter().map(Attachment::from_messenger).collect();
        }
        if let Some(payload) = s(m, "/quick_reply/payload") {
            msg.extra["quick_reply_payload"] = json!(payload);
        }
        if let Some(reply) = m.get("reply_to") {
            msg.reply_to = s(reply, "/mid");
            if let Some(story) = reply.get("story") {
                msg.kind = if msg.text.is_some() {
                    "story_reply".into()
                } else {
                    msg.kind
                };
                msg.extra["story"] = story.clone();
            }
        }
        if m.get("is_unsupported").and_then(Value::as_bool) == Some(true) {
            msg.kind = "unsupported".into();
        }
        if let Some(r) = m.get("referral").or_else(|| ev.get("referral")) {
            msg.referral = Referral::from_meta(r);
        }
        if is_echo {
            if let Some(meta) = m.get("metadata") {
                msg.extra["metadata"] = meta.clone();
            }
            if let Some(app) = id_str(m.get("app_id")) {
                msg.extra["app_id"] = json!(app);
            }
        }
        if msg.text.is_none() && msg.attachments.is_empty() && msg.kind == "text" {
            msg.kind = "unsupported".into();
        }
        return vec![Event::Message(msg)];
    }
    if let Some(d) = ev.get("delivery") {
        let mids = d
            .get("mids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        return vec![Event::Delivery {
            customer_id: customer,
            mids,
            watermark: timestamp(d.get("watermark")),
        }];
    }
    if let Some(r) = ev.get("read") {
        return vec![Event::Read {
            customer_id: customer,
            watermark: timestamp(r.get("watermark")),
            mid: s(r, "/mid"),
            at,
        }];
    }
    if let Some(r) = ev.get("reaction") {
        let Some(mid) = s(r, "/mid") else {
            return vec![ignored("reaction", "no message id")];
        };
        let remove = r.get("action").and_then(Value::as_str) == Some("unreact");
        return vec![Event::Reaction {
            customer_id: customer,
            mid,
            emoji: if remove {
                None
            } else {
                s(r, "/emoji").or_else(|| s(r, "/reaction"))
            },
            reaction: s(r, "/reaction"),
            by_business: is_echo || sender.as_deref() == Some(account_id),
            at,
        }];
    }
    if let Some(e) = ev.get("message_edit") {
        return match s(e, "/mid") {
            Some(mid) => vec![Event::Edit {
                mid,
                text: s(e, "/text"),
                at,
            }],
            None => vec![ignored("message_edit", "no message id")],
        };
    }
    if let Some(p) = ev.get("postback") {
        let mut msg = base("postback");
        msg.mid = s(p, "/mid");
        msg.text = s(p, "/title");
        msg.extra["payload"] = p.get("payload").cloned().unwrap_or(Value::Null);
        msg.referral = p.get("referral").and_then(Referral::from_meta);
        return vec![Event::Message(msg)];
    }
    if let Some(r) = ev.get("referral") {
        let mut msg = base("referral");
        msg.referral = Referral::from_meta(r);
        return vec![Event::Message(msg)];
    }
    if let Some(o) = ev.get("optin") {
        let mut msg = base("optin");
        msg.extra["optin"] = o.clone();
        return vec![Event::Message(msg)];
    }
    for kind in [
        "pass_thread_control",
        "take_thread_control",
        "request_thread_control",
    ] {
        if let Some(h) = ev.get(kind) {
            let mut msg = base("handover");
            msg.extra["handover"] = json!({ "kind": kind, "detail": h });
            return vec![Event::Message(msg)];
        }
    }
    if ev.get("app_roles").is_some() {
        return vec![ignored(
            "app_roles",
            "handover app roles need no action in Parley",
        )];
    }
    if ev.get("policy-enforcement").is_some() || ev.get("policy_enforcement").is_some() {
        return vec![ignored(
            "policy enforcement",
            "recorded in the webhook log for admins; no conversation change",
        )];
    }
    for retired in [
        "payment",
        "checkout_update",
        "pre_checkout",
        "account_linking",
        "game_play",
        "payment_pre_checkout",
    ] {
        if ev.get(retired).is_some() {
            return vec![ignored(retired, "retired Messenger feature")];
        }
    }
    let _ = instagram;
    vec![ignored("messaging event", "unknown messaging event kind")]
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
