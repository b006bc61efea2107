//! /comments/rules: the tenant's auto-moderation rules (moderators and admins): the ordered list
//! with on/off switches, the form with its dry run, and the confirmed delete.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::comment_rules_form::{RuleFields, action_label, summary};
use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::auth::session::{self, FlashLevel};
use crate::comments::auto::{self, DRY_RUN_COMMENTS, DryRun, DryRunError};
use crate::db::statuses::RuleAction;
use crate::error::AppError;
use crate::models::moderation_rules::{self, RuleRow};
use crate::models::saved_replies::{self, SavedReply};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "comments/rules.html")]
struct RulesPage {
    layout: Layout,
    rules: Vec<RuleRow>,
}

impl RulesPage {
    fn summary(&self, row: &RuleRow) -> String {
        summary(row)
    }

    fn action_label(&self, action: &RuleAction) -> &'static str {
        action_label(action)
    }
}

/// GET /comments/rules
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let rules = crate::db::run(&state.pool, move |conn| {
        Ok(moderation_rules::list(conn, tenant)?)
    })
    .await?;
    render::html(&RulesPage {
        layout: Layout::new(&user, "comments"),
        rules,
    })
}

#[derive(Template)]
#[template(path = "comments/rule_form.html")]
struct RuleFormPage {
    layout: Layout,
    /// None: a new rule.
    id: Option<i64>,
    fields: RuleFields,
    error: Option<String>,
    channels: Vec<(i64, String)>,
    saved_replies: Vec<SavedReply>,
    actions: &'static [RuleAction],
    dry_run: Option<DryRun>,
    dry_run_size: i64,
}

impl RuleFormPage {
    fn action_label(&self, action: &RuleAction) -> &'static str {
        action_label(action)
    }

    fn form_action(&self) -> String {
        match self.id {
            Some(id) => format!("/comments/rules/{id}"),
            None => "/comments/rules".into(),
        }
    }
}

async fn form_page(
    state: &AppState,
    user: &Authorized<CommentRoles>,
    id: Option<i64>,
    fields: RuleFields,
    error: Option<String>,
    dry_run: Option<DryRun>,
) -> Result<RuleFormPage, AppError> {
    let tenant = user.tenant_id;
    let (channels, saved_replies) = crate::db::run(&state.pool, move |conn| {
        let channels = crate::models::channels::comment_channel_choices(conn, tenant)?;
        Ok((channels, saved_replies::all(conn, tenant)?))
    })
    .await?;
    Ok(RuleFormPage {
        layout: Layout::new(user, "comments"),
        id,
        fields,
        error,
        channels,
        saved_replies,
        actions: RuleAction::ALL,
        dry_run,
        dry_run_size: DRY_RUN_COMMENTS,
    })
}

/// GET /comments/rules/new
pub async fn new_form(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
) -> Result<HttpResponse, AppError> {
    render::html(&form_page(&state, &user, None, RuleFields::new_rule(), None, None).await?)
}

/// GET /comments/rules/{id}/edit
pub async fn edit_form(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let row = crate::db::run(&state.pool, move |conn| {
        Ok(moderation_rules::get(conn, tenant, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    render::html(&form_page(&state, &user, Some(id), RuleFields::of(&row), None, None).await?)
}

/// POST /comments/rules (new) and /comments/rules/{id} (edit): saves, or with
/// `intent=dry-run` tries the rule on recent comments without saving. A refused rule comes back
/// 422 with everything as typed.
async fn submit(
    state: &AppState,
    user: &Authorized<CommentRoles>,
    id: Option<i64>,
    body: &[u8],
) -> Result<HttpResponse, AppError> {
    let fields = RuleFields::parse(body);
    let tenant = user.tenant_id;
    let refuse = |fields, error: String| async move {
        let page = form_page(state, user, id, fields, Some(error), None).await?;
        render::html_with_status(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let rule = match fields.rule() {
        Ok(rule) => rule,
        Err(why) => return refuse(fields, why).await,
    };
    // The saved reply must be one of the tenant's (the form offers no other; a forged id is
    // refused rather than stored to fail at run time).
    if let Some(reply) = rule.saved_reply_id {
        let known = crate::db::run(&state.pool, move |conn| {
            Ok(saved_replies::body(conn, tenant, reply)?.is_some())
        })
        .await?;
        if !known {
            return refuse(fields, "Choose one of your saved replies.".into()).await;
        }
    }
    if fields.intent == "dry-run" {
        let result = crate::db::run(&state.pool, move |conn| {
            Ok(auto::dry_run(conn, tenant, &rule))
        })
        .await?;
        return match result {
            Ok(dry) => render::html(&form_page(state, user, id, fields, None, Some(dry)).await?),
            Err(DryRunError::Rule(e)) => refuse(fields, e.to_string()).await,
            Err(DryRunError::Db(e)) => Err(crate::db::DbError::Query(e).into()),
        };
    }
    let me = user.id;
    let saved = crate::db::run(&state.pool, move |conn| {
        Ok(match id {
            Some(id) => moderation_rules::update(conn, tenant, id, &rule)? > 0,
            None => moderation_rules::insert(conn, tenant, &rule, me).map(|_| true)?,
        })
    })
    .await?;
    if !saved {
        return Err(AppError::NotFound);
    }
    session::flash(&user.session, FlashLevel::Success, "Rule saved.");
    Ok(render::see_other("/comments/rules"))
}

pub async fn create(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    submit(&state, &user, None, &body).await
}

pub async fn update(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    submit(&state, &user, Some(path.into_inner()), &body).await
}

/// POST /comments/rules/{id}/{change}: `enable`, `disable`, `up`, `down` or `delete`.
pub async fn change(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, change) = path.into_inner();
    let tenant = user.tenant_id;
    let message = match change.as_str() {
        "enable" => "Rule switched on.",
        "disable" => "Rule switched off.",
        "up" | "down" => "Rule moved.",
        "delete" => "Rule deleted.",
        _ => return Err(AppError::NotFound),
    };
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(match change.as_str() {
            "enable" | "disable" => {
                moderation_rules::set_enabled(conn, tenant, id, change == "enable")? > 0
            }
            "up" | "down" => {
                let exists = moderation_rules::get(conn, tenant, id)?.is_some();
                moderation_rules::shift(conn, tenant, id, if change == "up" { -1 } else { 1 })?;
                exists
            }
            _ => moderation_rules::delete(conn, tenant, id)? > 0,
        })
    })
    .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    session::flash(&user.session, FlashLevel::Success, message);
    Ok(render::see_other("/comments/rules"))
}

#[derive(Template)]
#[template(path = "comments/rule_delete.html")]
struct DeletePage {
    layout: Layout,
    rule: RuleRow,
}

/// GET /comments/rules/{id}/delete: deleting a rule is confirmed first.
pub async fn confirm_delete(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let rule = crate::db::run(&state.pool, move |conn| {
        Ok(moderation_rules::get(conn, tenant, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    render::html(&DeletePage {
        layout: Layout::new(&user, "comments"),
        rule,
    })
}
