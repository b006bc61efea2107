//! Customer actions (messages, postbacks, referrals, reactions, comments, WhatsApp
//! locations...): recorded in the world, turned into Meta's webhook payloads and delivered.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::content::{FOREIGN_IG_OWNER, IgComment};
use super::seed::{Channel, Customer};
use super::util::random_alnum;
use super::webhooks::{self, Target};
use super::world::InboundRecord;
use super::{Inner, SandboxError, inbound};

/// A message from a customer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CustomerMessage {
    /// PSID, IGSID or wa_id; also "First Last", a first name or an IG username.
    pub customer: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub attachment: Option<InboundAttachment>,
    /// A quick-reply payload (WhatsApp: a template button payload).
    #[serde(default)]
    pub quick_reply: Option<String>,
    /// Id of the message this replies to.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// When it was sent (default now). It becomes the customer's last-inbound time even when
    /// earlier than a previous message, so tests can put a customer 30 h or 8 days back.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

impl CustomerMessage {
    /// A plain text message.
    pub fn text(customer: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            customer: customer.into(),
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// A media attachment of an inbound message; the URL defaults to a sandbox-hosted file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboundAttachment {
    /// `image`, `audio`, `video` or `file`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub url: Option<String>,
}

/// Anything a customer can do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerEvent {
    Message(CustomerMessage),
    /// A tap on a postback button (Messenger, Instagram).
    Postback {
        customer: String,
        title: String,
        payload: String,
    },
    /// The customer opened the thread from a click-to-message ad.
    Referral {
        customer: String,
        ad_id: String,
        #[serde(rename = "ref")]
        referral_ref: String,
        ad_title: String,
    },
    /// A reaction to a message (default: the last one sent to them); `emoji: None` removes it.
    Reaction {
        customer: String,
        #[serde(default)]
        message_id: Option<String>,
        #[serde(default)]
        emoji: Option<String>,
    },
    /// The Page answered from another Meta tool (Messenger echo).
    Echo {
        customer: String,
        text: String,
    },
    /// The customer mentioned the account in their story (Instagram).
    StoryMention {
        customer: String,
    },
    /// The customer replied to the account's story (Instagram).
    StoryReply {
        customer: String,
        text: String,
    },
    /// A comment on the newest post (Messenger customers) or IG media (Instagram customers).
    Comment {
        customer: String,
        text: String,
    },
    /// An @mention of the account in a comment elsewhere (Instagram).
    Mention {
        customer: String,
    },
    /// WhatsApp location.
    Location {
        customer: String,
        latitude: f64,
        longitude: f64,
        #[serde(default)]
        name: Option<String>,
    },
    /// WhatsApp shared contact card.
    Contacts {
        customer: String,
        name: String,
        phone: String,
    },
    /// WhatsApp reply-button tap (on the last message sent to them).
    ButtonReply {
        customer: String,
        id: String,
        title: String,
    },
}

impl CustomerEvent {
    fn customer(&self) -> &str {
        match self {
            CustomerEvent::Message(m) => &m.customer,
            CustomerEvent::Postback { customer, .. }
            | CustomerEvent::Referral { customer, .. }
            | CustomerEvent::Reaction { customer, .. }
            | CustomerEvent::Echo { customer, .. }
            | CustomerEvent::StoryMention { customer }
            | CustomerEvent::StoryReply { customer, .. }
            | CustomerEvent::Comment { customer, .. }
            | CustomerEvent::Mention { customer }
            | CustomerEvent::Location { customer, .. }
            | CustomerEvent::Contacts { customer, .. }
            | CustomerEvent::ButtonReply { customer, .. } => customer,
        }
    }
}

pub(crate) fn unsupported(what: &str, c: &Customer) -> SandboxError {
    SandboxError::Invalid(format!(
        "{what} is not available on {:?} (customer {})",
        c.channel, c.id
    ))
}

fn static_url(inner: &Inner, kind: &str) -> String {
    let file = match kind {
        "audio" => "voice.wav",
        "video" => "clip.mp4",
        "file" | "document" => "receipt.pdf",
        _ => "photo.png",
    };
    format!("{}/_media/static/{file}", inner.base_url)
}

