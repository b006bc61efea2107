//! The rules of message templates: placeholders, the checks a template send must pass,
//! validation of new templates like Meta's, and the deterministic review verdict.

use std::collections::BTreeSet;

use chrono::{Duration as TimeDelta, Utc};
use serde_json::Value;

use super::auth::MetaError;
use super::templates::Template;
use super::world::State;

pub(crate) fn component_text(components: &Value, kind: &str) -> Option<String> {
    components.as_array()?.iter().find_map(|c| {
        let t = c.get("type")?.as_str()?;
        let text_header =
            kind != "HEADER" || c.get("format").and_then(Value::as_str).unwrap_or("TEXT") == "TEXT";
        (t.eq_ignore_ascii_case(kind) && text_header)
            .then(|| c.get("text")?.as_str().map(str::to_string))?
    })
}

/// The distinct `{{…}}` placeholders of a text, in order of first appearance.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + end].trim().to_string();
        if !out.contains(&name) {
            out.push(name);
        }
        rest = &rest[start + end + 2..];
    }
    out
}

fn not_found(name: &str, lang: &str) -> MetaError {
    MetaError::whatsapp(
        132001,
        "Template name does not exist in the translation",
        format!("template name ({name}) does not exist in {lang}"),
        404,
    )
}

/// Checks a send's `template` object; returns the template's category.
pub(crate) fn check_send(state: &State, t: &Value) -> Result<String, MetaError> {
    let missing = |w: &str| {
        MetaError::whatsapp(
            131008,
            "Required parameter is missing",
            format!("The parameter {w} is required."),
            400,
        )
    };
    let name = t
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("template['name']"))?;
    let lang = t
        .pointer("/language/code")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("template['language']['code']"))?;
    let tpl = state
        .templates
        .iter()
        .find(|x| x.name == name && x.language == lang && !x.deleted)
        .ok_or_else(|| not_found(name, lang))?;
    match tpl.status.as_str() {
        "APPROVED" => {}
        "PAUSED" => {
            return Err(MetaError::whatsapp(
                132015,
                "Template is Paused",
                "Template is paused due to low quality so it cannot be sent in a template message.",
                400,
            ));
        }
        "DISABLED" => {
            return Err(MetaError::whatsapp(
                132016,
                "Template is disabled",
                "Template has been paused too many times due to low quality and is now permanently disabled.",
                400,
            ));
        }
        _ => return Err(not_found(name, lang)),
    }
    let sent: Vec<Value> = t
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for kind in ["HEADER", "BODY"] {
        let expected = tpl
            .text_of(kind)
            .map(|x| placeholders(&x))
            .unwrap_or_default();
        let given: Vec<Value> = sent
            .iter()
            .filter(|c| {
                c.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(kind))
            })
            .flat_map(|c| {
                c.get("parameters")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let label = kind.to_ascii_lowercase();
        if given.len() != expected.len() {
            return Err(MetaError::whatsapp(
                132000,
                "Number of parameters does not match the expected number of params",
                format!(
                    "{label}: number of localizable_params ({}) does not match the expected number of params ({})",
                    given.len(),
                    expected.len()
                ),
                400,
            ));
        }
        if tpl.parameter_format == "NAMED" {
            let names: BTreeSet<&str> = given
                .iter()
                .filter_map(|p| p.get("parameter_name").and_then(Value::as_str))
                .collect();
            let wanted: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
            if names != wanted {
                return Err(MetaError::whatsapp(
                    132012,
                    "Parameter format does not match format in the created template",
                    format!("{label}: named parameters must be {}", expected.join(", ")),
                    400,
                ));
            }
        }
    }
    Ok(tpl.category.clone())
}

pub(crate) fn invalid(title: &str, msg: impl Into<String>) -> MetaError {
    MetaError::new(100, "Invalid parameter").user(title, msg)
}

