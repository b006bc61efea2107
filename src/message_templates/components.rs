//! Meta's `components` from a template's content (submission, edit) and back (sync).

use serde_json::{Value, json};

use super::content::{
    Button, ButtonKind, Example, HeaderKind, ParameterFormat, TemplateContent, parameters, unique,
};

impl TemplateContent {
    /// Meta's `components` for a submission or an edit.
    pub fn components(&self, format: ParameterFormat) -> Vec<Value> {
        let mut out = Vec::new();
        match self.header_kind {
            HeaderKind::None => {}
            HeaderKind::Text => {
                let mut header =
                    json!({"type": "HEADER", "format": "TEXT", "text": self.header_text});
                if let Some(param) = parameters(&self.header_text).first() {
                    header["example"] = match format {
                        ParameterFormat::Positional => {
                            json!({"header_text": [self.header_example]})
                        }
                        ParameterFormat::Named => json!({"header_text_named_params": [
                            {"param_name": param, "example": self.header_example}
                        ]}),
                    };
                }
                out.push(header);
            }
            HeaderKind::Location => out.push(json!({"type": "HEADER", "format": "LOCATION"})),
            media => out.push(json!({
                "type": "HEADER",
                "format": media.as_str().to_ascii_uppercase(),
                "example": {"header_handle": [self.header_example]},
            })),
        }
        let mut body = json!({"type": "BODY", "text": self.body});
        let params = unique(parameters(&self.body));
        if !params.is_empty() {
            let example = |p: &String| self.body_example(p).unwrap_or_default().to_string();
            body["example"] = match format {
                ParameterFormat::Positional => {
                    json!({"body_text": [params.iter().map(example).collect::<Vec<_>>()]})
                }
                ParameterFormat::Named => json!({"body_text_named_params": params
                    .iter()
                    .map(|p| json!({"param_name": p, "example": example(p)}))
                    .collect::<Vec<_>>()}),
            };
        }
        out.push(body);
        if !self.footer.trim().is_empty() {
            out.push(json!({"type": "FOOTER", "text": self.footer}));
        }
        if !self.buttons.is_empty() {
            let buttons: Vec<Value> = self.buttons.iter().map(Button::component).collect();
            out.push(json!({"type": "BUTTONS", "buttons": buttons}));
        }
        out
    }

    /// Reads Meta's `components` (a synced template). Parts Parley does not know are left out.
    pub fn from_components(components: &[Value]) -> Self {
        let mut c = TemplateContent::default();
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        for part in components {
            match text(part, "type").to_ascii_uppercase().as_str() {
                "HEADER" => {
                    c.header_kind = HeaderKind::parse(&text(part, "format")).unwrap_or_default();
                    c.header_text = text(part, "text");
                    let example = part.get("example");
                    c.header_example = example
                        .and_then(|e| {
                            e.pointer("/header_text/0")
                                .or_else(|| e.pointer("/header_text_named_params/0/example"))
                                .or_else(|| e.pointer("/header_handle/0"))
                        })
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                }
                "BODY" => {
                    c.body = text(part, "text");
                    let params = unique(parameters(&c.body));
                    let positional = part
                        .pointer("/example/body_text/0")
                        .and_then(Value::as_array);
                    let named = part
                        .pointer("/example/body_text_named_params")
                        .and_then(Value::as_array);
                    c.body_examples = params
                        .iter()
                        .enumerate()
                        .map(|(i, p)| Example {
                            param: p.clone(),
                            value: positional
                                .and_then(|a| a.get(i))
                                .and_then(Value::as_str)
                                .or_else(|| {
                                    named.and_then(|a| {
                                        a.iter()
                                            .find(|n| {
                                                n.get("param_name").and_then(Value::as_str)
                                                    == Some(p)
                                            })
                                            .and_then(|n| n.get("example"))
                                            .and_then(Value::as_str)
                                    })
                                })
                                .unwrap_or("")
                                .to_string(),
                        })
                        .collect();
                }
                "FOOTER" => c.footer = text(part, "text"),
                "BUTTONS" => {
                    let buttons = part.get("buttons").and_then(Value::as_array);
                    c.buttons = buttons
                        .into_iter()
                        .flatten()
                        .filter_map(Button::from_component)
                        .collect();
                }
                _ => {}
            }
        }
        c
    }
}

impl Button {
    fn component(&self) -> Value {
        match self.kind {
            ButtonKind::QuickReply => json!({"type": "QUICK_REPLY", "text": self.text}),
            ButtonKind::Url => {
                let mut b = json!({"type": "URL", "text": self.text, "url": self.value});
                if !parameters(&self.value).is_empty() {
                    b["example"] = json!([self.example]);
                }
                b
            }
            ButtonKind::Phone => {
                json!({"type": "PHONE_NUMBER", "text": self.text, "phone_number": self.value})
            }
            ButtonKind::CopyCode => json!({"type": "COPY_CODE", "example": self.value}),
            ButtonKind::Otp => json!({"type": "OTP", "otp_type": "COPY_CODE", "text": self.text}),
        }
    }

    fn from_component(v: &Value) -> Option<Self> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let kind = match text("type").to_ascii_uppercase().as_str() {
            "QUICK_REPLY" => ButtonKind::QuickReply,
            "URL" => ButtonKind::Url,
            "PHONE_NUMBER" => ButtonKind::Phone,
            "COPY_CODE" => ButtonKind::CopyCode,
            "OTP" => ButtonKind::Otp,
            _ => return None,
        };
        let value = match kind {
            ButtonKind::Url => text("url"),
            ButtonKind::Phone => text("phone_number"),
            ButtonKind::CopyCode => v
                .get("example")
                .and_then(|e| e.as_str().or_else(|| e.get(0).and_then(Value::as_str)))
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        };
        let example = v
            .pointer("/example/0")
            .and_then(Value::as_str)
            .filter(|_| kind == ButtonKind::Url)
            .unwrap_or("")
            .to_string();
        Some(Button {
            kind,
            text: text("text"),
            value,
            example,
        })
    }
}
