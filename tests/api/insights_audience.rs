//! Instagram totals read day by day, follower counts and the audience (only from 100
//! followers), and the two-year history read with a progress line that resumes after a failure.

use parley::auth::Role;
use parley::db::ids::TenantId;
use parley::models::channels::Platform;

use crate::support::{HtmlPage, TestApp, app_with_sandbox, count, csrf_from};

/// Connects the `n`th sandbox Page's Instagram account to `tenant`.
async fn connect_ig(app: &TestApp, sandbox: &meta_sandbox::Sandbox, tenant: TenantId, n: usize) {
    let page = sandbox.world().seed().pages[n].clone();
    let raw = sandbox
        .issue_token(meta_sandbox::IssueToken::Page {
            page_id: page.id.clone(),
        })
        .unwrap();
    let ig = page.instagram.unwrap();
    app.connect_channel_with_token(tenant, Platform::Instagram, &ig.id, None, &raw)
        .await;
}

async fn points(app: &TestApp, metric: &'static str) -> i64 {
    app.query(move |c| {
        use diesel::prelude::*;
        use parley::db::schema::insight_points::dsl as p;
        p::insight_points
            .filter(p::metric.eq(metric))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn instagram_totals_followers_and_audience_are_kept_and_small_accounts_are_named() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut analyst, tenant, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    app.connect_sandbox_page(&sandbox, tenant).await;
    connect_ig(&app, &sandbox, tenant, 0).await; // 1,840 followers
    connect_ig(&app, &sandbox, tenant, 1).await; // 80 followers
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");

    // Totals Meta serves only as total_value, one day at a time, kept as daily series.
    for metric in [
        "views",
        "accounts_engaged",
        "total_interactions",
        "follows",
        "unfollows",
    ] {
        assert!(points(&app, metric).await >= 20, "{metric}");
    }
    assert_eq!(
        points(&app, "followers_total").await,
        2,
        "one count per account"
    );
    // The audience comes for the big account only.
    let breakdowns = count(
        &app,
        "SELECT count(DISTINCT channel_id) AS n FROM insight_breakdowns",
    )
    .await;
    assert_eq!(breakdowns, 1);
    let dims = count(
        &app,
        "SELECT count(DISTINCT (metric, dimension)) AS n FROM insight_breakdowns",
    )
    .await;
    assert_eq!(
        dims,
        2 * 4 + 1,
        "two demographics by four dimensions, and online hours"
    );

    let (_, html) = analyst.page("/insights?range=28").await;
    let doc = HtmlPage::parse(&html);
    assert!(doc.count("#audience .insight-card") >= 9, "{html}");
    assert!(doc.count("#metric-accounts_engaged") == 1);
    // The follower count, read at the refresh, is on the page (the range ends yesterday).
    assert_eq!(
        doc.text("#metric-followers_total .insight-value")
            .as_deref(),
        Some("1920"),
        "1,840 + 80 followers"
    );
    // The all-channel card adds up both accounts' points (kept totals, in step with them).
    let shown = doc.text("#metric-accounts_engaged .insight-value").unwrap();
    let summed: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::insight_points::dsl as p;
            let to = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
            p::insight_points
                .filter(p::metric.eq("accounts_engaged"))
                .filter(p::day.between(to - chrono::Duration::days(27), to))
                .select(p::value)
                .load::<i64>(c)
                .unwrap()
                .iter()
                .sum()
        })
        .await;
    assert_eq!(shown, summed.to_string());
    assert!(
        html.contains("has 80"),
        "the small account is named with its count"
    );
    let csv = analyst
        .get("/insights.csv?range=28")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("\"audience\",\"follower_demographics-country\""));
}

