//! GET /inbox/{id} and its htmx parts (thread, panel, composer): one conversation.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::view::{
    Composer, ConversationView, Loaded, Panel, PanelData, ThreadOnly, present_composer,
    present_conversation, present_panel, present_thread,
};
use super::view_list::ListView;
use super::{InboxPage, LIST_PAGE, THREAD_PAGE, list::ListQuery, list::lookups};
use crate::auth::roles::InboxRoles;
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ConversationId, TenantId};
use crate::error::AppError;
use crate::inbox::actions;
use crate::inbox::contact_panel;
use crate::inbox::list::{self, Cursor};
use crate::inbox::saved_replies;
use crate::inbox::thread;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "partials/conversation_thread.html")]
struct ThreadPartial {
    view: ThreadOnly,
}

#[derive(Template)]
#[template(path = "partials/conversation_panel.html")]
struct PanelPartial {
    panel: Panel,
}

#[derive(Template)]
#[template(path = "partials/conversation_composer.html")]
pub struct ComposerPartial {
    pub composer: Composer,
}

/// Loads a conversation's row, thread page, panel and saved replies (marking it read when
/// `open` is set), on one connection.
fn load_conversation(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    id: ConversationId,
    before: Option<Cursor>,
    open: bool,
) -> Result<Option<Loaded>, crate::db::DbError> {
    if open {
        actions::read_on_open(conn, tenant, id)?;
    }
    let Some(row) = list::row(conn, tenant, id)? else {
        return Ok(None);
    };
    Ok(Some(Loaded {
        row,
        page: thread::page(conn, tenant, id, before, THREAD_PAGE)?,
        panel: panel_data(conn, tenant, id)?,
        replies: saved_replies::list(conn, tenant)?,
    }))
}

/// Loads a conversation's thread, panel and composer (marking it read when `open` is set), in
/// one database round trip.
pub async fn conversation_view(
    state: &AppState,
    user: &CurrentUser,
    id: ConversationId,
    before: Option<Cursor>,
    open: bool,
) -> Result<ConversationView, AppError> {
    let tenant = user.tenant_id;
    let loaded = crate::db::run(&state.pool, move |conn| {
        load_conversation(conn, tenant, id, before, open)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(present_conversation(user, id, loaded))
}

/// The thread alone (live refreshes and earlier pages load only this).
pub async fn thread_view(
    state: &AppState,
    user: &CurrentUser,
    id: ConversationId,
    before: Option<Cursor>,
) -> Result<ThreadOnly, AppError> {
    let tenant = user.tenant_id;
    let (row, page) = crate::db::run(&state.pool, move |conn| {
        let Some(row) = list::row(conn, tenant, id)? else {
            return Ok(None);
        };
        Ok(Some((
            row,
            thread::page(conn, tenant, id, before, THREAD_PAGE)?,
        )))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(present_thread(user, id, row, page))
}

/// The contact panel alone.
pub async fn panel_view(
    state: &AppState,
    user: &CurrentUser,
    id: ConversationId,
) -> Result<Panel, AppError> {
    let tenant = user.tenant_id;
    let (row, data) = crate::db::run(&state.pool, move |conn| {
        let Some(row) = list::row(conn, tenant, id)? else {
            return Ok(None);
        };
        Ok(Some((row, panel_data(conn, tenant, id)?)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(present_panel(user, row, data))
}

/// An empty reply box for the conversation's current window.
pub async fn composer_view(
    state: &AppState,
    user: &CurrentUser,
    id: ConversationId,
) -> Result<Composer, AppError> {
    let tenant = user.tenant_id;
    let (row, replies) = crate::db::run(&state.pool, move |conn| {
        let Some(row) = list::row(conn, tenant, id)? else {
            return Ok(None);
        };
        Ok(Some((row, saved_replies::list(conn, tenant)?)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(present_composer(user, id, &row, replies))
}

fn panel_data(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    id: ConversationId,
) -> Result<PanelData, crate::db::DbError> {
    let members = crate::models::users::list(conn, tenant)?
        .into_iter()
        .filter(|u| u.active && crate::auth::roles::allows::<InboxRoles>(u.role))
        .map(|u| (u.id.0, u.display_name))
        .collect();
    Ok((
        actions::labels_of(conn, tenant, id)?,
        actions::labels(conn, tenant)?,
        members,
        contact_panel::other_conversations(conn, tenant, id)?,
    ))
}

/// GET /inbox/{id}
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let before = q.before.as_deref().and_then(Cursor::decode);
    // The conversation and the list beside it, in one database round trip.
    let filter = q.filter();
    let after = q.after.as_deref().and_then(Cursor::decode);
    let (tenant, me, f) = (user.tenant_id, user.id, filter.clone());
    let (loaded, page, (channels, labels)) = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load_conversation(conn, tenant, id, before, true)? else {
            return Ok(None);
        };
        let page = list::list(conn, tenant, me, &f, after, LIST_PAGE)?;
        Ok(Some((loaded, page, lookups(conn, tenant)?)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let view = present_conversation(&user, id, loaded);
    let mut list = ListView::new(page.rows, filter, page.next, Some(id));
    list.channels = channels;
    list.labels = labels;
    render::html(&InboxPage {
        layout: Layout::new(&user, "inbox"),
        list,
        view: Some(view),
        since: Utc::now().timestamp_millis(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ThreadQuery {
    before: Option<String>,
}

/// GET /inbox/{id}/thread: the newest page of the thread, or an earlier one.
pub async fn thread_partial(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    q: web::Query<ThreadQuery>,
) -> Result<HttpResponse, AppError> {
    let before = q.before.as_deref().and_then(Cursor::decode);
    let view = thread_view(&state, &user, path.into_inner(), before).await?;
    render::html(&ThreadPartial { view })
}

/// GET /inbox/{id}/panel
pub async fn panel_partial(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let panel = panel_view(&state, &user, path.into_inner()).await?;
    render::html(&PanelPartial { panel })
}

/// GET /inbox/{id}/composer: a fresh reply box (after the window changed, or a send).
pub async fn composer_partial(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let composer = composer_view(&state, &user, path.into_inner()).await?;
    render::html(&ComposerPartial { composer })
}
