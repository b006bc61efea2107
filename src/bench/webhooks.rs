//! `parley bench webhooks`: signed webhook deliveries over loopback with concurrency, on a fresh
//! private PostgreSQL with durable commits. Reports accepted events/s, acknowledgement latency
//! and webhook-to-stored-message latency, beside two ceilings measured in the same run:
//! pgbench single-row INSERT commits/s on the same server, and a bare actix-web handler's
//! requests/s through the same load generator.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::ExposeSecret;

use crate::bench::ceilings;
use crate::bench::load::{self, Request};
use crate::bench::percentile;
use crate::bench::webhooks_report::print_statements;
use crate::embedded_pg::{Durability, EmbeddedPostgres};

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookBenchArgs {
    /// Seconds of load for each measurement.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent connections of the load generator (and pgbench clients).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Webhook processor loops of the Parley process under test (as `PARLEY_WEBHOOK_PROCESSORS`).
    #[arg(long, default_value_t = crate::config::DEFAULT_WEBHOOK_PROCESSORS)]
    pub workers: usize,
    /// Start the processors only when the load ends: measures ingest alone, then processing
    /// alone (the drain), instead of both sharing the machine.
    #[arg(long)]
    pub process_after_load: bool,
    /// Also print end-to-end latency per second of the run.
    #[arg(long)]
    pub timeline: bool,
    /// Also print where the database's time went during the Parley phase, by statement
    /// (`pg_stat_statements`, which ships with PostgreSQL).
    #[arg(long)]
    pub statements: bool,
    /// Every event from a new customer (a new contact and conversation each, as after a viral
    /// ad), instead of 5,000 customers writing again and again.
    #[arg(long)]
    pub new_customers: bool,
    /// Also time the inbox list and the newest conversation's page, 10 times a second, while
    /// the burst is being received and processed.
    #[arg(long)]
    pub pages: bool,
}

const SECRET: &str = "bench-app-secret";
const PAGE: &str = "900000000000001";

/// The measured figures.
#[derive(Debug)]
pub struct Report {
    /// pgbench before the Parley phase and after it: the machine's speed drifts, and the
    /// ratio uses their mean.
    pub pgbench_tps: (f64, f64),
    pub bare_rps: f64,
    pub accepted_per_sec: f64,
    pub failed: usize,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub e2e_p50_ms: f64,
    pub e2e_p99_ms: f64,
    pub events: usize,
    pub processed_within_s: f64,
    /// Inbox list and conversation page p50/p95 (ms) during the burst, with `--pages`.
    pub pages: Option<PageTimes>,
}

/// Server times of the inbox pages while a burst is processed.
#[derive(Debug)]
pub struct PageTimes {
    pub samples: usize,
    pub list_p50_ms: f64,
    pub list_p95_ms: f64,
    pub conversation_p50_ms: f64,
    pub conversation_p95_ms: f64,
}

fn body(i: usize, new_customers: bool) -> Vec<u8> {
    let ts = Utc::now().timestamp_millis();
    let sender = if new_customers {
        8_000_000_000 + i
    } else {
        7_000_000 + i % 5000
    };
    format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":{ts},"messaging":[{{"sender":{{"id":"{sender}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{ts},"message":{{"mid":"m_bench_{i}","text":"Hello, is my order {i} on its way?"}}}}]}}]}}"#
    )
    .into_bytes()
}

