//! The comment pages that ask before acting: the delete confirmation and the public reply.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::comments::back_to;
use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::auth::session::{self, FlashLevel};
use crate::comments::{CommentError, MAX_REPLY_CHARS};
use crate::db::ids::{CommentId, TenantId};
use crate::db::statuses::ModerationAction;
use crate::error::AppError;
use crate::models::comments::{self, QueueRow};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

/// The tenant's comment, or 404.
async fn comment(state: &AppState, tenant: TenantId, id: CommentId) -> Result<QueueRow, AppError> {
    crate::db::run(&state.pool, move |conn| {
        Ok(comments::queue_row(conn, tenant, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "comments/delete.html")]
struct DeletePage {
    layout: Layout,
    comment: QueueRow,
    back: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct BackQuery {
    #[serde(default)]
    back: String,
}

/// GET /comments/{id}/delete: a delete cannot be undone, so it is confirmed first.
pub async fn confirm_delete(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, AppError> {
    let comment = comment(&state, user.tenant_id, path.into_inner()).await?;
    render::html(&DeletePage {
        layout: Layout::new(&user, "comments"),
        comment,
        back: back_to(&query.back),
    })
}

#[derive(Template)]
#[template(path = "comments/reply.html")]
struct ReplyPage {
    layout: Layout,
    comment: QueueRow,
    back: String,
    message: String,
    error: Option<String>,
    max: usize,
}

/// GET /comments/{id}/reply: a public reply, written on its own page.
pub async fn reply_form(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, AppError> {
    let comment = comment(&state, user.tenant_id, path.into_inner()).await?;
    render::html(&ReplyPage {
        layout: Layout::new(&user, "comments"),
        comment,
        back: back_to(&query.back),
        message: String::new(),
        error: None,
        max: MAX_REPLY_CHARS,
    })
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    back: String,
}

/// POST /comments/{id}/reply: queued for Meta; a refused reply comes back with what was typed.
pub async fn reply(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let ReplyForm { message, back } = form.into_inner();
    let text = message.clone();
    let result = crate::db::run_as(&state.pool, move |conn| {
        crate::comments::request(conn, tenant, id, ModerationAction::Reply, Some(&text), me)
    })
    .await;
    let back = back_to(&back);
    match result {
        Ok(()) => {
            session::flash(&user.session, FlashLevel::Success, "Replying at Meta…");
            Ok(render::see_other(&format!("/comments?{back}")))
        }
        Err(CommentError::NotFound) => Err(AppError::NotFound),
        Err(CommentError::Db(e)) => Err(e.into()),
        Err(CommentError::Refused(why)) => {
            let comment = comment(&state, tenant, id).await?;
            render::html_with_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                &ReplyPage {
                    layout: Layout::new(&user, "comments"),
                    comment,
                    back,
                    message,
                    error: Some(why),
                    max: MAX_REPLY_CHARS,
                },
            )
        }
    }
}
