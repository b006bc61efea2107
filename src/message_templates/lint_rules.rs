//! The lint's rules for buttons, authentication templates, and the warnings for what often
//! gets a template rejected or re-categorised.

use super::content::{ButtonKind, Category, HeaderKind, parameters};
use super::lint::{
    BUTTON_TEXT_MAX, BUTTONS_MAX, COPY_CODE_MAX, Draft, Field, Findings, URL_BUTTONS_MAX, URL_MAX,
    chars,
};

/// Words that make a utility template read as marketing (Meta re-categorises those).
const PROMOTIONAL: &[&str] = &[
    "sale",
    "discount",
    "% off",
    "offer",
    "promo",
    "coupon",
    "deal",
    "buy now",
    "limited time",
    "free",
    "shop now",
    "exclusive",
];

/// Link shorteners: Meta rejects templates whose links hide their destination.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "goo.gl",
    "t.co/",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
];

pub(super) fn buttons(f: &mut Findings, d: &Draft<'_>) {
    let buttons = &d.content.buttons;
    let count = |k: ButtonKind| buttons.iter().filter(|b| b.kind == k).count();
    if buttons.len() > BUTTONS_MAX {
        f.error(
            Field::Buttons,
            format!("At most {BUTTONS_MAX} buttons in all."),
        );
    }
    if count(ButtonKind::Url) > URL_BUTTONS_MAX {
        f.error(Field::Buttons, "At most two website buttons.");
    }
    if count(ButtonKind::Phone) > 1 {
        f.error(Field::Buttons, "At most one phone number button.");
    }
    if count(ButtonKind::CopyCode) > 1 {
        f.error(Field::Buttons, "At most one copy-code button.");
    }
    // Quick replies must be grouped apart from the others: one run, first or last.
    let kinds: Vec<bool> = buttons
        .iter()
        .map(|b| b.kind == ButtonKind::QuickReply)
        .collect();
    let runs = kinds.windows(2).filter(|w| w[0] != w[1]).count();
    if runs > 1 {
        f.error(
            Field::Buttons,
            "Group the quick replies together, before or after the other buttons.",
        );
    }
    for (i, b) in buttons.iter().enumerate() {
        let field = Field::Button(i);
        let labelled = !matches!(b.kind, ButtonKind::CopyCode);
        if labelled && b.text.trim().is_empty() && b.kind != ButtonKind::Otp {
            f.error(field.clone(), "Give the button a label.");
        }
        if chars(&b.text) > BUTTON_TEXT_MAX {
            f.error(
                field.clone(),
                format!("Button labels are at most {BUTTON_TEXT_MAX} characters."),
            );
        }
        match b.kind {
            ButtonKind::Url => {
                let params = parameters(&b.value);
                if !(b.value.starts_with("https://") || b.value.starts_with("http://")) {
                    f.error(field.clone(), "The website must start with https://.");
                }
                if chars(&b.value) > URL_MAX {
                    f.error(
                        field.clone(),
                        format!("URLs are at most {URL_MAX} characters."),
                    );
                }
                if params.len() > 1 {
                    f.error(field.clone(), "A website button can have one variable.");
                }
                if !params.is_empty() && !b.value.trim_end().ends_with("}}") {
                    f.error(field.clone(), "The URL's variable must be at its end.");
                }
                if !params.is_empty() && b.example.trim().is_empty() {
                    f.error(field.clone(), "Give an example of the full URL.");
                }
            }
            ButtonKind::Phone => {
                let digits = b.value.chars().filter(char::is_ascii_digit).count();
                if !b.value.trim().starts_with('+') || !(7..=15).contains(&digits) {
                    f.error(
                        field.clone(),
                        "Write the phone number with its country code: +15550100.",
                    );
                }
            }
            ButtonKind::CopyCode => {
                if b.value.trim().is_empty() || chars(&b.value) > COPY_CODE_MAX {
                    f.error(
                        field.clone(),
                        format!("Give an example code of 1 to {COPY_CODE_MAX} characters."),
                    );
                }
            }
            ButtonKind::QuickReply | ButtonKind::Otp => {}
        }
    }
}

pub(super) fn authentication(f: &mut Findings, d: &Draft<'_>) {
    let c = d.content;
    let otp = c
        .buttons
        .iter()
        .filter(|b| b.kind == ButtonKind::Otp)
        .count();
    if d.category == Category::Authentication {
        if c.buttons.iter().any(|b| b.kind == ButtonKind::Url) {
            f.error(
                Field::Buttons,
                "Authentication templates cannot have website buttons.",
            );
        }
        if c.header_kind.is_media() || c.header_kind == HeaderKind::Location {
            f.error(
                Field::Header,
                "Authentication templates cannot have a media header.",
            );
        }
        if otp != 1 {
            f.error(
                Field::Buttons,
                "Authentication templates need one one-time-password button.",
            );
        }
    } else if otp > 0 {
        f.error(
            Field::Buttons,
            "One-time-password buttons belong to authentication templates.",
        );
    }
}

pub(super) fn warnings(f: &mut Findings, d: &Draft<'_>) {
    let c = d.content;
    let text = format!("{} {} {}", c.header_text, c.body, c.footer).to_lowercase();
    if d.category == Category::Utility
        && let Some(word) = PROMOTIONAL.iter().find(|w| contains_word(&text, w))
    {
        f.warn(
            Field::Category,
            format!(
                "\"{word}\" reads as promotion: Meta may re-categorise this utility template as marketing."
            ),
        );
    }
    let links = std::iter::once(text.as_str())
        .chain(c.buttons.iter().map(|b| b.value.as_str()))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(short) = SHORTENERS.iter().find(|s| links.contains(*s)) {
        f.warn(
            Field::Body,
            format!("{short} hides where a link goes; Meta often rejects shortened links."),
        );
    }
    let letters: Vec<char> = c.body.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if letters.len() >= 12 && upper * 2 > letters.len() {
        f.warn(
            Field::Body,
            "Mostly capital letters read as shouting and are often rejected.",
        );
    }
}

/// `word` in `text` on word boundaries (phrases and "% off" included).
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let starts_word = word.starts_with(char::is_alphanumeric);
        let ends_word = word.ends_with(char::is_alphanumeric);
        let glued_before = starts_word && before.is_some_and(char::is_alphanumeric);
        let glued_after = ends_word && after.is_some_and(char::is_alphanumeric);
        !glued_before && !glued_after
    })
}