#[tokio::test]
async fn two_years_of_history_show_progress_and_resume_after_a_failure() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    // The 90-day read connecting queued (done, and out of the queue).
    assert!(
        app.run_queued_jobs("refresh_insights")
            .await
            .iter()
            .all(Result::is_ok)
    );
    app.query(|c| {
        use diesel::prelude::*;
        diesel::sql_query("DELETE FROM jobs WHERE kind = 'refresh_insights'")
            .execute(c)
            .unwrap();
    })
    .await;
    let two_years = |html: &str| {
        HtmlPage::parse(html)
            .texts(".backfill-line")
            .into_iter()
            .find(|l| l.contains(" of 9 ") || l.contains("9 parts"))
            .unwrap_or_else(|| panic!("no two-year line in {html}"))
    };

    let (_, html) = admin.page("/insights").await;
    let csrf = csrf_from(&html).unwrap();
    let res = admin
        .post_form("/insights/backfill", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(res.status(), 303);
    // Meta fails the fourth window (through the client's retries): three are kept.
    sandbox.inject_fault(
        meta_sandbox::Fault::new(
            format!("{page_id}/insights"),
            meta_sandbox::FaultKind::ServerError {
                status: 500,
                json: true,
            },
        )
        .after(3)
        .times(3),
    );
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert!(outcomes.iter().any(Result::is_err), "{outcomes:?}");
    let (_, html) = admin.page("/insights").await;
    let line = two_years(&html);
    assert!(line.contains("3 of 9 parts read"), "{line}");

    // The retry reads only what is left.
    let asked_before = sandbox.world().graph_requests().len();
    sandbox.clear_faults();
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    let insights_reads = sandbox.world().graph_requests()[asked_before..]
        .iter()
        .filter(|r| r.path.ends_with("/insights"))
        .count();
    assert_eq!(
        insights_reads, 6,
        "windows 4 to 9, not the first three again"
    );
    let (_, html) = admin.page("/insights").await;
    let line = two_years(&html);
    assert!(line.contains("done, 9 parts read"), "{line}");
    let days = count(
        &app,
        "SELECT count(DISTINCT day) AS n FROM insight_points WHERE metric = 'page_media_view'",
    )
    .await;
    assert!(days >= 725, "{days} days kept");

    // Analysts cannot start one.
    let (mut analyst, _, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let (_, html) = analyst.page("/insights").await;
    assert!(!html.contains("Load two years"));
    let csrf = csrf_from(&html).unwrap();
    assert_eq!(
        analyst
            .post_form("/insights/backfill", &[("csrf_token", &csrf)])
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn insights_wait_while_a_pages_budget_is_half_used_and_the_daily_refresh_is_spread() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (_, tenant, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let token = parley::meta::AccessToken::new(
        sandbox
            .issue_token(meta_sandbox::IssueToken::Page {
                page_id: page_id.clone(),
            })
            .unwrap(),
    );
    // Replies and moderation spend the Page's budget (200 calls an hour in the sandbox).
    for _ in 0..110 {
        app.state.graph.page(&page_id, &token).await.unwrap();
    }
    let used = app.state.graph.budget_used(&page_id).unwrap();
    assert!(used >= 50.0, "{used}");
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert_eq!(outcomes.len(), 1);
    let err = outcomes[0].clone().unwrap_err();
    assert!(err.contains("call budget used"), "{err}");
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM insight_points").await,
        0
    );

    // The daily refresh places each channel at its own time within six hours.
    app.query(|c| {
        let job = parley::jobs::scheduler::Periodic::named("refresh_all_insights").unwrap();
        parley::jobs::queue::enqueue(c, &(job.make)()).unwrap()
    })
    .await;
    assert_eq!(app.run_queued_jobs("refresh_all_insights").await, [Ok(())]);
    let later = count(
        &app,
        "SELECT count(*) AS n FROM jobs WHERE kind = 'refresh_insights'
           AND payload->>'days' = '4' AND run_at <= now() + interval '6 hours'",
    )
    .await;
    assert_eq!(later, 1);
}

#[tokio::test]
async fn an_instagram_total_meta_refuses_is_recorded_and_the_others_load() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (_, tenant, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    connect_ig(&app, &sandbox, tenant, 0).await;
    let account = app.channel_of(Platform::Instagram).await;
    let raw = sandbox
        .issue_token(meta_sandbox::IssueToken::Page {
            page_id: sandbox.world().seed().pages[0].id.clone(),
        })
        .unwrap();
    // The request for every total is refused, then `views` asked alone.
    sandbox.inject_fault(
        meta_sandbox::Fault::new(
            format!("{}/insights", account.platform_id),
            meta_sandbox::FaultKind::InvalidMetric,
        )
        .times(2),
    );
    let to = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
    parley::insights::account::refresh_totals(
        &app.state,
        &account,
        &parley::meta::AccessToken::new(raw),
        to - chrono::Duration::days(1),
        to,
    )
    .await
    .unwrap();
    assert_eq!(points(&app, "views").await, 0);
    assert_eq!(
        points(&app, "accounts_engaged").await,
        1,
        "the others loaded"
    );
    let refused = count(
        &app,
        "SELECT count(*) AS n FROM insight_refusals WHERE metric = 'views'",
    )
    .await;
    assert_eq!(refused, 1);
}
