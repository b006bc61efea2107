//! The team's steps on a template (request approval, approve, send back), duplicate, delete,
//! and the live status chip. Each answers with the template's page: the outcome flashed, or
//! its refusal on the page.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::roles::{AdminOnly, TemplateRoles};
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::error::AppError;
use crate::message_templates::status::TemplateStatus;
use crate::message_templates::workflow::{self, TemplateError};
use crate::models::message_templates as library;
use crate::state::AppState;
use crate::web::pages::message_templates::show_page;
use crate::web::render;

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    comment: String,
}

/// Runs a step and shows the template again: its outcome flashed, or its refusal on the page.
async fn step(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    done: &'static str,
    work: impl FnOnce(&mut diesel::PgConnection) -> Result<(), TemplateError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    match crate::db::run(&state.pool, move |conn| Ok(work(conn))).await? {
        Ok(()) => {
            session::flash(&user.session, FlashLevel::Success, done);
            Ok(render::see_other(&format!("/message-templates/{id}")))
        }
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Invalid(_)) => {
            let why = "Fix the errors the check lists before it goes further.".to_string();
            show_page(state, user, id, Some(why)).await
        }
        Err(TemplateError::Refused(why)) => show_page(state, user, id, Some(why)).await,
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

/// POST /message-templates/{id}/request-approval
pub async fn request_approval(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, comment) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner().comment,
    );
    step(
        &state,
        &user,
        id,
        "Sent to the admins for approval.",
        move |conn| workflow::request_approval(conn, tenant, me, id, &comment),
    )
    .await
}

/// POST /message-templates/{id}/approve (admins): approves and queues the submission to Meta.
pub async fn approve(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, comment) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner().comment,
    );
    step(
        &state,
        &user,
        id,
        "Approved: submitting it to Meta for review.",
        move |conn| workflow::approve(conn, tenant, me, id, &comment),
    )
    .await
}

/// POST /message-templates/{id}/send-back (admins)
pub async fn send_back(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, comment) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner().comment,
    );
    step(
        &state,
        &user,
        id,
        "Sent back to a draft with your comment.",
        move |conn| workflow::send_back(conn, tenant, me, id, &comment),
    )
    .await
}

#[derive(Deserialize)]
pub struct DuplicateForm {
    name: String,
    language: String,
}

/// POST /message-templates/{id}/duplicate: a copy as a new draft.
pub async fn duplicate(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    form: web::Form<DuplicateForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, f) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner(),
    );
    let made = crate::db::run(&state.pool, move |conn| {
        Ok(crate::message_templates::at_meta::duplicate(
            conn,
            tenant,
            me,
            id,
            &f.name,
            &f.language,
        ))
    })
    .await?;
    match made {
        Ok(new) => {
            session::flash(&user.session, FlashLevel::Success, "Copied as a new draft.");
            Ok(render::see_other(&format!("/message-templates/{new}/edit")))
        }
        Err(TemplateError::Invalid(findings)) => {
            let why = findings
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" ");
            show_page(&state, &user, id, Some(why)).await
        }
        Err(TemplateError::Refused(why)) => show_page(&state, &user, id, Some(why)).await,
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    all_languages: Option<String>,
}

/// POST /message-templates/{id}/delete (admins; the page asks for confirmation first)
pub async fn delete(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let all = form.all_languages.is_some();
    let done = crate::db::run(&state.pool, move |conn| {
        Ok(crate::message_templates::at_meta::request_delete(
            conn, tenant, me, id, all,
        ))
    })
    .await?;
    match done {
        Ok(Some(removed)) => {
            session::flash(&user.session, FlashLevel::Success, removed);
            Ok(render::see_other("/message-templates"))
        }
        Ok(None) => {
            session::flash(&user.session, FlashLevel::Success, "Deleting it at Meta.");
            Ok(render::see_other(&format!("/message-templates/{id}")))
        }
        Err(TemplateError::Refused(why)) => show_page(&state, &user, id, Some(why)).await,
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Invalid(_)) => show_page(&state, &user, id, None).await,
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

#[derive(Template)]
#[template(path = "message_templates/_status.html")]
struct StatusChip {
    id: i64,
    status: TemplateStatus,
}

#[derive(Deserialize)]
pub struct WasQuery {
    was: Option<String>,
}

/// GET /message-templates/{id}/status (htmx): the status chip, polled while Meta decides;
/// when the status has changed since the page was drawn, the page reloads (its next step and
/// history change with it).
pub async fn status_chip(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    q: web::Query<WasQuery>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let t = crate::db::run(&state.pool, move |conn| Ok(library::get(conn, tenant, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let status = t.status();
    let mut response = render::html(&StatusChip {
        id,
        status: status.clone(),
    })?;
    if q.was.as_deref().is_some_and(|was| was != status.as_str()) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("hx-refresh"),
            actix_web::http::header::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}
