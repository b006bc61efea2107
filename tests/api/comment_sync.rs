//! Backfill against the sandbox: connecting a Page reads its recent posts and their comments
//! (one row per comment, whether a webhook brought it first or not), a failure mid-way resumes
//! where it stopped, the "Sync" button and the periodic re-sync start at most one sync per
//! channel, and a webhook naming an unknown post fetches the post's details.

use parley::auth::Role;

use crate::comments::feed;
use crate::support::{HtmlPage, TestApp, count};

/// Runs the sync jobs (each run reads one page of posts and queues the next) until none is
/// running; returns every run's outcome.
async fn run_syncs(app: &TestApp) -> Vec<Result<(), String>> {
    let mut outcomes = Vec::new();
    for _ in 0..10 {
        outcomes.extend(app.run_queued_jobs("sync_comments").await);
        let running = count(
            app,
            "SELECT count(*) AS n FROM comment_syncs WHERE state = 'running'",
        )
        .await;
        if running == 0 {
            break;
        }
    }
    outcomes
}

/// Every comment Meta has on the Page's posts (all levels).
async fn at_meta(app: &TestApp, sandbox: &meta_sandbox::Sandbox, page_id: &str) -> Vec<String> {
    let token = parley::meta::AccessToken::new(
        sandbox
            .issue_token(meta_sandbox::IssueToken::Page {
                page_id: page_id.to_string(),
            })
            .unwrap(),
    );
    let graph = &app.state.graph;
    let mut ids = Vec::new();
    for post in graph.page_feed(page_id, &token, None).await.unwrap().data {
        for c in graph
            .post_comments(&post.id, &token, page_id, None)
            .await
            .unwrap()
            .data
        {
            ids.push(c.id);
        }
    }
    ids.sort();
    ids
}

#[tokio::test]
async fn connecting_a_page_backfills_its_comments_once_even_with_webhooks_and_resumes_after_a_failure()
 {
    let (app, sandbox) = crate::support::app_with_sandbox(2).await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let expected = at_meta(&app, &sandbox, &page_id).await;
    assert!(expected.len() >= 3, "{expected:?}");

    // A webhook brings one comment before the sync reads it.
    let first = expected[0].clone();
    let posts = app
        .state
        .graph
        .page_feed(
            &page_id,
            &parley::meta::AccessToken::new(
                sandbox
                    .issue_token(meta_sandbox::IssueToken::Page {
                        page_id: page_id.clone(),
                    })
                    .unwrap(),
            ),
            None,
        )
        .await
        .unwrap()
        .data;
    app.post_webhook(&feed(
        &page_id,
        "add",
        &first,
        &posts[0].id,
        "Hi",
        1_700_000_000,
    ))
    .await;
    app.process_webhooks().await;

    // The second post's comments fail (Meta's 500, through the client's own retries): the run
    // stops after the first post.
    sandbox.inject_fault(meta_sandbox::Fault {
        after: 0,
        path: format!("{}/comments", posts[1].id),
        method: Some("GET".into()),
        count: 3,
        kind: meta_sandbox::FaultKind::ServerError {
            status: 500,
            json: true,
        },
    });
    let outcomes = app.run_queued_jobs("sync_comments").await;
    assert!(outcomes.iter().any(Result::is_err), "{outcomes:?}");
    let done_before = count(&app, "SELECT posts_done::bigint AS n FROM comment_syncs").await;
    assert_eq!(done_before, 1, "the first post is saved before the failure");
    let (_, page) = moderator.page("/comments").await;
    let line = HtmlPage::parse(&page)
        .text("#comment-sync .sync-progress")
        .unwrap();
    assert!(line.starts_with("Syncing: 1 of "), "{line}");
    // While it runs, the Sync button is not offered and a second start is refused.
    assert_eq!(HtmlPage::parse(&page).count("#comment-sync form"), 0);

    let outcomes = run_syncs(&app).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let stored: Vec<String> = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::comments::dsl as c_;
            c_::comments
                .order(c_::platform_comment_id)
                .select(c_::platform_comment_id)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        stored, expected,
        "every comment once, the webhook's included"
    );
    let (posts_done, comments_found) = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::comment_syncs::dsl as s;
            s::comment_syncs
                .select((s::posts_done, s::comments_found))
                .first::<(i32, i32)>(c)
                .unwrap()
        })
        .await;
    assert_eq!(posts_done as usize, posts.len());
    assert_eq!(comments_found as usize, expected.len());

    // The queue shows each post's caption, picture and link above its comments.
    let (_, html) = moderator.page("/comments?state=all").await;
    let page = HtmlPage::parse(&html);
    let captions = page.texts(".post-group .post-caption");
    assert!(
        captions
            .iter()
            .any(|c| c.starts_with("Our autumn blend is here")),
        "{captions:?}"
    );
    assert!(!page.attrs(".post-group img.post-thumb", "src").is_empty());
    let line = page.text("#comment-sync .sync-progress").unwrap();
    assert!(line.starts_with("Synced "), "{line}");
    assert!(
        line.ends_with(&format!(
            "{} posts, {} comments.",
            posts.len(),
            expected.len()
        )),
        "{line}"
    );

    // "Sync" starts another one; a second click while it runs is refused politely.
    let channel = app.first_channel_id().await;
    moderator
        .post_form(&format!("/comments/sync/{channel}"), &[])
        .await;
    moderator
        .post_form(&format!("/comments/sync/{channel}"), &[])
        .await;
    let (_, html) = moderator.page("/comments").await;
    assert!(html.contains("A sync of this channel is already running."));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM comment_syncs").await,
        2
    );
    run_syncs(&app).await;
    let rows = count(&app, "SELECT count(*) AS n FROM comments").await;
    assert_eq!(
        rows as usize,
        expected.len(),
        "a second sync adds no duplicates"
    );
}

