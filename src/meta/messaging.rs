//! The Send API for Messenger and Instagram (`POST /{page-id}/messages`).

use serde::{Deserialize, Serialize};

use crate::meta::client::{Auth, Body, Call, GraphClient, Repeat};
use crate::meta::error::GraphError;
use crate::meta::token::AccessToken;

/// Who receives a message.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Recipient {
    /// A PSID (Messenger) or IGSID (Instagram).
    Id { id: String },
    /// A private reply to a comment.
    Comment { comment_id: String },
}

/// `messaging_type`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessagingType {
    Response,
    Update,
    MessageTag,
}

/// Message tags Parley uses.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageTag {
    /// A human agent replying up to 7 days after the customer's last message.
    HumanAgent,
}

/// Attachment kinds of the Send API.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    Image,
    Audio,
    Video,
    File,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttachmentPayload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_reusable: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutgoingAttachment {
    #[serde(rename = "type")]
    pub kind: AttachmentKind,
    pub payload: AttachmentPayload,
}

/// The `message` of a send.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutgoingMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<OutgoingAttachment>,
    /// Echoed back in the echo webhook: Parley puts its own message id here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
}

/// `sender_action` values.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SenderAction {
    TypingOn,
    TypingOff,
    MarkSeen,
}

/// A Send API request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SendRequest {
    pub recipient: Recipient,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messaging_type: Option<MessagingType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<MessageTag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<OutgoingMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_action: Option<SenderAction>,
}

impl SendRequest {
    /// A text reply inside the 24 h window.
    pub fn text(recipient: &str, text: &str) -> Self {
        SendRequest {
            recipient: Recipient::Id {
                id: recipient.into(),
            },
            messaging_type: Some(MessagingType::Response),
            tag: None,
            message: Some(OutgoingMessage {
                text: Some(text.into()),
                ..Default::default()
            }),
            sender_action: None,
        }
    }

    /// The same message sent with the HUMAN_AGENT tag (24 h – 7 days).
    pub fn with_human_agent_tag(mut self) -> Self {
        self.messaging_type = Some(MessagingType::MessageTag);
        self.tag = Some(MessageTag::HumanAgent);
        self
    }
}

/// The Send API's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct SendResponse {
    /// Absent when the recipient was given as a comment id, user_ref or phone number.
    #[serde(default)]
    pub recipient_id: Option<String>,
    pub message_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentUpload {
    pub attachment_id: String,
}

impl GraphClient {
    /// Sends a message (or private reply). Never retried after an ambiguous failure.
    pub async fn send_message(
        &self,
        page_id: &str,
        page_token: &AccessToken,
        request: &SendRequest,
    ) -> Result<SendResponse, GraphError> {
        let body =
            serde_json::to_value(request).map_err(|e| GraphError::unexpected(e.to_string()))?;
        let call = Call::post(
            format!("{page_id}/messages"),
            Auth::Token(page_token),
            Body::Json(body),
            Repeat::Once,
        )
        .budget(page_id);
        self.call(call).await
    }

    /// Shows typing or marks the conversation seen (sent on its own, without a message).
    pub async fn sender_action(
        &self,
        page_id: &str,
        page_token: &AccessToken,
        recipient: &str,
        action: SenderAction,
    ) -> Result<(), GraphError> {
        let request = SendRequest {
            recipient: Recipient::Id {
                id: recipient.into(),
            },
            messaging_type: None,
            tag: None,
            message: None,
            sender_action: Some(action),
        };
        let body =
            serde_json::to_value(&request).map_err(|e| GraphError::unexpected(e.to_string()))?;
        let call = Call::post(
            format!("{page_id}/messages"),
            Auth::Token(page_token),
            Body::Json(body),
            Repeat::Safe,
        )
        .budget(page_id);
        self.send(call).await.map(|_| ())
    }

    /// Reacts to a customer's message (`reaction: Some("love")`) or takes the reaction back
    /// (`None`): the `react` / `unreact` sender actions.
    pub async fn react(
        &self,
        page_id: &str,
        page_token: &AccessToken,
        recipient: &str,
        message_id: &str,
        reaction: Option<&str>,
    ) -> Result<(), GraphError> {
        let body = match reaction {
            Some(r) => serde_json::json!({
                "recipient": {"id": recipient},
                "sender_action": "react",
                "payload": {"message_id": message_id, "reaction": r},
            }),
            None => serde_json::json!({
                "recipient": {"id": recipient},
                "sender_action": "unreact",
                "payload": {"message_id": message_id},
            }),
        };
        let call = Call::post(
            format!("{page_id}/messages"),
            Auth::Token(page_token),
            Body::Json(body),
            Repeat::Safe,
        )
        .budget(page_id);
        self.send(call).await.map(|_| ())
    }

    /// Uploads an attachment by URL for reuse (ids expire after 90 days).
    pub async fn upload_attachment(
        &self,
        page_id: &str,
        page_token: &AccessToken,
        kind: AttachmentKind,
        url: &str,
    ) -> Result<AttachmentUpload, GraphError> {
        let body = serde_json::json!({
            "message": {"attachment": {"type": kind, "payload": {"url": url, "is_reusable": true}}}
        });
        let call = Call::post(
            format!("{page_id}/message_attachments"),
            Auth::Token(page_token),
            Body::Json(body),
            Repeat::Once,
        )
        .budget(page_id);
        self.call(call).await
    }

    /// A private reply to a Facebook or Instagram comment (once per comment, within 7 days).
    pub async fn private_reply(
        &self,
        page_id: &str,
        page_token: &AccessToken,
        comment_id: &str,
        text: &str,
    ) -> Result<SendResponse, GraphError> {
        let request = SendRequest {
            recipient: Recipient::Comment {
                comment_id: comment_id.into(),
            },
            messaging_type: None,
            tag: None,
            message: Some(OutgoingMessage {
                text: Some(text.into()),
                ..Default::default()
            }),
            sender_action: None,
        };
        self.send_message(page_id, page_token, &request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_like_the_send_api() {
        let v =
            serde_json::to_value(SendRequest::text("123", "hi").with_human_agent_tag()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"recipient":{"id":"123"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","message":{"text":"hi"}})
        );
        let r = serde_json::to_value(Recipient::Comment {
            comment_id: "c1".into(),
        })
        .unwrap();
        assert_eq!(r, serde_json::json!({"comment_id":"c1"}));
    }
}
