//! What a message carries besides text, in the one shape Parley stores (JSON in
//! `messages.attachments` and `messages.referral`), built once from Meta's payloads when a
//! message is written. Readers deserialize these types; nobody re-parses Meta's JSON by pointer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One attachment of a message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Attachment {
    /// image, video, audio, file, sticker, location, share, story_mention, template, …
    pub kind: String,
    /// Meta's link to the file or the shared thing (CDN links expire; the file is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A WhatsApp media id (its file is fetched with the channel's token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// A shared location, when its coordinates are real ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
    /// The upload an agent's reply carries (its public token for Meta's fetch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_media: Option<String>,
    /// Parley's copy, or why there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<Stored>,
}

/// Latitude and longitude, checked to be on Earth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub lat: f64,
    pub long: f64,
}

/// Where Parley kept an attachment's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stored {
    File {
        file: String,
        content_type: String,
        size: i64,
    },
    /// Refused host, type or size, or gone at Meta: the reason, and no file.
    Failed { error: String },
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl Coordinates {
    /// Coordinates from numbers or numeric strings; anything else, or off the globe, is none.
    pub fn from_meta(lat: Option<&Value>, long: Option<&Value>) -> Option<Coordinates> {
        let number = |v: Option<&Value>| -> Option<f64> {
            let v = v?;
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| n.is_finite())
        };
        let (lat, long) = (number(lat)?, number(long)?);
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long))
            .then_some(Coordinates { lat, long })
    }
}

impl Attachment {
    /// A Messenger or Instagram attachment (`{"type": …, "payload": {…}}`).
    pub fn from_messenger(a: &Value) -> Attachment {
        let coordinates = a
            .pointer("/payload/coordinates")
            .and_then(|c| Coordinates::from_meta(c.get("lat"), c.get("long")));
        Attachment {
            kind: text(a, "/type").unwrap_or_else(|| "file".into()),
            url: text(a, "/payload/url").or_else(|| text(a, "/url")),
            title: text(a, "/payload/title").or_else(|| text(a, "/title")),
            coordinates,
            ..Attachment::default()
        }
    }

    /// A WhatsApp media message's file (`image`, `document`, … object with `id`).
    pub fn from_whatsapp(kind: &str, media: &Value) -> Attachment {
        Attachment {
            kind: kind.to_string(),
            media_id: text(media, "/id"),
            filename: text(media, "/filename"),
            mime_type: text(media, "/mime_type"),
            ..Attachment::default()
        }
    }

    /// A WhatsApp location message (`{"latitude", "longitude", "name", "address"}`).
    pub fn from_whatsapp_location(loc: &Value) -> Attachment {
        Attachment {
            kind: "location".into(),
            title: text(loc, "/name").or_else(|| text(loc, "/address")),
            coordinates: Coordinates::from_meta(loc.get("latitude"), loc.get("longitude")),
            ..Attachment::default()
        }
    }

    /// The file Parley kept, if it kept one.
    pub fn stored_file(&self) -> Option<(&str, &str)> {
        match &self.stored {
            Some(Stored::File {
                file, content_type, ..
            }) => Some((file, content_type)),
            _ => None,
        }
    }

    /// Whether fetching the file failed for good.
    pub fn failed(&self) -> bool {
        matches!(self.stored, Some(Stored::Failed { .. }))
    }
}

/// A message's attachments as stored; a row that does not parse reads as none.
pub fn from_stored(value: &Value) -> Vec<Attachment> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The stored form of a message's attachments.
pub fn to_stored(attachments: &[Attachment]) -> Value {
    serde_json::to_value(attachments).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// Ad or link attribution, the same shape for Messenger, Instagram and WhatsApp referrals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN, ad, post…
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_id: Option<String>,
    /// Ad title/headline when Meta sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Referral {
    /// Messenger's or WhatsApp's `referral` object; `None` when it names no source.
    pub fn from_meta(value: &Value) -> Option<Referral> {
        let s = |p: &str| text(value, p);
        let source = s("/source").or_else(|| s("/source_type"))?;
        Some(Referral {
            kind: s("/type"),
            reference: s("/ref"),
            ad_id: s("/ad_id").or_else(|| {
                (value.get("source_type").and_then(Value::as_str) == Some("ad"))
                    .then(|| s("/source_id"))
                    .flatten()
            }),
            campaign: s("/ads_context_data/ad_title").or_else(|| s("/headline")),
            link: s("/source_url").or_else(|| s("/referer_uri")),
            source,
        })
    }

    /// A stored referral.
    pub fn from_stored(value: &Value) -> Option<Referral> {
        serde_json::from_value(value.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn referrals_normalize_across_platforms_and_read_back() {
        let m = Referral::from_meta(
            &json!({"source":"ADS","type":"OPEN_THREAD","ref":"spring","ad_id":"6045",
            "ads_context_data":{"ad_title":"Spring sale"}}),
        )
        .unwrap();
        assert_eq!(m.source, "ADS");
        assert_eq!(m.ad_id.as_deref(), Some("6045"));
        assert_eq!(m.campaign.as_deref(), Some("Spring sale"));
        let w = Referral::from_meta(
            &json!({"source_url":"https://fb.me/x","source_id":"777","source_type":"ad",
            "headline":"Free shipping"}),
        )
        .unwrap();
        assert_eq!(w.source, "ad");
        assert_eq!(w.ad_id.as_deref(), Some("777"));
        assert_eq!(w.link.as_deref(), Some("https://fb.me/x"));
        assert_eq!(Referral::from_meta(&json!({"x":1})), None);
        let stored = serde_json::to_value(&w).unwrap();
        assert_eq!(Referral::from_stored(&stored), Some(w));
    }

    #[test]
    fn attachments_keep_what_parley_uses_and_drop_odd_coordinates() {
        let a = Attachment::from_messenger(&json!({"type":"location","payload":{
            "title":"Office","coordinates":{"lat":"38.7","long":-9.1}}}));
        assert_eq!(a.kind, "location");
        assert_eq!(
            a.coordinates,
            Some(Coordinates {
                lat: 38.7,
                long: -9.1
            })
        );
        let off = Attachment::from_messenger(&json!({"type":"location","payload":{
            "coordinates":{"lat":1e308,"long":"east"}}}));
        assert_eq!(off.coordinates, None);
        let wa = Attachment::from_whatsapp("file", &json!({"id":"m1","filename":"a.pdf"}));
        assert_eq!(wa.media_id.as_deref(), Some("m1"));
        let mut kept = wa.clone();
        kept.stored = Some(Stored::File {
            file: "7-0".into(),
            content_type: "application/pdf".into(),
            size: 3,
        });
        let round = from_stored(&to_stored(std::slice::from_ref(&kept)));
        assert_eq!(round, vec![kept.clone()]);
        assert_eq!(round[0].stored_file(), Some(("7-0", "application/pdf")));
        assert!(from_stored(&json!("not a list")).is_empty());
    }
}
