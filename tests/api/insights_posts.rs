//! Post, reel and story figures against the sandbox: Page posts with reactions by type, IG media,
//! a story captured while it lives and by the `story_insights` webhook when it expires, code 10
//! shown as "too few viewers", no removed metric ever requested, and the posts pages.

use parley::auth::Role;
use parley::insights::catalog;
use parley::models::channels::Platform;

use crate::support::{HtmlPage, TestApp, app_with_sandbox, count};

async fn value(app: &TestApp, post: &str, metric: &'static str) -> Option<i64> {
    let post = post.to_string();
    app.query(move |c| {
        use diesel::prelude::*;
        use parley::db::schema::post_insights::dsl as i;
        i::post_insights
            .filter(i::post_id.eq(post))
            .filter(i::metric.eq(metric))
            .select(i::value)
            .first(c)
            .optional()
            .unwrap()
    })
    .await
}

/// A Page and its Instagram account connected to "Acme"; returns the IG account id.
async fn connected(
    app: &TestApp,
    sandbox: &meta_sandbox::Sandbox,
) -> (parley::db::ids::TenantId, String) {
    let (tenant, _) = app
        .create_user("Acme", "boss@acme.test", Role::Admin, "pw-boss-123456")
        .await;
    let page_id = app.connect_sandbox_page(sandbox, tenant).await;
    let ig = sandbox.world().seed().pages[0].instagram.clone().unwrap();
    let raw = sandbox
        .issue_token(meta_sandbox::IssueToken::Page { page_id })
        .unwrap();
    app.connect_channel_with_token(tenant, Platform::Instagram, &ig.id, None, &raw)
        .await;
    (tenant, ig.id)
}

#[tokio::test]
async fn posts_reels_and_stories_get_their_figures_and_a_small_story_says_too_few_viewers() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (_, ig) = connected(&app, &sandbox).await;
    let live = sandbox.post_story(&ig, "Flash sale", false);
    let small = sandbox.post_story(&ig, "Quiet one", true);

    // Connecting queued a refresh of each channel's recent posts.
    let outcomes = app.run_queued_jobs("refresh_post_insights").await;
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");

    // Facebook posts: views, reach, clicks, and reactions by type with their total.
    let fb_post: String = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::post_insights::dsl as i;
            i::post_insights
                .filter(i::metric.eq("post_media_view"))
                .select(i::post_id)
                .first(c)
                .unwrap()
        })
        .await;
    let like = value(&app, &fb_post, "post_reactions_by_type_total.like").await;
    let total = value(&app, &fb_post, "post_reactions_by_type_total").await;
    assert!(like.is_some() && total >= like, "{like:?} {total:?}");
    // Instagram: a reel has watch time, a story its navigation breakdown.
    assert!(
        count(
            &app,
            "SELECT count(*) AS n FROM post_insights WHERE metric = 'ig_reels_avg_watch_time'"
        )
        .await
            >= 1
    );
    assert!(value(&app, &live, "views").await.is_some());
    assert!(value(&app, &live, "navigation.tap_forward").await.is_some());
    assert_eq!(value(&app, &small, "views").await, None);
    let note: Option<String> = app
        .query(move |c| {
            use diesel::prelude::*;
            use parley::db::schema::comment_posts::dsl as p;
            p::comment_posts
                .filter(p::platform_post_id.eq(small))
                .select(p::insights_note)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(note.as_deref(), Some("too few viewers"));

    // Not one request named a metric Meta removed.
    let asked: Vec<String> = sandbox
        .world()
        .graph_requests()
        .into_iter()
        .filter_map(|r| r.metric)
        .flat_map(|m| m.split(',').map(String::from).collect::<Vec<_>>())
        .collect();
    assert!(!asked.is_empty());
    for m in &asked {
        assert!(
            !catalog::DEPRECATED.contains(&m.as_str()),
            "{m} was requested"
        );
    }

    // Again: the same rows rewritten, not added.
    let before = count(&app, "SELECT count(*) AS n FROM post_insights").await;
    let ch = app.channel_of(Platform::Instagram).await;
    app.query(move |c| parley::insights::posts::queue(c, ch.tenant_id, ch.id, false).unwrap())
        .await;
    assert!(
        app.run_queued_jobs("refresh_post_insights")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM post_insights").await,
        before
    );
}

#[tokio::test]
async fn a_story_keeps_its_final_figures_from_the_webhook_after_it_expires() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (tenant, ig) = connected(&app, &sandbox).await;
    let story = sandbox.post_story(&ig, "Today only", false);
    // The hourly poll reads it while it lives.
    app.query(|c| {
        let job = parley::jobs::scheduler::Periodic::named("poll_stories").unwrap();
        parley::jobs::queue::enqueue(c, &(job.make)()).unwrap()
    })
    .await;
    assert_eq!(app.run_queued_jobs("poll_stories").await, [Ok(())]);
    let polls = app.run_queued_jobs("refresh_post_insights").await;
    assert!(polls.iter().all(Result::is_ok), "{polls:?}");
    let reach = value(&app, &story, "reach").await;
    assert!(reach.is_some());

    // Its 24 hours end: Meta sends the final figures, and the story is gone from the API.
    assert!(sandbox.expire_story(&story).await);
    app.process_webhooks().await;
    let views = value(&app, &story, "views").await;
    assert!(views.is_some(), "the webhook's figures are kept");
    let exits = value(&app, &story, "navigation.tap_exit").await;
    assert!(exits.is_some());
    let ch = app.channel_of(Platform::Instagram).await;
    app.query(move |c| parley::insights::posts::queue(c, tenant, ch.id, true).unwrap())
        .await;
    let after = app.run_queued_jobs("refresh_post_insights").await;
    assert!(after.iter().all(Result::is_ok), "{after:?}");
    assert_eq!(
        value(&app, &story, "views").await,
        views,
        "kept after it is gone"
    );
}

