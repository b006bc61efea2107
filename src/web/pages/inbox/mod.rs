//! The inbox pages: the conversation list (`list`), one conversation with its thread, panel and
//! composer (`conversation`), the live stream (`live`) and the actions on a conversation
//! (`actions`). Handlers extract, authorize, call `crate::inbox`, and render what the presenters
//! (`view`, `view_list`, `view_thread`) build.

pub mod actions;
pub mod conversation;
pub mod list;
pub mod live;
pub mod reply;
pub mod template_send;
pub mod view;
pub mod view_list;
pub mod view_thread;

use actix_web::HttpResponse;
use askama::Template;
use chrono::Utc;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;
use view::ConversationView;
use view_list::ListView;

/// Conversations per page of the list.
pub const LIST_PAGE: i64 = 50;
/// Messages per page of a thread.
pub const THREAD_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "inbox/index.html")]
pub(crate) struct InboxPage {
    pub layout: Layout,
    pub list: ListView,
    pub view: Option<ConversationView>,
    pub since: i64,
}

/// The full conversation page around `view` (a refused reply without JavaScript).
pub async fn page_with(
    state: &AppState,
    user: &CurrentUser,
    view: ConversationView,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    let list = list::list_view(state, user, &list::ListQuery::default(), Some(view.row.id)).await?;
    render::html_with_status(
        status,
        &InboxPage {
            layout: Layout::new(user, "inbox"),
            list,
            view: Some(view),
            since: Utc::now().timestamp_millis(),
        },
    )
}
