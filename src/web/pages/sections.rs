//! The sections whose capabilities arrive in later work show a helpful empty state, and the home
//! page sends each user to the first section their role can open.

use actix_web::HttpResponse;
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::{AdminOnly, AnyRole};
use crate::error::AppError;
use crate::web::layout::{Layout, navigation};
use crate::web::render;

/// An empty section: what will appear here and how to make it appear.
#[derive(Template)]
#[template(path = "layout/section_empty.html")]
struct EmptySection {
    layout: Layout,
    title: &'static str,
    heading: &'static str,
    explanation: &'static str,
    action: Option<(&'static str, &'static str)>,
}

/// GET /
pub async fn home(user: Authorized<AnyRole>) -> HttpResponse {
    let first = navigation(&user)
        .first()
        .map(|n| n.href)
        .unwrap_or("/login");
    render::see_other(first)
}

fn empty(
    user: &crate::auth::CurrentUser,
    key: &'static str,
    title: &'static str,
    heading: &'static str,
    explanation: &'static str,
    action: Option<(&'static str, &'static str)>,
) -> Result<HttpResponse, AppError> {
    let admin = user.can::<AdminOnly>();
    render::html(&EmptySection {
        layout: Layout::new(user, key),
        title,
        heading,
        explanation,
        action: if admin { action } else { None },
    })
}

/// GET /message-templates
pub async fn message_templates(user: Authorized<AdminOnly>) -> Result<HttpResponse, AppError> {
    empty(
        &user,
        "templates",
        "Templates",
        "No message templates yet",
        "WhatsApp message templates let you write to customers after the 24-hour window has closed. Connect a WhatsApp number to write and submit them.",
        Some(("Connect WhatsApp", "/channels")),
    )
}
