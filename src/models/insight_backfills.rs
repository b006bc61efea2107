//! Long reads of a channel's insights history, with their progress: the page shows them, and
//! a restarted job resumes at the first day not read yet.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::insight_backfills as b;
use crate::db::statuses::RunState;

/// A backfill as the page and the job see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = b)]
pub struct Backfill {
    pub id: i64,
    pub channel_id: ChannelId,
    pub state: RunState,
    pub from_day: NaiveDate,
    pub next_day: NaiveDate,
    pub to_day: NaiveDate,
    pub windows_done: i32,
    pub windows_total: i32,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The channel's running backfill of `[from, to)` if one covers the same start, or a new one.
/// A running backfill of another range is replaced (marked failed) by this one.
pub fn resume_or_start(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    from: NaiveDate,
    to: NaiveDate,
    windows: i32,
) -> QueryResult<Backfill> {
    conn.transaction(|conn| {
        let running: Option<Backfill> = b::table
            .filter(b::tenant_id.eq(tenant))
            .filter(b::channel_id.eq(channel))
            .filter(b::state.eq(RunState::Running))
            .select(Backfill::as_select())
            .for_update()
            .first(conn)
            .optional()?;
        if let Some(r) = running {
            if r.from_day == from {
                return Ok(r);
            }
            finish(
                conn,
                r.id,
                RunState::Failed,
                Some("Replaced by a newer request."),
            )?;
        }
        diesel::insert_into(b::table)
            .values((
                b::tenant_id.eq(tenant),
                b::channel_id.eq(channel),
                b::from_day.eq(from),
                b::next_day.eq(from),
                b::to_day.eq(to),
                b::windows_total.eq(windows),
            ))
            .returning(Backfill::as_returning())
            .get_result(conn)
    })
}

/// One more window read: the next day to read from.
pub fn advance(conn: &mut PgConnection, id: i64, next_day: NaiveDate) -> QueryResult<()> {
    diesel::update(b::table.find(id))
        .set((
            b::next_day.eq(next_day),
            b::windows_done.eq(b::windows_done + 1),
            b::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Ends a backfill as done or failed (with the reason).
pub fn finish(
    conn: &mut PgConnection,
    id: i64,
    state: RunState,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(b::table.find(id))
        .set((
            b::state.eq(state),
            b::error.eq(error),
            b::updated_at.eq(diesel::dsl::now),
            b::finished_at.eq(Some(Utc::now())),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The tenant's backfills still running, and those that ended in the last day (newest first).
pub fn recent(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Backfill>> {
    let day_ago = Utc::now() - chrono::Duration::days(1);
    b::table
        .filter(b::tenant_id.eq(tenant))
        .filter(
            b::state
                .eq(RunState::Running)
                .or(b::finished_at.gt(day_ago)),
        )
        .order(b::started_at.desc())
        .limit(20)
        .select(Backfill::as_select())
        .load(conn)
}
