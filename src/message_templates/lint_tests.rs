//! One good template, then one change per rule and the finding it must give.

use super::*;
use crate::message_templates::content::{Button, ButtonKind, Example};

fn good() -> TemplateContent {
    TemplateContent {
        header_kind: HeaderKind::Text,
        header_text: "Order {{1}}".into(),
        header_example: "#1042".into(),
        body: "Hi {{1}}, your order {{2}} has shipped and arrives tomorrow.".into(),
        body_examples: vec![
            Example {
                param: "1".into(),
                value: "Ana".into(),
            },
            Example {
                param: "2".into(),
                value: "#1042".into(),
            },
        ],
        footer: "Acme Shop".into(),
        buttons: vec![
            Button {
                kind: ButtonKind::QuickReply,
                text: "Thanks".into(),
                value: String::new(),
                example: String::new(),
            },
            Button {
                kind: ButtonKind::Url,
                text: "Track".into(),
                value: "https://shop.example/track/{{1}}".into(),
                example: "https://shop.example/track/1042".into(),
            },
        ],
    }
}

fn findings(
    name: &str,
    category: Category,
    format: ParameterFormat,
    content: &TemplateContent,
) -> Vec<Finding> {
    lint(&Draft {
        name,
        language: "en_US",
        category,
        format,
        content,
        name_taken: None,
    })
}

fn errors_of(content: &TemplateContent) -> Vec<(Field, String)> {
    findings(
        "order_update",
        Category::Utility,
        ParameterFormat::Positional,
        content,
    )
    .into_iter()
    .filter(Finding::is_error)
    .map(|f| (f.field, f.message))
    .collect()
}

/// Asserts that `content` gives an error on `field` whose message contains `says`.
fn expect_error(content: &TemplateContent, field: Field, says: &str) {
    let errors = errors_of(content);
    assert!(
        errors.iter().any(|(f, m)| *f == field && m.contains(says)),
        "expected {field:?} to say {says:?}; got {errors:?}"
    );
}

#[test]
fn a_good_template_has_no_finding() {
    assert_eq!(
        findings(
            "order_update",
            Category::Utility,
            ParameterFormat::Positional,
            &good()
        ),
        []
    );
}

#[test]
fn names_and_languages() {
    let c = good();
    for (name, says) in [
        ("", "Give the template a name"),
        ("Order-Update", "lowercase letters, digits and underscores"),
        (&"a".repeat(513), "Meta allows 512"),
    ] {
        let errors = findings(name, Category::Utility, ParameterFormat::Positional, &c);
        assert!(
            errors
                .iter()
                .any(|f| f.field == Field::Name && f.message.contains(says)),
            "{name}: {errors:?}"
        );
    }
    let taken = lint(&Draft {
        name: "order_update",
        language: "english",
        category: Category::Utility,
        format: ParameterFormat::Positional,
        content: &c,
        name_taken: Some(
            "order_update (en_US) was deleted on 2026-11-20; the name is free again on 2026-12-20."
                .into(),
        ),
    });
    assert!(
        taken
            .iter()
            .any(|f| f.field == Field::Name && f.message.contains("free again"))
    );
    assert!(taken.iter().any(|f| f.field == Field::Language));
}

#[test]
fn hard_limits_of_each_part() {
    let mut c = good();
    c.header_text = format!("{} {{{{1}}}}", "h".repeat(60));
    expect_error(&c, Field::Header, "Meta allows 60");
    let mut c = good();
    c.header_text = "Order {{1}} for {{2}}".into();
    expect_error(&c, Field::Header, "at most one parameter");
    let mut c = good();
    c.body = format!("Hello {}", "b".repeat(1024));
    expect_error(&c, Field::Body, "Meta allows 1024");
    let mut c = good();
    c.footer = "f".repeat(61);
    expect_error(&c, Field::Footer, "Meta allows 60");
    let mut c = good();
    c.footer = "Order {{1}}".into();
    expect_error(&c, Field::Footer, "cannot have parameters");
    let mut c = good();
    c.header_kind = HeaderKind::Image;
    c.header_example.clear();
    expect_error(&c, Field::HeaderExample, "Upload an example image");
}

#[test]
fn parameters_must_be_sequential_unique_and_apart() {
    let mut c = good();
    c.body = "Hi {{1}}, your order {{3}} has shipped and arrives tomorrow.".into();
    expect_error(&c, Field::Body, "in order from {{1}}");
    let mut c = good();
    c.body = "Hi {{1}}, your order {{1}} has shipped and arrives tomorrow.".into();
    expect_error(&c, Field::Body, "only once");
    let mut c = good();
    c.body = "{{1}}, your order {{2}} has shipped and arrives tomorrow.".into();
    expect_error(&c, Field::Body, "cannot start with a parameter");
    let mut c = good();
    c.body = "Hi there, your order has shipped and arrives on {{1}} {{2}}".into();
    expect_error(&c, Field::Body, "cannot end with a parameter");
    expect_error(&c, Field::Body, "next to each other");
    let mut c = good();
    c.body = "Hi {{1}} {{2}}, thanks.".into();
    expect_error(&c, Field::Body, "more text around them");
    let mut c = good();
    c.body = "Hi {{name}}, your order has shipped today.".into();
    expect_error(&c, Field::Body, "positional parameters are numbers");
    let named = findings(
        "order_update",
        Category::Utility,
        ParameterFormat::Named,
        &good(),
    );
    assert!(
        named
            .iter()
            .any(|f| f.field == Field::Body && f.message.contains("named parameters")),
        "{named:?}"
    );
}