#[tokio::test]
async fn analysts_rank_posts_open_one_and_download_the_list() {
    let (app, sandbox) = app_with_sandbox(2).await;
    connected(&app, &sandbox).await;
    assert!(
        app.run_queued_jobs("refresh_post_insights")
            .await
            .iter()
            .all(Result::is_ok)
    );
    let (mut analyst, _, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let (status, html) = analyst.page("/insights/posts?range=28&sort=reach").await;
    assert_eq!(status, 200, "{html}");
    let doc = HtmlPage::parse(&html);
    let rows = doc.count("#posts-table tbody tr");
    assert!(rows >= 3, "{rows} rows");
    // Sorted by reach, highest first ("no data" last).
    let reach_col = 4; // post, published, views, reach
    let values: Vec<Option<i64>> = doc
        .texts(&format!("#posts-table tbody tr td:nth-child({reach_col})"))
        .iter()
        .map(|t| t.trim().parse().ok())
        .collect();
    let known: Vec<i64> = values.iter().flatten().copied().collect();
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "{values:?}");

    let csv = analyst
        .get("/insights/posts.csv?range=28&sort=reach")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count() - 1,
        rows,
        "the CSV has the page's posts"
    );
    assert!(csv.starts_with("post_id,channel,type"));

    let first = html.split("href=\"/insights/posts/").nth(1).unwrap();
    let id: String = first.chars().take_while(char::is_ascii_digit).collect();
    let (status, detail) = analyst.page(&format!("/insights/posts/{id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("id=\"post-figures\""), "{detail}");
    let csv = analyst
        .get(&format!("/insights/posts/{id}.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("table,metric,day,value"));
    let latest = csv.lines().filter(|l| l.starts_with("\"latest\"")).count();
    assert_eq!(
        latest,
        HtmlPage::parse(&detail).count("#post-figures tbody tr")
            + csv
                .lines()
                .filter(|l| l.starts_with("\"latest\"") && l.contains('.'))
                .count(),
        "the figures the page lists, and the breakdowns it draws"
    );
    // A figure Meta does not report for a kind of post reads "no data", never 0.
    assert!(html.contains("no data"));

    // Another tenant's post is not found; agents have no insights.
    let (mut other, _, _) = app
        .signed_in("Globex", "an@globex.test", Role::Analyst)
        .await;
    assert_eq!(
        other.get(&format!("/insights/posts/{id}")).await.status(),
        404
    );
    let (mut agent, _, _) = app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    assert_eq!(agent.get("/insights/posts").await.status(), 403);
}

#[tokio::test]
async fn a_post_metric_meta_refuses_is_named_and_the_others_load() {
    let (app, sandbox) = app_with_sandbox(2).await;
    connected(&app, &sandbox).await;
    assert!(
        app.run_queued_jobs("refresh_post_insights")
            .await
            .iter()
            .all(Result::is_ok)
    );
    let page = app.channel_of(Platform::Messenger).await;
    let post: String = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::post_insights::dsl as i;
            i::post_insights
                .filter(i::metric.eq("post_clicks"))
                .select(i::post_id)
                .first(c)
                .unwrap()
        })
        .await;
    let token = parley::meta::AccessToken::new(
        sandbox
            .issue_token(meta_sandbox::IssueToken::Page {
                page_id: page.platform_id.clone(),
            })
            .unwrap(),
    );
    // Meta refuses the whole request, then the first two metrics asked alone.
    sandbox.inject_fault(
        meta_sandbox::Fault::new(
            format!("{post}/insights"),
            meta_sandbox::FaultKind::InvalidMetric,
        )
        .times(3),
    );
    let outcome =
        parley::insights::posts::refresh_post(&app.state, &page, &token, &post, Some("post"))
            .await
            .unwrap();
    assert!(
        matches!(outcome, parley::insights::posts::PostOutcome::Stored(n) if n > 0),
        "{outcome:?}"
    );
    let refused = count(&app, "SELECT count(*) AS n FROM insight_refusals").await;
    assert_eq!(refused, 2, "the two refused metrics are recorded");
    assert!(
        value(&app, &post, "post_clicks").await.is_some(),
        "the rest loaded"
    );
    let (mut analyst, _, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let (_, html) = analyst
        .page(&format!("/insights?channel={}", page.id))
        .await;
    assert!(html.contains("Meta no longer serves"), "{html}");
    assert!(html.contains("<code>post_media_view</code>"));
}

