//! Sending an approved template in a WhatsApp conversation (inside the 24-hour window or after
//! it): the agent's values become Meta's send components, the thread keeps the filled message,
//! and the send goes through the job queue like any reply.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::ids::{ChannelId, ConversationId, MessageId, TenantId, UserId};
use crate::inbox::InboxError;
use crate::message_templates::content::{
    ButtonKind, HeaderKind, ParameterFormat, TemplateContent, fill, parameters, unique,
};
use crate::message_templates::status::TemplateStatus;
use crate::models::channels::Platform;
use crate::models::conversations::{self, ConversationChange};
use crate::models::message_templates::{self as library, Template};
use crate::models::outbound;

/// What a template send carries in the message's `extra` (read back by the send job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePayload {
    pub template_id: i64,
    pub name: String,
    pub language: String,
    pub components: Vec<Value>,
}

/// The values an agent typed: `header`, `body_<param>` and `button_<index>`.
pub type Values = BTreeMap<String, String>;

/// What a location header asks for.
const LOCATION_FIELDS: [(&str, &str); 4] = [
    ("header_latitude", "Location latitude"),
    ("header_longitude", "Location longitude"),
    ("header_name", "Location name"),
    ("header_address", "Location address"),
];

/// The fields the agent must fill for `t`: (key, label).
pub fn fields_of(t: &Template) -> Vec<(String, String)> {
    let c = t.content();
    let mut out = Vec::new();
    if c.header_kind == HeaderKind::Text && !parameters(&c.header_text).is_empty() {
        out.push(("header".into(), "Header".into()));
    }
    if c.header_kind.is_media() {
        out.push((
            "header".into(),
            format!("Header {} (a public https link)", c.header_kind.as_str()),
        ));
    }
    if c.header_kind == HeaderKind::Location {
        for (key, label) in LOCATION_FIELDS {
            out.push((key.into(), label.into()));
        }
    }
    for p in unique(parameters(&c.body)) {
        out.push((format!("body_{p}"), format!("Value for {{{{{p}}}}}")));
    }
    for (i, b) in c.buttons.iter().enumerate() {
        match b.kind {
            ButtonKind::Url if !parameters(&b.value).is_empty() => out.push((
                format!("button_{i}"),
                format!("{} (end of the link)", b.text),
            )),
            ButtonKind::CopyCode => out.push((format!("button_{i}"), "Code to copy".into())),
            _ => {}
        }
    }
    out
}

