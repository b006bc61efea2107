//! `parley bench comments`: server time of the moderation queue, a filtered view, searches and
//! one post's comments for a tenant with 1,000,000 comments on 10,000 posts and one with 10x
//! fewer, through real HTTP; the throughput of rule matching with 50 rules; and (with the
//! sandbox) the time from a comment's webhook to its hiding at Meta by a rule, while comments
//! arrive at a steady rate.

use std::path::Path;
use std::time::Instant;

use crate::comments::rules::{CommentFacts, CompiledRule, Conditions, RuleSpec, first_match};
use crate::db::ids::{ChannelId, TenantId};
use crate::db::statuses::RuleAction;
use crate::models::channels::Platform;

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentBenchArgs {
    /// Comments of the large tenant (the small one has a tenth).
    #[arg(long, default_value_t = 1_000_000)]
    pub comments: i64,
    /// Posts of the large tenant (the small one has a tenth).
    #[arg(long, default_value_t = 10_000)]
    pub posts: i64,
    /// Requests per measured page.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Rules for the matching throughput.
    #[arg(long, default_value_t = 50)]
    pub rules: usize,
    /// Comments per second arriving during the rule latency run (0 skips it).
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
    /// Seconds of the rule latency run.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub what: String,
    pub rows: String,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub unit: &'static str,
}

/// Runs every part; prints a Markdown table.
pub async fn run(args: CommentBenchArgs) -> Result<Vec<Figure>, String> {
    let dir = std::env::temp_dir().join(format!("parley-comment-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn seed(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channels: [ChannelId; 2],
    comments: i64,
    posts: i64,
) -> Result<(), String> {
    let (t, fb, ig) = (tenant.0, channels[0].0, channels[1].0);
    let statements = [
        format!(
            "INSERT INTO comment_posts (tenant_id, channel_id, platform_post_id, caption, media_type, thumbnail_url,
                                        permalink, posted_at, fetched_at)
             SELECT {t}, CASE WHEN g % 2 = 0 THEN {fb} ELSE {ig} END, 'p{t}_' || g, 'Post number ' || g, 'post',
                    'https://example.invalid/p/' || g || '.jpg', 'https://example.invalid/p/' || g,
                    now() - g * interval '1 hour', now()
               FROM generate_series(0, {posts} - 1) g"
        ),
        format!(
            "INSERT INTO comments (tenant_id, channel_id, platform_comment_id, post_id, author_id, author_name, text,
                                   commented_at, hidden, from_business, reviewed_at, replied_publicly_at,
                                   rules_checked_at, extra)
             SELECT {t}, CASE WHEN (g % {posts}) % 2 = 0 THEN {fb} ELSE {ig} END, 'c{t}_' || g,
                    'p{t}_' || (g % {posts}), 'a' || (g % 50000), 'user' || (g % 50000),
                    (ARRAY['Is this available in blue?', 'Love it!', 'How much is shipping to Canada?',
                           'Free followers at cheap-likes.biz', 'Great coffee, as always',
                           'When do you open on Sunday?', 'Tagging my friend here', 'Wow \u{1F60D}'])[1 + g % 8]
                      || CASE WHEN g % 1009 = 0 THEN ' I want a refund' ELSE '' END,
                    now() - g * interval '20 seconds', g % 29 = 0, g % 41 = 0,
                    CASE WHEN g % 3 = 0 THEN now() END, CASE WHEN g % 11 = 0 THEN now() END, now(), '{{}}'
               FROM generate_series(1, {comments}) g"
        ),
    ];
    super::setup::execute_all(conn, &statements)
}

