//! Customer comments and WhatsApp inbound messages: recorded in the world and turned into
//! Meta's `feed` / `comments` / `messages` webhook payloads.

use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::content::{FbComment, IgComment};
use super::events::{Built, CustomerEvent, kind_name, unsupported};
use super::seed::{Channel, Customer};
use super::util::{graph_time, random_alnum};
use super::webhooks::{self, Target};
use super::{Inner, SandboxError, media};

/// A comment on the newest post / IG media, with its `feed` or `comments` webhook.
pub(crate) fn comment(
    inner: &Arc<Inner>,
    c: &Customer,
    text: &str,
    at: DateTime<Utc>,
) -> Result<Built, SandboxError> {
    let mut state = inner.world.lock();
    if c.channel == Channel::Instagram {
        let media = state
            .ig_media
            .iter()
            .filter(|m| m.ig_id == c.account_id && m.product_type != "STORY")
            .max_by_key(|m| m.created)
            .map(|m| (m.id.clone(), m.product_type));
        let (media_id, product) =
            media.ok_or_else(|| SandboxError::Invalid("the account has no media".into()))?;
        let id = state.next_id("18088", 12);
        let username = c.username.clone().unwrap_or_default();
        state.ig_comments.push(IgComment {
            id: id.clone(),
            ig_id: c.account_id.clone(),
            media_id: media_id.clone(),
            parent_id: None,
            from_id: c.id.clone(),
            username: username.clone(),
            text: text.into(),
            created: at,
            hidden: false,
            deleted: false,
            likes: 0,
            mention_of: None,
        });
        let value = json!({"from": {"id": c.id, "username": username}, "media": {"id": media_id, "media_product_type": product}, "id": id, "text": text});
        let body = webhooks::changes_envelope("instagram", &c.account_id, "comments", value);
        return Ok((
            "comment",
            id,
            Target::Instagram {
                ig_id: c.account_id.clone(),
                field: "comments",
            },
            body,
            false,
        ));
    }
    let post = state
        .posts
        .iter()
        .filter(|p| p.page_id == c.account_id)
        .max_by_key(|p| p.created)
        .map(|p| p.id.clone());
    let post_id = post.ok_or_else(|| SandboxError::Invalid("the Page has no posts".into()))?;
    let local = post_id.split('_').nth(1).unwrap_or(&post_id).to_string();
    let id = format!("{local}_{}", state.next_id("4888", 11));
    state.fb_comments.push(FbComment {
        id: id.clone(),
        page_id: c.account_id.clone(),
        post_id: post_id.clone(),
        parent_id: None,
        from_id: c.id.clone(),
        from_name: c.name(),
        message: text.into(),
        created: at,
        hidden: false,
        deleted: false,
        likes: 0,
        page_liked: false,
    });
    let value = json!({
        "from": {"id": c.id, "name": c.name()},
        "post": {"status_type": "added_photos", "is_published": true, "updated_time": graph_time(at), "promotion_status": "inactive", "id": post_id},
        "message": text, "post_id": post_id, "comment_id": id, "created_time": at.timestamp(),
        "item": "comment", "parent_id": post_id, "verb": "add",
    });
    let body = webhooks::changes_envelope("page", &c.account_id, "feed", value);
    Ok((
        "comment",
        id,
        Target::Page {
            page_id: c.account_id.clone(),
            field: "feed",
        },
        body,
        false,
    ))
}

