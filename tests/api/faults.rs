//! Faults under load: a `parley worker` process killed with SIGKILL in the middle of its work,
//! and PostgreSQL restarted while deliveries keep coming. Every delivery Parley acknowledged
//! ends as exactly one message: nothing lost, nothing doubled.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use parley::embedded_pg::{Durability, EmbeddedPostgres};
use parley::models::channels::Platform;
use secrecy::ExposeSecret;

use crate::support::{TEST_APP_ID, TEST_APP_SECRET, install_crypto_provider};

const PAGE: &str = "P1";

fn delivery(i: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"object":"page","entry":[{"id":PAGE,"time":1700000000000_i64,
        "messaging":[{"sender":{"id":format!("U{}", i % 40)},"recipient":{"id":PAGE},
          "timestamp":1700000000000_i64 + i as i64,"message":{"mid":format!("m_{i}"),"text":format!("message {i}")}}]}]}))
    .unwrap()
}

/// A `parley worker` process on `vars`' database.
fn worker(vars: &HashMap<&'static str, String>) -> Child {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .arg("worker")
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[derive(QueryableByName)]
struct Mid {
    #[diesel(sql_type = Text)]
    mid: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_and_a_database_restart_lose_nothing_and_double_nothing() {
    install_crypto_provider();
    let root =
        std::env::temp_dir().join(format!("parley-faults-{}", uuid::Uuid::new_v4().simple()));
    let mut pg = EmbeddedPostgres::start_with(&root.join("pg"), Durability::Throwaway).unwrap();
    let url = pg.database_url().expose_secret().to_string();
    let vars: HashMap<&'static str, String> = HashMap::from([
        ("DATABASE_URL", url.clone()),
        ("PARLEY_DATA_DIR", root.join("data").display().to_string()),
        ("PARLEY_SESSION_KEY", parley::crypto::random_hex(64)),
        ("PARLEY_ENCRYPTION_KEY", parley::crypto::random_hex(32)),
        ("META_APP_ID", TEST_APP_ID.into()),
        ("META_APP_SECRET", TEST_APP_SECRET.into()),
        // No Meta here: profile fetches fail fast and are retried later, which is fine.
        ("META_GRAPH_URL", "http://127.0.0.1:9".into()),
    ]);
    let config = parley::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    {
        let mut conn = parley::db::connect(&url).unwrap();
        parley::db::migrate(&mut conn).unwrap();
    }
    let pool = parley::db::build_pool(&url, 8).unwrap();
    let state = parley::state::AppState::new(pool, config).unwrap();
    let tenant = parley::db::run(&state.pool, |c| {
        Ok(parley::models::tenants::find_or_create(c, "Acme")?.id)
    })
    .await
    .unwrap();
    let cipher = state.cipher.clone();
    parley::db::run(&state.pool, move |c| {
        let sealed = parley::channels::seal_token(
            &cipher,
            tenant,
            Platform::Messenger,
            PAGE,
            &parley::meta::AccessToken::new("t"),
        )
        .unwrap();
        parley::channels::connect::store_channel(
            c,
            &parley::models::channels::NewChannel {
                tenant_id: tenant,
                platform: Platform::Messenger,
                platform_id: PAGE.into(),
                name: "Page".into(),
                username: None,
                picture_url: None,
                page_id: Some(PAGE.into()),
                waba_id: None,
                display_phone_number: None,
                token_ciphertext: Some(sealed.blob),
                token_key_id: Some(sealed.key_id),
                subscribed_fields: vec![],
                connected_by: None,
            },
        )
        .unwrap();
        Ok(())
    })
    .await
    .unwrap();
    // The web process receives; separate worker processes process.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let receiver = format!("http://{}/webhooks/meta", listener.local_addr().unwrap());
    let server = parley::web::server::build(state.clone(), listener).unwrap();
    let server_handle = server.handle();
    tokio::spawn(server);

    // Meta's side: deliveries one after another, each retried until it is acknowledged.
    let total = 600;
    let sender = {
        let receiver = receiver.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut acknowledged = HashSet::new();
            for i in 0..total {
                let body = delivery(i);
                let signature = parley::webhooks::verify::sign(TEST_APP_SECRET, &body);
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let res = http
                        .post(&receiver)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", &signature)
                        .body(body.clone())
                        .send()
                        .await;
                    if matches!(&res, Ok(r) if r.status() == 200) {
                        acknowledged.insert(format!("m_{i}"));
                        break;
                    }
                    assert!(Instant::now() < deadline, "delivery {i} never acknowledged");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            acknowledged
        })
    };

    let mut first = worker(&vars);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGKILL in the middle of its work: its open transaction rolls back.
    first.kill().unwrap();
    first.wait().unwrap();
    // The database goes down and comes back while deliveries keep arriving.
    pg.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pg = EmbeddedPostgres::start_with(&root.join("pg"), Durability::Throwaway).unwrap();
    let mut second = worker(&vars);
    let acknowledged = sender.await.unwrap();
    assert_eq!(acknowledged.len(), total);

    // Wait for the second worker to process everything.
    let mut conn = parley::db::connect(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stored: Vec<Mid> = diesel::sql_query(
            "SELECT platform_message_id AS mid, count(*) AS n FROM messages GROUP BY 1",
        )
        .load(&mut conn)
        .unwrap();
        if stored.len() >= total || Instant::now() > deadline {
            let doubled: Vec<_> = stored.iter().filter(|m| m.n > 1).map(|m| &m.mid).collect();
            assert!(doubled.is_empty(), "doubled: {doubled:?}");
            let kept: HashSet<String> = stored.into_iter().map(|m| m.mid).collect();
            let lost: Vec<_> = acknowledged.difference(&kept).collect();
            assert!(
                lost.is_empty(),
                "acknowledged but lost: {} of them",
                lost.len()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    server_handle.stop(false).await;
    drop(conn);
    drop(state);
    drop(pg);
    let _ = std::fs::remove_dir_all(&root);
}