#[test]
fn every_parameter_needs_an_example() {
    let mut c = good();
    c.body_examples.remove(1);
    expect_error(&c, Field::BodyExample("2".into()), "example for {{2}}");
    let mut c = good();
    c.header_example.clear();
    expect_error(&c, Field::HeaderExample, "header's parameter");
    let mut c = good();
    c.buttons[1].example.clear();
    expect_error(&c, Field::Button(1), "example of the full URL");
}

#[test]
fn button_rules() {
    let quick = |text: &str| Button {
        kind: ButtonKind::QuickReply,
        text: text.into(),
        value: String::new(),
        example: String::new(),
    };
    let url = |value: &str| Button {
        kind: ButtonKind::Url,
        text: "Open".into(),
        value: value.into(),
        example: "https://shop.example/x".into(),
    };
    let mut c = good();
    c.buttons = vec![quick("A"), url("https://a.example"), quick("B")];
    expect_error(&c, Field::Buttons, "Group the quick replies");
    let mut c = good();
    c.buttons = vec![
        url("https://a.example"),
        url("https://b.example"),
        url("https://c.example"),
    ];
    expect_error(&c, Field::Buttons, "two website buttons");
    let mut c = good();
    c.buttons = (0..11).map(|i| quick(&format!("Q{i}"))).collect();
    expect_error(&c, Field::Buttons, "At most 10 buttons");
    let mut c = good();
    c.buttons = vec![quick("This label is far too long for WhatsApp")];
    expect_error(&c, Field::Button(0), "at most 25");
    let mut c = good();
    c.buttons = vec![url("https://a.example/{{1}}/{{2}}")];
    expect_error(&c, Field::Button(0), "one variable");
    let mut c = good();
    c.buttons = vec![url("https://a.example/{{1}}/end")];
    expect_error(&c, Field::Button(0), "at its end");
    let mut c = good();
    c.buttons = vec![Button {
        kind: ButtonKind::Phone,
        text: "Call".into(),
        value: "555-0100".into(),
        example: String::new(),
    }];
    expect_error(&c, Field::Button(0), "country code");
    let mut c = good();
    c.buttons = vec![Button {
        kind: ButtonKind::CopyCode,
        text: String::new(),
        value: "THIS-CODE-IS-TOO-LONG".into(),
        example: String::new(),
    }];
    expect_error(&c, Field::Button(0), "1 to 15");
}

#[test]
fn authentication_templates() {
    let otp = Button {
        kind: ButtonKind::Otp,
        text: "Copy code".into(),
        value: String::new(),
        example: String::new(),
    };
    let mut c = good();
    c.header_kind = HeaderKind::None;
    c.buttons = vec![otp.clone()];
    let auth = |c: &TemplateContent| {
        findings(
            "login_code",
            Category::Authentication,
            ParameterFormat::Positional,
            c,
        )
        .into_iter()
        .filter(Finding::is_error)
        .map(|f| f.message)
        .collect::<Vec<_>>()
    };
    assert_eq!(auth(&c), Vec::<String>::new());
    let mut with_url = c.clone();
    with_url.buttons.push(Button {
        kind: ButtonKind::Url,
        text: "Open".into(),
        value: "https://a.example".into(),
        example: String::new(),
    });
    assert!(
        auth(&with_url)
            .iter()
            .any(|m| m.contains("cannot have website buttons"))
    );
    let mut with_media = c.clone();
    with_media.header_kind = HeaderKind::Image;
    with_media.header_example = "4::aGFuZGxl".into();
    assert!(auth(&with_media).iter().any(|m| m.contains("media header")));
    c.buttons.clear();
    assert!(
        auth(&c)
            .iter()
            .any(|m| m.contains("one one-time-password button"))
    );
    // An OTP button outside an authentication template.
    let mut utility = good();
    utility.buttons = vec![otp];
    expect_error(
        &utility,
        Field::Buttons,
        "belong to authentication templates",
    );
}

#[test]
fn warnings_for_what_often_gets_rejected() {
    let warnings = |c: &TemplateContent| {
        findings(
            "order_update",
            Category::Utility,
            ParameterFormat::Positional,
            c,
        )
        .into_iter()
        .filter(|f| !f.is_error())
        .map(|f| f.message)
        .collect::<Vec<_>>()
    };
    let mut c = good();
    c.body = "Hi {{1}}, your order {{2}} shipped. Use code SAVE for 20% off next time!".into();
    assert!(
        warnings(&c).iter().any(|m| m.contains("% off")),
        "{:?}",
        warnings(&c)
    );
    // "offered" is not "offer".
    c.body = "Hi {{1}}, the slot you were offered for {{2}} is confirmed today.".into();
    assert!(warnings(&c).is_empty(), "{:?}", warnings(&c));
    let mut c = good();
    c.buttons[1].value = "https://bit.ly/{{1}}".into();
    assert!(warnings(&c).iter().any(|m| m.contains("bit.ly")));
    let mut c = good();
    c.body = "HI {{1}}, YOUR ORDER {{2}} HAS SHIPPED AND ARRIVES TOMORROW.".into();
    assert!(warnings(&c).iter().any(|m| m.contains("capital letters")));
    // Marketing templates may promote.
    let mut c = good();
    c.body = "Hi {{1}}, the sale on {{2}} starts tomorrow morning for you.".into();
    let marketing = findings(
        "spring_sale",
        Category::Marketing,
        ParameterFormat::Positional,
        &c,
    );
    assert!(marketing.is_empty(), "{marketing:?}");
}
