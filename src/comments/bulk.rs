//! Bulk moderation: many comments hidden, unhidden, deleted or marked reviewed by a job that
//! takes them in chunks (each chunk and the run's new place in one transaction), so a run of
//! thousands never holds a request open and resumes after a restart. Each comment goes through
//! the same request path as a single action; a refusal is recorded as that comment's failed
//! action, so the run's page shows a result per comment.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::comments::{Actor, CommentError, record_refusal, request};
use crate::db::ids::{CommentId, TenantId, UserId};
use crate::db::statuses::{BulkAction, ModerationAction, RunState};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::models::comment_bulk;
use crate::models::comment_queue::{self, QueueFilter, QueueState};
use crate::models::comments;
use crate::state::AppState;

/// The most comments one run takes.
pub const MAX_BULK: i64 = 10_000;
/// The most comments chosen one by one.
pub const MAX_CHOSEN: usize = 500;
/// Comments per chunk (one transaction each).
const CHUNK: i64 = 200;

/// Which comments a run takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkTarget {
    /// Comments chosen one by one.
    Chosen(Vec<CommentId>),
    /// Every comment matching the queue's filter (when the run was asked for).
    Matching(QueueFilter),
}

impl BulkTarget {
    fn filter(&self) -> QueueFilter {
        match self {
            BulkTarget::Chosen(ids) => QueueFilter {
                state: QueueState::All,
                ids: ids.clone(),
                ..QueueFilter::default()
            },
            BulkTarget::Matching(f) => QueueFilter {
                ids: Vec::new(),
                ..f.clone()
            },
        }
    }
}

/// How many comments a run on `target` would take (up to [`MAX_BULK`]).
pub fn size(conn: &mut PgConnection, tenant: TenantId, target: &BulkTarget) -> QueryResult<i64> {
    comment_queue::count(conn, tenant, &target.filter(), MAX_BULK)
}

/// Starts a run and queues its job; returns its id.
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    action: BulkAction,
    target: &BulkTarget,
) -> Result<i64, CommentError> {
    if let BulkTarget::Chosen(ids) = target {
        if ids.is_empty() {
            return Err(CommentError::Refused(
                "Select comments first, or choose every comment matching the filter.".into(),
            ));
        }
        if ids.len() > MAX_CHOSEN {
            return Err(CommentError::Refused(format!(
                "At most {MAX_CHOSEN} comments can be selected one by one; use the filter instead."
            )));
        }
    }
    conn.transaction(|conn| {
        let total = size(conn, tenant, target)?;
        if total == 0 {
            return Err(CommentError::Refused("No comment matches.".into()));
        }
        let json = serde_json::to_value(target)
            .map_err(|e| CommentError::Refused(format!("The selection cannot be stored: {e}")))?;
        let id = comment_bulk::insert(conn, tenant, user, action, &json, total as i32)?;
        enqueue(conn, tenant, id, 0)?;
        Ok(id)
    })
}

fn enqueue(conn: &mut PgConnection, tenant: TenantId, id: i64, taken: i32) -> QueryResult<()> {
    crate::jobs::queue::enqueue(
        conn,
        &BulkModerate { run_id: id }
            .to_new_job()
            .for_tenant(tenant)
            .dedupe(format!("comment-bulk:{id}:{taken}")),
    )
    .map(|_| ())
}

/// Takes the run's next chunk (in one transaction with the run's new place), then queues the
/// next one or ends the run.
pub fn next_chunk(
    conn: &mut PgConnection,
    tenant: TenantId,
    run_id: i64,
) -> Result<(), CommentError> {
    conn.transaction(|conn| {
        let Some(run) =
            comment_bulk::get(conn, tenant, run_id)?.filter(|r| r.state == RunState::Running)
        else {
            return Ok(()); // finished already
        };
        // A target this version cannot read (written by another one) ends the run with why.
        let target: BulkTarget = serde_json::from_value(run.target.clone()).map_err(|e| {
            CommentError::Refused(format!("This run's selection cannot be read: {e}"))
        })?;
        let left = i64::from(run.total - run.taken).clamp(0, CHUNK);
        let (rows, _) = comment_queue::queue(conn, tenant, &target.filter(), run.cursor(), left)?;
        // The teammate who asked was removed since: nothing more is done in their name.
        if let Some(user) = run.user_id {
            for row in &rows {
                let action = match run.action {
                    BulkAction::Reviewed => {
                        comments::mark_reviewed(conn, tenant, row.id, user)?;
                        continue;
                    }
                    BulkAction::Hide => ModerationAction::Hide,
                    BulkAction::Unhide => ModerationAction::Unhide,
                    BulkAction::Delete => ModerationAction::Delete,
                };
                let actor = Actor::Bulk { user, run: run_id };
                match request(conn, tenant, row.id, action, None, actor) {
                    Ok(_) | Err(CommentError::NotFound) => {}
                    Err(CommentError::Refused(why)) => {
                        record_refusal(conn, tenant, row.id, action, actor, &why)?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let taken = i32::try_from(rows.len()).unwrap_or(i32::MAX);
        if let Some(last) = rows.last() {
            let cursor = comment_queue::QueueCursor {
                at: last.commented_at,
                id: last.id,
            };
            comment_bulk::advance(conn, run_id, cursor, taken)?;
        }
        let done = run.taken + taken;
        // A short chunk means the filter has no more comments.
        if done < run.total && rows.len() as i64 == left && left > 0 {
            enqueue(conn, tenant, run_id, done)?;
        } else {
            comment_bulk::finish(conn, run_id, None)?;
        }
        Ok(())
    })
}

/// Job `bulk_moderate`: one chunk of a bulk run, then the next chunk's job.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BulkModerate {
    pub run_id: i64,
}

impl Job for BulkModerate {
    const KIND: &'static str = "bulk_moderate";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.run_id;
        let result = crate::db::run_as(&state.pool, move |conn| next_chunk(conn, tenant, id)).await;
        match result {
            Ok(_) => Ok(()),
            Err(CommentError::Db(e)) => Err(JobError::retry("a bulk moderation chunk", e)),
            Err(other) => {
                let why = other.to_string();
                crate::db::run(&state.pool, move |conn| {
                    Ok(comment_bulk::finish(conn, id, Some(&why))?)
                })
                .await?;
                Ok(())
            }
        }
    }
}
