//! The Conversations API (contract §2.4): a Page's (or an Instagram Login account's) recent
//! conversations and the messages Meta lets an app read in detail, for the import on connect.

use serde::Deserialize;
use serde_json::Value;

use crate::meta::client::{Auth, Call, GraphClient};
use crate::meta::error::GraphError;
use crate::meta::paging::Paged;
use crate::meta::token::{AccessToken, TokenHost};

/// Meta reads only the most recent messages of a conversation in detail.
pub const DETAIL_MESSAGES: usize = 20;
/// Conversations asked for per page.
pub const PAGE_SIZE: usize = 25;

/// One listed conversation.
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationRef {
    pub id: String,
    #[serde(default)]
    pub updated_time: Option<String>,
}

/// A participant, or a message's sender or recipient.
#[derive(Debug, Clone, Deserialize)]
pub struct Participant {
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// A URL inside an attachment (`image_data{url}`, `video_data{url}`).
#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentData {
    #[serde(default)]
    pub url: Option<String>,
}

/// A message's attachment as the Conversations API describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageAttachment {
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub image_data: Option<AttachmentData>,
    #[serde(default)]
    pub video_data: Option<AttachmentData>,
    #[serde(default)]
    pub file_url: Option<String>,
}

impl MessageAttachment {
    /// (kind, url) as Parley stores attachments.
    pub fn kind_and_url(&self) -> Option<(&'static str, String)> {
        if let Some(url) = self.image_data.as_ref().and_then(|d| d.url.clone()) {
            return Some(("image", url));
        }
        if let Some(url) = self.video_data.as_ref().and_then(|d| d.url.clone()) {
            return Some(("video", url));
        }
        let url = self.file_url.clone()?;
        let kind = match self.mime_type.as_deref() {
            Some(m) if m.starts_with("audio/") => "audio",
            Some(m) if m.starts_with("image/") => "image",
            Some(m) if m.starts_with("video/") => "video",
            _ => "file",
        };
        Some((kind, url))
    }
}

/// One message read in detail.
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationMessage {
    pub id: String,
    #[serde(default)]
    pub created_time: Option<String>,
    #[serde(default)]
    pub from: Option<Participant>,
    #[serde(default)]
    pub to: Option<Paged<Participant>>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub attachments: Option<Paged<MessageAttachment>>,
}

/// A conversation with its participants and its most recent messages, newest first.
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationDetail {
    pub id: String,
    #[serde(default)]
    pub participants: Option<Paged<Participant>>,
    #[serde(default)]
    pub messages: Option<Paged<ConversationMessage>>,
    /// Messenger gives the conversation's size; Instagram may not.
    #[serde(default)]
    pub message_count: Option<i64>,
}

impl ConversationDetail {
    /// Whether Meta holds more messages than it let Parley read.
    pub fn has_earlier(&self) -> bool {
        let read = self.messages.as_ref().map_or(0, |m| m.data.len());
        self.message_count.is_some_and(|n| n > read as i64)
            || self
                .messages
                .as_ref()
                .and_then(|m| m.paging.as_ref())
                .is_some_and(|p| p.next.is_some())
    }
}

fn lenient_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

impl GraphClient {
    /// One page of the account's conversations on `platform` (`messenger` or `instagram`),
    /// most recently active first. With an Instagram Login token: `/me/conversations`.
    pub async fn conversations(
        &self,
        account_id: &str,
        token: &AccessToken,
        platform: &str,
        after: Option<&str>,
    ) -> Result<Paged<ConversationRef>, GraphError> {
        let path = match token.host() {
            TokenHost::Instagram => "me/conversations".to_string(),
            TokenHost::Facebook => format!("{account_id}/conversations"),
        };
        let call = Call::get(path, Auth::Token(token))
            .query("platform", platform)
            .query("fields", "id,updated_time")
            .query("limit", PAGE_SIZE.to_string())
            .query_opt("after", after)
            .budget(account_id);
        self.call(call).await
    }

    /// A conversation's participants and its most recent messages in detail.
    pub async fn conversation_detail(
        &self,
        conversation_id: &str,
        token: &AccessToken,
        account_id: &str,
    ) -> Result<ConversationDetail, GraphError> {
        let fields = format!(
            "id,message_count,participants,messages.limit({DETAIL_MESSAGES}){{id,created_time,from,to,message,attachments}}"
        );
        let call = Call::get(conversation_id, Auth::Token(token))
            .query("fields", fields)
            .budget(account_id);
        self.call(call).await
    }
}
