//! Backfills of a channel's comments: started by a connect, a moderator's "Sync" or the periodic
//! re-sync, advanced one post at a time, and shown as a progress line.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId, UserId};
use crate::db::schema::comment_syncs as s;
use crate::db::statuses::RunState;

/// A backfill as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = s)]
pub struct SyncRow {
    pub id: i64,
    pub channel_id: ChannelId,
    pub state: RunState,
    pub since: DateTime<Utc>,
    pub page_cursor: Option<String>,
    pub page_done: i32,
    pub posts_done: i32,
    pub posts_listed: i32,
    pub listed_all: bool,
    pub comments_found: i32,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A running sync that has not moved for this long is taken as dead (its job gave up): a new
/// one may start.
pub const STALE_AFTER_MINUTES: i64 = 30;

/// Starts a sync of the channel unless one is running; returns the new sync's id, or `None`
/// when one is already running.
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    since: DateTime<Utc>,
    by: Option<UserId>,
) -> QueryResult<Option<i64>> {
    conn.transaction(|conn| {
        diesel::update(
            s::table
                .filter(s::tenant_id.eq(tenant))
                .filter(s::channel_id.eq(channel))
                .filter(s::state.eq(RunState::Running))
                .filter(s::updated_at.lt(Utc::now() - Duration::minutes(STALE_AFTER_MINUTES))),
        )
        .set((
            s::state.eq(RunState::Failed),
            s::error.eq(Some("It stopped making progress; a new sync replaced it.")),
            s::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
        diesel::insert_into(s::table)
            .values((
                s::tenant_id.eq(tenant),
                s::channel_id.eq(channel),
                s::since.eq(since),
                s::requested_by.eq(by),
            ))
            .on_conflict_do_nothing()
            .returning(s::id)
            .get_result(conn)
            .optional()
    })
}

/// One sync of the tenant.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<SyncRow>> {
    s::table
        .filter(s::tenant_id.eq(tenant))
        .filter(s::id.eq(id))
        .select(SyncRow::as_select())
        .first(conn)
        .optional()
}

/// The latest sync of each of the tenant's channels.
pub fn latest(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<SyncRow>> {
    s::table
        .filter(s::tenant_id.eq(tenant))
        .order((s::channel_id, s::id.desc()))
        .distinct_on(s::channel_id)
        .select(SyncRow::as_select())
        .load(conn)
}

/// Records a page of posts listed: how many posts are known so far, and whether that is all.
pub fn listed(
    conn: &mut PgConnection,
    id: i64,
    posts_listed: i32,
    listed_all: bool,
) -> QueryResult<()> {
    diesel::update(s::table.filter(s::id.eq(id)))
        .set((
            s::posts_listed.eq(posts_listed),
            s::listed_all.eq(listed_all),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One more post of the current page is done, with the comments it had.
pub fn post_done(conn: &mut PgConnection, id: i64, comments: i32) -> QueryResult<()> {
    diesel::update(s::table.filter(s::id.eq(id)))
        .set((
            s::page_done.eq(s::page_done + 1),
            s::posts_done.eq(s::posts_done + 1),
            s::comments_found.eq(s::comments_found + comments),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Moves on to the next page of posts.
pub fn next_page(conn: &mut PgConnection, id: i64, cursor: &str) -> QueryResult<()> {
    diesel::update(s::table.filter(s::id.eq(id)))
        .set((
            s::page_cursor.eq(Some(cursor)),
            s::page_done.eq(0),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Ends the sync: done, or failed with the reason.
pub fn finish(conn: &mut PgConnection, id: i64, error: Option<&str>) -> QueryResult<()> {
    diesel::update(s::table.filter(s::id.eq(id)))
        .set((
            s::state.eq(if error.is_some() {
                RunState::Failed
            } else {
                RunState::Done
            }),
            s::error.eq(error),
            s::listed_all.eq(error.is_none()),
            s::finished_at.eq(diesel::dsl::now),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}
