//! PostgreSQL's LISTEN/NOTIFY, which carries live events between Parley processes.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

/// Sends each payload on `channel`, delivered to listeners when the caller's transaction
/// commits. Raw SQL: `pg_notify` called over an array.
pub fn notify(conn: &mut PgConnection, channel: &str, payloads: &[String]) -> QueryResult<()> {
    if payloads.is_empty() {
        return Ok(());
    }
    diesel::sql_query("SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n")
        .bind::<Text, _>(channel)
        .bind::<Array<Text>, _>(payloads)
        .execute(conn)
        .map(|_| ())
}

/// Starts listening on `channel` (a fixed identifier, never user input). Raw SQL: a utility
/// statement, which takes no bind parameters.
pub fn listen(conn: &mut PgConnection, channel: &'static str) -> QueryResult<()> {
    diesel::sql_query(format!("LISTEN {channel}"))
        .execute(conn)
        .map(|_| ())
}

/// Stops listening on `channel`.
pub fn unlisten(conn: &mut PgConnection, channel: &'static str) -> QueryResult<()> {
    diesel::sql_query(format!("UNLISTEN {channel}"))
        .execute(conn)
        .map(|_| ())
}
