//! Searching the conversation list, at a cost bounded by the page it returns rather than by how
//! many messages match: a word in almost every message (a shop's "order") must be as quick as a
//! rare one.
//!
//! 1. **The walk.** The newest [`WINDOW`] conversations that pass the filters are checked one by
//!    one, newest first (contact name, then the conversation's messages), stopping at a page of
//!    matches. A common word fills the page within the first few dozen conversations.
//! 2. **The fallback.** Only when the window holds fewer matches than a page are the older
//!    conversations searched through the full-text indexes, scoped to the tenant. The words that
//!    get there are rare (they matched little in the newest conversations), so the indexes
//!    return few rows.
//!
//! A statement timeout is the last guard, and a one-letter word matches only itself (as a prefix
//! it would match most of the index).
//!
//! Raw SQL: keyset conditions on row values and a `LIMIT`ed, ordered subquery whose order the
//! outer query keeps are more than diesel's query builder can say.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};

use crate::db::ids::{TenantId, UserId};
use crate::inbox::list::{
    COLUMNS, ConversationRow, Cursor, ListFilter, Page, Sql, paged, with_filters,
};

/// Conversations the walk checks before the full-text indexes take over.
pub const WINDOW: i64 = 2_000;

/// The longest a search may run before it is cancelled (the page then shows an error).
const TIMEOUT: &str = "3s";

/// Conversations passing the filters (after `after`), for the walk's inner query.
const INNER: &str =
    "SELECT c.* FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE ";

/// The rest of a row around conversations `c`.
const JOINS: &str = " JOIN channels ch ON ch.id = c.channel_id
   JOIN contacts ct ON ct.id = c.contact_id
   LEFT JOIN users u ON u.id = c.assignee_id ";

/// One page of the conversations matching `ts` (a tsquery from [`crate::inbox::list::tsquery`]).
pub fn page(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    ts: &str,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Page> {
    page_with_window(conn, tenant, me, filter, ts, after, limit, WINDOW)
}

/// [`page`] with another walk window (tests use a small one to reach the fallback).
#[allow(clippy::too_many_arguments)]
pub fn page_with_window(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    ts: &str,
    after: Option<Cursor>,
    limit: i64,
    window: i64,
) -> QueryResult<Page> {
    conn.transaction(|conn| {
        diesel::sql_query(format!("SET LOCAL statement_timeout = '{TIMEOUT}'")).execute(conn)?;
        let mut rows = walk(conn, tenant, me, filter, ts, after, limit, window)?;
        if rows.len() as i64 <= limit
            && let Some(edge) = window_edge(conn, tenant, me, filter, after, window)?
        {
            let wanted = limit + 1 - rows.len() as i64;
            rows.extend(indexed(conn, tenant, me, filter, ts, edge, wanted)?);
        }
        Ok(paged(rows, limit))
    })
}

#[allow(clippy::too_many_arguments)]
fn walk(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    ts: &str,
    after: Option<Cursor>,
    limit: i64,
    window: i64,
) -> QueryResult<Vec<ConversationRow>> {
    with_filters(
        Sql::new(&format!("{COLUMNS} FROM ({INNER}")),
        tenant,
        me,
        filter,
        after,
    )
    // The outer query keeps this order, so its LIMIT stops the walk at a page of matches.
    .bind_i64(
        " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ",
        window,
        &format!(") c {JOINS}"),
    )
    .bind_text(
        " WHERE (ct.search @@ to_tsquery('simple', ",
        ts.to_string(),
        ")",
    )
    .bind_text(
        " OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.search @@ to_tsquery('simple', ",
        ts.to_string(),
        ")",
    )
    .bind_i64(" AND m.tenant_id = ", tenant.0, "))")
    .bind_i64(
        " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ",
        limit + 1,
        "",
    )
    .query
    .load(conn)
}

/// The oldest conversation of the walk's window, if the window was full (older ones remain).
fn window_edge(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    after: Option<Cursor>,
    window: i64,
) -> QueryResult<Option<Cursor>> {
    #[derive(QueryableByName)]
    struct Edge {
        #[diesel(sql_type = Timestamptz)]
        last_message_at: chrono::DateTime<chrono::Utc>,
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let edge: Option<Edge> = with_filters(
        Sql::new("SELECT c.last_message_at, c.id FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE "),
        tenant,
        me,
        filter,
        after,
    )
    .bind_i64(
        " ORDER BY c.last_message_at DESC, c.id DESC OFFSET ",
        window - 1,
        " LIMIT 1",
    )
    .query
    .get_result(conn)
    .optional()?;
    Ok(edge.map(|e| Cursor {
        at: e.last_message_at,
        id: e.id,
    }))
}

/// Conversations older than `edge` matching `ts`, through the full-text indexes (tenant-scoped).
fn indexed(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    ts: &str,
    edge: Cursor,
    wanted: i64,
) -> QueryResult<Vec<ConversationRow>> {
    let q = with_filters(
        Sql::new(&format!("{COLUMNS} FROM conversations c {JOINS} WHERE ")),
        tenant,
        me,
        filter,
        Some(edge),
    );
    q.bind_text(
            " AND (c.contact_id IN (SELECT s.id FROM contacts s WHERE s.search @@ to_tsquery('simple', ",
            ts.to_string(),
            ")",
        )
        .bind_i64(" AND s.tenant_id = ", tenant.0, ")")
        .bind_text(
            " OR c.id IN (SELECT m.conversation_id FROM messages m WHERE m.search @@ to_tsquery('simple', ",
            ts.to_string(),
            ")",
        )
        .bind_i64(" AND m.tenant_id = ", tenant.0, "))")
        .bind_i64(
            " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ",
            wanted,
            "",
        )
        .query
        .load(conn)
}