async fn run_in(args: &CommentBenchArgs, dir: &Path) -> Result<Vec<Figure>, String> {
    let (pg, url, mut conn) = super::setup::database(dir)?;
    let state = super::setup::state(&url, dir, "bench", None, 8)?;
    let mut figures = Vec::new();
    let sizes = [
        ("large", args.comments, args.posts),
        ("small", args.comments / 10, args.posts / 10),
    ];
    let mut tenants = Vec::new();
    for (name, comments, posts) in sizes {
        let tenant = crate::models::tenants::find_or_create(&mut conn, &format!("Bench {name}"))
            .map_err(|e| e.to_string())?;
        let fb = super::setup::channel(
            &mut conn,
            &state,
            tenant.id,
            Platform::Messenger,
            &format!("{}1", tenant.id),
            "bench",
        )?;
        let ig = super::setup::channel(
            &mut conn,
            &state,
            tenant.id,
            Platform::Instagram,
            &format!("{}2", tenant.id),
            "bench",
        )?;
        let email = format!("moderator@{name}.bench");
        super::setup::user(&mut conn, tenant.id, &email, crate::auth::Role::Moderator)?;
        let started = Instant::now();
        println!("seeding {name}: {comments} comments on {posts} posts…");
        seed(&mut conn, tenant.id, [fb.id, ig.id], comments, posts)?;
        println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
        tenants.push((name, tenant.id, email, comments, posts));
    }
    // Fresh statistics, as autovacuum would have them on a database this size.
    super::setup::execute_all(&mut conn, &["VACUUM ANALYZE".to_string()])?;
    let (base, handle) = super::setup::serve(&state)?;
    for (name, tenant, email, comments, posts) in &tenants {
        let client = super::inbox::sign_in(&base, email).await?;
        let rows = format!("{name}: {comments} comments / {posts} posts");
        let pages: [(&str, String); 6] = [
            ("queue (needs review, newest first)", "/comments".into()),
            (
                "filtered (Instagram, unanswered questions)",
                "/comments?state=all&platform=instagram&unanswered=1&question=1".into(),
            ),
            (
                "search \"refund\" (rare)",
                "/comments?state=all&q=refund".into(),
            ),
            (
                "search \"coffee\" (one comment in 8)",
                "/comments?state=all&q=coffee".into(),
            ),
            (
                "one post's comments",
                format!("/comments?state=all&post=p{tenant}_42"),
            ),
            ("date range (one day, a week ago)", {
                let day = (chrono::Utc::now() - chrono::Duration::days(7)).date_naive();
                format!("/comments?state=all&from={day}&to={day}")
            }),
        ];
        for (page, path) in pages {
            let samples = super::setup::time_pages(&client, &base, &[path], args.requests).await?;
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
    figures.push(rule_throughput(args.rules)?);
    #[cfg(feature = "sandbox")]
    if args.rate > 0 {
        figures.push(super::comment_rules::latency(&url, dir, args.rate, args.seconds).await?);
    }
    drop(pg);
    Ok(figures)
}

/// Rules like a busy tenant's: keyword lists, phrases, a pattern, links and contacts, scoped
/// to a platform now and then.
pub fn bench_rules(n: usize) -> Result<Vec<CompiledRule>, String> {
    (0..n)
        .map(|i| {
            let conditions = Conditions {
                keywords: (0..8)
                    .map(|k| format!("word{i}x{k}"))
                    .chain([format!("buy now {i}")])
                    .collect(),
                pattern: (i % 10 == 0).then(|| format!(r"\bpromo{i}\w*\s+\d+")),
                has_link: i == n - 1,
                has_phone: i % 17 == 5,
                has_email: i % 19 == 7,
                platform: (i % 3 == 0).then_some(Platform::Instagram),
                ..Conditions::default()
            };
            CompiledRule::compile(&RuleSpec {
                id: i as i64,
                name: "bench",
                match_all: false,
                conditions: &conditions,
                action: RuleAction::Hide,
                saved_reply_id: None,
            })
            .map_err(|e| e.to_string())
        })
        .collect()
}

/// Comments a second through every rule (most match none, the worst case).
fn rule_throughput(n: usize) -> Result<Figure, String> {
    let rules = bench_rules(n)?;
    let texts: Vec<String> = (0..10_000)
        .map(|i| match i % 5 {
            0 => format!("Is this available in blue? Asking for my friend number {i}"),
            1 => "Love it! \u{1F60D} Where can I get one like this for my sister's birthday".into(),
            2 => format!("Free followers at cheap-likes.biz/{i}"),
            3 => format!("call me at +44 20 7946 {:04}", i % 10_000),
            _ => "Great coffee, as always. See you on Sunday".into(),
        })
        .collect();
    let rounds = 10;
    let started = Instant::now();
    let mut matched = 0usize;
    for _ in 0..rounds {
        for text in &texts {
            let facts = CommentFacts {
                text,
                author_id: Some("1784"),
                author_name: Some("someone"),
                channel: ChannelId(1),
                platform: Platform::Messenger,
                post_id: Some("p1"),
            };
            matched += usize::from(first_match(&rules, &facts).is_some());
        }
    }
    let per_second = (rounds * texts.len()) as f64 / started.elapsed().as_secs_f64();
    std::hint::black_box(matched);
    Ok(Figure {
        what: format!("rule matching, {n} rules (one thread)"),
        rows: format!("{} comments", rounds * texts.len()),
        p50: per_second,
        p95: per_second,
        p99: per_second,
        unit: "comments/s",
    })
}

/// Prints the figures as the Markdown table docs/PERFORMANCE.md keeps.
pub fn print(figures: &[Figure]) {
    println!("\n| measure | data | p50 | p95 | p99 | unit |\n|---|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} |",
            f.what, f.rows, f.p50, f.p95, f.p99, f.unit
        );
    }
}
