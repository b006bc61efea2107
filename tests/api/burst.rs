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

#[tokio::test]
async fn one_sweep_per_tenant_fetches_every_new_contacts_profile() {
    let app = crate::support::TestApp::spawn().await;
    let (tenant, _) = app
        .create_user(
            "Acme",
            "ann@acme.test",
            parley::auth::Role::Admin,
            "long enough pw",
        )
        .await;
    // A Page that lost its connection: profiles fall back to readable names without Meta.
    let page = app
        .connect_channel(
            tenant,
            parley::models::channels::Platform::Messenger,
            "P1",
            None,
        )
        .await;
    let mut body =
        serde_json::json!({"object":"page","entry":[{"id":"P1","time":1,"messaging":[]}]});
    for i in 0..45 {
        body["entry"][0]["messaging"].as_array_mut().unwrap().push(
            serde_json::json!({"sender":{"id":format!("U{i}")},"recipient":{"id":"P1"},
                "timestamp":1700000000000_i64 + i,"message":{"mid":format!("m{i}"),"text":"hi"}}),
        );
    }
    app.post_webhook(&serde_json::to_vec(&body).unwrap()).await;
    app.process_webhooks().await;
    let ch = page.id;
    app.query(move |c| {
        parley::models::channels::disconnect(c, tenant, ch, "test", false).unwrap();
    })
    .await;
    let jobs = app
        .query(|c| {
            parley::jobs::queue::list(c, None, None, 100)
                .unwrap()
                .into_iter()
                .filter(|j| j.kind == "fetch_profile")
                .count()
        })
        .await;
    assert_eq!(jobs, 1, "one job for 45 new contacts");
    // The first run fetches a batch and asks to come back; the second finishes.
    let first = app.run_queued_jobs("fetch_profile").await;
    assert!(
        matches!(first.as_slice(), [Err(e)] if e.contains("more profiles")),
        "{first:?}"
    );
    let due = async || {
        app.query(move |c| {
            parley::models::contacts::due_for_profile(c, tenant, 100)
                .unwrap()
                .len()
        })
        .await
    };
    assert_eq!(due().await, 5);
    let second = app.run_queued_jobs("fetch_profile").await;
    assert!(second.iter().all(Result::is_ok), "{second:?}");
    assert_eq!(due().await, 0);
    let named: i64 = app
        .query(|c| {
            use diesel::dsl::count_star;
            parley::db::schema::contacts::table
                .filter(parley::db::schema::contacts::name.like("Messenger user …%"))
                .select(count_star())
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(named, 45);
}
