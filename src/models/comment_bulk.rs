//! Bulk moderation runs: what was asked, how far the job got, and where it resumes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{CommentId, TenantId, UserId};
use crate::db::schema::comment_bulk_runs as b;
use crate::db::statuses::{BulkAction, RunState};
use crate::models::comment_queue::QueueCursor;

/// A run as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = b)]
pub struct BulkRun {
    pub id: i64,
    /// Who asked (none: they were removed from the team since).
    pub user_id: Option<UserId>,
    pub action: BulkAction,
    pub target: serde_json::Value,
    pub state: RunState,
    pub cursor_at: Option<DateTime<Utc>>,
    pub cursor_id: Option<CommentId>,
    pub total: i32,
    pub taken: i32,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl BulkRun {
    /// Where the next chunk starts.
    pub fn cursor(&self) -> Option<QueueCursor> {
        Some(QueueCursor {
            at: self.cursor_at?,
            id: self.cursor_id?,
        })
    }
}

/// Records a new run; returns its id.
pub fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    action: BulkAction,
    target: &serde_json::Value,
    total: i32,
) -> QueryResult<i64> {
    diesel::insert_into(b::table)
        .values((
            b::tenant_id.eq(tenant),
            b::user_id.eq(Some(user)),
            b::action.eq(action),
            b::target.eq(target),
            b::total.eq(total),
        ))
        .returning(b::id)
        .get_result(conn)
}

/// One run of the tenant.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<BulkRun>> {
    b::table
        .filter(b::tenant_id.eq(tenant))
        .filter(b::id.eq(id))
        .select(BulkRun::as_select())
        .first(conn)
        .optional()
}

/// A chunk is done: the run moves past it.
pub fn advance(
    conn: &mut PgConnection,
    id: i64,
    cursor: QueueCursor,
    taken: i32,
) -> QueryResult<()> {
    diesel::update(b::table.filter(b::id.eq(id)))
        .set((
            b::cursor_at.eq(Some(cursor.at)),
            b::cursor_id.eq(Some(cursor.id)),
            b::taken.eq(b::taken + taken),
            b::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Ends the run: done, or failed with the reason.
pub fn finish(conn: &mut PgConnection, id: i64, error: Option<&str>) -> QueryResult<()> {
    diesel::update(b::table.filter(b::id.eq(id)))
        .set((
            b::state.eq(if error.is_some() {
                RunState::Failed
            } else {
                RunState::Done
            }),
            b::error.eq(error),
            b::finished_at.eq(diesel::dsl::now),
            b::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}
