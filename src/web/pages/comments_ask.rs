//! The comment pages that ask before acting: the delete confirmation and the public and private
//! replies.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::comments::back_to;
use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::auth::session::{self, FlashLevel};
use crate::comments::{Actor, CommentError, MAX_REPLY_CHARS};
use crate::db::ids::{CommentId, TenantId};
use crate::db::statuses::ModerationAction;
use crate::error::AppError;
use crate::models::comment_queue::{self, QueueRow};
use crate::models::saved_replies::{self, SavedReply};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

/// The tenant's comment, or 404.
async fn comment(state: &AppState, tenant: TenantId, id: CommentId) -> Result<QueueRow, AppError> {
    crate::db::run(&state.pool, move |conn| {
        Ok(comment_queue::queue_row(conn, tenant, id)?)
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

/// Which reply a reply page writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Public,
    Private,
}

impl ReplyKind {
    fn action(self) -> ModerationAction {
        match self {
            ReplyKind::Public => ModerationAction::Reply,
            ReplyKind::Private => ModerationAction::PrivateReply,
        }
    }

    fn is_private(&self) -> bool {
        *self == ReplyKind::Private
    }

    /// The path segment after the comment's id.
    fn path(&self) -> &'static str {
        match self {
            ReplyKind::Public => "reply",
            ReplyKind::Private => "private-reply",
        }
    }
}

#[derive(Template)]
#[template(path = "comments/reply.html")]
struct ReplyPage {
    layout: Layout,
    comment: QueueRow,
    kind: ReplyKind,
    back: String,
    message: String,
    error: Option<String>,
    max: usize,
    saved_replies: Vec<SavedReply>,
}

async fn reply_page(
    state: &AppState,
    user: &Authorized<CommentRoles>,
    id: CommentId,
    kind: ReplyKind,
    back: String,
    message: String,
    error: Option<String>,
) -> Result<ReplyPage, AppError> {
    let tenant = user.tenant_id;
    let comment = comment(state, tenant, id).await?;
    let (saved_replies, failed) = crate::db::run(&state.pool, move |conn| {
        let latest = crate::models::comment_actions::latest(conn, tenant, &[id])?;
        Ok((saved_replies::all(conn, tenant)?, latest.get(&id).cloned()))
    })
    .await?;
    // Trying a failed reply again starts from its text.
    let message = match failed {
        Some(a)
            if message.is_empty()
                && a.action == kind.action()
                && a.state == crate::db::statuses::ActionState::Failed =>
        {
            a.message.unwrap_or_default()
        }
        _ => message,
    };
    Ok(ReplyPage {
        layout: Layout::new(user, "comments"),
        comment,
        kind,
        back,
        message,
        error,
        max: MAX_REPLY_CHARS,
        saved_replies,
    })
}

/// GET /comments/{id}/reply and /comments/{id}/private-reply: a reply, written on its own page.
pub async fn reply_form(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    query: web::Query<BackQuery>,
    kind: ReplyKind,
) -> Result<HttpResponse, AppError> {
    let page = reply_page(
        &state,
        &user,
        path.into_inner(),
        kind,
        back_to(&query.back),
        String::new(),
        None,
    )
    .await?;
    render::html(&page)
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    back: String,
}

/// POST /comments/{id}/reply and /comments/{id}/private-reply: queued for Meta; a refused reply
/// comes back with what was typed.
pub async fn reply(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    form: web::Form<ReplyForm>,
    kind: ReplyKind,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let ReplyForm { message, back } = form.into_inner();
    let text = message.clone();
    let action = kind.action();
    let result = crate::db::run_as(&state.pool, move |conn| {
        crate::comments::request(conn, tenant, id, action, Some(&text), Actor::User(me))
    })
    .await;
    let back = back_to(&back);
    match result {
        Ok(_) => {
            session::flash(&user.session, FlashLevel::Success, action.queued_message());
            Ok(render::see_other(&format!("/comments?{back}")))
        }
        Err(CommentError::NotFound) => Err(AppError::NotFound),
        Err(CommentError::Db(e)) => Err(e.into()),
        Err(CommentError::Refused(why)) => {
            let page = reply_page(&state, &user, id, kind, back, message, Some(why)).await?;
            render::html_with_status(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// The public reply routes.
pub async fn public_reply_form(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, AppError> {
    reply_form(state, user, path, query, ReplyKind::Public).await
}

pub async fn public_reply(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    reply(state, user, path, form, ReplyKind::Public).await
}

/// The private reply routes.
pub async fn private_reply_form(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, AppError> {
    reply_form(state, user, path, query, ReplyKind::Private).await
}

pub async fn private_reply(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    reply(state, user, path, form, ReplyKind::Private).await
}