/// Times the inbox list and the newest conversation's page every 100 ms until `stop`.
async fn sample_pages(
    base: String,
    url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let client = crate::bench::inbox::sign_in(&base, "agent@bench.test").await?;
    let (mut list, mut conversation) = (Vec::new(), Vec::new());
    let mut conn = crate::db::connect(&url).map_err(|e| e.to_string())?;
    while !*stop.borrow() {
        let newest: Option<i64> = crate::db::schema::conversations::table
            .select(crate::db::schema::conversations::id)
            .order(crate::db::schema::conversations::id.desc())
            .first(&mut conn)
            .optional()
            .map_err(|e| e.to_string())?;
        let time = async |path: String| -> Result<f64, String> {
            let t = std::time::Instant::now();
            let res = client
                .get(format!("{base}{path}"))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let ok = res.status().is_success();
            let _ = res.bytes().await;
            if !ok {
                return Err(format!("{path} failed during the burst"));
            }
            Ok(t.elapsed().as_secs_f64() * 1000.0)
        };
        list.push(time("/inbox?status=all".into()).await?);
        if let Some(id) = newest {
            conversation.push(time(format!("/inbox/{id}?status=all")).await?);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = stop.changed() => {}
        }
    }
    Ok((list, conversation))
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    mid: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: DateTime<Utc>,
}

