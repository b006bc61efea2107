//! `parley bench templates`: the template library of a tenant with 200 WhatsApp Business
//! Accounts of 250 templates each (50,000 templates), through real HTTP; and the reconciliation
//! poll's reads and its calls per account per hour against Meta's budget.

use std::path::Path;
use std::time::Instant;

use crate::auth::Role;
use crate::models::channels::Platform;

use super::comments::Figure;

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateBenchArgs {
    /// WhatsApp Business Accounts (one connected number each).
    #[arg(long, default_value_t = 200)]
    pub wabas: i64,
    /// Templates per account.
    #[arg(long, default_value_t = 250)]
    pub per_waba: i64,
    /// Requests per measured page.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

/// Runs the benchmark.
pub async fn run(args: TemplateBenchArgs) -> Result<Vec<Figure>, String> {
    let dir = std::env::temp_dir().join(format!("parley-template-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(args: &TemplateBenchArgs, dir: &Path) -> Result<Vec<Figure>, String> {
    let (pg, url, mut conn) = super::setup::database(dir)?;
    let state = super::setup::state(&url, dir, "bench", None, 8)?;
    let tenant = crate::models::tenants::find_or_create(&mut conn, "Bench templates")
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    println!(
        "seeding {} accounts × {} templates…",
        args.wabas, args.per_waba
    );
    for i in 0..args.wabas {
        let phone = format!("{}{}", tenant.id.0, 80_000_000 + i);
        super::setup::channel(
            &mut conn,
            &state,
            tenant.id,
            Platform::Whatsapp,
            &phone,
            "bench",
        )?;
    }
    let t = tenant.id.0;
    let per = args.per_waba;
    super::setup::execute_all(
        &mut conn,
        &[
            format!("UPDATE channels SET waba_id = 'waba_' || id WHERE tenant_id = {t}"),
            // Most approved; some in review (due for the poll), rejected, paused, drafts.
            format!(
                "INSERT INTO message_templates (tenant_id, waba_id, platform_template_id, name,
                        language, category, status, status_reason, quality_score, content,
                        updated_at, submitted_at, poll_after)
                 SELECT {t}, c.waba_id, CASE WHEN s.status = 'DRAFT' THEN NULL ELSE c.id || '_' || g END,
                        'notice_' || g, (ARRAY['en_US','pt_BR','es','de'])[1 + g % 4],
                        (ARRAY['UTILITY','MARKETING','UTILITY','AUTHENTICATION'])[1 + g % 4],
                        s.status, CASE WHEN s.status = 'REJECTED' THEN 'INVALID_FORMAT' END,
                        (ARRAY['GREEN','GREEN','YELLOW','RED'])[1 + g % 4],
                        jsonb_build_object('body', 'Hi {{{{1}}}}, your order ' || g || ' from account ' || c.id || ' has shipped.',
                                           'body_examples', jsonb_build_array(jsonb_build_object('param', '1', 'value', 'Ana'))),
                        now() - (g || ' minutes')::interval,
                        now() - interval '1 hour',
                        CASE WHEN s.status = 'PENDING' THEN now() - (g % 60 || ' seconds')::interval END
                   FROM channels c, generate_series(1, {per}) g,
                        LATERAL (SELECT CASE WHEN g % 25 = 0 THEN 'PENDING' WHEN g % 25 = 1 THEN 'REJECTED'
                                             WHEN g % 25 = 2 THEN 'PAUSED' WHEN g % 25 = 3 THEN 'DRAFT'
                                             ELSE 'APPROVED' END AS status) s
                  WHERE c.tenant_id = {t}"
            ),
            "VACUUM ANALYZE".to_string(),
        ],
    )?;
    println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
    let email = "admin@templates.bench";
    super::setup::user(&mut conn, tenant.id, email, Role::Admin)?;
    let (base, handle) = super::setup::serve(&state)?;
    let client = super::inbox::sign_in(&base, email).await?;
    let total = args.wabas * per;
    let rows = format!("{} accounts, {total} templates", args.wabas);
    let one_waba = format!("waba_{}", {
        use diesel::prelude::*;
        crate::db::schema::channels::table
            .filter(crate::db::schema::channels::tenant_id.eq(tenant.id))
            .select(crate::db::schema::channels::id)
            .first::<i64>(&mut conn)
            .map_err(|e| e.to_string())?
    });
    let pages: Vec<(&str, String)> = vec![
        ("library, first page", "/message-templates".into()),
        (
            "library, approved only",
            "/message-templates?status=APPROVED".into(),
        ),
        (
            "library, search",
            "/message-templates?q=shipped+1234".into(),
        ),
        (
            "library, one account in review",
            format!("/message-templates?waba={one_waba}&status=PENDING"),
        ),
        ("library, page 100", "/message-templates?page=100".into()),
    ];
    let mut figures = Vec::new();
    for (what, path) in pages {
        let samples = super::setup::time_pages(&client, &base, &[path], args.requests).await?;
        figures.push(Figure {
            what: what.into(),
            rows: rows.clone(),
            p50: super::percentile(&samples, 50.0),
            p95: super::percentile(&samples, 95.0),
            p99: super::percentile(&samples, 99.0),
            unit: "ms",
        });
    }
    handle.stop(true).await;
    figures.extend(poll_reads(&mut conn, &rows)?);
    drop(pg);
    Ok(figures)
}

/// What one run of the poll reads before calling Meta (the accounts with templates due, then
/// each account's due templates), timed; and its calls per account per hour.
fn poll_reads(conn: &mut diesel::PgConnection, rows: &str) -> Result<Vec<Figure>, String> {
    use crate::message_templates::poll::PER_ACCOUNT_PER_RUN;
    use crate::models::template_reviews;
    let mut samples = Vec::new();
    let mut calls = 0usize;
    for _ in 0..20 {
        let t = Instant::now();
        let wabas = template_reviews::wabas_due(conn).map_err(|e| e.to_string())?;
        calls = 0;
        for waba in &wabas {
            calls += template_reviews::due_for_poll(conn, waba, PER_ACCOUNT_PER_RUN)
                .map_err(|e| e.to_string())?
                .len();
        }
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    // The poll runs once a minute (one job per period across every process).
    let per_waba_hour = PER_ACCOUNT_PER_RUN as f64 * 60.0;
    println!(
        "poll: {calls} calls per run over all accounts; at most {per_waba_hour} per account per hour (Meta allows 200, or 5,000 for an active account)"
    );
    Ok(vec![
        Figure {
            what: "poll run: database reads".into(),
            rows: rows.to_string(),
            p50: super::percentile(&samples, 50.0),
            p95: super::percentile(&samples, 95.0),
            p99: super::percentile(&samples, 99.0),
            unit: "ms",
        },
        Figure {
            what: "poll: calls per account per hour (at most)".into(),
            rows: rows.to_string(),
            p50: per_waba_hour,
            p95: per_waba_hour,
            p99: per_waba_hour,
            unit: "calls",
        },
    ])
}
