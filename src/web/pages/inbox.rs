//! The inbox pages: the conversation list, a conversation (thread, composer, contact panel), the
//! partials htmx swaps when something changes, and the live-update stream.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::roles::InboxRoles;
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ChannelId, TenantId};
use crate::error::AppError;
use crate::inbox::actions::{self, Label};
use crate::inbox::contact_panel::{self, OtherConversation};
use crate::inbox::list::{self, AssigneeFilter, ConversationRow, Cursor, ListFilter};
use crate::inbox::saved_replies::{self, SavedReply};
use crate::inbox::thread;
use crate::inbox::window::window;
use crate::models::channels::Platform;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::inbox_view::{self, DayGroup, IdLike, ListView, WindowView, accept};
use crate::web::render;

/// Conversations per page of the list.
pub const LIST_PAGE: i64 = 50;
/// Messages per page of a thread.
pub const THREAD_PAGE: i64 = 50;

/// The list's filters as they arrive in the URL.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    assignee: Option<String>,
    platform: Option<String>,
    channel: Option<String>,
    label: Option<String>,
    unread: Option<String>,
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

impl ListQuery {
    /// The filter (open conversations of everyone by default).
    pub fn filter(&self) -> ListFilter {
        let status = match self.status.as_deref() {
            None | Some("") => Some("open".to_string()),
            Some("all") => None,
            Some(s) if list::STATUSES.contains(&s) => Some(s.to_string()),
            Some(_) => Some("open".to_string()),
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

/// Everything the page shows about one conversation.
pub struct ConversationView {
    pub row: ConversationRow,
    pub csrf: String,
    pub days: Vec<DayGroup>,
    pub earlier_url: Option<String>,
    pub window: WindowView,
    pub composer: Composer,
    pub panel: Panel,
}

/// The reply box (re-rendered with the typed text and the reason when a send is refused).
pub struct Composer {
    pub conversation_id: i64,
    pub text: String,
    pub human_agent: bool,
    pub error: Option<String>,
    pub window: WindowView,
    pub saved_replies: Vec<SavedReply>,
    pub accept: &'static str,
    pub csrf: String,
}

/// The contact panel.
pub struct Panel {
    pub row: ConversationRow,
    pub labels: Vec<Label>,
    pub all_labels: Vec<Label>,
    pub members: Vec<(i64, String)>,
    pub other: Vec<OtherConversation>,
    pub statuses: [&'static str; 4],
    pub csrf: String,
    pub me: i64,
}

impl Panel {
    pub fn is_assignee(&self, id: impl IdLike) -> bool {
        self.row.assignee_id == Some(id.value())
    }

    pub fn is_me(&self, id: impl IdLike) -> bool {
        id.value() == self.me
    }

    pub fn assigned_to_me(&self) -> bool {
        self.row.assignee_id == Some(self.me)
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    list: ListView,
    view: Option<ConversationView>,
    since: i64,
}

#[derive(Template)]
#[template(path = "inbox_list_rows.html")]
struct ListRows {
    list: ListView,
}

#[derive(Template)]
#[template(path = "conversation_thread.html")]
struct ThreadPartial {
    view: ThreadOnly,
}

/// The thread without the composer and panel (for live refreshes and earlier pages).
pub struct ThreadOnly {
    pub row: ConversationRow,
    pub csrf: String,
    pub days: Vec<DayGroup>,
    pub earlier_url: Option<String>,
    pub window: WindowView,
}

#[derive(Template)]
#[template(path = "conversation_panel.html")]
struct PanelPartial {
    panel: Panel,
}

#[derive(Template)]
#[template(path = "conversation_composer.html")]
pub struct ComposerPartial {
    pub composer: Composer,
}

/// Channels (id, label) and labels for the filter selectors.
type Lookups = (Vec<(i64, String)>, Vec<Label>);

fn lookups(
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

async fn list_view(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
    selected: Option<i64>,
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

/// What a conversation's page shows, loaded in one go.
struct Loaded {
    row: ConversationRow,
    page: thread::ThreadPage,
    panel: PanelData,
    replies: Vec<SavedReply>,
}

/// Loads a conversation's row, thread page, panel and saved replies (marking it read when
/// `open` is set), on one connection.
fn load_conversation(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    id: i64,
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

fn present_conversation(user: &CurrentUser, id: i64, loaded: Loaded) -> ConversationView {
    let Loaded {
        row,
        page,
        panel,
        replies,
    } = loaded;
    let thread = present_thread(user, id, row.clone(), page);
    let panel = present_panel(user, row.clone(), panel);
    let composer = present_composer(user, id, &row, replies);
    ConversationView {
        row: thread.row,
        csrf: thread.csrf,
        days: thread.days,
        earlier_url: thread.earlier_url,
        window: thread.window,
        composer,
        panel,
    }
}

/// Loads a conversation's thread, panel and composer (marking it read when `open` is set), in
/// one database round trip.
pub async fn conversation_view(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
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

fn present_thread(
    user: &CurrentUser,
    id: i64,
    row: ConversationRow,
    page: thread::ThreadPage,
) -> ThreadOnly {
    let now = Utc::now();
    let earlier_url = page
        .earlier
        .map(|c| format!("/inbox/{id}/thread?before={}", c.encode()));
    ThreadOnly {
        days: inbox_view::days(page, &row.display_name()),
        earlier_url,
        window: WindowView::new(window(row.platform, row.last_inbound_at, now), now),
        csrf: crate::auth::session::csrf_token(&user.session),
        row,
    }
}

fn present_panel(user: &CurrentUser, row: ConversationRow, data: PanelData) -> Panel {
    let (labels, all_labels, members, other) = data;
    Panel {
        row,
        labels,
        all_labels,
        members,
        other,
        statuses: list::STATUSES,
        csrf: crate::auth::session::csrf_token(&user.session),
        me: user.id.0,
    }
}

fn present_composer(
    user: &CurrentUser,
    id: i64,
    row: &ConversationRow,
    replies: Vec<SavedReply>,
) -> Composer {
    let now = Utc::now();
    Composer {
        conversation_id: id,
        text: String::new(),
        human_agent: false,
        error: None,
        window: WindowView::new(window(row.platform, row.last_inbound_at, now), now),
        saved_replies: replies,
        accept: accept(row.platform),
        csrf: crate::auth::session::csrf_token(&user.session),
    }
}

/// The thread alone (live refreshes and earlier pages load only this).
pub async fn thread_view(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
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
pub async fn panel_view(state: &AppState, user: &CurrentUser, id: i64) -> Result<Panel, AppError> {
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
    id: i64,
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

type PanelData = (
    Vec<Label>,
    Vec<Label>,
    Vec<(i64, String)>,
    Vec<OtherConversation>,
);

fn panel_data(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    id: i64,
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

/// GET /inbox/{id}
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<i64>,
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
pub struct SelectedQuery {
    #[serde(flatten)]
    list: ListQuery,
    selected: Option<i64>,
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

#[derive(Debug, Default, Deserialize)]
pub struct ThreadQuery {
    before: Option<String>,
}

/// GET /inbox/{id}/thread: the newest page of the thread, or an earlier one.
pub async fn thread_partial(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<i64>,
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
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let panel = panel_view(&state, &user, path.into_inner()).await?;
    render::html(&PanelPartial { panel })
}

/// GET /inbox/{id}/composer: a fresh reply box (after the window changed, or a send).
pub async fn composer_partial(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let composer = composer_view(&state, &user, path.into_inner()).await?;
    render::html(&ComposerPartial { composer })
}

pub use crate::auth::current_user::is_htmx;

/// The full conversation page around `view` (a refused reply without JavaScript).
pub async fn page_with(
    state: &AppState,
    user: &CurrentUser,
    view: ConversationView,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    let list = list_view(state, user, &ListQuery::default(), Some(view.row.id)).await?;
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
