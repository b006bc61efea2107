//! Normalizing WhatsApp Cloud API changes: messages of every type, statuses, template updates.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::db::statuses::MessageStatus;
use crate::models::attachments::{Attachment, Referral};
use crate::webhooks::normalize::{Direction, Event, NewMessage};
use crate::webhooks::split::timestamp;

fn s(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn ignored(what: impl Into<String>, reason: impl Into<String>) -> Event {
    Event::Ignored {
        what: what.into(),
        reason: reason.into(),
    }
}

/// One `changes[]` element of a `whatsapp_business_account` delivery.
pub fn change(change: &Value, fallback: DateTime<Utc>) -> Vec<Event> {
    let field = change.get("field").and_then(Value::as_str).unwrap_or("");
    let v = change.get("value").cloned().unwrap_or(Value::Null);
    match field {
        "messages" => messages_value(&v, fallback),
        // Coexistence: messages the business sent from the WhatsApp Business app.
        "smb_message_echoes" => {
            let business = s(&v, "/metadata/display_phone_number").unwrap_or_default();
            let echoes: Vec<Event> = v
                .get("message_echoes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|m| {
                    let to = s(m, "/to").filter(|t| !t.is_empty() && *t != business);
                    let customer = to
                        .or_else(|| s(m, "/to_user_id"))
                        .or_else(|| s(m, "/from").filter(|f| *f != business))
                        .unwrap_or_default();
                    message(m, Some(customer), &|_| None, fallback)
                })
                .collect();
            if echoes.is_empty() {
                vec![ignored(field, "no message echoes in the change")]
            } else {
                echoes
            }
        }
        "message_template_status_update" => match s(&v, "/message_template_id") {
            Some(id) => vec![Event::TemplateStatus {
                template_id: id,
                name: s(&v, "/message_template_name").unwrap_or_default(),
                language: s(&v, "/message_template_language").unwrap_or_default(),
                status: s(&v, "/event").unwrap_or_default(),
                reason: s(&v, "/reason")
                    .filter(|r| r != "NONE")
                    .or_else(|| s(&v, "/rejection_info/reason")),
                category: s(&v, "/message_template_category"),
                at: fallback,
            }],
            None => vec![ignored(field, "template update without a template id")],
        },
        "message_template_quality_update" => {
            match (s(&v, "/message_template_id"), s(&v, "/new_quality_score")) {
                (Some(id), Some(score)) => vec![Event::TemplateQuality {
                    template_id: id,
                    name: s(&v, "/message_template_name").unwrap_or_default(),
                    language: s(&v, "/message_template_language").unwrap_or_default(),
                    score,
                }],
                _ => vec![ignored(
                    field,
                    "quality update without template id or score",
                )],
            }
        }
        "template_category_update" => {
            match (s(&v, "/message_template_id"), s(&v, "/new_category")) {
                (Some(id), Some(category)) => vec![Event::TemplateCategory {
                    template_id: id,
                    name: s(&v, "/message_template_name").unwrap_or_default(),
                    language: s(&v, "/message_template_language").unwrap_or_default(),
                    category,
                }],
                _ => vec![ignored(
                    field,
                    "category update without template id or category",
                )],
            }
        }
        other => vec![ignored(
            format!("whatsapp {other} {}", s(&v, "/event").unwrap_or_default())
                .trim()
                .to_string(),
            "account notification kept in the webhook log; Parley takes no action on it",
        )],
    }
}

fn messages_value(v: &Value, fallback: DateTime<Utc>) -> Vec<Event> {
    let mut out = Vec::new();
    let contacts = v
        .get("contacts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name_of = |wa_id: &str| {
        contacts
            .iter()
            .find(|c| {
                s(c, "/wa_id").as_deref() == Some(wa_id)
                    || s(c, "/user_id").as_deref() == Some(wa_id)
            })
            .and_then(|c| s(c, "/profile/name"))
    };
    // A user known only by a business-scoped id (BSUID) has no `from`.
    let single_contact = (contacts.len() == 1)
        .then(|| {
            s(&contacts[0], "/wa_id")
                .filter(|w| !w.is_empty())
                .or_else(|| s(&contacts[0], "/user_id"))
        })
        .flatten();
    for m in v
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sender = s(m, "/from")
            .filter(|f| !f.is_empty())
            .or_else(|| s(m, "/from_user_id"))
            .or_else(|| single_contact.clone())
            .or_else(|| s(m, "/system/user_id"));
        out.push(inbound(m, sender, &name_of, fallback));
    }
    for st in v
        .get("statuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let status = match st.get("status").and_then(Value::as_str) {
            Some("sent") => MessageStatus::Sent,
            Some("delivered") => MessageStatus::Delivered,
            Some("read") | Some("played") => MessageStatus::Read,
            Some("failed") => MessageStatus::Failed,
            other => {
                out.push(ignored(
                    format!("status {}", other.unwrap_or("?")),
                    "unknown WhatsApp status",
                ));
                continue;
            }
        };
        match s(st, "/id") {
            Some(mid) => out.push(Event::Status {
                customer_id: s(st, "/recipient_id").unwrap_or_default(),
                mid,
                status,
                at: timestamp(st.get("timestamp")).unwrap_or(fallback),
                errors: st.get("errors").cloned(),
            }),
            None => out.push(ignored("status", "status without a message id")),
        }
    }
    if let Some(errors) = v.get("errors") {
        out.push(ignored(
            "whatsapp errors",
            format!("Meta reported: {errors}"),
        ));
    }
    if out.is_empty() {
        out.push(ignored("messages", "no messages or statuses in the change"));
    }
    out
}