#[tokio::test]
async fn posts_rank_by_a_column_across_pages_with_posts_without_the_figure_last() {
    use chrono::{Duration, Utc};
    use diesel::prelude::*;
    use parley::db::ids::ChannelId;
    use parley::models::post_insights;

    let (app, sandbox) = app_with_sandbox(2).await;
    let (tenant, _) = connected(&app, &sandbox).await;
    let channel = ChannelId(app.channel_of(Platform::Instagram).await.id.0);
    let now = Utc::now();
    // Posts P1…P7 published 1…7 days ago; P8 60 days ago, outside 28 days.
    let posted = move |n: i64| now - Duration::days(if n == 8 { 60 } else { n });
    app.query(move |c| {
        for n in 1..=8 {
            diesel::sql_query(
                "INSERT INTO comment_posts (tenant_id, channel_id, platform_post_id, posted_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind::<diesel::sql_types::BigInt, _>(tenant.0)
            .bind::<diesel::sql_types::BigInt, _>(channel.0)
            .bind::<diesel::sql_types::Text, _>(format!("P{n}"))
            .bind::<diesel::sql_types::Timestamptz, _>(posted(n))
            .execute(c)
            .unwrap();
        }
        let today = now.date_naive();
        for (post, metric, value) in [
            ("P1", "reach", 10),
            ("P2", "reach", 50),
            ("P3", "reach", 30),
            ("P4", "reach", 50),
            // Facebook's name for reach fills the same column.
            ("P5", "post_total_media_view_unique", 20),
            ("P6", "likes", 7),
            ("P8", "reach", 999),
        ] {
            post_insights::record(c, tenant, channel, post, &[(metric.into(), value)], today)
                .unwrap();
        }
    })
    .await;
    let page = |offset: i64| {
        app.query(move |c| {
            let (posts, total) = post_insights::ranked(
                c,
                tenant,
                None,
                now - Duration::days(28),
                now,
                "reach",
                offset,
                3,
            )
            .unwrap();
            let ids: Vec<String> = posts.into_iter().map(|p| p.platform_post_id).collect();
            (ids, total)
        })
    };
    // Ties go to the newer post; posts without reach follow, newest first.
    assert_eq!(
        page(0).await,
        (vec!["P2".into(), "P4".into(), "P3".into()], 7)
    );
    assert_eq!(page(3).await.0, ["P5", "P1", "P6"]);
    assert_eq!(page(6).await.0, ["P7"]);
    assert!(page(9).await.0.is_empty());

    // A new figure re-ranks the post; a post re-dated into the range comes in with its rank;
    // a post saved after its figures is ranked too.
    app.query(move |c| {
        post_insights::record(c, tenant, channel, "P1", &[("reach".into(), 100)], now.date_naive())
            .unwrap();
        diesel::sql_query("UPDATE comment_posts SET posted_at = now() - interval '1 hour' WHERE platform_post_id = 'P8'")
            .execute(c)
            .unwrap();
        diesel::sql_query(
            "INSERT INTO post_insights (tenant_id, channel_id, post_id, metric, value)
             VALUES ($1, $2, 'P9', 'reach', 60)",
        )
        .bind::<diesel::sql_types::BigInt, _>(tenant.0)
        .bind::<diesel::sql_types::BigInt, _>(channel.0)
        .execute(c)
        .unwrap();
        diesel::sql_query(
            "INSERT INTO comment_posts (tenant_id, channel_id, platform_post_id, posted_at)
             VALUES ($1, $2, 'P9', now() - interval '2 hours')",
        )
        .bind::<diesel::sql_types::BigInt, _>(tenant.0)
        .bind::<diesel::sql_types::BigInt, _>(channel.0)
        .execute(c)
        .unwrap();
    })
    .await;
    assert_eq!(
        page(0).await,
        (vec!["P8".into(), "P1".into(), "P9".into()], 9)
    );
    // One channel's posts walk the channel's index the same way.
    let one = app
        .query(move |c| {
            post_insights::ranked(
                c,
                tenant,
                Some(channel),
                now - Duration::days(28),
                now,
                "reach",
                0,
                2,
            )
            .unwrap()
            .0
            .into_iter()
            .map(|p| p.platform_post_id)
            .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(one, ["P8", "P1"]);
}

#[tokio::test]
async fn the_databases_post_columns_are_the_pages_columns() {
    let (app, _sandbox) = app_with_sandbox(2).await;
    let mut stored: Vec<(String, String)> = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::post_columns::dsl as pc;
            pc::post_columns
                .select((pc::column_key, pc::metric))
                .load(c)
                .unwrap()
        })
        .await;
    stored.sort();
    let mut pages: Vec<(String, String)> = parley::web::pages::insights_posts::COLUMNS
        .iter()
        .flat_map(|c| c.metrics.iter().map(|m| (c.key.to_string(), m.to_string())))
        .collect();
    pages.sort();
    assert_eq!(stored, pages);
}
