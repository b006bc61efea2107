//! `parley bench insights`: server time of the insights pages (overview, posts, messaging) for a
//! tenant with 50 channels, two years of daily series, 10,000 posts and 2,000,000 messages, and
//! for one with 10x fewer rows, through real HTTP.

use std::path::Path;
use std::time::Instant;

use crate::db::ids::TenantId;
use crate::models::channels::Platform;

use super::comments::Figure;

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct InsightsBenchArgs {
    /// Channels of the large tenant (30 Pages, 20 Instagram accounts at 50; the small one has
    /// a tenth).
    #[arg(long, default_value_t = 50)]
    pub channels: i64,
    /// Days of daily series per channel.
    #[arg(long, default_value_t = 730)]
    pub days: i64,
    /// Posts of the large tenant.
    #[arg(long, default_value_t = 10_000)]
    pub posts: i64,
    /// Messages of the large tenant (ten per conversation).
    #[arg(long, default_value_t = 2_000_000)]
    pub messages: i64,
    /// Requests per measured page.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Keeps the seeded PostgreSQL running after the timings, until Ctrl-C (to study plans).
    #[arg(long)]
    pub keep: bool,
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|m| format!("'{m}'"))
        .collect::<Vec<_>>()
        .join(",")
}

fn seed(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channels: &[(i64, Platform)],
    agents: &[i64],
    args: (i64, i64, i64),
) -> Result<(), String> {
    let (days, posts, messages) = args;
    let t = tenant.0;
    let ids = |p: Option<Platform>| {
        let v: Vec<String> = channels
            .iter()
            .filter(|(_, pl)| p.is_none_or(|p| p == *pl))
            .map(|(id, _)| id.to_string())
            .collect();
        format!("ARRAY[{}]::bigint[]", v.join(","))
    };
    let (fb, ig, all) = (
        ids(Some(Platform::Messenger)),
        ids(Some(Platform::Instagram)),
        ids(None),
    );
    let agents = format!(
        "ARRAY[{}]::bigint[]",
        agents
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let conversations = (messages / 10).max(1);
    let page = list(crate::insights::catalog::PAGE_DAILY);
    // Every Instagram card of the overview.
    let ig_cards: Vec<&str> = crate::insights::overview::card_metrics()
        .into_iter()
        .filter(|m| !crate::insights::catalog::PAGE_DAILY.contains(m))
        .collect();
    let ig_metrics = list(&ig_cards);
    let post_metrics = list(&[
        "views",
        "reach",
        "likes",
        "comments",
        "shares",
        "saved",
        "total_interactions",
        "post_clicks",
    ]);
    let statements = [
        // Daily series: every Page metric and every Instagram metric, every day.
        format!(
            "INSERT INTO insight_points (tenant_id, channel_id, object_id, metric, day, value)
             SELECT {t}, c.id, c.platform_id, m, d::date, 100 + (abs(hashtext(c.id || m || d::text)) % 900)
               FROM channels c, unnest(ARRAY[{page}]) m,
                    generate_series(current_date - {days}, current_date - 1, interval '1 day') d
              WHERE c.id = ANY({fb})"
        ),
        format!(
            "INSERT INTO insight_points (tenant_id, channel_id, object_id, metric, day, value)
             SELECT {t}, c.id, c.platform_id, m, d::date, 100 + (abs(hashtext(c.id || m || d::text)) % 900)
               FROM channels c, unnest(ARRAY[{ig_metrics}]) m,
                    generate_series(current_date - {days}, current_date - 1, interval '1 day') d
              WHERE c.id = ANY({ig})"
        ),
        // Posts over the last year, each with its figures.
        format!(
            "INSERT INTO comment_posts (tenant_id, channel_id, platform_post_id, caption, media_type,
                                        thumbnail_url, permalink, posted_at, fetched_at, insights_at)
             SELECT {t}, ({fb} || {ig})[1 + g % cardinality({fb} || {ig})], 'bp{t}_' || g,
                    'Post number ' || g, (ARRAY['post','feed','reels','story'])[1 + g % 4],
                    'https://example.invalid/p/' || g || '.jpg', 'https://example.invalid/p/' || g,
                    now() - (g % 365) * interval '1 day' - (g % 24) * interval '1 hour', now(), now()
               FROM generate_series(0, {posts} - 1) g"
        ),
        format!(
            "INSERT INTO post_insights (tenant_id, channel_id, post_id, metric, value)
             SELECT {t}, p.channel_id, p.platform_post_id, m, abs(hashtext(p.platform_post_id || m)) % 5000
               FROM comment_posts p, unnest(ARRAY[{post_metrics}]) m WHERE p.tenant_id = {t}"
        ),
        // Conversations over two years, ten messages each, every other one from the business
        // (sent by one of the agents).
        format!(
            "INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name, profile_fetched_at)
             SELECT {t}, ({all})[1 + g % cardinality({all})], 'iu{t}_' || g, 'Customer ' || g, now()
               FROM generate_series(1, {conversations}) g"
        ),
        format!(
            "INSERT INTO conversations (tenant_id, channel_id, contact_id, status, assignee_id,
                                        last_message_at, last_inbound_at, unread_count)
             SELECT tenant_id, channel_id, id,
                    (ARRAY['open','resolved','resolved','resolved','pending'])[1 + id % 5],
                    ({agents})[1 + id % cardinality({agents})],
                    now() - (id % {conversations}) * ({days} * interval '1 day' / {conversations}),
                    now() - (id % {conversations}) * ({days} * interval '1 day' / {conversations}), 0
               FROM contacts WHERE tenant_id = {t}"
        ),
        format!(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, platform_message_id,
                                   sent_at, kind, text, status, sender_user_id)
             SELECT v.tenant_id, v.id, v.channel_id,
                    CASE WHEN g % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
                    'bm{t}_' || v.id || '_' || g,
                    v.last_message_at - (10 - g) * (interval '3 minutes' + (v.id % 40) * interval '1 minute'),
                    'text', 'Message ' || g,
                    CASE WHEN g % 2 = 1 THEN 'received' ELSE 'read' END,
                    CASE WHEN g % 2 = 0 THEN v.assignee_id END
               FROM conversations v, generate_series(1, 10) g WHERE v.tenant_id = {t}"
        ),
    ];
    super::setup::execute_all(conn, &statements)?;
    // Seeded around the application: count once as the application would have.
    crate::models::analytics::rebuild(conn, tenant).map_err(|e| e.to_string())?;
    crate::models::insights::retotal_all(conn, tenant).map_err(|e| e.to_string())
}

