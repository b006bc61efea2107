//! WhatsApp Cloud API: phone numbers, registration, webhooks subscription, messages, media.

use serde::{Deserialize, Serialize};

use crate::meta::client::{Auth, Body, Call, GraphClient, Repeat, Success};
use crate::meta::error::GraphError;
use crate::meta::paging::Paged;
use crate::meta::token::AccessToken;

/// A phone number of a WhatsApp Business Account.
#[derive(Debug, Clone, Deserialize)]
pub struct PhoneNumber {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
    #[serde(default)]
    pub quality_rating: Option<String>,
    #[serde(default)]
    pub code_verification_status: Option<String>,
    #[serde(default)]
    pub platform_type: Option<String>,
}

/// Media by uploaded id or by link.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaMedia {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaText {
    pub body: String,
    #[serde(default)]
    pub preview_url: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaReaction {
    pub message_id: String,
    pub emoji: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaLanguage {
    pub code: String,
}

/// A template send: name, language and filled components.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaTemplate {
    pub name: String,
    pub language: WaLanguage,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<serde_json::Value>,
}

/// What a WhatsApp message carries (serialised as `"type": ..., "<type>": {...}`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum WaContent {
    Text { text: WaText },
    Image { image: WaMedia },
    Video { video: WaMedia },
    Audio { audio: WaMedia },
    Document { document: WaMedia },
    Sticker { sticker: WaMedia },
    Reaction { reaction: WaReaction },
    Template { template: WaTemplate },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaContext {
    pub message_id: String,
}

/// A message to send with `POST /{phone-number-id}/messages`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaMessage {
    pub messaging_product: &'static str,
    pub recipient_type: &'static str,
    /// E.164 with `+`, or a BSUID.
    pub to: String,
    #[serde(flatten)]
    pub content: WaContent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<WaContext>,
}

impl WaMessage {
    pub fn new(to: &str, content: WaContent) -> Self {
        // Without `+` Meta prepends the business number's country code: always send it.
        let to = if to.starts_with('+') || !to.chars().all(|c| c.is_ascii_digit()) {
            to.to_string()
        } else {
            format!("+{to}")
        };
        WaMessage {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to,
            content,
            context: None,
        }
    }