/// The message as the customer will read it (header, body, footer), with `values` filled in.
pub fn filled_text(c: &TemplateContent, values: &Values) -> String {
    let header = if c.header_kind == HeaderKind::Text {
        fill(&c.header_text, |_| values.get("header").cloned())
    } else {
        String::new()
    };
    let body = fill(&c.body, |p| values.get(&format!("body_{p}")).cloned());
    [header, body, c.footer.clone()]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn text_parameter(format: ParameterFormat, name: &str, value: &str) -> Value {
    match format {
        ParameterFormat::Positional => json!({"type": "text", "text": value}),
        ParameterFormat::Named => json!({"type": "text", "text": value, "parameter_name": name}),
    }
}

/// Meta's send components for `t` with `values` (every field of [`fields_of`] filled).
pub fn components(t: &Template, values: &Values) -> Vec<Value> {
    let (c, format) = (t.content(), t.format());
    let value = |k: &str| {
        values
            .get(k)
            .map(String::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut out = Vec::new();
    if c.header_kind == HeaderKind::Text
        && let Some(p) = parameters(&c.header_text).first()
    {
        out.push(
            json!({"type": "header", "parameters": [text_parameter(format, p, &value("header"))]}),
        );
    }
    if c.header_kind == HeaderKind::Location {
        out.push(
            json!({"type": "header", "parameters": [{"type": "location", "location": {
                "latitude": value("header_latitude"), "longitude": value("header_longitude"),
                "name": value("header_name"), "address": value("header_address"),
            }}]}),
        );
    }
    if c.header_kind.is_media() {
        let kind = c.header_kind.as_str();
        out.push(json!({"type": "header", "parameters": [{"type": kind, kind: {"link": value("header")}}]}));
    }
    let body: Vec<Value> = unique(parameters(&c.body))
        .iter()
        .map(|p| text_parameter(format, p, &value(&format!("body_{p}"))))
        .collect();
    if !body.is_empty() {
        out.push(json!({"type": "body", "parameters": body}));
    }
    for (i, b) in c.buttons.iter().enumerate() {
        let v = value(&format!("button_{i}"));
        match b.kind {
            ButtonKind::Url if !parameters(&b.value).is_empty() => out.push(json!({
                "type": "button", "sub_type": "url", "index": i.to_string(),
                "parameters": [{"type": "text", "text": v}],
            })),
            ButtonKind::CopyCode => out.push(json!({
                "type": "button", "sub_type": "copy_code", "index": i.to_string(),
                "parameters": [{"type": "coupon_code", "coupon_code": v}],
            })),
            _ => {}
        }
    }
    out
}

/// The approved templates an agent may send in a conversation of `channel` (its business
/// account's), in `language` first.
pub fn choices(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    language: Option<&str>,
) -> Result<Vec<Template>, InboxError> {
    let ch = crate::models::channels::get(conn, tenant, channel)?.ok_or(InboxError::NotFound)?;
    let Some(waba) = ch.waba_id else {
        return Ok(Vec::new());
    };
    let filter = library::LibraryFilter {
        waba: Some(waba),
        status: Some(TemplateStatus::Approved.as_str().into()),
        ..Default::default()
    };
    let (mut rows, _) = library::library(conn, tenant, &filter, 0, 500)?;
    rows.sort_by_key(|t| (Some(t.language.as_str()) != language, t.name.clone()));
    Ok(rows)
}

/// Template `id` if an agent may send it in a conversation of `channel`: the tenant's, of the
/// channel's business account, and approved (paused and disabled ones cannot be sent).
pub fn sendable(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    id: i64,
) -> Result<Option<Template>, InboxError> {
    let ch = crate::models::channels::get(conn, tenant, channel)?.ok_or(InboxError::NotFound)?;
    Ok(library::get(conn, tenant, id)?
        .filter(|t| ch.waba_id.as_deref() == Some(t.waba_id.as_str()) && t.status().sendable()))
}

/// The language of the last template sent in the conversation: WhatsApp does not say which
/// language a customer reads, so the one already used comes first.
pub fn last_language(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<Option<String>> {
    use crate::db::schema::messages as m;
    let extra: Option<Value> = m::table
        .filter(m::tenant_id.eq(tenant))
        .filter(m::conversation_id.eq(conversation))
        .filter(m::kind.eq("template"))
        .order(m::sent_at.desc())
        .select(m::extra)
        .first(conn)
        .optional()?;
    Ok(extra.and_then(|e| {
        e.pointer("/template/language")
            .and_then(Value::as_str)
            .map(str::to_string)
    }))
}

/// Stores the template send as `sending` and queues it; returns the message's id.
pub fn compose(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    author: UserId,
    template_id: i64,
    values: &Values,
    now: DateTime<Utc>,
) -> Result<MessageId, InboxError> {
    conn.transaction(|conn| {
        let target =
            outbound::target(conn, tenant, conversation)?.ok_or(InboxError::NotFound)?;
        if target.platform != Platform::Whatsapp {
            return Err(InboxError::Invalid(
                "Message templates are sent in WhatsApp conversations.".into(),
            ));
        }
        if target.channel_status != "connected" {
            return Err(InboxError::Invalid(
                "This channel is disconnected. An admin must reconnect it before templates can be sent.".into(),
            ));
        }
        let channel = ChannelId(target.channel_id);
        let t = sendable(conn, tenant, channel, template_id)?.ok_or_else(|| {
                InboxError::Invalid(
                    "This template cannot be sent: it is not approved by Meta for this number's account (paused and disabled templates cannot be sent).".into(),
                )
            })?;
        let missing: Vec<String> = fields_of(&t)
            .into_iter()
            .filter(|(k, _)| values.get(k).is_none_or(|v| v.trim().is_empty()))
            .map(|(_, label)| label)
            .collect();
        if !missing.is_empty() {
            return Err(InboxError::Invalid(format!(
                "Fill every parameter: {} {} empty.",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            )));
        }
        let payload = TemplatePayload {
            template_id: t.id,
            name: t.name.clone(),
            language: t.language.clone(),
            components: components(&t, values),
        };
        let text = filled_text(&t.content(), values);
        let extra = json!({"send_mode": "template", "template": payload});
        let id = outbound::insert_reply(
            conn,
            &outbound::NewReply {
                tenant,
                conversation,
                channel: target.channel_id,
                at: now,
                kind: "template",
                text: Some(&text),
                attachments: &json!([]),
                extra: &extra,
                author: Some(author),
            },
        )?;
        crate::inbox::send::enqueue_send(conn, tenant, id, 1)?;
        conversations::apply_change(
            conn,
            conversation,
            ConversationChange::of_reply(now, Some(&text), "template"),
        )?;
        crate::inbox::actions::notify(conn, tenant, conversation)?;
        Ok(id)
    })
}

/// What Meta's template send errors mean, for the agent.
pub fn readable_error(code: i64) -> Option<&'static str> {
    Some(match code {
        132000 => {
            "The number of parameters does not match the template. Sync the templates and try again."
        }
        132001 => "Meta does not know this template in this language, or it is not approved yet.",
        132005 => "The filled-in text is too long for the template.",
        132007 => "The template's content breaks a WhatsApp policy.",
        132012 => {
            "A parameter does not have the format the template expects (text, link or media)."
        }
        132015 => {
            "Meta paused this template for low quality; it cannot be sent until Meta lifts the pause."
        }
        132016 => "Meta disabled this template; it can no longer be sent.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::TenantId;

    fn template(format: &str, content: Value) -> Template {
        Template {
            id: 1,
            tenant_id: TenantId(1),
            waba_id: "w".into(),
            platform_template_id: Some("p".into()),
            name: "pickup".into(),
            language: "en_US".into(),
            category: Some("UTILITY".into()),
            status: "APPROVED".into(),
            status_reason: None,
            quality_score: None,
            parameter_format: format.into(),
            content,
            created_by: None,
            updated_at: Utc::now(),
            status_at: None,
            submitted_at: None,
            deleted_at: None,
        }
    }

    #[test]
    fn send_components_carry_every_value_in_metas_shape() {
        let t = template(
            "named",
            json!({"header_kind": "location", "body": "Hi {{name}}, pick up at {{place}}.",
                   "buttons": [{"kind": "url", "text": "Track", "value": "https://a.example/{{1}}"},
                               {"kind": "quick_reply", "text": "Thanks"}]}),
        );
        let keys: Vec<String> = fields_of(&t).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "header_latitude",
                "header_longitude",
                "header_name",
                "header_address",
                "body_name",
                "body_place",
                "button_0"
            ]
        );
        let values: Values = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
        let c = components(&t, &values);
        assert_eq!(
            c[0]["parameters"][0]["location"]["latitude"],
            "v-header_latitude"
        );
        assert_eq!(c[1]["parameters"][1]["parameter_name"], "place");
        assert_eq!(c[1]["parameters"][1]["text"], "v-body_place");
        assert_eq!(c[2]["sub_type"], "url");
        assert_eq!(c[2]["index"], "0");
        assert_eq!(c.len(), 3, "the quick reply needs no value");
        assert_eq!(
            filled_text(&t.content(), &values),
            "Hi v-body_name, pick up at v-body_place."
        );
    }
}