/// Runs the benchmark; prints a Markdown table.
pub async fn run(args: InsightsBenchArgs) -> Result<Vec<Figure>, String> {
    let dir = std::env::temp_dir().join(format!("parley-insights-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(args: &InsightsBenchArgs, dir: &Path) -> Result<Vec<Figure>, String> {
    let (pg, url, mut conn) = super::setup::database(dir)?;
    let state = super::setup::state(&url, dir, "bench", None, 8)?;
    let sizes = [
        ("large", args.channels, args.days, args.posts, args.messages),
        (
            "small",
            (args.channels / 10).max(2),
            args.days,
            args.posts / 10,
            args.messages / 10,
        ),
    ];
    let mut tenants = Vec::new();
    for (name, channels, days, posts, messages) in sizes {
        let tenant = crate::models::tenants::find_or_create(&mut conn, &format!("Bench {name}"))
            .map_err(|e| e.to_string())?;
        let mut made = Vec::new();
        for i in 0..channels {
            // Three Pages for every two Instagram accounts.
            let platform = if i % 5 < 3 {
                Platform::Messenger
            } else {
                Platform::Instagram
            };
            let id = format!("{}{}", tenant.id.0, 70_000_000 + i);
            let ch = super::setup::channel(&mut conn, &state, tenant.id, platform, &id, "bench")?;
            made.push((ch.id.0, platform));
        }
        let email = format!("analyst@{name}.bench");
        super::setup::user(&mut conn, tenant.id, &email, crate::auth::Role::Analyst)?;
        let mut agents = Vec::new();
        for a in 0..10 {
            let id = super::setup::user(
                &mut conn,
                tenant.id,
                &format!("agent{a}@{name}.bench"),
                crate::auth::Role::Agent,
            )?;
            agents.push(id.0);
        }
        let started = Instant::now();
        println!(
            "seeding {name}: {channels} channels × {days} days, {posts} posts, {messages} messages…"
        );
        seed(
            &mut conn,
            tenant.id,
            &made,
            &agents,
            (days, posts, messages),
        )?;
        println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
        tenants.push((name, email, channels, posts, messages));
    }
    super::setup::execute_all(&mut conn, &["VACUUM ANALYZE".to_string()])?;
    let (base, handle) = super::setup::serve(&state)?;
    let mut figures = Vec::new();
    for (name, email, channels, posts, messages) in &tenants {
        let client = super::inbox::sign_in(&base, email).await?;
        let rows = format!("{name}: {channels} channels, {posts} posts, {messages} messages");
        let pages: [(&str, &str); 6] = [
            ("overview, 28 days, all channels", "/insights"),
            ("overview, 90 days, all channels", "/insights?range=90"),
            ("posts, 28 days, by reach", "/insights/posts?sort=reach"),
            ("posts, 90 days, by views", "/insights/posts?range=90"),
            ("messaging, 28 days, all channels", "/insights/messaging"),
            (
                "messaging, 90 days, all channels",
                "/insights/messaging?range=90",
            ),
        ];
        for (page, path) in pages {
            let samples =
                super::setup::time_pages(&client, &base, &[path.to_string()], args.requests)
                    .await?;
            figures.push(Figure {
                what: page.into(),
                rows: rows.clone(),
                p50: super::percentile(&samples, 50.0),
                p95: super::percentile(&samples, 95.0),
                p99: super::percentile(&samples, 99.0),
                unit: "ms",
            });
        }
    }
    handle.stop(true).await;
    if args.keep {
        println!(
            "PostgreSQL kept running until Ctrl-C (port and password in {})",
            dir.join("pg-secrets").display()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    drop(pg);
    Ok(figures)
}
