//! The editor's fields as typed, read from the form body into a template (or kept as typed when
//! they are refused), and the lint's view of them.

use super::content::{
    Button, ButtonKind, Category, Example, HeaderKind, ParameterFormat, TemplateContent,
    parameters, unique,
};
use super::lint::{self, Draft, Finding};

/// Button rows the editor offers (Meta allows ten buttons).
pub const BUTTON_SLOTS: usize = 10;

/// Everything the editor posts.
#[derive(Debug, Clone, Default)]
pub struct TemplateFields {
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub parameter_format: String,
    pub content: TemplateContent,
    /// A comment for the approval steps.
    pub comment: String,
    /// The template being edited (none for a new one).
    pub editing: Option<i64>,
}

impl TemplateFields {
    /// Reads a url-encoded body: `example_<param>` for the body's examples and
    /// `button_<n>_<kind|text|value|example>` for the buttons (empty rows are left out).
    pub fn parse(body: &[u8]) -> TemplateFields {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = TemplateFields::default();
        let mut examples: Vec<(String, String)> = Vec::new();
        let mut buttons: Vec<[String; 4]> = vec![Default::default(); BUTTON_SLOTS];
        for (k, v) in pairs {
            match k.as_str() {
                "waba_id" => f.waba_id = v,
                "name" => f.name = v.trim().to_string(),
                "language" => f.language = v.trim().to_string(),
                "category" => f.category = v,
                "parameter_format" => f.parameter_format = v,
                "header_kind" => f.content.header_kind = HeaderKind::parse(&v).unwrap_or_default(),
                "header_text" => f.content.header_text = v,
                "header_example" => f.content.header_example = v,
                "body" => f.content.body = v.replace("\r\n", "\n"),
                "footer" => f.content.footer = v,
                "comment" => f.comment = v,
                "template_id" => f.editing = v.parse().ok(),
                _ => {
                    if let Some(param) = k.strip_prefix("example_") {
                        examples.push((param.to_string(), v));
                    } else if let Some(rest) = k.strip_prefix("button_")
                        && let Some((n, part)) = rest.split_once('_')
                        && let Ok(n) = n.parse::<usize>()
                        && let Some(slot) = buttons.get_mut(n)
                    {
                        let i = match part {
                            "kind" => 0,
                            "text" => 1,
                            "value" => 2,
                            "example" => 3,
                            _ => continue,
                        };
                        slot[i] = v;
                    }
                }
            }
        }
        // An example for each parameter of the body, as typed (or empty).
        f.content.body_examples = unique(parameters(&f.content.body))
            .into_iter()
            .map(|param| Example {
                value: examples
                    .iter()
                    .find(|(p, _)| *p == param)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                param,
            })
            .collect();
        f.content.buttons = buttons
            .into_iter()
            .filter_map(|[kind, text, value, example]| {
                let kind = ButtonKind::parse(&kind)?;
                let blank = text.trim().is_empty() && value.trim().is_empty();
                // An OTP button has no text of its own to type.
                (!blank || kind == ButtonKind::Otp).then_some(Button {
                    kind,
                    text,
                    value,
                    example,
                })
            })
            .collect();
        f
    }

    pub fn category(&self) -> Category {
        Category::parse(&self.category).unwrap_or_default()
    }

    pub fn format(&self) -> ParameterFormat {
        ParameterFormat::parse(&self.parameter_format).unwrap_or_default()
    }

    /// The lint's findings, with why the name cannot be used when the database says so.
    pub fn lint(&self, name_taken: Option<String>) -> Vec<Finding> {
        lint::lint(&Draft {
            name: &self.name,
            language: &self.language,
            category: self.category(),
            format: self.format(),
            content: &self.content,
            name_taken,
        })
    }

    /// The fields of a stored template, for the edit form.
    pub fn of(t: &crate::models::message_templates::Template) -> TemplateFields {
        TemplateFields {
            waba_id: t.waba_id.clone(),
            name: t.name.clone(),
            language: t.language.clone(),
            category: t.category().unwrap_or_default().meta().to_string(),
            parameter_format: t.format().as_str().to_string(),
            content: t.content(),
            comment: String::new(),
            editing: Some(t.id),
        }
    }

    /// The button rows the form shows: the template's, then empty ones up to the slots.
    pub fn button_rows(&self) -> Vec<(usize, Option<&Button>)> {
        (0..BUTTON_SLOTS)
            .map(|i| (i, self.content.buttons.get(i)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_examples_and_button_rows() {
        let body = "name=order_update&language=en_US&category=UTILITY&parameter_format=positional\
            &header_kind=text&header_text=Order+%7B%7B1%7D%7D&header_example=%231042\
            &body=Hi+%7B%7B1%7D%7D%2C+your+order+%7B%7B2%7D%7D+has+shipped+today.&example_1=Ana&example_2=%231042\
            &button_0_kind=url&button_0_text=Track&button_0_value=https%3A%2F%2Fa.example%2F%7B%7B1%7D%7D\
            &button_0_example=https%3A%2F%2Fa.example%2F1&button_1_kind=quick_reply&button_1_text=\
            &button_2_kind=quick_reply&button_2_text=Thanks";
        let f = TemplateFields::parse(body.as_bytes());
        assert_eq!(f.content.header_kind, HeaderKind::Text);
        assert_eq!(f.content.body_example("2"), Some("#1042"));
        // The empty row is left out.
        assert_eq!(f.content.buttons.len(), 2);
        assert_eq!(f.content.buttons[1].text, "Thanks");
        assert!(
            f.lint(None).iter().all(|x| !x.is_error()),
            "{:?}",
            f.lint(None)
        );
    }
}
