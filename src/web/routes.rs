//! The one route table.

use actix_web::web;

use crate::web::pages::{
    account, channels, comment_rules, comments, comments_ask, comments_audit, comments_bulk,
    comments_sync, connect, connect_instagram, connect_whatsapp, inbox, insights, insights_filters,
    insights_messaging, insights_post, insights_posts, jobs, login, media, message_templates,
    message_templates_actions, message_templates_editor, outbound_media, saved_replies, sections,
    team, webhook_log,
};
use crate::web::{ops, webhook_receiver};

/// Registers every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks/meta")
            .app_data(web::PayloadConfig::new(webhook_receiver::MAX_BODY))
            .route(web::get().to(webhook_receiver::handshake))
            .route(web::post().to(webhook_receiver::receive)),
    );
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/account", web::get().to(account::show))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route(
            "/account/sign-out-everywhere",
            web::post().to(account::sign_out_everywhere),
        )
        .route("/", web::get().to(sections::home))
        .route("/inbox", web::get().to(inbox::list::index))
        .route("/inbox/list", web::get().to(inbox::list::list_rows))
        .route("/inbox/live", web::get().to(inbox::live::live))
        .route("/inbox/saved-replies", web::get().to(saved_replies::list))
        .route(
            "/inbox/saved-replies",
            web::post().to(saved_replies::create),
        )
        .route(
            "/inbox/saved-replies/{id}/delete",
            web::post().to(saved_replies::delete),
        )
        .route(
            "/inbox/messages/{id}/retry",
            web::post().to(inbox::reply::retry),
        )
        .route("/inbox/{id}", web::get().to(inbox::conversation::show))
        .route(
            "/inbox/{id}/template",
            web::get().to(inbox::template_send::show),
        )
        .route(
            "/inbox/{id}/template",
            web::post().to(inbox::template_send::send_template),
        )
        .route(
            "/inbox/{id}/template/preview",
            web::post().to(inbox::template_send::preview),
        )
        .route(
            "/inbox/{id}/thread",
            web::get().to(inbox::conversation::thread_partial),
        )
        .route(
            "/inbox/{id}/panel",
            web::get().to(inbox::conversation::panel_partial),
        )
        .route(
            "/inbox/{id}/composer",
            web::get().to(inbox::conversation::composer_partial),
        )
        .route(
            "/inbox/{id}/messages",
            web::post().to(inbox::reply::send_reply),
        )
        .route("/inbox/{id}/typing", web::post().to(inbox::actions::typing))
        .route(
            "/inbox/{id}/messages/{message}/react",
            web::post().to(inbox::actions::react),
        )
        .route(
            "/inbox/{id}/notes",
            web::post().to(inbox::actions::add_note),
        )
        .route("/inbox/{id}/assign", web::post().to(inbox::actions::assign))
        .route(
            "/inbox/{id}/status",
            web::post().to(inbox::actions::set_status),
        )
        .route(
            "/inbox/{id}/read",
            web::post().to(inbox::actions::mark_read),
        )
        .route(
            "/inbox/{id}/labels",
            web::post().to(inbox::actions::add_label),
        )
        .route(
            "/inbox/{id}/labels/{label}/remove",
            web::post().to(inbox::actions::remove_label),
        )
        .route(
            "/outbound-media/{token}/{name}",
            web::get().to(outbound_media::show),
        )
        .route("/comments", web::get().to(comments::list))
        .route("/comments/count", web::get().to(comments::count))
        .route("/comments/audit", web::get().to(comments_audit::list))
        .route("/comments/audit.csv", web::get().to(comments_audit::csv))
        .route("/comments/live", web::get().to(inbox::live::comments_live))
        .route("/comments/bulk", web::post().to(comments_bulk::start))
        .route("/comments/bulk/{id}", web::get().to(comments_bulk::show))
        .route("/comments/sync", web::get().to(comments_sync::status))
        .route(
            "/comments/sync/{channel}",
            web::post().to(comments_sync::start),
        )
        .route("/comments/rules", web::get().to(comment_rules::list))
        .route("/comments/rules", web::post().to(comment_rules::create))
        .route(
            "/comments/rules/new",
            web::get().to(comment_rules::new_form),
        )
        .route(
            "/comments/rules/{id}/edit",
            web::get().to(comment_rules::edit_form),
        )
        .route(
            "/comments/rules/{id}/delete",
            web::get().to(comment_rules::confirm_delete),
        )
        .route(
            "/comments/rules/{id}",
            web::post().to(comment_rules::update),
        )
        .route(
            "/comments/rules/{id}/{change}",
            web::post().to(comment_rules::change),
        )
        .route(
            "/comments/{id}/reviewed",
            web::post().to(comments::reviewed),
        )
        .route(
            "/comments/{id}/delete",
            web::get().to(comments_ask::confirm_delete),
        )
        .route(
            "/comments/{id}/reply",
            web::get().to(comments_ask::public_reply_form),
        )
        .route(
            "/comments/{id}/reply",
            web::post().to(comments_ask::public_reply),
        )
        .route(
            "/comments/{id}/private-reply",
            web::get().to(comments_ask::private_reply_form),
        )
        .route(
            "/comments/{id}/private-reply",
            web::post().to(comments_ask::private_reply),
        )
        .route("/comments/{id}/undo", web::post().to(comments::undo))
        .route(
            "/comments/{id}/{action}",
            web::post().to(comments::moderate),
        )
        .route("/insights", web::get().to(insights::overview))
        .route("/insights.csv", web::get().to(insights::csv))
        .route("/insights/refresh", web::post().to(insights::refresh_now))
        .route("/insights/backfill", web::post().to(insights::backfill))
        .route("/insights/posts", web::get().to(insights_posts::list))
        .route("/insights/posts.csv", web::get().to(insights_posts::csv))
        .route(
            "/insights/posts/{id}.csv",
            web::get().to(insights_post::show_csv),
        )
        .route("/insights/posts/{id}", web::get().to(insights_post::show))
        .route(
            "/insights/messaging",
            web::get().to(insights_messaging::page),
        )
        .route(
            "/insights/messaging.csv",
            web::get().to(insights_messaging::csv),
        )
        .route(
            "/insights/time-zone",
            web::post().to(insights_filters::set_time_zone),
        )
        .route(
            "/message-templates",
            web::get().to(message_templates::library_page),
        )
        .route(
            "/message-templates",
            web::post().to(message_templates_editor::create),
        )
        .route(
            "/message-templates/sync",
            web::post().to(message_templates::sync),
        )
        .route(
            "/message-templates/new",
            web::get().to(message_templates_editor::new),
        )
        .route(
            "/message-templates/preview",
            web::post().to(message_templates_editor::preview),
        )
        .route(
            "/message-templates/{id}",
            web::get().to(message_templates::show),
        )
        .route(
            "/message-templates/{id}",
            web::post().to(message_templates_editor::update),
        )
        .route(
            "/message-templates/{id}/edit",
            web::get().to(message_templates_editor::edit),
        )
        .route(
            "/message-templates/{id}/request-approval",
            web::post().to(message_templates_actions::request_approval),
        )
        .route(
            "/message-templates/{id}/approve",
            web::post().to(message_templates_actions::approve),
        )
        .route(
            "/message-templates/{id}/send-back",
            web::post().to(message_templates_actions::send_back),
        )
        .route(
            "/message-templates/{id}/duplicate",
            web::post().to(message_templates_actions::duplicate),
        )
        .route(
            "/message-templates/{id}/delete",
            web::post().to(message_templates_actions::delete),
        )
        .route(
            "/message-templates/{id}/header-media",
            web::post().to(message_templates_actions::header_media),
        )
        .route(
            "/message-templates/{id}/status",
            web::get().to(message_templates_actions::status_chip),
        )
        .route("/channels", web::get().to(channels::list))
        .route(
            "/channels/connect/meta",
            web::post().to(connect::start_meta),
        )
        .route(
            "/channels/connect/whatsapp",
            web::post().to(connect::start_whatsapp),
        )
        .route("/oauth/meta/callback", web::get().to(connect::callback))
        .route(
            "/channels/connect/instagram",
            web::post().to(connect_instagram::start),
        )
        .route(
            "/oauth/instagram/callback",
            web::get().to(connect_instagram::callback),
        )
        .route(
            "/channels/connect/select/{id}",
            web::get().to(connect::select),
        )
        .route(
            "/channels/connect/select/{id}",
            web::post().to(connect::confirm),
        )
        .route(
            "/channels/whatsapp/manual",
            web::get().to(connect_whatsapp::manual_form),
        )
        .route(
            "/channels/whatsapp/manual",
            web::post().to(connect_whatsapp::manual_submit),
        )
        .route(
            "/channels/{id}/disconnect",
            web::get().to(channels::confirm_disconnect),
        )
        .route(
            "/channels/{id}/disconnect",
            web::post().to(channels::disconnect),
        )
        .route("/channels/{id}/check", web::post().to(channels::check))
        .route(
            "/channels/{id}/reconnect",
            web::post().to(channels::reconnect),
        )
        .route("/media/{message}/{index}", web::get().to(media::show))
        .route(
            "/contacts/{id}/picture",
            web::get().to(media::contact_picture),
        )
        .route("/jobs", web::get().to(jobs::list))
        .route("/jobs/{id}/retry", web::post().to(jobs::retry))
        .route("/webhooks", web::get().to(webhook_log::list))
        .route(
            "/webhooks/replay-dead",
            web::post().to(webhook_log::replay_dead),
        )
        .route("/webhooks/{id}", web::get().to(webhook_log::show))
        .route(
            "/webhooks/{id}/replay",
            web::post().to(webhook_log::replay_one),
        )
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
