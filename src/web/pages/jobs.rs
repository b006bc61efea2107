//! The Jobs page (admins): this tenant's background work, failures, and retry.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::auth::session::{self, FlashLevel};
use crate::db::ids::JobId;
use crate::db::statuses::JobState;
use crate::error::AppError;
use crate::jobs::queue::{self, JobRow};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "ops/jobs.html")]
struct JobsPage {
    layout: Layout,
    jobs: Vec<JobRow>,
    state_filter: String,
    /// Periodic work (for every tenant) with a run that died in the last day.
    dead_periodic: Vec<(String, chrono::DateTime<chrono::Utc>)>,
}

#[derive(serde::Deserialize)]
pub struct JobsQuery {
    state: Option<String>,
}

/// GET /jobs
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    query: web::Query<JobsQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query
        .into_inner()
        .state
        .as_deref()
        .and_then(JobState::parse);
    let (tenant, f) = (user.tenant_id, filter);
    let (jobs, dead_periodic) = crate::db::run(&state.pool, move |conn| {
        Ok((
            queue::list(conn, Some(tenant), f, 200)?,
            queue::dead_periodic(conn)?,
        ))
    })
    .await?;
    render::html(&JobsPage {
        layout: Layout::new(&user, "jobs"),
        jobs,
        state_filter: filter.map(|s| s.as_str().to_string()).unwrap_or_default(),
        dead_periodic,
    })
}

/// POST /jobs/{id}/retry
pub async fn retry(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, JobId(path.into_inner()));
    let retried = crate::db::run(&state.pool, move |conn| {
        Ok(queue::retry(conn, id, Some(tenant))?)
    })
    .await?;
    if !retried {
        return Err(AppError::NotFound);
    }
    session::flash(
        &user.session,
        FlashLevel::Success,
        format!("Job {id} is queued again."),
    );
    Ok(render::see_other("/jobs?state=dead"))
}
