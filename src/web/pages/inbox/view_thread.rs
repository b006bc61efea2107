//! What a thread shows: day groups, message bubbles with their attachments, and the
//! messaging-window indicator.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::inbox::thread::{Note, ThreadMessage, ThreadPage};
use crate::inbox::window::Window;
use crate::models::attachments::{self, Coordinates, Referral};
use crate::models::channels::Platform;
use crate::web::safe_url::SafeUrl;

/// An attachment as the thread shows it.
pub struct AttachmentView {
    /// image, video, audio, sticker, file, location, contacts, link, pending
    pub kind: String,
    /// Parley's copy (`/media/...`), when stored.
    pub url: Option<SafeUrl>,
    pub name: String,
    /// Somewhere to go outside Parley (a story, a shared post, a map): only http(s).
    pub link: Option<SafeUrl>,
}

/// A message bubble.
pub struct MessageView {
    pub id: i64,
    pub outbound: bool,
    pub sender: String,
    pub at: DateTime<Utc>,
    pub text: Option<String>,
    pub removed: bool,
    pub edited: bool,
    pub kind_label: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub reactions: Vec<String>,
    /// The business reacted to this (customer) message.
    pub reacted_by_us: bool,
    /// A customer message Meta knows, which an agent may react to.
    pub can_react: bool,
    pub quoted: Option<String>,
    pub referral: Option<Referral>,
    pub story_link: Option<SafeUrl>,
    pub status: String,
    pub failed_reason: Option<String>,
    pub can_retry: bool,
    pub tag_human_agent: bool,
}

/// A note or a message, in time order.
pub struct ThreadItem {
    pub note: Option<Note>,
    pub message: Option<MessageView>,
}

/// Items of one day.
pub struct DayGroup {
    pub day: DateTime<Utc>,
    pub items: Vec<ThreadItem>,
}

fn s(v: &Value, p: &str) -> Option<String> {
    v.pointer(p).and_then(Value::as_str).map(str::to_string)
}

/// A map link for coordinates (already checked to be on Earth when stored).
fn map_link(c: Coordinates) -> Option<SafeUrl> {
    SafeUrl::external(&format!(
        "https://www.openstreetmap.org/?mlat={}&mlon={}",
        c.lat, c.long
    ))
}

fn attachment_views(m: &ThreadMessage) -> Vec<AttachmentView> {
    let mut out = Vec::new();
    for (i, a) in attachments::from_stored(&m.attachments)
        .into_iter()
        .enumerate()
    {
        let kind = a.kind.clone();
        let url = a
            .stored_file()
            .and_then(|_| SafeUrl::local(format!("/media/{}/{i}", m.id)));
        let name = a
            .filename
            .clone()
            .or_else(|| a.title.clone())
            .unwrap_or_else(|| {
                if kind == "location" {
                    "Shared location".into()
                } else {
                    kind.clone()
                }
            });
        let view = match kind.as_str() {
            "location" => AttachmentView {
                link: a.coordinates.and_then(map_link),
                kind,
                url: None,
                name,
            },
            "story_mention" | "share" | "fallback" | "reel" | "ig_reel" | "post" | "ig_post"
            | "template" => AttachmentView {
                link: a.url.as_deref().and_then(SafeUrl::external),
                kind: "link".into(),
                url: None,
                name: match kind.as_str() {
                    "story_mention" => "Mentioned you in their story".into(),
                    "template" => "Structured message".into(),
                    _ => name,
                },
            },
            "image" | "video" | "audio" | "sticker" | "file" | "document" if url.is_some() => {
                AttachmentView {
                    kind: if kind == "document" {
                        "file".into()
                    } else {
                        kind
                    },
                    url,
                    name,
                    link: None,
                }
            }
            _ => AttachmentView {
                kind: "pending".into(),
                url: None,
                name: if a.failed() {
                    format!("{name} (could not be downloaded)")
                } else {
                    format!("{name} (downloading…)")
                },
                link: None,
            },
        };
        out.push(view);
    }
    // WhatsApp contact cards arrive in `extra`.
    for c in m
        .extra
        .get("contacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = s(c, "/name/formatted_name").unwrap_or_else(|| "Contact".into());
        let phone = s(c, "/phones/0/phone").unwrap_or_default();
        out.push(AttachmentView {
            kind: "contacts".into(),
            url: None,
            name: format!("{name} {phone}").trim().to_string(),
            link: None,
        });
    }
    out
}

fn kind_label(kind: &str) -> Option<String> {
    let label = match kind {
        "postback" => "Tapped a button",
        "optin" => "Opted in",
        "handover" => "Conversation handed over",
        "referral" => "Arrived from a link or ad",
        "story_reply" => "Replied to your story",
        "story_mention" => "Mentioned you in their story",
        "interactive" | "button" => "Chose an option",
        "unsupported" => "A message Meta cannot show here",
        "system" => "System message",
        "order" => "Sent an order",
        _ => return None,
    };
    Some(label.to_string())
}

