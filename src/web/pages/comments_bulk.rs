//! Bulk moderation from the queue: POST /comments/bulk starts a run (a delete is confirmed
//! first, with the count), GET /comments/bulk/{id} follows it (htmx polls while it runs).

use actix_web::{HttpResponse, web};
use askama::Template;

use super::comments_query::{QueueQuery, back_to};
use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::auth::session::{self, FlashLevel};
use crate::comments::CommentError;
use crate::comments::bulk::{self, BulkTarget};
use crate::db::ids::CommentId;
use crate::db::statuses::{BulkAction, RunState};
use crate::error::AppError;
use crate::models::comment_actions::{self, BulkFailure};
use crate::models::comment_bulk::{self, BulkRun};
use crate::state::AppState;
use crate::web::hx::Hx;
use crate::web::layout::Layout;
use crate::web::render;

/// The bulk form as posted (chosen comments arrive as repeated `ids`).
#[derive(Debug, Default)]
struct BulkForm {
    action: String,
    scope: String,
    ids: Vec<CommentId>,
    back: String,
    confirmed: bool,
}

impl BulkForm {
    fn parse(body: &[u8]) -> BulkForm {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = BulkForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "action" => f.action = v,
                "scope" => f.scope = v,
                "ids" => f.ids.extend(v.parse().ok().map(CommentId)),
                "back" => f.back = v,
                "confirm" => f.confirmed = v == "1",
                _ => {}
            }
        }
        f
    }

    fn target(&self) -> BulkTarget {
        if self.scope == "matching" {
            let query: QueueQuery = serde_urlencoded::from_str(&self.back).unwrap_or_default();
            BulkTarget::Matching(query.filter())
        } else {
            BulkTarget::Chosen(self.ids.clone())
        }
    }
}

#[derive(Template)]
#[template(path = "comments/bulk_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    count: i64,
    scope: String,
    ids: Vec<CommentId>,
    back: String,
}

/// POST /comments/bulk
pub async fn start(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = BulkForm::parse(&body);
    let back = back_to(&form.back);
    let Some(action) = BulkAction::parse(&form.action) else {
        session::flash(
            &user.session,
            FlashLevel::Error,
            "Choose what to do with the comments.",
        );
        return Ok(render::see_other(&format!("/comments?{back}")));
    };
    let (tenant, me, target) = (user.tenant_id, user.id, form.target());
    if action == BulkAction::Delete && !form.confirmed {
        let t = target.clone();
        let count =
            crate::db::run(&state.pool, move |conn| Ok(bulk::size(conn, tenant, &t)?)).await?;
        return render::html(&ConfirmPage {
            layout: Layout::new(&user, "comments"),
            count,
            scope: form.scope,
            ids: form.ids,
            back,
        });
    }
    let result = crate::db::run_as(&state.pool, move |conn| {
        bulk::start(conn, tenant, me, action, &target)
    })
    .await;
    match result {
        Ok(id) => Ok(render::see_other(&format!("/comments/bulk/{id}"))),
        Err(CommentError::Refused(why)) => {
            session::flash(&user.session, FlashLevel::Error, why);
            Ok(render::see_other(&format!("/comments?{back}")))
        }
        Err(CommentError::NotFound) => Err(AppError::NotFound),
        Err(CommentError::Db(e)) => Err(e.into()),
    }
}

/// A run with how its comments stand at Meta.
pub struct Progress {
    pub run: BulkRun,
    pub pending: i64,
    pub done: i64,
    pub failed: i64,
    pub failures: Vec<BulkFailure>,
}

impl Progress {
    /// Still moving: comments left to take, or actions on their way to Meta.
    pub fn moving(&self) -> bool {
        self.run.state == RunState::Running || self.pending > 0
    }

    pub fn verb(&self) -> &'static str {
        match self.run.action {
            BulkAction::Hide => "Hiding",
            BulkAction::Unhide => "Unhiding",
            BulkAction::Delete => "Deleting",
            BulkAction::Reviewed => "Marking reviewed",
        }
    }
}

#[derive(Template)]
#[template(path = "comments/bulk.html")]
struct ProgressPage {
    layout: Layout,
    p: Progress,
}

#[derive(Template)]
#[template(path = "comments/_bulk_progress.html")]
struct ProgressPartial {
    p: Progress,
}

/// GET /comments/bulk/{id}: the whole page, or (htmx) the progress panel alone.
pub async fn show(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<CommentRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let p = crate::db::run(&state.pool, move |conn| {
        let Some(run) = comment_bulk::get(conn, tenant, id)? else {
            return Ok(None);
        };
        let (pending, done, failed) = comment_actions::bulk_tally(conn, tenant, id)?;
        let failures = comment_actions::bulk_failures(conn, tenant, id, 100)?;
        Ok(Some(Progress {
            run,
            pending,
            done,
            failed,
            failures,
        }))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if hx.is_htmx() {
        return render::html(&ProgressPartial { p });
    }
    render::html(&ProgressPage {
        layout: Layout::new(&user, "comments"),
        p,
    })
}