#[tokio::test]
async fn the_periodic_resync_starts_one_sync_per_page_and_instagram_account() {
    let app = TestApp::spawn().await;
    let (_, tenant, _) = app.signed_in("Acme", "a@acme.test", Role::Admin).await;
    for (platform, id) in [
        (parley::models::channels::Platform::Messenger, "P1"),
        (parley::models::channels::Platform::Instagram, "IG1"),
        (parley::models::channels::Platform::Whatsapp, "W1"),
    ] {
        app.connect_channel(tenant, platform, id, Some("WABA1").filter(|_| id == "W1"))
            .await;
    }
    // Connecting started a backfill of the Page and the Instagram account, not of WhatsApp.
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM comment_syncs").await,
        2
    );
    app.query(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE comment_syncs SET state = 'done'")
            .execute(c)
            .unwrap()
    })
    .await;
    app.query(|c| {
        let job = parley::jobs::scheduler::Periodic::named("resync_comments").unwrap();
        parley::jobs::queue::enqueue(c, &(job.make)()).unwrap()
    })
    .await;
    let outcomes = app.run_queued_jobs("resync_comments").await;
    assert_eq!(outcomes, [Ok(())]);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM comment_syncs WHERE state = 'running'"
        )
        .await,
        2
    );
    // Run again while those run: nothing new starts.
    app.run_queued_jobs("resync_comments").await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM comment_syncs").await,
        4
    );
}

#[tokio::test]
async fn a_comment_on_an_unknown_post_fetches_the_posts_details_once() {
    let (app, sandbox) = crate::support::app_with_sandbox(2).await;
    let (_, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let token = parley::meta::AccessToken::new(
        sandbox
            .issue_token(meta_sandbox::IssueToken::Page {
                page_id: page_id.clone(),
            })
            .unwrap(),
    );
    let post = app
        .state
        .graph
        .page_feed(&page_id, &token, None)
        .await
        .unwrap()
        .data[0]
        .clone();
    for id in ["c1", "c2"] {
        app.post_webhook(&feed(&page_id, "add", id, &post.id, "Hello", 1_700_000_000))
            .await;
    }
    app.process_webhooks().await;
    let outcomes = app.run_queued_jobs("fetch_comment_post").await;
    assert_eq!(outcomes, [Ok(())], "one fetch for the two comments");
    let caption: Option<String> = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::comment_posts::dsl as p;
            p::comment_posts.select(p::caption).first(c).unwrap()
        })
        .await;
    assert_eq!(caption, post.message);
}