/// A message bubble from its row.
pub fn message_view(m: ThreadMessage, customer: &str) -> MessageView {
    let outbound = m.direction == "outbound";
    let sender = match (outbound, m.is_echo, &m.sender_name) {
        (false, _, _) => customer.to_string(),
        // History from before Parley: Meta does not say who wrote it.
        (true, true, _) if m.imported => "Your team, before Parley".into(),
        (true, true, _) => "Sent from another Meta tool".into(),
        (true, false, Some(name)) => name.clone(),
        (true, false, None) => "Parley".into(),
    };
    let failed_reason = (m.status == "failed").then(|| {
        m.error
            .as_ref()
            .and_then(|e| {
                s(e, "/message")
                    .or_else(|| s(e, "/0/title"))
                    .or_else(|| s(e, "/0/message"))
            })
            .unwrap_or_else(|| "Meta did not accept the message.".into())
    });
    let can_retry =
        m.status == "failed" && outbound && !m.is_echo && m.platform_message_id.is_none();
    let reactions = m
        .reactions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| s(r, "/emoji"))
        .collect();
    let reacted_by_us = m
        .reactions
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| s(r, "/reactor").as_deref() == Some("business"));
    let can_react = !outbound && m.platform_message_id.is_some() && m.deleted_at.is_none();
    MessageView {
        reacted_by_us,
        can_react,
        id: m.id,
        outbound,
        sender,
        at: m.sent_at,
        attachments: attachment_views(&m),
        text: if m.deleted_at.is_some() {
            None
        } else {
            m.text.clone()
        },
        removed: m.deleted_at.is_some(),
        edited: m.edited_at.is_some(),
        kind_label: kind_label(&m.kind),
        reactions,
        quoted: m.quoted.clone().or_else(|| {
            m.reply_to_platform_id
                .as_ref()
                .map(|_| "An earlier message".to_string())
        }),
        referral: m.referral.as_ref().and_then(Referral::from_stored),
        story_link: s(&m.extra, "/story/url").and_then(|u| SafeUrl::external(&u)),
        tag_human_agent: s(&m.extra, "/send_mode").as_deref() == Some("human_agent"),
        status: m.status,
        failed_reason,
        can_retry,
    }
}

/// Groups a thread page by day, notes and messages merged by time.
pub fn days(page: ThreadPage, customer: &str) -> Vec<DayGroup> {
    let mut items: Vec<(DateTime<Utc>, ThreadItem)> = page
        .messages
        .into_iter()
        .map(|m| {
            (
                m.sent_at,
                ThreadItem {
                    note: None,
                    message: Some(message_view(m, customer)),
                },
            )
        })
        .collect();
    items.extend(page.notes.into_iter().map(|n| {
        (
            n.created_at,
            ThreadItem {
                note: Some(n),
                message: None,
            },
        )
    }));
    items.sort_by_key(|(at, _)| *at);
    let mut groups: Vec<DayGroup> = Vec::new();
    for (at, item) in items {
        match groups.last_mut() {
            Some(g) if g.day.date_naive() == at.date_naive() => g.items.push(item),
            _ => groups.push(DayGroup {
                day: at,
                items: vec![item],
            }),
        }
    }
    groups
}

/// The window indicator and what the composer allows.
pub struct WindowView {
    pub state: &'static str,
    pub text: String,
    pub allows_reply: bool,
    pub needs_human_agent: bool,
}

impl WindowView {
    pub fn new(w: Window, now: DateTime<Utc>) -> WindowView {
        WindowView {
            state: w.state(),
            text: w.describe(now),
            allows_reply: w.allows_reply(),
            needs_human_agent: w.needs_human_agent(),
        }
    }
}

/// The `accept` attribute of the composer's file input for a platform.
pub fn accept(platform: Platform) -> &'static str {
    match platform {
        Platform::Whatsapp => {
            "image/jpeg,image/png,video/mp4,video/3gpp,audio/mpeg,audio/mp4,audio/ogg,audio/aac,application/pdf,text/plain,.doc,.docx,.xls,.xlsx"
        }
        Platform::Instagram => {
            "image/jpeg,image/png,image/gif,video/mp4,audio/mpeg,audio/mp4,audio/aac,audio/ogg,application/pdf"
        }
        Platform::Messenger => {
            "image/jpeg,image/png,image/gif,video/mp4,audio/mpeg,audio/mp4,audio/aac,audio/ogg,application/pdf,text/plain,.doc,.docx,.xls,.xlsx"
        }
    }
}
