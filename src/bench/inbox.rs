//! `parley bench inbox`: server time of the inbox list, a filtered list, a search and a
//! conversation view for a large tenant and for one with 10x fewer rows, in the same database,
//! through real HTTP (signed in, rendered pages).

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;

use crate::db::ids::TenantId;
use crate::models::channels::Platform;

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct InboxBenchArgs {
    /// Conversations of the large tenant (the small one has a tenth).
    #[arg(long, default_value_t = 100_000)]
    pub conversations: i64,
    /// Messages of the large tenant (the small one has a tenth).
    #[arg(long, default_value_t = 2_000_000)]
    pub messages: i64,
    /// Requests per measured page.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

/// p50/p95 in milliseconds of one page for one tenant.
#[derive(Debug, Clone)]
pub struct Figure {
    pub page: &'static str,
    pub rows: String,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// The password of the benchmarks' users.
pub(crate) const PASSWORD: &str = "bench-password-1";

/// Seeds and measures; prints a Markdown table.
pub async fn run(args: InboxBenchArgs) -> Result<Vec<Figure>, String> {
    let dir = std::env::temp_dir().join(format!("parley-inbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn seed(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channels: &[i64],
    conversations: i64,
    messages: i64,
) -> Result<(), String> {
    let per = (messages / conversations.max(1)).max(1);
    let t = tenant.0;
    let ch = format!(
        "ARRAY[{}]::bigint[]",
        channels
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let statements = [
        format!(
            "INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name, profile_fetched_at)
             SELECT {t}, ({ch})[1 + g % 3], 'u{t}_' || g, 'Customer ' || g, now()
               FROM generate_series(1, {conversations}) g"
        ),
        format!(
            "INSERT INTO conversations (tenant_id, channel_id, contact_id, status, last_message_at, last_inbound_at,
                                        last_message_preview, unread_count)
             SELECT tenant_id, channel_id, id, (ARRAY['open','open','pending','resolved','snoozed'])[1 + id % 5],
                    now() - (id % 100000) * interval '5 minutes', now() - (id % 100000) * interval '5 minutes',
                    'About my order ' || id, CASE WHEN id % 7 = 0 THEN 2 ELSE 0 END
               FROM contacts WHERE tenant_id = {t}"
        ),
        format!(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, platform_message_id, sent_at,
                                   kind, text, status)
             SELECT v.tenant_id, v.id, v.channel_id, CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                    'b{t}_' || v.id || '_' || g, v.last_message_at - g * interval '1 hour', 'text',
                    'Hello, about order ' || ((v.id * 31 + g) % 100000) ||
                      CASE WHEN (v.id + g) % 997 = 0 THEN ' I would like a refund' ELSE ' thanks a lot' END,
                    CASE WHEN g % 2 = 0 THEN 'received' ELSE 'read' END
               FROM conversations v, generate_series(1, {per}) g WHERE v.tenant_id = {t}"
        ),
    ];
    super::setup::execute_all(conn, &statements)
}

async fn run_in(args: &InboxBenchArgs, dir: &Path) -> Result<Vec<Figure>, String> {
    // Kept until the end: dropping it stops the database.
    let (_pg, url, mut conn) = super::setup::database(dir)?;
    let state = super::setup::state(&url, dir, "bench", None, 8)?;

    let sizes = [
        ("large", args.conversations, args.messages),
        ("small", args.conversations / 10, args.messages / 10),
    ];
    let mut tenants = Vec::new();
    for (name, convs, msgs) in sizes {
        let tenant = crate::models::tenants::find_or_create(&mut conn, &format!("Bench {name}"))
            .map_err(|e| e.to_string())?;
        let mut channels = Vec::new();
        for (i, platform) in [Platform::Messenger, Platform::Instagram, Platform::Whatsapp]
            .into_iter()
            .enumerate()
        {
            let id = format!("{}{}", tenant.id.0, 90_000_000 + i);
            let ch = super::setup::channel(&mut conn, &state, tenant.id, platform, &id, "bench")?;
            channels.push(ch.id.0);
        }
        let email = format!("agent@{name}.bench");
        super::setup::user(&mut conn, tenant.id, &email, crate::auth::Role::Agent)?;
        let started = Instant::now();
        println!("seeding {name}: {convs} conversations, {msgs} messages…");
        seed(&mut conn, tenant.id, &channels, convs, msgs)?;
        println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
        tenants.push((name, tenant.id, email, convs, msgs));
    }
    // Fresh statistics, as autovacuum would have them on a database this size.
    super::setup::execute_all(&mut conn, &["VACUUM ANALYZE".to_string()])?;

    let (base, handle) = super::setup::serve(&state)?;

    let mut figures = Vec::new();
    for (name, tenant, email, convs, msgs) in &tenants {
        let client = sign_in(&base, email).await?;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        let ids: Vec<i64> = diesel::sql_query(
            "SELECT id FROM conversations WHERE tenant_id = $1 ORDER BY random() LIMIT 50",
        )
        .bind::<BigInt, _>(tenant.0)
        .load::<Id>(&mut conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let rows = format!("{name}: {convs} conversations / {msgs} messages");
        let pages: [(&'static str, Vec<String>); 5] = [
            ("inbox list (open, newest first)", vec!["/inbox".into()]),
            (
                "filtered list (WhatsApp, unread, all statuses)",
                vec!["/inbox?status=all&platform=whatsapp&unread=1".into()],
            ),
            (
                "search \"refund\" (messages + names)",
                vec!["/inbox?status=all&q=refund".into()],
            ),
            (
                "search \"order\" (in every message)",
                vec!["/inbox?status=all&q=order".into()],
            ),
            (
                "conversation view (list + thread + panel)",
                ids.iter()
                    .map(|i| format!("/inbox/{i}?status=all"))
                    .collect(),
            ),
        ];
        for (page, urls) in pages {
            let samples = super::setup::time_pages(&client, &base, &urls, args.requests).await?;
            figures.push(Figure {
                page,
                rows: rows.clone(),
                p50_ms: super::percentile(&samples, 50.0),
                p95_ms: super::percentile(&samples, 95.0),
            });
        }
    }
    handle.stop(true).await;
    Ok(figures)
}

/// A cookie-keeping client signed in as `email` (whose password is [`PASSWORD`]).
pub(crate) async fn sign_in(base: &str, email: &str) -> Result<reqwest::Client, String> {
    let client =
        crate::http_client::build_with_cookies(Duration::from_secs(5), Duration::from_secs(30))
            .map_err(|e| e.to_string())?;
    let html = client
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no CSRF token on the sign-in page")?
        .to_string();
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !(res.status().is_success() || res.status().is_redirection()) {
        return Err(format!("sign-in answered {}", res.status()));
    }
    Ok(client)
}

/// Prints the figures as the Markdown table docs/PERFORMANCE.md keeps.
pub fn print(figures: &[Figure]) {
    println!("\n| page | tenant | p50 ms | p95 ms |\n|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {:.1} | {:.1} |",
            f.page, f.rows, f.p50_ms, f.p95_ms
        );
    }
}
