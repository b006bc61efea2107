//! History imports: a channel's recent conversations read from Meta on connect, one page at a
//! time, with the position and the counts kept for the Channels page and for resuming.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::history_imports as h;
use crate::db::statuses::RunState;

/// One import.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = h)]
pub struct HistoryImport {
    pub id: i64,
    pub tenant_id: TenantId,
    pub channel_id: ChannelId,
    pub state: RunState,
    pub since: DateTime<Utc>,
    pub max_conversations: i32,
    pub page_cursor: Option<String>,
    pub page_done: i32,
    pub conversations_done: i32,
    pub messages_done: i32,
    pub conversations_skipped: i32,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl HistoryImport {
    /// The Channels page's line about it.
    pub fn progress_line(&self) -> String {
        let counts = format!(
            "{} conversation{} and {} message{}",
            self.conversations_done,
            if self.conversations_done == 1 {
                ""
            } else {
                "s"
            },
            self.messages_done,
            if self.messages_done == 1 { "" } else { "s" }
        );
        let counts = match self.conversations_skipped {
            0 => counts,
            n => format!("{counts} ({n} Meta would not show)"),
        };
        match (self.state, &self.error) {
            (RunState::Running, _) => format!("Importing recent conversations: {counts} so far."),
            (RunState::Failed, Some(why)) => {
                format!("History import stopped after {counts}: {why}")
            }
            _ => format!("History imported: {counts}."),
        }
    }
}

/// Starts an import unless one is running for the channel; returns its id.
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    since: DateTime<Utc>,
    max_conversations: i32,
) -> QueryResult<Option<i64>> {
    diesel::insert_into(h::table)
        .values((
            h::tenant_id.eq(tenant),
            h::channel_id.eq(channel),
            h::since.eq(since),
            h::max_conversations.eq(max_conversations),
        ))
        .on_conflict_do_nothing()
        .returning(h::id)
        .get_result(conn)
        .optional()
}

/// One import of the tenant.
pub fn get(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
) -> QueryResult<Option<HistoryImport>> {
    h::table
        .filter(h::tenant_id.eq(tenant))
        .filter(h::id.eq(id))
        .select(HistoryImport::as_select())
        .first(conn)
        .optional()
}

/// The latest import of each of the tenant's channels.
pub fn latest_per_channel(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> QueryResult<Vec<HistoryImport>> {
    h::table
        .filter(h::tenant_id.eq(tenant))
        .distinct_on(h::channel_id)
        .order((h::channel_id, h::started_at.desc(), h::id.desc()))
        .select(HistoryImport::as_select())
        .load(conn)
}

/// Counts one imported conversation (in the transaction that stored it, so a retried page
/// neither skips nor counts it twice).
pub fn conversation_done(
    conn: &mut PgConnection,
    id: i64,
    new_messages: i32,
) -> QueryResult<usize> {
    diesel::update(h::table.filter(h::id.eq(id)))
        .set((
            h::page_done.eq(h::page_done + 1),
            h::conversations_done.eq(h::conversations_done + 1),
            h::messages_done.eq(h::messages_done + new_messages),
            h::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Counts a conversation Meta refused to describe as done, and skipped.
pub fn conversation_skipped(conn: &mut PgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(h::table.filter(h::id.eq(id)))
        .set((
            h::page_done.eq(h::page_done + 1),
            h::conversations_done.eq(h::conversations_done + 1),
            h::conversations_skipped.eq(h::conversations_skipped + 1),
            h::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Moves on to the next page of conversations.
pub fn next_page(conn: &mut PgConnection, id: i64, cursor: &str) -> QueryResult<usize> {
    diesel::update(h::table.filter(h::id.eq(id)))
        .set((
            h::page_cursor.eq(cursor),
            h::page_done.eq(0),
            h::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Ends an import, with the reason when it stopped early.
pub fn finish(conn: &mut PgConnection, id: i64, error: Option<&str>) -> QueryResult<usize> {
    diesel::update(
        h::table
            .filter(h::id.eq(id))
            .filter(h::state.eq(RunState::Running)),
    )
    .set((
        h::state.eq(if error.is_some() {
            RunState::Failed
        } else {
            RunState::Done
        }),
        h::error.eq(error),
        h::updated_at.eq(diesel::dsl::now),
        h::finished_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}