/// Runs the whole benchmark and prints the report.
pub async fn run(args: WebhookBenchArgs) -> Result<Report, String> {
    let dir = std::env::temp_dir().join(format!("parley-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(args: &WebhookBenchArgs, dir: &Path) -> Result<Report, String> {
    println!("starting a private PostgreSQL with durable commits (fsync, synchronous_commit on)…");
    let pg = if args.statements {
        EmbeddedPostgres::start_profiled(&dir.join("pg"))
    } else {
        EmbeddedPostgres::start_with(&dir.join("pg"), Durability::Durable)
    }
    .map_err(|e| e.to_string())?;
    let url = pg.database_url().expose_secret().to_string();

    println!(
        "ceiling 1: pgbench, single-row INSERT commits, {} clients, {} s…",
        args.concurrency, args.seconds
    );
    let pgbench_before = ceilings::pgbench(&pg, dir, args.concurrency, args.seconds)?;

    let count = (args.seconds as usize + 5) * 20_000;
    let secret = SECRET;
    let requests: Arc<Vec<Request>> = Arc::new(
        (0..count)
            .map(|i| {
                let b = body(i, args.new_customers);
                let sig = crate::webhooks::verify::sign(secret, &b);
                Request {
                    body: b,
                    headers: vec![
                        ("content-type", "application/json".into()),
                        ("x-hub-signature-256", sig),
                    ],
                }
            })
            .collect(),
    );
    println!("ceiling 2: bare actix-web handler through the same load generator…");
    let bare_rps = ceilings::bare_actix(requests.clone(), args.concurrency, args.seconds).await?;

    println!(
        "Parley: /webhooks/meta with {} connections for {} s, processing concurrently…",
        args.concurrency, args.seconds
    );
    let mut conn = crate::db::connect(&url).map_err(|e| e.to_string())?;
    crate::db::migrate(&mut conn).map_err(|e| e.to_string())?;
    if args.statements {
        // Only the Parley phase is counted.
        diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&mut conn)
            .and_then(|_| diesel::sql_query("SELECT pg_stat_statements_reset()").execute(&mut conn))
            .map_err(|e| e.to_string())?;
    }
    let state = super::setup::state(&url, dir, SECRET, None, 24)?;
    let tenant =
        crate::models::tenants::find_or_create(&mut conn, "Bench").map_err(|e| e.to_string())?;
    super::setup::channel(
        &mut conn,
        &state,
        tenant.id,
        crate::models::channels::Platform::Messenger,
        PAGE,
        "bench",
    )?;
    if args.pages {
        super::setup::user(
            &mut conn,
            tenant.id,
            "agent@bench.test",
            crate::auth::roles::Role::Agent,
        )?;
    }
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = crate::web::server::build(state.clone(), listener).map_err(|e| e.to_string())?;
    let handle = server.handle();
    tokio::spawn(server);
    let (stop_sampling, sampling_stopped) = tokio::sync::watch::channel(false);
    let sampler = args.pages.then(|| {
        tokio::spawn(sample_pages(
            format!("http://{addr}"),
            url.clone(),
            sampling_stopped,
        ))
    });
    // Only webhook processing: no profile fetches (there is no Meta here).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let start_processors = || -> Vec<_> {
        (0..args.workers)
            .map(|n| {
                tokio::spawn(crate::webhooks::processor::run(
                    state.clone(),
                    format!("bench-{n}"),
                    stopped.clone(),
                ))
            })
            .collect()
    };
    let mut processors = if args.process_after_load {
        Vec::new()
    } else {
        start_processors()
    };

    let r = load::run(
        &format!("http://{addr}/webhooks/meta"),
        requests,
        args.concurrency,
        Duration::from_secs(args.seconds),
    )
    .await;
    let load_end = Utc::now();
    if args.process_after_load {
        processors = start_processors();
    }
    // Wait for processing to catch up (bounded).
    let mut processed_within_s = 0.0;
    for _ in 0..1200 {
        let pending: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM webhook_events WHERE state = 'received') + (SELECT count(*) FROM webhook_items WHERE state IN ('pending','failed'))",
        ))
        .get_result(&mut conn)
        .map_err(|e| e.to_string())?;
        if pending == 0 {
            processed_within_s = (Utc::now() - load_end).num_milliseconds() as f64 / 1000.0;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_sampling.send(true);
    let pages = match sampler {
        Some(task) => {
            let (mut list, mut conversation) = task.await.map_err(|e| e.to_string())??;
            list.sort_by(f64::total_cmp);
            conversation.sort_by(f64::total_cmp);
            Some(PageTimes {
                samples: list.len(),
                list_p50_ms: percentile(&list, 50.0),
                list_p95_ms: percentile(&list, 95.0),
                conversation_p50_ms: percentile(&conversation, 50.0),
                conversation_p95_ms: percentile(&conversation, 95.0),
            })
        }
        None => None,
    };
    let _ = stop.send(true);
    for p in processors {
        let _ = p.await;
    }
    handle.stop(true).await;

    let stored: Vec<Stored> =
        diesel::sql_query("SELECT platform_message_id AS mid, created_at FROM messages")
            .load(&mut conn)
            .map_err(|e| e.to_string())?;
    let sent: HashMap<String, std::time::SystemTime> = r
        .sent_at
        .iter()
        .map(|(i, t)| (format!("m_bench_{i}"), *t))
        .collect();
    let pairs: Vec<(DateTime<Utc>, f64)> = stored
        .iter()
        .filter_map(|s| {
            let t0: DateTime<Utc> = (*sent.get(&s.mid)?).into();
            Some((t0, (s.created_at - t0).num_microseconds()? as f64 / 1000.0))
        })
        .collect();
    if args.timeline {
        let start = pairs.iter().map(|p| p.0).min().unwrap_or_else(Utc::now);
        let mut by_second: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
        for (t0, ms) in &pairs {
            by_second
                .entry((*t0 - start).num_seconds())
                .or_default()
                .push(*ms);
        }
        for (second, mut v) in by_second {
            v.sort_by(f64::total_cmp);
            println!(
                "second {second}: {} sent, e2e p50 {:.0} ms p99 {:.0} ms",
                v.len(),
                percentile(&v, 50.0),
                percentile(&v, 99.0)
            );
        }
    }
    let mut e2e: Vec<f64> = pairs.into_iter().map(|p| p.1).collect();
    e2e.sort_by(f64::total_cmp);
    if args.statements {
        print_statements(&mut conn)?;
    }
    println!("ceiling 1 again: pgbench after the Parley phase…");
    let pgbench_after = ceilings::pgbench(&pg, dir, args.concurrency, args.seconds)?;
    drop(conn);
    drop(pg);
    Ok(Report {
        pgbench_tps: (pgbench_before, pgbench_after),
        bare_rps,
        accepted_per_sec: r.per_second(),
        failed: r.failed,
        ack_p50_ms: percentile(&r.latencies_ms, 50.0),
        ack_p99_ms: percentile(&r.latencies_ms, 99.0),
        e2e_p50_ms: percentile(&e2e, 50.0),
        e2e_p99_ms: percentile(&e2e, 99.0),
        events: stored.len(),
        processed_within_s,
        pages,
    })
}