pub(crate) fn validate_new(
    state: &State,
    name: &str,
    lang: &str,
    category: &str,
    format: &str,
    components: &Value,
) -> Result<(), MetaError> {
    if name.is_empty()
        || name.len() > 512
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(invalid(
            "Template name is invalid",
            "Template names can only contain lowercase letters, numbers and underscores, and can be at most 512 characters long.",
        ));
    }
    if !matches!(category, "AUTHENTICATION" | "MARKETING" | "UTILITY") {
        return Err(MetaError::param(format!(
            "Param category must be one of {{AUTHENTICATION, MARKETING, UTILITY}} - got \"{category}\"."
        )));
    }
    if !matches!(format, "POSITIONAL" | "NAMED") {
        return Err(MetaError::param(format!(
            "Param parameter_format must be one of {{NAMED, POSITIONAL}} - got \"{format}\"."
        )));
    }
    let list = components
        .as_array()
        .ok_or_else(|| MetaError::required("components"))?;
    let body = component_text(components, "BODY").ok_or_else(|| {
        invalid(
            "Body is missing",
            "A template needs a BODY component with text.",
        )
    })?;
    if body.chars().count() > 1024 {
        return Err(invalid(
            "Body text is too long",
            "The body can be at most 1024 characters.",
        ));
    }
    for kind in ["HEADER", "FOOTER"] {
        if component_text(components, kind).is_some_and(|t| t.chars().count() > 60) {
            return Err(invalid(
                "Text is too long",
                format!(
                    "The {} can be at most 60 characters.",
                    kind.to_ascii_lowercase()
                ),
            ));
        }
    }
    let buttons = list
        .iter()
        .filter_map(|c| c.get("buttons").and_then(Value::as_array))
        .map(Vec::len)
        .sum::<usize>();
    if buttons > 10 {
        return Err(invalid(
            "Too many buttons",
            "A template can have at most 10 buttons.",
        ));
    }
    let find = |kind: &str| {
        list.iter().find(|c| {
            c.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
    };
    let params = placeholders(&body);
    if format == "POSITIONAL"
        && params
            .iter()
            .enumerate()
            .any(|(i, p)| *p != (i + 1).to_string())
    {
        return Err(invalid(
            "Variables are not sequential",
            "Positional variables must be {{1}}, {{2}}, ... in order.",
        ));
    }
    let example_key = if format == "NAMED" {
        "body_text_named_params"
    } else {
        "body_text"
    };
    if !params.is_empty()
        && find("BODY")
            .and_then(|b| b.pointer(&format!("/example/{example_key}")))
            .is_none()
    {
        return Err(invalid(
            "Missing example",
            format!("Add sample values for the body variables in example.{example_key}."),
        ));
    }
    if component_text(components, "HEADER").is_some_and(|h| !placeholders(&h).is_empty())
        && find("HEADER")
            .and_then(|h| {
                h.pointer("/example/header_text")
                    .or_else(|| h.pointer("/example/header_text_named_params"))
            })
            .is_none()
    {
        return Err(invalid(
            "Missing example",
            "Add a sample value for the header variable in example.header_text.",
        ));
    }
    // A media header's example is the handle of a file uploaded with the Resumable Upload API,
    // of the header's kind.
    if let Some(header) = find("HEADER") {
        let format = header
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("TEXT");
        let wanted: &[&str] = match format {
            "IMAGE" => &["image/jpeg", "image/jpg", "image/png"],
            "VIDEO" => &["video/mp4"],
            "DOCUMENT" => &["application/pdf"],
            _ => &[],
        };
        if !wanted.is_empty() {
            let handle = header
                .pointer("/example/header_handle/0")
                .and_then(Value::as_str)
                .unwrap_or("");
            let known = state
                .upload_handles
                .iter()
                .any(|(h, t)| h == handle && wanted.contains(&t.as_str()));
            if !known {
                return Err(invalid(
                    "Invalid header handle",
                    format!(
                        "The {format} header needs example.header_handle: the handle of a file uploaded with the Resumable Upload API."
                    ),
                ));
            }
        }
    }
    let same = |t: &&Template| t.name == name && t.language == lang;
    if state.templates.iter().filter(same).any(|t| !t.deleted) {
        return Err(invalid("Content in this language already exists", format!("Content for {lang} already exists for this template. Try using a different language or editing the existing content.")).subcode(2388024));
    }
    if state
        .templates
        .iter()
        .filter(same)
        .any(|t| t.deleted && t.created > Utc::now() - TimeDelta::days(30))
    {
        return Err(invalid("Message template is being deleted", format!("New {lang} content can't be added while the existing {lang} content is being deleted. Try again in 4 weeks or create a new message template.")).subcode(2388023));
    }
    Ok(())
}

/// The review verdict: (status, reason, rejection details).
pub(crate) fn verdict(
    name: &str,
    body: &str,
) -> (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
) {
    if name.contains("reject") || body.contains("}}{{") {
        (
            "REJECTED",
            "INVALID_FORMAT",
            Some((
                "Your template has parameters placed next to each other (like {{1}}{{2}}) without text or punctuation between them.",
                "Separate parameters with descriptive text and ensure each parameter is clearly contextualized.",
            )),
        )
    } else if body.to_ascii_lowercase().contains("free!!!") {
        (
            "REJECTED",
            "PROMOTIONAL",
            Some((
                "Your template contains promotional content that is not allowed in this category.",
                "Remove excessive punctuation and promotional claims, or submit it as a MARKETING template with compliant content.",
            )),
        )
    } else {
        ("APPROVED", "NONE", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_verdicts() {
        assert_eq!(placeholders("Hi {{1}}, {{2}} and {{1}}"), vec!["1", "2"]);
        assert_eq!(placeholders("Hi {{ name }}"), vec!["name"]);
        assert_eq!(verdict("order_ready", "Your order is ready").0, "APPROVED");
        assert_eq!(verdict("please_reject_me", "x").1, "INVALID_FORMAT");
        assert_eq!(verdict("deal", "Get it FREE!!! now").1, "PROMOTIONAL");
    }
}
