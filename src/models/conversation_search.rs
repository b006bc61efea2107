//! Searching the conversation list, at a cost bounded by the page it returns rather than by how
//! many messages match: a word in almost every message (a shop's "order") must be as quick as a
//! rare one.
//!
//! 0. **Rare or common?** The planner's estimate of the matching messages (from the full-text
//!    index's statistics, a fraction of a millisecond) decides. Up to [`INDEXED_MAX`] matches,
//!    the full-text indexes answer directly, scoped to the tenant: they return few rows.
//! 1. **The walk.** For a common word, the newest [`WINDOW`] conversations that pass the filters
//!    are checked one by one, newest first (contact name, then the conversation's messages),
//!    stopping at a page of matches. A common word fills the page within the first few dozen.
//! 2. **The fallback.** When the window holds fewer matches than a page, the older conversations
//!    are searched through the indexes after all.
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

/// Estimated matching messages up to which the full-text indexes answer directly.
pub const INDEXED_MAX: f64 = 20_000.0;

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
    page_with(
        conn,
        tenant,
        me,
        filter,
        ts,
        after,
        limit,
        Strategy::default(),
    )
}

/// How a search chooses its way (tests force each one).
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Conversations the walk checks before falling back to the indexes.
    pub window: i64,
    /// Estimated matches up to which the indexes answer directly.
    pub indexed_max: f64,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            window: WINDOW,
            indexed_max: INDEXED_MAX,
        }
    }
}

/// [`page`] with another [`Strategy`].
#[allow(clippy::too_many_arguments)]
pub fn page_with(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    ts: &str,
    after: Option<Cursor>,
    limit: i64,
    strategy: Strategy,
) -> QueryResult<Page> {
    let window = strategy.window;
    conn.transaction(|conn| {
        diesel::sql_query(format!("SET LOCAL statement_timeout = '{TIMEOUT}'")).execute(conn)?;
        if estimated_matches(conn, ts)? <= strategy.indexed_max {
            let after = after.unwrap_or(Cursor {
                at: chrono::DateTime::<chrono::Utc>::MAX_UTC,
                id: i64::MAX,
            });
            let rows = indexed(conn, tenant, me, filter, ts, after, limit + 1)?;
            return Ok(paged(rows, limit));
        }
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

/// An estimate of the messages (of all tenants) matching `ts`, from the statistics of the
/// search column: the frequency of its rarest word (a prefix counts every frequent word it
/// starts) times the table's rows. The planner's own estimate is a fixed guess for prefixes.
fn estimated_matches(conn: &mut PgConnection, ts: &str) -> QueryResult<f64> {
    // No statistics yet: a small table, where any way is quick.
    let Some(stats) = crate::models::table_stats::search_words(conn)? else {
        return Ok(0.0);
    };
    Ok(rarest_word_share(ts, &stats.words, &stats.freqs) * stats.rows)
}

/// The share of rows containing the rarest word of `ts`: for each word, the frequencies of the
/// common elements it matches (exactly, or as a prefix). A word the statistics do not keep is
/// rarer than every kept one: half the smallest kept frequency, and at most 0.2% (with few
/// words kept, the smallest may still be high).
fn rarest_word_share(ts: &str, elems: &[String], freqs: &[f32]) -> f64 {
    let floor = (freqs.get(elems.len()).copied().unwrap_or(0.0001) / 2.0).min(0.002);
    ts.split(" & ")
        .map(|word| {
            let prefix = word.ends_with(":*");
            let word = word.trim_end_matches(":*").trim_matches('\'');
            let share: f32 = elems
                .iter()
                .zip(freqs)
                .filter(|(e, _)| {
                    if prefix {
                        e.starts_with(word)
                    } else {
                        *e == word
                    }
                })
                .map(|(_, f)| *f)
                .sum();
            f64::from(if share > 0.0 { share.min(1.0) } else { floor })
        })
        .fold(1.0, f64::min)
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

#[cfg(test)]
mod tests {
    use super::rarest_word_share;

    #[test]
    fn prefixes_count_every_frequent_word_they_start() {
        let elems = [
            "about".to_string(),
            "order".into(),
            "orders".into(),
            "refund".into(),
        ];
        // Element frequencies, then the minimum, maximum and null fraction.
        let freqs = [0.9, 0.5, 0.1, 0.001, 0.001, 0.9, 0.0];
        let share = |ts| rarest_word_share(ts, &elems, &freqs);
        assert!((share("'ord':*") - 0.6).abs() < 1e-6);
        assert!((share("'order'") - 0.5).abs() < 1e-6);
        assert!((share("'refund':*") - 0.001).abs() < 1e-6);
        assert!(
            (share("'order':* & 'refund':*") - 0.001).abs() < 1e-6,
            "the rarest word"
        );
        assert!(
            share("'zebra':*") < 0.001,
            "an unknown word is rarer than any kept one"
        );
    }
}