/// Records the event, updates the customer's window and delivers its webhook.
pub(crate) async fn deliver(
    inner: &Arc<Inner>,
    event: CustomerEvent,
) -> Result<InboundRecord, SandboxError> {
    let seed = inner.world.seed();
    let c = seed
        .customer(event.customer())
        .ok_or_else(|| SandboxError::UnknownCustomer(event.customer().into()))?
        .clone();
    let explicit_at = match &event {
        CustomerEvent::Message(m) => m.at,
        _ => None,
    };
    let at = explicit_at.unwrap_or_else(Utc::now);
    let (kind, id, target, body, opens_window) = if c.channel == Channel::WhatsApp {
        inbound::whatsapp(inner, &c, &event, at)?
    } else {
        social(inner, &c, &event, at)?
    };
    if opens_window {
        let mut state = inner.world.lock();
        let entry = state.last_inbound.entry(c.id.clone()).or_insert(at);
        if explicit_at.is_some() || *entry < at {
            *entry = at;
        }
    }
    let webhook = webhooks::deliver(inner, target, body).await;
    let record = InboundRecord {
        id,
        customer_id: c.id.clone(),
        channel: c.channel,
        kind: kind.into(),
        at,
        webhook: Some(webhook),
    };
    inner.world.lock().inbound.push(record.clone());
    Ok(record)
}

