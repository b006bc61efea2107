//! The insights refresh against the sandbox: daily series read in windows of at most 90 days and
//! stored once however often the refresh runs, a metric Meta refuses dropped and recorded while
//! the others load, and Instagram account series.

use chrono::{Duration, Utc};
use parley::auth::Role;
use parley::insights::catalog;
use parley::insights::refresh::{RefreshInsights, refresh};
use parley::jobs::job::Job;
use parley::models::channels::Platform;

use crate::support::{TestApp, app_with_sandbox, count};

#[tokio::test]
async fn page_series_are_read_in_90_day_windows_and_stored_once() {
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
    let page = app.channel_of(Platform::Messenger).await;
    let today = Utc::now().date_naive();
    let from = today - Duration::days(120);
    let done = refresh(&app.state, &page, &token, catalog::PAGE_DAILY, from, today)
        .await
        .unwrap();
    assert_eq!(done.windows, 2, "120 days take two requests");
    assert!(done.refused.is_empty(), "{:?}", done.refused);
    let stored = count(&app, "SELECT count(*) AS n FROM insight_points").await;
    // Every metric, every day before today.
    assert_eq!(stored, (catalog::PAGE_DAILY.len() * 120) as i64);
    let days = count(
        &app,
        "SELECT count(DISTINCT day) AS n FROM insight_points WHERE metric = 'page_media_view'",
    )
    .await;
    assert_eq!(days, 120);

    // Again: the same rows, rewritten (Meta revises recent days), not added.
    refresh(&app.state, &page, &token, catalog::PAGE_DAILY, from, today)
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM insight_points").await,
        stored
    );

    // The job does the same through the queue.
    app.query(move |c| {
        parley::jobs::queue::enqueue(
            c,
            &RefreshInsights::new(page.id, 28)
                .to_new_job()
                .for_tenant(tenant),
        )
        .unwrap()
    })
    .await;
    // Connecting queued the 90-day backfill too; both only rewrite days already kept.
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert_eq!(outcomes, [Ok(()), Ok(())]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM insight_points").await,
        stored
    );
}

#[tokio::test]
async fn a_metric_meta_refuses_is_dropped_and_recorded_while_the_rest_load() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (_, tenant, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let token = parley::meta::AccessToken::new(
        sandbox
            .issue_token(meta_sandbox::IssueToken::Page { page_id })
            .unwrap(),
    );
    let page = app.channel_of(Platform::Messenger).await;
    let today = Utc::now().date_naive();
    // `page_impressions` is one Meta removed; a stale list asking for it must not blank the rest.
    let done = refresh(
        &app.state,
        &page,
        &token,
        &["page_media_view", "page_impressions", "page_follows"],
        today - Duration::days(7),
        today,
    )
    .await
    .unwrap();
    assert_eq!(done.refused, ["page_impressions"]);
    let metrics = count(
        &app,
        "SELECT count(DISTINCT metric) AS n FROM insight_points",
    )
    .await;
    assert_eq!(metrics, 2, "the served metrics loaded");
    let reason: String = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::insight_refusals::dsl as r;
            r::insight_refusals
                .filter(r::metric.eq("page_impressions"))
                .select(r::reason)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(reason.contains("valid insights metric"), "{reason}");
    assert!(catalog::DEPRECATED.contains(&"page_impressions"));
}

