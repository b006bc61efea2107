//! The one route table.

use actix_web::web;

use crate::web::pages::{login, ops, sections, team};

/// Registers every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/", web::get().to(sections::home))
        .route("/inbox", web::get().to(sections::inbox))
        .route("/comments", web::get().to(sections::comments))
        .route("/insights", web::get().to(sections::insights))
        .route(
            "/message-templates",
            web::get().to(sections::message_templates),
        )
        .route("/channels", web::get().to(sections::channels))
        .route("/team", web::get().to(team::show))
        .route("/team/users", web::post().to(team::add))
        .route("/team/users/{id}/role", web::post().to(team::change_role))
        .route(
            "/team/users/{id}/deactivate",
            web::get().to(team::confirm_deactivate),
        )
        .route(
            "/team/users/{id}/deactivate",
            web::post().to(team::deactivate),
        )
        .route(
            "/team/users/{id}/reactivate",
            web::post().to(team::reactivate),
        );
}
