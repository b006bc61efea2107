//! A burst of new customers must not leave the inbox's tables with statistics from when they
//! were small: the processors analyze them as they grow (the figures are in
//! docs/PERFORMANCE.md, from `parley bench webhooks --new-customers --pages`).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamptz};

use crate::support::TestDb;

#[derive(QueryableByName)]
struct Stats {
    #[diesel(sql_type = BigInt)]
    modified: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    analyzed: Option<chrono::DateTime<chrono::Utc>>,
}

fn contacts_stats(conn: &mut PgConnection) -> Stats {
    diesel::sql_query(
        "SELECT n_mod_since_analyze AS modified, last_analyze AS analyzed
           FROM pg_stat_user_tables WHERE relname = 'contacts'",
    )
    .get_result(conn)
    .unwrap()
}

#[test]
fn tables_a_burst_grew_are_analyzed_without_waiting_for_autovacuum() {
    let db = TestDb::new();
    let mut conn = db.connect();
    diesel::sql_query(
        "INSERT INTO tenants (name) VALUES ('Acme');
         ",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO channels (tenant_id, platform, platform_id, name, status)
         SELECT id, 'messenger', 'P1', 'Page', 'connected' FROM tenants",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO contacts (tenant_id, channel_id, platform_user_id)
         SELECT c.tenant_id, c.id, 'u' || g FROM channels c, generate_series(1, 5000) g",
    )
    .execute(&mut conn)
    .unwrap();
    // The statistics collector hears of the insert within a second or so.
    let mut waited = 0;
    while contacts_stats(&mut conn).modified < 5000 && waited < 50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    assert!(contacts_stats(&mut conn).analyzed.is_none());
    let analyzed = parley::models::table_stats::analyze_if_stale(&mut conn).unwrap();
    assert!(analyzed.contains(&"contacts".to_string()), "{analyzed:?}");
    assert!(contacts_stats(&mut conn).analyzed.is_some());
    // Fresh statistics are left alone.
    let again = parley::models::table_stats::analyze_if_stale(&mut conn).unwrap();
    assert!(!again.contains(&"contacts".to_string()), "{again:?}");
}