fn inbound(
    m: &Value,
    from: Option<String>,
    name_of: &dyn Fn(&str) -> Option<String>,
    fallback: DateTime<Utc>,
) -> Event {
    match message(m, from, name_of, fallback) {
        Event::Message(mut msg) => {
            msg.direction = Direction::Inbound;
            Event::Message(msg)
        }
        other => other,
    }
}

/// A message: inbound, or an outbound echo (it has a `to`) for `customer`.
fn message(
    m: &Value,
    customer: Option<String>,
    name_of: &dyn Fn(&str) -> Option<String>,
    fallback: DateTime<Utc>,
) -> Event {
    let outbound = m.get("to").is_some() || m.get("to_user_id").is_some();
    let from = customer.unwrap_or_default();
    let at = timestamp(m.get("timestamp")).unwrap_or(fallback);
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unsupported")
        .to_string();
    let mid = s(m, "/id");
    match kind.as_str() {
        "reaction" => {
            return match s(m, "/reaction/message_id") {
                Some(target) => Event::Reaction {
                    customer_id: from,
                    mid: target,
                    emoji: s(m, "/reaction/emoji").filter(|e| !e.is_empty()),
                    reaction: None,
                    by_business: false,
                    at,
                },
                None => ignored("reaction", "reaction without a message id"),
            };
        }
        "revoke" => {
            return match s(m, "/revoke/original_message_id") {
                Some(original) => Event::Unsend { mid: original, at },
                None => ignored("revoke", "no original message id"),
            };
        }
        "edit" => {
            return match s(m, "/edit/original_message_id") {
                Some(original) => Event::Edit {
                    mid: original,
                    text: s(m, "/edit/message/text/body").or_else(|| s(m, "/edit/message/caption")),
                    at,
                },
                None => ignored("edit", "no original message id"),
            };
        }
        _ => {}
    }
    let mut msg = NewMessage {
        customer_name: name_of(&from),
        customer_id: from,
        mid,
        at,
        direction: if outbound {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        kind: kind.clone(),
        text: None,
        attachments: Vec::new(),
        reply_to: s(m, "/context/id"),
        referral: m.get("referral").and_then(Referral::from_meta),
        extra: json!({}),
        deleted: false,
    };
    match kind.as_str() {
        "text" => msg.text = s(m, "/text/body"),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let media = m.get(kind.as_str()).cloned().unwrap_or(Value::Null);
            msg.text = s(&media, "/caption");
            msg.kind = if kind == "document" {
                "file".into()
            } else {
                kind.clone()
            };
            msg.attachments = vec![Attachment::from_whatsapp(&msg.kind, &media)];
        }
        "location" => {
            let loc = m.get("location").cloned().unwrap_or(Value::Null);
            msg.attachments = vec![Attachment::from_whatsapp_location(&loc)];
        }
        "contacts" => msg.extra["contacts"] = m.get("contacts").cloned().unwrap_or(Value::Null),
        "interactive" => {
            let i = m.get("interactive").cloned().unwrap_or(Value::Null);
            msg.text = s(&i, "/button_reply/title").or_else(|| s(&i, "/list_reply/title"));
            msg.extra["interactive"] = i;
        }
        "button" => {
            msg.text = s(m, "/button/text");
            msg.extra["payload"] = m.pointer("/button/payload").cloned().unwrap_or(Value::Null);
        }
        "order" => msg.extra["order"] = m.get("order").cloned().unwrap_or(Value::Null),
        "system" => msg.text = s(m, "/system/body"),
        "unsupported" | "unknown" => {
            msg.kind = "unsupported".into();
            msg.extra["errors"] = m.get("errors").cloned().unwrap_or(Value::Null);
        }
        _ => {
            msg.extra["raw"] = m.clone();
        }
    }
    if let Some(ctx) = m.get("context")
        && (ctx.get("forwarded").is_some() || ctx.get("frequently_forwarded").is_some())
    {
        msg.extra["forwarded"] = json!(true);
    }
    if let Some(errors) = m.get("errors")
        && kind != "unsupported"
    {
        msg.extra["errors"] = errors.clone();
    }
    Event::Message(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_profile_name_and_statuses() {
        let v = json!({"field":"messages","value":{
            "metadata":{"phone_number_id":"P"},
            "contacts":[{"profile":{"name":"Kerry"},"wa_id":"1555"}],
            "messages":[{"from":"1555","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"hello"}}],
            "statuses":[{"id":"wamid.9","status":"read","timestamp":"1700000001","recipient_id":"1555"}]
        }});
        let ev = change(&v, Utc::now());
        let Event::Message(m) = &ev[0] else { panic!() };
        assert_eq!(
            (m.customer_name.as_deref(), m.text.as_deref()),
            (Some("Kerry"), Some("hello"))
        );
        assert!(matches!(
            &ev[1],
            Event::Status {
                status: MessageStatus::Read,
                ..
            }
        ));
    }

    #[test]
    fn reactions_with_empty_emoji_are_removals() {
        let v = json!({"field":"messages","value":{"messages":[{"from":"1","id":"w","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.X","emoji":""}}]}});
        assert!(matches!(
            &change(&v, Utc::now())[0],
            Event::Reaction { emoji: None, .. }
        ));
    }

    #[test]
    fn other_fields_are_ignored_with_a_reason() {
        let v = json!({"field":"account_update","value":{"event":"ACCOUNT_VIOLATION"}});
        assert!(
            matches!(&change(&v, Utc::now())[0], Event::Ignored { what, .. } if what.contains("ACCOUNT_VIOLATION"))
        );
    }
}
