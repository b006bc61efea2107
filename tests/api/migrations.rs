//! Migrations: reversible, idempotent, and safe when several processes start at once.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::support::TestDb;

fn applied(conn: &mut PgConnection) -> i64 {
    diesel::sql_query("SELECT 1 FROM __diesel_schema_migrations")
        .execute(conn)
        .unwrap() as i64
}

#[test]
fn migrations_go_up_down_and_up_again_and_rerunning_is_a_no_op() {
    let db = TestDb::empty();
    let mut conn = db.connect();
    let first = parley::db::migrate(&mut conn).unwrap();
    assert!(first >= 2);
    assert_eq!(parley::db::migrate(&mut conn).unwrap(), 0, "idempotent");
    conn.revert_all_migrations(parley::db::MIGRATIONS).unwrap();
    assert_eq!(applied(&mut conn), 0);
    assert_eq!(parley::db::migrate(&mut conn).unwrap(), first);
}

#[test]
fn several_processes_migrating_one_database_at_once_all_succeed() {
    let db = TestDb::empty();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_parley"))
                .arg("migrate")
                .env("DATABASE_URL", &db.url)
                .env("RUST_LOG", "warn")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut conn = db.connect();
    assert_eq!(parley::db::migrate(&mut conn).unwrap(), 0);
    assert!(applied(&mut conn) >= 2);
}
