//! Splitting one delivery into routing units: a Page or Instagram `entry`, or one WhatsApp
//! `change` (routed by its phone number id). Pure functions over JSON.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

/// One routing unit of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDraft {
    pub position: i32,
    pub object: String,
    /// Page id, IG account id, WhatsApp phone number id, or WABA id.
    pub account_id: String,
    /// What it contains, e.g. `message`, `delivery,read`, `feed`, `messages:status`.
    pub kind: String,
    pub body: Value,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Why a body could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body is JSON but not a Meta webhook (no object/entry)")]
    NotWebhook,
}

/// An id that Meta sends as a string (or, in some payloads, a number).
pub fn id_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A Meta timestamp: seconds or milliseconds, as a number or a numeric string. One outside
/// 1970 to a day from now is no time Meta sends (and may be outside PostgreSQL's range): it
/// counts as missing, and the event takes its delivery's time.
pub fn timestamp(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let n: i64 = match v? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f as i64)
        })?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    // 10^11 seconds is the year 5138; anything larger is milliseconds.
    let at = if n > 100_000_000_000 {
        Utc.timestamp_millis_opt(n).single()
    } else {
        Utc.timestamp_opt(n, 0).single()
    }?;
    (n >= 0 && at <= Utc::now() + chrono::Duration::days(1)).then_some(at)
}

/// Removes NUL characters from every string and key: PostgreSQL refuses them in `text` and
/// `jsonb`, and one would otherwise fail its whole batch at every attempt.
pub fn strip_nuls(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nuls),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(k.replace('\0', ""), v);
                }
            }
            map.values_mut().for_each(strip_nuls);
        }
        _ => {}
    }
}

fn messaging_kind(event: &Value) -> &'static str {
    const KINDS: [&str; 12] = [
        "message",
        "delivery",
        "read",
        "reaction",
        "message_edit",
        "postback",
        "referral",
        "optin",
        "pass_thread_control",
        "take_thread_control",
        "request_thread_control",
        "policy-enforcement",
    ];
    KINDS
        .iter()
        .find(|k| event.get(**k).is_some())
        .copied()
        .unwrap_or(if event.get("app_roles").is_some() {
            "app_roles"
        } else {
            "unknown"
        })
}

fn join_unique(kinds: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for k in kinds {
        if !seen.contains(&k) {
            seen.push(k);
        }
    }
    if seen.is_empty() {
        "empty".into()
    } else {
        seen.join(",")
    }
}

/// Splits a parsed body into routing units.
pub fn split(body: &Value) -> Result<Vec<ItemDraft>, SplitError> {
    let object = body
        .get("object")
        .and_then(Value::as_str)
        .ok_or(SplitError::NotWebhook)?;
    let entries = body
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(SplitError::NotWebhook)?;
    let mut items = Vec::new();
    let mut position = 0;
    for entry in entries {
        let entry_id = id_str(entry.get("id")).unwrap_or_default();
        let entry_time = timestamp(entry.get("time"));
        if object == "whatsapp_business_account" {
            for change in entry
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let field = change
                    .get("field")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                let value = change.get("value").cloned().unwrap_or(Value::Null);
                let account = id_str(value.pointer("/metadata/phone_number_id"))
                    .unwrap_or_else(|| entry_id.clone());
                let mut kinds = vec![field.to_string()];
                if value.get("messages").is_some() {
                    kinds.push("message".into());
                }
                if value.get("statuses").is_some() {
                    kinds.push("status".into());
                }
                let occurred = value
                    .pointer("/messages/0/timestamp")
                    .or_else(|| value.pointer("/statuses/0/timestamp"))
                    .and_then(|t| timestamp(Some(t)))
                    .or(entry_time);
                items.push(ItemDraft {
                    position,
                    object: object.into(),
                    account_id: account,
                    kind: kinds.join(":"),
                    body: serde_json::json!({"id": entry_id, "time": entry.get("time"), "changes": [change]}),
                    occurred_at: occurred,
                });
                position += 1;
            }
            continue;
        }
        let mut kinds = Vec::new();
        for list in ["messaging", "standby"] {
            for event in entry
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let k = messaging_kind(event);
                kinds.push(if list == "standby" {
                    format!("standby:{k}")
                } else {
                    k.to_string()
                });
            }
        }
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            kinds.push(
                change
                    .get("field")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string(),
            );
        }
        // Business Login for Instagram puts field/value on the entry itself.
        if let Some(field) = entry.get("field").and_then(Value::as_str) {
            kinds.push(field.to_string());
        }
        let first_ts = entry
            .pointer("/messaging/0/timestamp")
            .or_else(|| entry.pointer("/standby/0/timestamp"))
            .and_then(|t| timestamp(Some(t)));
        items.push(ItemDraft {
            position,
            object: object.into(),
            account_id: entry_id,
            kind: join_unique(kinds.into_iter()),
            body: entry.clone(),
            occurred_at: first_ts.or(entry_time),
        });
        position += 1;
    }
    Ok(items)
}

