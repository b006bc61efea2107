//! What a WhatsApp message template says: header, body, footer, buttons and the examples Meta
//! requires for every parameter. Stored as JSON in `message_templates.content` through these
//! types only, and turned into Meta's `components` (and back, for templates synced from Meta).

use serde::{Deserialize, Serialize};

/// How parameters are written: `{{1}}` or `{{order_id}}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterFormat {
    #[default]
    Positional,
    Named,
}

impl ParameterFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positional => "positional",
            Self::Named => "named",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "positional" => Some(Self::Positional),
            "named" => Some(Self::Named),
            _ => None,
        }
    }
}

/// Meta's template categories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    #[default]
    Utility,
    Marketing,
    Authentication,
}

impl Category {
    pub const ALL: [Category; 3] = [Self::Utility, Self::Marketing, Self::Authentication];

    /// Meta's name (`UTILITY`).
    pub fn meta(self) -> &'static str {
        match self {
            Self::Utility => "UTILITY",
            Self::Marketing => "MARKETING",
            Self::Authentication => "AUTHENTICATION",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Utility => "Utility",
            Self::Marketing => "Marketing",
            Self::Authentication => "Authentication",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.meta().eq_ignore_ascii_case(s.trim()))
    }
}

/// The header's kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderKind {
    #[default]
    None,
    Text,
    Image,
    Video,
    Document,
    Location,
}

impl HeaderKind {
    pub const ALL: [HeaderKind; 6] = [
        Self::None,
        Self::Text,
        Self::Image,
        Self::Video,
        Self::Document,
        Self::Location,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Text => "text",
            Self::Image => "image",
            Self::Video => "video",
            Self::Document => "document",
            Self::Location => "location",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Image, video or document: sent as an uploaded file.
    pub fn is_media(self) -> bool {
        matches!(self, Self::Image | Self::Video | Self::Document)
    }
}

/// A button's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonKind {
    QuickReply,
    Url,
    Phone,
    CopyCode,
    /// The authentication one-time-password button (copy code).
    Otp,
}

impl ButtonKind {
    pub const ALL: [ButtonKind; 5] = [
        Self::QuickReply,
        Self::Url,
        Self::Phone,
        Self::CopyCode,
        Self::Otp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::QuickReply => "quick_reply",
            Self::Url => "url",
            Self::Phone => "phone",
            Self::CopyCode => "copy_code",
            Self::Otp => "otp",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::QuickReply => "Quick reply",
            Self::Url => "Visit website",
            Self::Phone => "Call phone number",
            Self::CopyCode => "Copy offer code",
            Self::Otp => "Copy one-time password",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One button. `value` is the URL, the phone number or the copy-code example, by kind;
/// `example` is the URL's example when it has a variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub kind: ButtonKind,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub example: String,
}

/// A parameter's example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// `1`, `2`… or the parameter's name.
    pub param: String,
    pub value: String,
}

/// Everything a template says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateContent {
    #[serde(default)]
    pub header_kind: HeaderKind,
    /// The header's text (text headers).
    #[serde(default)]
    pub header_text: String,
    /// The example of the header's parameter, or the uploaded media's handle.
    #[serde(default)]
    pub header_example: String,
    #[serde(default)]
    pub body: String,
    /// Examples of the body's parameters, in the order they appear.
    #[serde(default)]
    pub body_examples: Vec<Example>,
    #[serde(default)]
    pub footer: String,
    #[serde(default)]
    pub buttons: Vec<Button>,
}

/// The parameters of `text`, in order of appearance (`{{1}}` gives `1`, `{{ name }}` gives
/// `name`), duplicates included.
pub fn parameters(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push(after[..close].trim().to_string());
        rest = &after[close + 2..];
    }
    out
}

impl TemplateContent {
    /// The example given for `param` of the body.
    pub fn body_example(&self, param: &str) -> Option<&str> {
        self.body_examples
            .iter()
            .find(|e| e.param == param)
            .map(|e| e.value.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The body with its examples in place of the parameters (for the preview).
    pub fn body_filled(&self) -> String {
        fill(&self.body, |p| self.body_example(p).map(str::to_string))
    }

    /// The header's text with its example filled in.
    pub fn header_filled(&self) -> String {
        let example = Some(self.header_example.clone()).filter(|e| !e.trim().is_empty());
        fill(&self.header_text, |_| example.clone())
    }
}

/// `params` without repeats, first appearance first.
pub fn unique(params: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    for p in params {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    seen
}

/// `text` with each `{{param}}` replaced by `value(param)`, or left as written without one.
pub fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push_str(&rest[..open]);
        let param = after[..close].trim();
        match value(param) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[path = "content_tests.rs"]
mod tests;
