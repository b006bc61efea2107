//! Saved replies: every inbox user sees and uses them; agents and admins add and delete them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::InboxRoles;
use crate::auth::session::{self, FlashLevel};
use crate::error::AppError;
use crate::inbox::InboxError;
use crate::inbox::saved_replies::{self, SavedReply};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "inbox/saved_replies.html")]
struct RepliesPage {
    layout: Layout,
    replies: Vec<SavedReply>,
    shortcut: String,
    body: String,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    shortcut: String,
    body: String,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let replies = crate::db::run(&state.pool, move |conn| {
        Ok(saved_replies::list(conn, tenant)?)
    })
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render::html_with_status(
        status,
        &RepliesPage {
            layout: Layout::new(user, "inbox"),
            replies,
            shortcut,
            body,
            error,
        },
    )
}

/// GET /inbox/saved-replies
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, String::new(), String::new(), None).await
}

#[derive(Deserialize)]
pub struct ReplyForm {
    shortcut: String,
    body: String,
}

/// POST /inbox/saved-replies
pub async fn create(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let (tenant, me) = (user.tenant_id, user.id);
    let (shortcut, body) = (f.shortcut.clone(), f.body.clone());
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(saved_replies::create(conn, tenant, me, &shortcut, &body))
    })
    .await?;
    match result {
        Ok(r) => {
            session::flash(
                &user.session,
                FlashLevel::Success,
                format!("Saved reply /{} added.", r.shortcut),
            );
            Ok(render::see_other("/inbox/saved-replies"))
        }
        Err(InboxError::Invalid(why)) => page(&state, &user, f.shortcut, f.body, Some(why)).await,
        Err(e) => Err(e.into()),
    }
}

/// POST /inbox/saved-replies/{id}/delete (the form asks for confirmation first)
pub async fn delete(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    crate::db::run_as::<_, InboxError, _>(&state.pool, move |conn| {
        saved_replies::delete(conn, tenant, id)
    })
    .await?;
    session::flash(&user.session, FlashLevel::Success, "Saved reply deleted.");
    Ok(render::see_other("/inbox/saved-replies"))
}
