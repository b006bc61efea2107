//! Bulk moderation: chosen comments or every comment matching a filter, carried out by a job in
//! chunks with a result per comment (a partial failure shows which and why), a delete confirmed
//! with its count first.

use parley::auth::Role;
use parley::models::channels::Platform;

use crate::comment_actions::{Moderated, moderated, row_id};
use crate::comments::feed;
use crate::support::{HtmlPage, TestApp, count};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs bulk chunks, then the moderation jobs they queued.
async fn run_bulk(app: &TestApp) {
    for _ in 0..10 {
        app.run_queued_jobs("bulk_moderate").await;
        if count(
            app,
            "SELECT count(*) AS n FROM comment_bulk_runs WHERE state = 'running'",
        )
        .await
            == 0
        {
            break;
        }
    }
    app.run_queued_jobs("moderate_comment").await;
}

#[tokio::test]
async fn a_bulk_hide_reports_each_comment_and_a_partial_failure() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        post,
        comment,
        _sandbox,
        ..
    } = moderated().await;
    for (id, text) in [
        (comment.id.as_str(), "Buy followers"),
        ("999_gone", "Gone at Meta"),
        ("999_hidden", "Hidden already"),
    ] {
        app.post_webhook(&feed(&page_id, "add", id, &post.id, text, now()))
            .await;
    }
    app.post_webhook(&feed(
        &page_id,
        "hide",
        "999_hidden",
        &post.id,
        "Hidden already",
        now(),
    ))
    .await;
    app.process_webhooks().await;
    let ids = [
        row_id(&app, &comment.id).await,
        row_id(&app, "999_gone").await,
        row_id(&app, "999_hidden").await,
    ];
    let (_, html) = moderator.page("/comments?state=all").await;
    assert_eq!(
        HtmlPage::parse(&html).count("input[type=checkbox][form=bulk-form]"),
        3
    );
    let mut fields = vec![
        ("action", "hide".to_string()),
        ("scope", "chosen".into()),
        ("back", "state=all".into()),
    ];
    fields.extend(ids.iter().map(|id| ("ids", id.to_string())));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = moderator.post_form("/comments/bulk", &fields).await;
    assert_eq!(res.status(), 303);
    let progress = res.headers()["location"].to_str().unwrap().to_string();
    assert!(progress.starts_with("/comments/bulk/"), "{progress}");
    run_bulk(&app).await;

    let (status, html) = moderator.page(&progress).await;
    assert_eq!(status, 200);
    let page = HtmlPage::parse(&html);
    assert_eq!(
        page.text("#bulk-progress h2").as_deref(),
        Some("Hiding 3 comments: finished")
    );
    assert_eq!(page.text(".bulk-done").as_deref(), Some("1 done"));
    assert_eq!(page.text(".bulk-failed").as_deref(), Some("2 failed"));
    let reasons = page.texts("#bulk-failures .chip-failed");
    assert!(
        reasons
            .iter()
            .any(|r| r == "This comment is already hidden."),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("The comment no longer exists at Meta")),
        "{reasons:?}"
    );
    let hidden = count(&app, "SELECT count(*) AS n FROM comments WHERE hidden").await;
    assert_eq!(hidden, 2);
}

#[tokio::test]
async fn all_matching_comments_are_taken_in_chunks_and_a_delete_asks_with_the_count() {
    let app = TestApp::spawn().await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    for i in 0..450 {
        let text = if i % 3 == 0 { "spam offer" } else { "hello" };
        app.post_webhook(&feed(
            "P1",
            "add",
            &format!("P1_1_{i}"),
            "P1_1",
            text,
            now() - i,
        ))
        .await;
    }
    app.process_webhooks().await;

    // "Mark reviewed" on every comment matching a search: 150 of them, in chunks of 200.
    moderator.page("/comments").await;
    let res = moderator
        .post_form(
            "/comments/bulk",
            &[
                ("action", "reviewed"),
                ("scope", "matching"),
                ("back", "state=needs-review&q=spam"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    run_bulk(&app).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM comments WHERE reviewed_at IS NOT NULL"
        )
        .await,
        150
    );
    assert_eq!(
        count(&app, "SELECT taken::bigint AS n FROM comment_bulk_runs").await,
        150
    );

    // A delete of everything matching asks first, with the count; keeping them does nothing.
    let res = moderator
        .post_form(
            "/comments/bulk",
            &[
                ("action", "delete"),
                ("scope", "matching"),
                ("back", "state=needs-review"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let page = HtmlPage::parse(&html);
    assert_eq!(page.text("h1").as_deref(), Some("Delete 300 comments?"));
    assert_eq!(page.input_values("confirm"), ["1"]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM comment_bulk_runs").await,
        1
    );

    // Nothing selected: refused with a reason, back on the queue.
    let res = moderator
        .post_form(
            "/comments/bulk",
            &[
                ("action", "hide"),
                ("scope", "chosen"),
                ("back", "state=all"),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/comments?state=all");
    let (_, html) = moderator.page("/comments?state=all").await;
    assert!(html.contains("Select comments first"));

    // Another tenant cannot see the run.
    let (mut stranger, _, _) = app.signed_in("Other", "o@other.test", Role::Admin).await;
    let id = count(&app, "SELECT id AS n FROM comment_bulk_runs").await;
    assert_eq!(stranger.page(&format!("/comments/bulk/{id}")).await.0, 404);
}
