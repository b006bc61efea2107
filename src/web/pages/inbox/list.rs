//! GET /inbox and GET /inbox/list: the conversation list with its filters.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::view_list::ListView;
use super::{InboxPage, LIST_PAGE};
use crate::auth::roles::InboxRoles;
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ChannelId, ConversationId, TenantId};
use crate::db::statuses::ConversationStatus;
use crate::error::AppError;
use crate::inbox::actions::{self, Label};
use crate::inbox::list::{self, AssigneeFilter, Cursor, ListFilter};
use crate::models::channels::Platform;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

/// The list's filters as they arrive in the URL.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub(super) status: Option<String>,
    assignee: Option<String>,
    platform: Option<String>,
    channel: Option<String>,
    label: Option<String>,
    unread: Option<String>,
    q: Option<String>,
    pub(super) after: Option<String>,
    pub(super) before: Option<String>,
}

impl ListQuery {
    /// The filter (open conversations of everyone by default).
    pub fn filter(&self) -> ListFilter {
        let status = match self.status.as_deref() {
            None | Some("") => Some(ConversationStatus::Open),
            Some("all") => None,
            Some(other) => {
                Some(ConversationStatus::parse(other).unwrap_or(ConversationStatus::Open))
            }
        };
        ListFilter {
            status,
            assignee: AssigneeFilter::parse(self.assignee.as_deref().unwrap_or("all")),
            platform: self.platform.as_deref().and_then(Platform::parse),
            channel: self
                .channel
                .as_deref()
                .and_then(|c| c.parse().ok())
                .map(ChannelId),
            label: self.label.as_deref().and_then(|l| l.parse().ok()),
            unread_only: self
                .unread
                .as_deref()
                .is_some_and(|u| !u.is_empty() && u != "0"),
            search: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(|q| q.chars().take(200).collect()),
        }
    }
}

#[derive(Template)]
#[template(path = "partials/inbox_list_rows.html")]
struct ListRows {
    list: ListView,
}

/// Channels (id, label) and labels for the filter selectors.
pub(super) type Lookups = (Vec<(i64, String)>, Vec<Label>);

pub(super) fn lookups(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
) -> Result<Lookups, crate::db::DbError> {
    let channels = crate::models::channels::list(conn, tenant)?
        .into_iter()
        .map(|c| {
            (
                c.id.0,
                format!("{} · {}", c.platform.label(), c.display_name()),
            )
        })
        .collect();
    Ok((channels, actions::labels(conn, tenant)?))
}

/// The list pane for `q` (with `selected` highlighted), in one database round trip.
pub(super) async fn list_view(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
    selected: Option<ConversationId>,
) -> Result<ListView, AppError> {
    let filter = q.filter();
    let after = q.after.as_deref().and_then(Cursor::decode);
    let (tenant, me, f) = (user.tenant_id, user.id, filter.clone());
    let (page, (channels, labels)) = crate::db::run(&state.pool, move |conn| {
        let page = list::list(conn, tenant, me, &f, after, LIST_PAGE)?;
        Ok((page, lookups(conn, tenant)?))
    })
    .await?;
    let mut view = ListView::new(page.rows, filter, page.next, selected);
    view.channels = channels;
    view.labels = labels;
    Ok(view)
}

/// GET /inbox
pub async fn index(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let list = list_view(&state, &user, &q, None).await?;
    render::html(&InboxPage {
        layout: Layout::new(&user, "inbox"),
        list,
        view: None,
        since: Utc::now().timestamp_millis(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct SelectedQuery {
    #[serde(flatten)]
    list: ListQuery,
    selected: Option<ConversationId>,
}

/// GET /inbox/list: the rows (live refresh, "load more").
pub async fn list_rows(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    q: web::Query<SelectedQuery>,
) -> Result<HttpResponse, AppError> {
    let list = list_view(&state, &user, &q.list, q.selected).await?;
    render::html(&ListRows { list })
}
