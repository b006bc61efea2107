//! The template library (filters, search, status chips), one template's page (preview, lint,
//! history, the admin's banner for a bad status) and the team's steps. Agents and admins.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::roles::{AdminOnly, TemplateRoles};
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::error::AppError;
use crate::message_templates::content::Category;
use crate::message_templates::form::TemplateFields;
use crate::message_templates::lint::Finding;
use crate::message_templates::status::TemplateStatus;
use crate::message_templates::workflow;
use crate::models::channels::Channel;
use crate::models::message_templates::{self as library, LibraryFilter};
use crate::models::template_events::{self, Event};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

const PER_PAGE: i64 = 50;

/// The library's query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LibraryQuery {
    pub waba: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub language: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
}

fn some(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[derive(Template)]
#[template(path = "message_templates/index.html")]
struct LibraryPage {
    layout: Layout,
    rows: Vec<library::Template>,
    total: i64,
    page: i64,
    pages: i64,
    query: LibraryQuery,
    qs: String,
    accounts: Vec<Channel>,
    languages: Vec<String>,
    statuses: Vec<TemplateStatus>,
    categories: [Category; 3],
    admin: bool,
}

impl LibraryPage {
    fn selected(&self, value: &Option<String>, option: &str) -> bool {
        value.as_deref() == Some(option)
    }

    fn filtered(&self) -> bool {
        let q = &self.query;
        [&q.waba, &q.status, &q.category, &q.language, &q.q]
            .iter()
            .any(|v| some(v).is_some())
    }
}

/// GET /message-templates
pub async fn library_page(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    query: web::Query<LibraryQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = LibraryFilter {
        waba: some(&query.waba),
        status: some(&query.status),
        category: some(&query.category),
        language: some(&query.language),
        search: some(&query.q),
    };
    let page = query.page.unwrap_or(1).max(1);
    let tenant = user.tenant_id;
    let ((rows, total), accounts, languages) = crate::db::run(&state.pool, move |conn| {
        Ok((
            library::library(conn, tenant, &filter, (page - 1) * PER_PAGE, PER_PAGE)?,
            workflow::accounts(conn, tenant)?,
            library::languages(conn, tenant)?,
        ))
    })
    .await?;
    let qs = serde_urlencoded::to_string([
        ("waba", some(&query.waba).unwrap_or_default()),
        ("status", some(&query.status).unwrap_or_default()),
        ("category", some(&query.category).unwrap_or_default()),
        ("language", some(&query.language).unwrap_or_default()),
        ("q", some(&query.q).unwrap_or_default()),
    ])
    .unwrap_or_default();
    render::html(&LibraryPage {
        layout: Layout::new(&user, "templates"),
        rows,
        total,
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        query,
        qs,
        accounts,
        languages,
        statuses: TemplateStatus::FILTERS.to_vec(),
        categories: Category::ALL,
        admin: user.can::<AdminOnly>(),
    })
}

/// POST /message-templates/sync (admins): reads every template of every connected account.
pub async fn sync(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let queued = crate::db::run(&state.pool, move |conn| {
        Ok(workflow::queue_sync(conn, tenant)?)
    })
    .await?;
    if queued == 0 {
        session::flash(
            &user.session,
            FlashLevel::Error,
            "Connect a WhatsApp number first: templates belong to its business account.",
        );
    } else {
        session::flash(
            &user.session,
            FlashLevel::Success,
            format!("Reading the templates of {queued} WhatsApp account(s) from Meta."),
        );
    }
    Ok(render::see_other("/message-templates"))
}

#[derive(Template)]
#[template(path = "message_templates/show.html")]
struct ShowPage {
    layout: Layout,
    t: library::Template,
    status: TemplateStatus,
    f: TemplateFields,
    findings: Vec<Finding>,
    history: Vec<Event>,
    admin: bool,
    error: Option<String>,
}

impl ShowPage {
    fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

pub(crate) async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(t) = library::get(conn, tenant, id)? else {
            return Ok(None);
        };
        let findings = workflow::findings(conn, tenant, &t)?;
        let history = template_events::history(conn, tenant, id)?;
        Ok(Some((t, findings, history)))
    })
    .await?;
    let Some((t, findings, history)) = found else {
        return Err(AppError::NotFound);
    };
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    render::html_with_status(
        status,
        &ShowPage {
            layout: Layout::new(user, "templates"),
            status: t.status(),
            f: TemplateFields::of(&t),
            t,
            findings,
            history,
            admin: user.can::<AdminOnly>(),
            error,
        },
    )
}

/// GET /message-templates/{id}
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(&state, &user, path.into_inner(), None).await
}
