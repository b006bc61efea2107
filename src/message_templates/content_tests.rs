//! Parameters, the preview's filling, and Meta's components both ways.
use super::*;

fn order_update() -> TemplateContent {
    TemplateContent {
        header_kind: HeaderKind::Text,
        header_text: "Order {{1}}".into(),
        header_example: "#1042".into(),
        body: "Hi {{1}}, your order {{2}} has shipped.".into(),
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
        footer: "Reply STOP to opt out".into(),
        buttons: vec![
            Button {
                kind: ButtonKind::Url,
                text: "Track".into(),
                value: "https://shop.example/track/{{1}}".into(),
                example: "https://shop.example/track/1042".into(),
            },
            Button {
                kind: ButtonKind::Phone,
                text: "Call us".into(),
                value: "+15550100".into(),
                example: String::new(),
            },
        ],
    }
}

#[test]
fn parameters_are_read_in_order() {
    assert_eq!(parameters("a {{1}} b {{ name }} {{1}}"), ["1", "name", "1"]);
    assert_eq!(parameters("no params {{ open"), Vec::<String>::new());
}

#[test]
fn the_preview_fills_examples_and_keeps_unknown_parameters() {
    let c = order_update();
    assert_eq!(c.body_filled(), "Hi Ana, your order #1042 has shipped.");
    assert_eq!(c.header_filled(), "Order #1042");
    assert_eq!(
        fill("{{1}} and {{3}}", |p| (p == "1").then(|| "x".into())),
        "x and {{3}}"
    );
}

#[test]
fn components_round_trip_through_metas_shape() {
    let c = order_update();
    let components = c.components(ParameterFormat::Positional);
    assert_eq!(components[0]["example"]["header_text"][0], "#1042");
    assert_eq!(components[1]["example"]["body_text"][0][1], "#1042");
    assert_eq!(
        components[3]["buttons"][0]["example"][0],
        "https://shop.example/track/1042"
    );
    assert_eq!(TemplateContent::from_components(&components), c);

    let mut named = c.clone();
    named.body = "Hi {{first_name}}".into();
    named.body_examples = vec![Example {
        param: "first_name".into(),
        value: "Ana".into(),
    }];
    named.header_kind = HeaderKind::None;
    named.header_text.clear();
    named.header_example.clear();
    let components = named.components(ParameterFormat::Named);
    assert_eq!(
        components[0]["example"]["body_text_named_params"][0]["param_name"],
        "first_name"
    );
    assert_eq!(TemplateContent::from_components(&components), named);
}