#[tokio::test]
async fn instagram_account_series_are_stored() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (_, tenant, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let ig = sandbox.world().seed().pages[0].instagram.clone().unwrap();
    let raw = sandbox
        .issue_token(meta_sandbox::IssueToken::Page { page_id })
        .unwrap();
    app.connect_channel_with_token(tenant, Platform::Instagram, &ig.id, None, &raw)
        .await;
    let account = app.channel_of(Platform::Instagram).await;
    let today = Utc::now().date_naive();
    let done = refresh(
        &app.state,
        &account,
        &parley::meta::AccessToken::new(raw),
        catalog::INSTAGRAM_DAILY,
        today - Duration::days(45),
        today,
    )
    .await
    .unwrap();
    assert_eq!(done.windows, 2, "Instagram allows 30 days per request");
    assert!(done.refused.is_empty(), "{:?}", done.refused);
    for metric in catalog::INSTAGRAM_DAILY {
        let n: i64 = app
            .query(move |c| {
                use diesel::prelude::*;
                use parley::db::schema::insight_points::dsl as p;
                p::insight_points
                    .filter(p::metric.eq(*metric))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        // Meta serves follower counts for the last 30 days only.
        let least = if *metric == "follower_count" { 25 } else { 40 };
        assert!(n >= least, "{metric}: {n} days");
    }
}

#[tokio::test]
async fn connecting_queues_90_days_and_the_daily_job_queues_every_page_and_account() {
    let app = TestApp::spawn().await;
    let (_, tenant, _) = app.signed_in("Acme", "a@acme.test", Role::Admin).await;
    for (platform, id) in [
        (Platform::Messenger, "P1"),
        (Platform::Instagram, "IG1"),
        (Platform::Whatsapp, "W1"),
    ] {
        app.connect_channel(tenant, platform, id, Some("WABA1").filter(|_| id == "W1"))
            .await;
    }
    let queued = || {
        count(
            &app,
            "SELECT count(*) AS n FROM jobs WHERE kind = 'refresh_insights' AND state = 'queued'",
        )
    };
    assert_eq!(
        queued().await,
        2,
        "a Page and an Instagram account, not WhatsApp"
    );
    let backfill = count(
        &app,
        "SELECT count(*) AS n FROM jobs WHERE kind = 'refresh_insights' AND payload->>'days' = '90'",
    )
    .await;
    assert_eq!(backfill, 2);
    app.query(|c| {
        let job = parley::jobs::scheduler::Periodic::named("refresh_all_insights").unwrap();
        parley::jobs::queue::enqueue(c, &(job.make)()).unwrap()
    })
    .await;
    assert_eq!(app.run_queued_jobs("refresh_all_insights").await, [Ok(())]);
    assert_eq!(
        queued().await,
        4,
        "one daily refresh per channel besides the backfills"
    );
}

#[tokio::test]
async fn analysts_see_each_metric_with_its_previous_period_and_chart() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut analyst, tenant, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let (_, before) = analyst.page("/insights").await;
    assert!(before.contains("No insights yet"), "{before}");
    app.connect_sandbox_page(&sandbox, tenant).await;
    let (_, waiting) = analyst.page("/insights").await;
    assert!(waiting.contains("No data for this range yet"));
    // The refresh connecting queued (90 days).
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(Result::is_ok),
        "{outcomes:?}"
    );

    let page = app.channel_of(Platform::Messenger).await;
    let (status, html) = analyst
        .page(&format!("/insights?channel={}&range=7", page.id))
        .await;
    assert_eq!(status, 200);
    let doc = crate::support::HtmlPage::parse(&html);
    assert_eq!(
        doc.count(".insight-card"),
        catalog::PAGE_DAILY.len(),
        "a card per Page metric"
    );
    let views = doc.text("#metric-page_media_view .insight-value").unwrap();
    let expected: i64 = app
        .query(move |c| {
            use diesel::prelude::*;
            use parley::db::schema::insight_points::dsl as p;
            let to = Utc::now().date_naive() - Duration::days(1);
            p::insight_points
                .filter(p::metric.eq("page_media_view"))
                .filter(p::channel_id.eq(page.id))
                .filter(p::day.between(to - Duration::days(6), to))
                .select(p::value)
                .load::<i64>(c)
                .unwrap()
                .iter()
                .sum()
        })
        .await;
    assert_eq!(views, expected.to_string(), "the card sums the 7 days kept");
    assert_eq!(doc.count("#metric-page_media_view svg.chart polyline"), 1);
    assert_eq!(doc.count("#metric-page_media_view details tbody tr"), 7);
    assert!(
        doc.text("#metric-page_media_view .muted")
            .unwrap()
            .starts_with("Previous 7 days: ")
    );

    // The CSV carries the same numbers, with the same filters.
    let link = doc.attrs("a[href^='/insights.csv']", "href");
    assert_eq!(link, [format!("/insights.csv?channel={}&range=7", page.id)]);
    let csv = analyst.get(&link[0]).await.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "table,metric,label,key,value");
    // Text cells are quoted (and formulas neutralised), numbers are not; each card has its
    // days and its two totals.
    assert_eq!(rows.len(), 1 + catalog::PAGE_DAILY.len() * (7 + 2));
    let csv_views: i64 = rows
        .iter()
        .filter(|r| r.starts_with("\"series\",\"page_media_view\","))
        .map(|r| r.rsplit(',').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(csv_views, expected);
    assert!(
        rows.contains(
            &format!(
                "\"total\",\"page_media_view\",\"Media views (Page)\",\"this_period\",{expected}"
            )
            .as_str()
        ),
        "the card's total is in the CSV"
    );

    // Agents and moderators have no insights; another tenant sees none of Acme's.
    let (mut agent, _, _) = app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    assert_eq!(agent.page("/insights").await.0, 403);
    let (mut other, _, _) = app.signed_in("Other", "an@other.test", Role::Analyst).await;
    let (_, theirs) = other.page(&format!("/insights?channel={}", page.id)).await;
    assert!(theirs.contains("No insights yet"), "{theirs}");
}

#[tokio::test]
async fn admins_refresh_now_and_the_page_shows_what_is_on_its_way() {
    let app = TestApp::spawn().await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "a@acme.test", Role::Admin).await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    let (_, html) = admin.page("/insights").await;
    let page = crate::support::HtmlPage::parse(&html);
    assert_eq!(
        page.text("#insights-refreshing").as_deref(),
        Some("Refreshing: 1 channel still on their way. Reload to see the new figures.")
    );
    let res = admin.post_form("/insights/refresh", &[]).await;
    assert_eq!(res.headers()["location"], "/insights");
    let queued = count(
        &app,
        "SELECT count(*) AS n FROM jobs WHERE kind = 'refresh_insights' AND payload->>'days' = '4'",
    )
    .await;
    assert_eq!(queued, 1);
    let (_, html) = admin.page("/insights").await;
    assert!(html.contains("Refreshing insights from Meta…"));

    let (mut analyst, _, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let (_, html) = analyst.page("/insights").await;
    assert!(!html.contains("Refresh now"), "analysts only read");
    assert_eq!(
        analyst.post_form("/insights/refresh", &[]).await.status(),
        403
    );
}
