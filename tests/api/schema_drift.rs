//! `src/db/schema.rs` is `diesel print-schema` output: this test fails when a migration changes
//! a table and the file is not regenerated (`make schema`), comparing every table, column (in
//! order), type, nullability and primary key with the migrated database.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::support::TestDb;

/// One table as the file or the database describes it.
#[derive(Debug, PartialEq, Eq)]
struct Table {
    primary_key: Vec<String>,
    /// `(name, diesel type)` in column order, e.g. `("ended_at", "Nullable<Timestamptz>")`.
    columns: Vec<(String, String)>,
}

/// Reads the `diesel::table!` blocks of schema.rs.
fn tables_in_file(text: &str) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    let mut current: Option<(String, Table)> = None;
    for line in text.lines().map(str::trim) {
        if let Some((name, table)) = current.as_mut() {
            if line == "}" {
                let (name, table) = current.take().unwrap();
                tables.insert(name, table);
            } else if let Some((column, ty)) = line.split_once(" -> ") {
                let ty = ty.trim_end_matches(',').to_string();
                table
                    .columns
                    .push((column.trim_start_matches("r#").to_string(), ty));
            } else {
                assert!(
                    line.is_empty() || line.starts_with("use ") || line.starts_with("#["),
                    "unexpected line in table {name}: {line}"
                );
            }
            continue;
        }
        // `name (pk, ...) {` opens a table inside `diesel::table! {`.
        if let Some(head) = line.strip_suffix(" {")
            && let Some((name, keys)) = head.split_once(" (")
            && !name.contains(' ')
        {
            let primary_key = keys
                .trim_end_matches(')')
                .split(", ")
                .map(str::to_string)
                .collect();
            current = Some((
                name.to_string(),
                Table {
                    primary_key,
                    columns: Vec::new(),
                },
            ));
        }
    }
    tables
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Integer)]
    position: i32,
}

/// The diesel type print-schema writes for a PostgreSQL type.
fn diesel_type(udt: &str) -> String {
    if let Some(element) = udt.strip_prefix('_') {
        return format!("Array<Nullable<{}>>", diesel_type(element));
    }
    let mut chars = udt.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn tables_in_database(conn: &mut PgConnection) -> BTreeMap<String, Table> {
    let columns: Vec<ColumnRow> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'
          ORDER BY table_name, ordinal_position",
    )
    .load(conn)
    .unwrap();
    let keys: Vec<KeyRow> = diesel::sql_query(
        "SELECT k.table_name::text, k.column_name::text, k.ordinal_position::int AS position
           FROM information_schema.table_constraints c
           JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
          WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()
          ORDER BY k.table_name, position",
    )
    .load(conn)
    .unwrap();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for c in columns {
        let ty = diesel_type(&c.udt_name);
        let ty = if c.is_nullable == "YES" {
            format!("Nullable<{ty}>")
        } else {
            ty
        };
        tables
            .entry(c.table_name)
            .or_insert_with(|| Table {
                primary_key: Vec::new(),
                columns: Vec::new(),
            })
            .columns
            .push((c.column_name, ty));
    }
    for k in keys {
        let _ = k.position;
        if let Some(t) = tables.get_mut(&k.table_name) {
            t.primary_key.push(k.column_name);
        }
    }
    tables
}

#[test]
fn schema_rs_matches_the_migrated_database() {
    let db = TestDb::empty();
    let mut conn = db.connect();
    parley::db::migrate(&mut conn).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs");
    let file = tables_in_file(&std::fs::read_to_string(path).unwrap());
    let database = tables_in_database(&mut conn);
    let names = |m: &BTreeMap<String, Table>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&file),
        names(&database),
        "schema.rs and the migrations disagree on the tables: run `make schema`"
    );
    for (name, table) in &database {
        assert_eq!(
            &file[name], table,
            "table {name} drifted from the migrations: run `make schema`"
        );
    }
}

#[test]
fn the_schema_reader_sees_tables_keys_and_nullable_columns() {
    let text = "diesel::table! {\n    use diesel::sql_types::*;\n\n    a (x, y) {\n        x -> Int8,\n        y -> Nullable<Text>,\n    }\n}\n";
    let tables = tables_in_file(text);
    assert_eq!(
        tables["a"],
        Table {
            primary_key: vec!["x".into(), "y".into()],
            columns: vec![
                ("x".into(), "Int8".into()),
                ("y".into(), "Nullable<Text>".into())
            ],
        }
    );
}

/// The values a CHECK constraint on `table.column` allows (`column IN ('a', 'b')`).
fn allowed_values(conn: &mut PgConnection, table: &str, column: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Def {
        #[diesel(sql_type = Text)]
        def: String,
    }
    let defs: Vec<Def> = diesel::sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
          WHERE c.conrelid = $1::regclass AND c.contype = 'c'",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .unwrap();
    let def = defs
        .into_iter()
        .map(|d| d.def)
        .find(|d| d.contains(&format!("({column} ")) || d.contains(&format!("({column})")))
        .unwrap_or_else(|| panic!("no CHECK on {table}.{column}"));
    let mut values: Vec<String> = def
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    values.sort();
    values
}

#[test]
fn state_enums_name_exactly_what_the_check_constraints_allow() {
    use parley::db::statuses::{
        ActionState, BulkAction, ConversationStatus, DeliveryState, ItemState, JobState,
        MessageStatus, ModerationAction, RuleAction, RunState,
    };
    fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
        let mut v: Vec<String> = all.iter().map(|s| as_str(*s).to_string()).collect();
        v.sort();
        v
    }
    let db = TestDb::empty();
    let mut conn = db.connect();
    parley::db::migrate(&mut conn).unwrap();
    let cases = [
        (
            "conversations",
            "status",
            names(ConversationStatus::ALL, ConversationStatus::as_str),
        ),
        (
            "messages",
            "status",
            names(MessageStatus::ALL, MessageStatus::as_str),
        ),
        (
            "webhook_events",
            "state",
            names(DeliveryState::ALL, DeliveryState::as_str),
        ),
        (
            "webhook_items",
            "state",
            names(ItemState::ALL, ItemState::as_str),
        ),
        ("jobs", "state", names(JobState::ALL, JobState::as_str)),
        (
            "comment_actions",
            "action",
            names(ModerationAction::ALL, ModerationAction::as_str),
        ),
        (
            "comment_actions",
            "state",
            names(ActionState::ALL, ActionState::as_str),
        ),
        (
            "comment_syncs",
            "state",
            names(RunState::ALL, RunState::as_str),
        ),
        (
            "comment_bulk_runs",
            "state",
            names(RunState::ALL, RunState::as_str),
        ),
        (
            "insight_backfills",
            "state",
            names(RunState::ALL, RunState::as_str),
        ),
        (
            "comment_bulk_runs",
            "action",
            names(BulkAction::ALL, BulkAction::as_str),
        ),
        (
            "moderation_rules",
            "action",
            names(RuleAction::ALL, RuleAction::as_str),
        ),
    ];
    for (table, column, expected) in cases {
        assert_eq!(
            allowed_values(&mut conn, table, column),
            expected,
            "{table}.{column}: the enum and the migration disagree"
        );
    }
}