/// Parses and splits raw bytes.
pub fn split_bytes(body: &[u8]) -> Result<Vec<ItemDraft>, SplitError> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| SplitError::NotJson(e.to_string()))?;
    strip_nuls(&mut value);
    split(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nuls_are_stripped_and_impossible_times_count_as_missing() {
        let body = br#"{"object":"page","entry":[{"id":"1\u0000","time":-62135596800000,
            "messaging":[{"sender":{"id":"9"},"timestamp":99999999999999999,
            "message":{"mid":"m\u0000","text":"a\u0000b","k\u0000":{"x":"\u0000"}}}]}]}"#;
        let items = split_bytes(body).unwrap();
        assert_eq!(items[0].account_id, "1");
        assert_eq!(items[0].occurred_at, None);
        let text = items[0].body.to_string();
        assert!(!text.contains("\\u0000"), "{text}");
        assert!(text.contains(r#""text":"ab""#));
        assert!(text.contains(r#""k":{"x":""}"#));
        assert_eq!(timestamp(Some(&json!(-1))), None);
        assert_eq!(timestamp(Some(&json!(1e300))), None);
        assert_eq!(
            timestamp(Some(&json!("1700000000"))).map(|t| t.timestamp()),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn page_entries_become_one_item_each_with_their_kinds() {
        let body = json!({"object":"page","entry":[
            {"id":"111","time":1700000000123_i64,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"111"},"timestamp":1700000000100_i64,"message":{"mid":"m1","text":"hi"}},{"delivery":{"watermark":1}}]},
            {"id":222,"time":1700000000,"changes":[{"field":"feed","value":{"item":"comment"}}]}
        ]});
        let items = split(&body).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].account_id, "111");
        assert_eq!(items[0].kind, "message,delivery");
        assert_eq!(
            items[0].occurred_at.unwrap().timestamp_millis(),
            1700000000100
        );
        assert_eq!(items[1].account_id, "222", "numeric ids accepted");
        assert_eq!(items[1].kind, "feed");
    }

    #[test]
    fn whatsapp_changes_route_by_phone_number_id() {
        let body = json!({"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[
            {"field":"messages","value":{"metadata":{"phone_number_id":"P1"},"messages":[{"timestamp":"1700000000"}]}},
            {"field":"message_template_status_update","value":{"event":"APPROVED"}}
        ]}]});
        let items = split(&body).unwrap();
        assert_eq!(items[0].account_id, "P1");
        assert_eq!(items[0].kind, "messages:message");
        assert_eq!(items[1].account_id, "WABA");
        assert_eq!(items[1].position, 1);
    }

    #[test]
    fn non_webhooks_are_errors() {
        assert!(matches!(
            split_bytes(b"<xml/>"),
            Err(SplitError::NotJson(_))
        ));
        assert_eq!(split_bytes(b"{\"hello\":1}"), Err(SplitError::NotWebhook));
    }
}