/// WhatsApp `messages` webhooks.
pub(crate) fn whatsapp(
    inner: &Arc<Inner>,
    c: &Customer,
    event: &CustomerEvent,
    at: DateTime<Utc>,
) -> Result<Built, SandboxError> {
    let wamid = format!("wamid.HBgL{}", random_alnum(48));
    let phone = inner.world.seed().phone_number.digits.clone();
    let last_out = inner.world.lock().last_outbound.get(&c.id).cloned();
    let mut msg = json!({"from": c.id, "id": wamid, "timestamp": at.timestamp().to_string()});
    let (kind, opens) = match event {
        CustomerEvent::Message(m) => {
            if let Some(q) = &m.quick_reply {
                msg["type"] = json!("button");
                msg["button"] =
                    json!({"payload": q, "text": m.text.clone().unwrap_or_else(|| q.clone())});
            } else if let Some(a) = &m.attachment {
                let (wa_type, mime, bytes) = match a.kind.as_str() {
                    "audio" => ("audio", "audio/ogg", media::wav()),
                    "video" => ("video", "video/mp4", b"\0\0\0\x18ftypisom".to_vec()),
                    "file" | "document" => {
                        ("document", "application/pdf", b"%PDF-1.4\n%%EOF\n".to_vec())
                    }
                    _ => ("image", "image/jpeg", media::png(&wamid)),
                };
                let id = media::store(&mut inner.world.lock(), Bytes::from(bytes.clone()), mime);
                let mut obj =
                    json!({"mime_type": mime, "sha256": super::util::sha256_hex(&bytes), "id": id});
                if let Some(t) = &m.text {
                    obj["caption"] = json!(t);
                }
                if wa_type == "audio" {
                    obj["voice"] = json!(true);
                }
                msg["type"] = json!(wa_type);
                msg[wa_type] = obj;
            } else {
                let text = m.text.clone().ok_or_else(|| {
                    SandboxError::Invalid("a message needs text or an attachment".into())
                })?;
                msg["type"] = json!("text");
                msg["text"] = json!({"body": text});
            }
            if let Some(r) = &m.reply_to {
                msg["context"] = json!({"from": phone, "id": r});
            }
            ("message", true)
        }
        CustomerEvent::Reaction {
            message_id, emoji, ..
        } => {
            let target = message_id.clone().or(last_out).ok_or_else(|| {
                SandboxError::Invalid("nothing was sent to this customer to react to".into())
            })?;
            msg["type"] = json!("reaction");
            msg["reaction"] =
                json!({"message_id": target, "emoji": emoji.clone().unwrap_or_default()});
            ("reaction", true)
        }
        CustomerEvent::Referral {
            ad_id, ad_title, ..
        } => {
            msg["type"] = json!("text");
            msg["text"] = json!({"body": "Hi! I saw your ad and have a question."});
            msg["referral"] = json!({"source_url": format!("https://fb.me/{ad_id}"), "source_id": ad_id, "source_type": "ad", "headline": ad_title, "body": "Tap to chat with us on WhatsApp", "media_type": "image", "image_url": format!("{}/_media/static/ad/{ad_id}.png", inner.base_url), "ctwa_clid": random_alnum(40)});
            ("referral", true)
        }
        CustomerEvent::Location {
            latitude,
            longitude,
            name,
            ..
        } => {
            msg["type"] = json!("location");
            let mut loc = json!({"latitude": latitude, "longitude": longitude});
            if let Some(n) = name {
                loc["name"] = json!(n);
            }
            msg["location"] = loc;
            ("location", true)
        }
        CustomerEvent::Contacts {
            name,
            phone: number,
            ..
        } => {
            let first = name.split_whitespace().next().unwrap_or(name);
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            msg["type"] = json!("contacts");
            msg["contacts"] = json!([{"name": {"formatted_name": name, "first_name": first}, "phones": [{"phone": number, "wa_id": digits, "type": "CELL"}]}]);
            ("contacts", true)
        }
        CustomerEvent::ButtonReply { id, title, .. } => {
            msg["type"] = json!("interactive");
            msg["interactive"] =
                json!({"type": "button_reply", "button_reply": {"id": id, "title": title}});
            if let Some(ctx) = last_out {
                msg["context"] = json!({"from": phone, "id": ctx});
            }
            ("button_reply", true)
        }
        other => return Err(unsupported(kind_name(other), c)),
    };
    let mut value = webhooks::whatsapp_value(inner);
    value["contacts"] = json!([{"profile": {"name": c.name()}, "wa_id": c.id}]);
    value["messages"] = json!([msg]);
    let body = webhooks::whatsapp_envelope(inner, value);
    Ok((kind, wamid, Target::Waba { field: "messages" }, body, opens))
}
