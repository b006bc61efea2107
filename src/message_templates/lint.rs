//! The template lint: Meta's hard limits and the patterns that get templates rejected or
//! re-categorised, each finding pointing at its field. Errors block submission; warnings do not.

use super::content::{Category, HeaderKind, ParameterFormat, TemplateContent, parameters, unique};

/// Meta's limits (`meta-contract.md` §7.1).
pub const NAME_MAX: usize = 512;
pub const HEADER_TEXT_MAX: usize = 60;
pub const BODY_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 60;
pub const BUTTONS_MAX: usize = 10;
pub const URL_BUTTONS_MAX: usize = 2;
pub const BUTTON_TEXT_MAX: usize = 25;
pub const URL_MAX: usize = 2000;
pub const COPY_CODE_MAX: usize = 15;

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Name,
    Language,
    Category,
    Header,
    HeaderExample,
    Body,
    /// A body parameter's example.
    BodyExample(String),
    Footer,
    Buttons,
    /// The button at this index (0-based).
    Button(usize),
}

impl Field {
    /// The id of the form control it names (the editor links each finding to it).
    pub fn anchor(&self) -> String {
        match self {
            Field::Name => "name".into(),
            Field::Language => "language".into(),
            Field::Category => "category".into(),
            Field::Header => "header_text".into(),
            Field::HeaderExample => "header_example".into(),
            Field::Body => "body".into(),
            Field::BodyExample(p) => format!("example_{p}"),
            Field::Footer => "footer".into(),
            Field::Buttons => "buttons".into(),
            Field::Button(i) => format!("button_{i}_text"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub field: Field,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// What the lint checks: the template and what the database knows about its name.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub name: &'a str,
    pub language: &'a str,
    pub category: Category,
    pub format: ParameterFormat,
    pub content: &'a TemplateContent,
    /// Why the name + language cannot be used (taken, or deleted less than 30 days ago).
    pub name_taken: Option<String>,
}

pub(super) struct Findings(Vec<Finding>);

impl Findings {
    pub(super) fn error(&mut self, field: Field, message: impl Into<String>) {
        self.0.push(Finding {
            field,
            severity: Severity::Error,
            message: message.into(),
        });
    }

    pub(super) fn warn(&mut self, field: Field, message: impl Into<String>) {
        self.0.push(Finding {
            field,
            severity: Severity::Warning,
            message: message.into(),
        });
    }
}

pub(super) fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Every finding for `d`, errors and warnings, in the order of the form.
pub fn lint(d: &Draft<'_>) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    name(&mut f, d);
    if !valid_language(d.language) {
        f.error(
            Field::Language,
            "Choose a language code such as en, en_US or pt_BR.",
        );
    }
    header(&mut f, d);
    body(&mut f, d);
    let footer = &d.content.footer;
    if chars(footer) > FOOTER_MAX {
        f.error(
            Field::Footer,
            format!(
                "The footer is {} characters; Meta allows {FOOTER_MAX}.",
                chars(footer)
            ),
        );
    }
    if !parameters(footer).is_empty() {
        f.error(Field::Footer, "The footer cannot have parameters.");
    }
    super::lint_rules::buttons(&mut f, d);
    super::lint_rules::authentication(&mut f, d);
    super::lint_rules::warnings(&mut f, d);
    f.0
}

fn name(f: &mut Findings, d: &Draft<'_>) {
    if d.name.is_empty() {
        f.error(Field::Name, "Give the template a name.");
    } else if chars(d.name) > NAME_MAX {
        f.error(
            Field::Name,
            format!(
                "The name is {} characters; Meta allows {NAME_MAX}.",
                chars(d.name)
            ),
        );
    }
    if d.name
        .chars()
        .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        f.error(
            Field::Name,
            "Names may only use lowercase letters, digits and underscores (order_update_2).",
        );
    }
    if let Some(why) = &d.name_taken {
        f.error(Field::Name, why.clone());
    }
}

fn valid_language(code: &str) -> bool {
    let mut parts = code.split('_');
    let lang = parts.next().unwrap_or("");
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// Parameters written in the other format, or badly named.
fn format_errors(f: &mut Findings, field: Field, params: &[String], format: ParameterFormat) {
    for p in params {
        let ok = match format {
            ParameterFormat::Positional => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()),
            ParameterFormat::Named => {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                    && p.starts_with(|c: char| c.is_ascii_lowercase())
            }
        };
        if !ok {
            let hint = match format {
                ParameterFormat::Positional => "positional parameters are numbers: {{1}}, {{2}}…",
                ParameterFormat::Named => {
                    "named parameters are lowercase words with underscores: {{order_id}}"
                }
            };
            f.error(
                field.clone(),
                format!("{{{{{p}}}}} is not a valid parameter: {hint}."),
            );
        }
    }
}

fn header(f: &mut Findings, d: &Draft<'_>) {
    let c = d.content;
    match c.header_kind {
        HeaderKind::Text => {
            let params = parameters(&c.header_text);
            if c.header_text.trim().is_empty() {
                f.error(
                    Field::Header,
                    "Write the header's text, or choose no header.",
                );
            }
            if chars(&c.header_text) > HEADER_TEXT_MAX {
                f.error(
                    Field::Header,
                    format!(
                        "The header is {} characters; Meta allows {HEADER_TEXT_MAX}.",
                        chars(&c.header_text)
                    ),
                );
            }
            if params.len() > 1 {
                f.error(
                    Field::Header,
                    "A text header can have at most one parameter.",
                );
            }
            format_errors(f, Field::Header, &params, d.format);
            if d.format == ParameterFormat::Positional && params.first().is_some_and(|p| p != "1") {
                f.error(Field::Header, "The header's parameter must be {{1}}.");
            }
            if !params.is_empty() && c.header_example.trim().is_empty() {
                f.error(
                    Field::HeaderExample,
                    "Give an example for the header's parameter.",
                );
            }
        }
        kind if kind.is_media() && c.header_example.trim().is_empty() => {
            f.error(
                Field::HeaderExample,
                format!("Upload an example {} for the header.", kind.as_str()),
            );
        }
        _ => {}
    }
}

fn body(f: &mut Findings, d: &Draft<'_>) {
    let c = d.content;
    let text = c.body.trim();
    if text.is_empty() {
        f.error(Field::Body, "Write the message body.");
        return;
    }
    if chars(&c.body) > BODY_MAX {
        f.error(
            Field::Body,
            format!(
                "The body is {} characters; Meta allows {BODY_MAX}.",
                chars(&c.body)
            ),
        );
    }
    let all = parameters(&c.body);
    format_errors(f, Field::Body, &all, d.format);
    let params = unique(all.clone());
    if all.len() != params.len() {
        f.error(
            Field::Body,
            "Each parameter may appear only once in the body.",
        );
    }
    if d.format == ParameterFormat::Positional {
        let numbers: Vec<u32> = params.iter().filter_map(|p| p.parse().ok()).collect();
        let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
        if numbers != expected && numbers.len() == params.len() {
            f.error(
                Field::Body,
                "Number the parameters in order from {{1}}: {{1}}, {{2}}, {{3}}…",
            );
        }
    }
    if text.starts_with("{{") {
        f.error(Field::Body, "The body cannot start with a parameter.");
    }
    if text.ends_with("}}") {
        f.error(
            Field::Body,
            "The body cannot end with a parameter; add text after it.",
        );
    }
    if adjacent_parameters(text) {
        f.error(
            Field::Body,
            "Two parameters are next to each other; put words between them.",
        );
    }
    let words = super::content::fill(text, |_| Some(String::new()))
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    // Meta's rule is unpublished; Parley asks for at least two words per parameter, plus one.
    if !params.is_empty() && words < 2 * params.len() + 1 {
        f.error(
            Field::Body,
            format!(
                "{} parameters need more text around them: Meta rejects templates with too many parameters for their length.",
                params.len()
            ),
        );
    }
    for p in &params {
        if c.body_example(p).is_none() {
            f.error(
                Field::BodyExample(p.clone()),
                format!("Give an example for {{{{{p}}}}}."),
            );
        }
    }
}

/// `{{1}}{{2}}` or `{{1}} {{2}}`: only spaces between two parameters.
fn adjacent_parameters(text: &str) -> bool {
    let mut rest = text;
    while let Some(close) = rest.find("}}") {
        let after = &rest[close + 2..];
        if after.trim_start().starts_with("{{") {
            return true;
        }
        rest = after;
    }
    false
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;