    pub fn text(to: &str, body: &str) -> Self {
        Self::new(
            to,
            WaContent::Text {
                text: WaText {
                    body: body.into(),
                    preview_url: false,
                },
            },
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct WaContactResult {
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WaMessageResult {
    pub id: String,
    #[serde(default)]
    pub message_status: Option<String>,
}

/// Accepted (not yet delivered: statuses arrive by webhook).
#[derive(Debug, Clone, Deserialize)]
pub struct WaSendResponse {
    #[serde(default)]
    pub contacts: Vec<WaContactResult>,
    pub messages: Vec<WaMessageResult>,
}

impl WaSendResponse {
    /// The `wamid` of the accepted message.
    pub fn message_id(&self) -> Option<&str> {
        self.messages.first().map(|m| m.id.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaId {
    pub id: String,
}

/// Where to download a media item (the URL is valid for 5 minutes and needs the token).
#[derive(Debug, Clone, Deserialize)]
pub struct MediaUrl {
    pub url: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    pub id: String,
}

impl GraphClient {
    /// The phone numbers of a WABA.
    pub async fn whatsapp_phone_numbers(
        &self,
        waba_id: &str,
        token: &AccessToken,
    ) -> Result<Vec<PhoneNumber>, GraphError> {
        let call = Call::get(format!("{waba_id}/phone_numbers"), Auth::Token(token))
            .query("fields", "id,display_phone_number,verified_name,quality_rating,code_verification_status,platform_type")
            .budget(waba_id);
        self.call::<Paged<PhoneNumber>>(call).await.map(|p| p.data)
    }

    /// One phone number.
    pub async fn whatsapp_phone_number(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
    ) -> Result<PhoneNumber, GraphError> {
        let call = Call::get(phone_number_id, Auth::Token(token))
            .query("fields", "id,display_phone_number,verified_name,quality_rating,code_verification_status,platform_type");
        self.call(call).await
    }

    /// Registers a number for Cloud API use with its two-step verification PIN.
    pub async fn whatsapp_register(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
        pin: &str,
    ) -> Result<(), GraphError> {
        let body = Body::Json(serde_json::json!({"messaging_product": "whatsapp", "pin": pin}));
        let call = Call::post(
            format!("{phone_number_id}/register"),
            Auth::Token(token),
            body,
            Repeat::Once,
        );
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Subscribes Parley's app to the WABA's webhooks.
    pub async fn whatsapp_subscribe(
        &self,
        waba_id: &str,
        token: &AccessToken,
    ) -> Result<(), GraphError> {
        let call = Call::post(
            format!("{waba_id}/subscribed_apps"),
            Auth::Token(token),
            Body::Empty,
            Repeat::Safe,
        )
        .budget(waba_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Removes Parley's app from the WABA's webhooks.
    pub async fn whatsapp_unsubscribe(
        &self,
        waba_id: &str,
        token: &AccessToken,
    ) -> Result<(), GraphError> {
        let call =
            Call::delete(format!("{waba_id}/subscribed_apps"), Auth::Token(token)).budget(waba_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Sends a message. Never retried after an ambiguous failure.
    pub async fn whatsapp_send(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
        message: &WaMessage,
    ) -> Result<WaSendResponse, GraphError> {
        let body =
            serde_json::to_value(message).map_err(|e| GraphError::unexpected(e.to_string()))?;
        let call = Call::post(
            format!("{phone_number_id}/messages"),
            Auth::Token(token),
            Body::Json(body),
            Repeat::Once,
        );
        self.call(call).await
    }

    /// Marks a customer's message read (blue ticks).
    pub async fn whatsapp_mark_read(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
        message_id: &str,
    ) -> Result<(), GraphError> {
        let body = Body::Json(
            serde_json::json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id}),
        );
        let call = Call::post(
            format!("{phone_number_id}/messages"),
            Auth::Token(token),
            body,
            Repeat::Safe,
        );
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Uploads media for sending; returns its id (valid 30 days).
    pub async fn whatsapp_upload_media(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> Result<MediaId, GraphError> {
        let (mime, filename) = (mime.to_string(), filename.to_string());
        let make = move || {
            let part = reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(filename.clone())
                .mime_str(&mime)
                .unwrap_or_else(|_| {
                    reqwest::multipart::Part::bytes(bytes.clone()).file_name(filename.clone())
                });
            reqwest::multipart::Form::new()
                .text("messaging_product", "whatsapp")
                .text("type", mime.clone())
                .part("file", part)
        };
        let call = Call::post(
            format!("{phone_number_id}/media"),
            Auth::Token(token),
            Body::Multipart(Box::new(make)),
            Repeat::Once,
        );
        self.call(call).await
    }

    /// The short-lived download URL of a media item.
    pub async fn whatsapp_media_url(
        &self,
        media_id: &str,
        token: &AccessToken,
    ) -> Result<MediaUrl, GraphError> {
        self.call(Call::get(media_id, Auth::Token(token))).await
    }

    /// Downloads media from the URL Meta gave (with the token, as Meta requires), up to `max_bytes`.
    pub async fn download_media(
        &self,
        url: &str,
        token: &AccessToken,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, Option<String>), GraphError> {
        use futures_util::StreamExt;
        let response = self
            .inner
            .http
            .get(url)
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| GraphError::network(!e.is_connect(), "media download failed"))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let body = response.bytes().await.unwrap_or_default();
            return Err(GraphError::from_response(status, &body));
        }
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut stream = response.bytes_stream();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|_| GraphError::network(true, "media download interrupted"))?;
            if out.len() + chunk.len() > max_bytes {
                return Err(GraphError::unexpected(format!(
                    "media is larger than {max_bytes} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok((out, mime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_serialise_like_the_cloud_api() {
        let v = serde_json::to_value(WaMessage::text("15550001001", "hello")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"+15550001001","type":"text","text":{"body":"hello","preview_url":false}})
        );
        let t = WaMessage::new(
            "+4915",
            WaContent::Template {
                template: WaTemplate {
                    name: "order_update".into(),
                    language: WaLanguage {
                        code: "en_US".into(),
                    },
                    components: vec![],
                },
            },
        );
        let v = serde_json::to_value(t).unwrap();
        assert_eq!(v["type"], "template");
        assert_eq!(v["template"]["language"]["code"], "en_US");
    }
}