pub(crate) type Built = (&'static str, String, Target, Value, bool);

/// Messenger and Instagram events.
fn social(
    inner: &Arc<Inner>,
    c: &Customer,
    event: &CustomerEvent,
    at: DateTime<Utc>,
) -> Result<Built, SandboxError> {
    let ig = c.channel == Channel::Instagram;
    let object = if ig { "instagram" } else { "page" };
    let account = c.account_id.clone();
    let target = |field: &'static str| {
        if ig {
            Target::Instagram {
                ig_id: account.clone(),
                field,
            }
        } else {
            Target::Page {
                page_id: account.clone(),
                field,
            }
        }
    };
    let ms = at.timestamp_millis();
    let mid = if ig {
        format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj{}", random_alnum(52))
    } else {
        format!("m_{}", random_alnum(86))
    };
    let item = |key: &str, value: Value| json!({"sender": {"id": c.id}, "recipient": {"id": account}, "timestamp": ms, key: value});
    let envelope = |event: Value| webhooks::messaging_envelope(object, &account, event);
    let last_out = inner.world.lock().last_outbound.get(&c.id).cloned();
    Ok(match event {
        CustomerEvent::Message(m) => {
            inner
                .world
                .lock()
                .history
                .push(super::conversations::HistoryMessage {
                    id: mid.clone(),
                    customer_id: c.id.clone(),
                    from_business: false,
                    text: m.text.clone(),
                    at,
                });
            let mut msg = json!({"mid": mid});
            if let Some(t) = &m.text {
                msg["text"] = json!(t);
            }
            if let Some(q) = &m.quick_reply {
                msg["quick_reply"] = json!({"payload": q});
            }
            if let Some(r) = &m.reply_to {
                msg["reply_to"] = if ig {
                    json!({"mid": r})
                } else {
                    json!({"mid": r, "is_self_reply": false})
                };
            }
            if let Some(a) = &m.attachment {
                let url = a.url.clone().unwrap_or_else(|| static_url(inner, &a.kind));
                msg["attachments"] = json!([{"type": a.kind, "payload": {"url": url}}]);
            }
            if m.text.is_none() && m.attachment.is_none() {
                return Err(SandboxError::Invalid(
                    "a message needs text or an attachment".into(),
                ));
            }
            (
                "message",
                mid,
                target("messages"),
                envelope(item("message", msg)),
                true,
            )
        }
        CustomerEvent::Postback { title, payload, .. } => {
            let ev = item(
                "postback",
                json!({"mid": mid, "title": title, "payload": payload}),
            );
            (
                "postback",
                mid,
                target("messaging_postbacks"),
                envelope(ev),
                true,
            )
        }
        CustomerEvent::Referral {
            ad_id,
            referral_ref,
            ad_title,
            ..
        } => {
            let photo = format!("{}/_media/static/ad/{ad_id}.png", inner.base_url);
            let referral = json!({"ref": referral_ref, "ad_id": ad_id, "source": "ADS", "type": "OPEN_THREAD", "ads_context_data": {"ad_title": ad_title, "photo_url": photo}});
            let field = if ig {
                "messaging_referral"
            } else {
                "messaging_referrals"
            };
            (
                "referral",
                ad_id.clone(),
                target(field),
                envelope(item("referral", referral)),
                true,
            )
        }
        CustomerEvent::Reaction {
            message_id, emoji, ..
        } => {
            let target_mid = message_id.clone().or(last_out).ok_or_else(|| {
                SandboxError::Invalid("nothing was sent to this customer to react to".into())
            })?;
            let reaction = match emoji {
                Some(e) => {
                    json!({"mid": target_mid, "action": "react", "reaction": "love", "emoji": e})
                }
                None => json!({"mid": target_mid, "action": "unreact"}),
            };
            (
                "reaction",
                target_mid,
                target("message_reactions"),
                envelope(item("reaction", reaction)),
                false,
            )
        }
        CustomerEvent::Echo { text, .. } => {
            // Sent by the Page from another Meta tool (Meta Business Suite's app id).
            let echo = json!({"sender": {"id": account}, "recipient": {"id": c.id}, "timestamp": ms, "message": {"mid": mid, "is_echo": true, "app_id": 263_902_037_430_900u64, "text": text}});
            let field = if ig { "messages" } else { "message_echoes" };
            ("echo", mid, target(field), envelope(echo), false)
        }
        CustomerEvent::StoryMention { .. } if ig => {
            let url = static_url(inner, "image");
            let msg = json!({"mid": mid, "attachments": [{"type": "story_mention", "payload": {"url": url}}]});
            (
                "story_mention",
                mid,
                target("messages"),
                envelope(item("message", msg)),
                true,
            )
        }
        CustomerEvent::StoryReply { text, .. } if ig => {
            let story = inner
                .world
                .lock()
                .ig_media
                .iter()
                .find(|m| m.ig_id == account && m.product_type == "STORY")
                .map(|m| (m.id.clone(), m.media_url.clone()));
            let (story_id, url) = story.unwrap_or_default();
            let msg = json!({"mid": mid, "text": text, "reply_to": {"story": {"url": url, "id": story_id}}});
            (
                "story_reply",
                mid,
                target("messages"),
                envelope(item("message", msg)),
                true,
            )
        }
        CustomerEvent::Comment { text, .. } => inbound::comment(inner, c, text, at)?,
        CustomerEvent::Mention { .. } if ig => {
            let username = inner
                .world
                .seed()
                .ig_account(&account)
                .map(|(_, ig)| ig.username.clone())
                .unwrap_or_default();
            let (comment_id, media_id) = {
                let mut state = inner.world.lock();
                let ids = (state.next_id("17887498", 9), state.next_id("17918195", 9));
                // The comment lives on the customer's own media, which the business cannot
                // moderate; it can read it (as a mention) and reply to it.
                state.ig_comments.push(IgComment {
                    id: ids.0.clone(),
                    ig_id: FOREIGN_IG_OWNER.into(),
                    media_id: ids.1.clone(),
                    parent_id: None,
                    from_id: c.id.clone(),
                    username: c.username.clone().unwrap_or_default(),
                    text: format!("@{username} you have to try this place!"),
                    created: at,
                    hidden: false,
                    deleted: false,
                    likes: 0,
                    mention_of: Some(account.clone()),
                });
                ids
            };
            let body = webhooks::changes_envelope(
                "instagram",
                &account,
                "mentions",
                json!({"comment_id": comment_id, "media_id": media_id}),
            );
            ("mention", comment_id, target("mentions"), body, false)
        }
        other => return Err(unsupported(kind_name(other), c)),
    })
}

pub(crate) fn kind_name(e: &CustomerEvent) -> &'static str {
    match e {
        CustomerEvent::StoryMention { .. } => "story_mention",
        CustomerEvent::StoryReply { .. } => "story_reply",
        CustomerEvent::Mention { .. } => "mention",
        CustomerEvent::Location { .. } => "location",
        CustomerEvent::Contacts { .. } => "contacts",
        CustomerEvent::ButtonReply { .. } => "button_reply",
        CustomerEvent::Postback { .. } => "postback",
        CustomerEvent::Echo { .. } => "echo",
        _ => "this event",
    }
}
