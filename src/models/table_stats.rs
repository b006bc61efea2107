//! Planner statistics that keep up with bursts. After tens of thousands of new customers write
//! in, the tables they grew have statistics from when they were small, and the inbox's plans go
//! wrong (hundreds of milliseconds a page) until autovacuum analyzes them, up to a minute later.
//! The webhook processors call [`analyze_if_stale`] every few seconds while they have work.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};

/// The tables a burst of webhooks grows.
const HOT_TABLES: [&str; 4] = ["contacts", "conversations", "messages", "webhook_items"];

/// Advisory lock key: one process analyzes at a time; the others skip.
const LOCK_KEY: i64 = 0x0070_6172_6c65_790a;

/// Analyzes each hot table whose rows changed by more than a fifth (and at least 500) since its
/// last analyze; returns their names. Raw SQL: `pg_stat_user_tables` and `ANALYZE` are not in
/// diesel's schema or query builder.
pub fn analyze_if_stale(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Stale {
        #[diesel(sql_type = Text)]
        relname: String,
    }
    conn.transaction(|conn| {
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = Bool)]
            locked: bool,
        }
        let locked: Locked = diesel::sql_query(format!(
            "SELECT pg_try_advisory_xact_lock({LOCK_KEY}) AS locked"
        ))
        .get_result(conn)?;
        if !locked.locked {
            return Ok(Vec::new());
        }
        let stale: Vec<Stale> = diesel::sql_query(
            "SELECT relname::text AS relname FROM pg_stat_user_tables
              WHERE schemaname = current_schema() AND relname = ANY($1)
                AND n_mod_since_analyze > greatest(500, 0.2 * n_live_tup)",
        )
        .bind::<Array<Text>, _>(HOT_TABLES.to_vec())
        .load(conn)?;
        let mut analyzed = Vec::new();
        for table in HOT_TABLES {
            if stale.iter().any(|s| s.relname == table) {
                // The name comes from HOT_TABLES, never from input.
                diesel::sql_query(format!("ANALYZE {table}")).execute(conn)?;
                analyzed.push(table.to_string());
            }
        }
        Ok(analyzed)
    })
}

/// The most frequent words of `messages.search` as the planner's statistics keep them.
pub struct SearchWords {
    pub words: Vec<String>,
    /// The words' frequencies, then the smallest, largest and null-row ones (PostgreSQL's
    /// `most_common_elem_freqs` layout).
    pub freqs: Vec<f32>,
    /// Rows of `messages` the statistics were taken over.
    pub rows: f64,
}

/// The search column's word statistics, if the table has been analyzed. Raw SQL: `pg_stats`.
pub fn search_words(conn: &mut PgConnection) -> QueryResult<Option<SearchWords>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Array<Text>)]
        elems: Vec<String>,
        #[diesel(sql_type = Array<diesel::sql_types::Float4>)]
        freqs: Vec<f32>,
        #[diesel(sql_type = diesel::sql_types::Float4)]
        rows: f32,
    }
    let row: Option<Row> = diesel::sql_query(
        "SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs,
                c.reltuples AS rows
           FROM pg_stats s
           JOIN pg_class c ON c.relname = s.tablename
            AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = s.schemaname)
          WHERE s.schemaname = current_schema() AND s.tablename = 'messages'
            AND s.attname = 'search' AND s.most_common_elems IS NOT NULL",
    )
    .get_result(conn)
    .optional()?;
    Ok(row.map(|r| SearchWords {
        words: r.elems,
        freqs: r.freqs,
        rows: f64::from(r.rows.max(0.0)),
    }))
}

/// Time the server spent on one statement shape (`pg_stat_statements`, summed over variants).
#[derive(Debug, QueryableByName)]
pub struct StatementStats {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub calls: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub rows: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub exec_ms: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub wal_mb: f64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub statement: String,
}

/// The `limit` statements that took most of the server's time (benchmarks run with
/// `pg_stat_statements` loaded). Raw SQL: an extension's view, grouped on a computed column.
pub fn top_statements(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<StatementStats>> {
    diesel::sql_query(
        "SELECT sum(calls)::bigint AS calls, sum(rows)::bigint AS rows,
                sum(total_exec_time)::float8 AS exec_ms, (sum(wal_bytes) / 1e6)::float8 AS wal_mb,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS statement
           FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
          GROUP BY 5 ORDER BY 3 DESC LIMIT $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
}
