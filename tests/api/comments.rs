//! The moderation queue: comments from webhooks, newest first and grouped by post, filtered by
//! state, channel and platform, paged, marked reviewed, and scoped to the tenant.

use parley::auth::Role;
use parley::models::channels::Platform;
use serde_json::json;

use crate::support::{HtmlPage, TestApp};

/// A Page `feed` comment change.
pub(crate) fn feed(page: &str, verb: &str, id: &str, post: &str, text: &str, ts: i64) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"object":"page","entry":[{"id":page,"time":1,"changes":[{
        "field":"feed","value":{"item":"comment","verb":verb,"comment_id":id,"post_id":post,
        "parent_id":post,"from":{"id":"U7","name":"Dana"},"message":text,"created_time":ts}}]}]}),
    )
    .unwrap()
}

/// The comment texts the queue shows, in page order.
fn texts(html: &str) -> Vec<String> {
    HtmlPage::parse(html).texts("#comment-queue li.comment-row .comment-text")
}

#[tokio::test]
async fn moderators_see_their_comments_by_state_and_mark_them_reviewed() {
    let app = TestApp::spawn().await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    let (_, other, _) = app
        .signed_in("Other", "admin@other.test", Role::Admin)
        .await;
    app.connect_channel(other, Platform::Messenger, "P2", None)
        .await;
    for body in [
        feed("P1", "add", "P1_1_a", "P1_1", "First!", 1_700_000_000),
        feed("P1", "add", "P1_1_b", "P1_1", "Spam link", 1_700_000_010),
        feed("P1", "hide", "P1_1_b", "P1_1", "Spam link", 1_700_000_011),
        feed(
            "P1",
            "add",
            "P1_2_c",
            "P1_2",
            "When do you open?",
            1_700_000_020,
        ),
        feed("P1", "add", "P1_2_d", "P1_2", "Rude", 1_700_000_030),
        feed("P1", "remove", "P1_2_d", "P1_2", "", 1_700_000_031),
        feed(
            "P2",
            "add",
            "P2_1_x",
            "P2_1",
            "Another tenant's",
            1_700_000_040,
        ),
    ] {
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    app.process_webhooks().await;

    // Needs review: live customer comments, newest first, grouped by post; nothing of others.
    let (status, html) = moderator.page("/comments").await;
    assert_eq!(status, 200);
    assert_eq!(texts(&html), ["When do you open?", "Spam link", "First!"]);
    let page = HtmlPage::parse(&html);
    assert_eq!(page.count("#comment-queue article.post-group"), 2);
    let (_, hidden) = moderator.page("/comments?state=hidden").await;
    assert_eq!(texts(&hidden), ["Spam link"]);
    let (_, deleted) = moderator.page("/comments?state=deleted").await;
    assert_eq!(texts(&deleted), ["Rude"]);
    let (_, instagram) = moderator
        .page("/comments?state=all&platform=instagram")
        .await;
    assert!(texts(&instagram).is_empty());
    assert!(instagram.contains("Nothing to moderate here"));

    // The navigation badge counts what needs review (loaded by htmx).
    assert!(html.contains("hx-get=\"/comments/count\""));
    let badge = moderator.get("/comments/count").await.text().await.unwrap();
    assert_eq!(badge, "3");

    // Reviewed, without JavaScript: back to the same view, and out of the queue.
    let id = page.attrs("li.comment-row", "id")[0]
        .trim_start_matches("comment-")
        .to_string();
    let res = moderator
        .post_form(
            &format!("/comments/{id}/reviewed"),
            &[("back", "state=needs-review&platform=messenger")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/comments?state=needs-review&platform=messenger"
    );
    let (_, after) = moderator.page("/comments").await;
    assert_eq!(texts(&after), ["Spam link", "First!"]);
    assert_eq!(
        moderator.get("/comments/count").await.text().await.unwrap(),
        "2"
    );
    let (_, all) = moderator.page("/comments?state=all").await;
    assert_eq!(
        HtmlPage::parse(&all).count(&format!("li#comment-{id} .chip")),
        1
    );

    // Another tenant's comment cannot be marked: it does not exist for this moderator.
    let foreign = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::comments::dsl as c_;
            c_::comments
                .filter(c_::platform_comment_id.eq("P2_1_x"))
                .select(c_::id)
                .first::<i64>(c)
                .unwrap()
        })
        .await;
    let res = moderator
        .post_form(&format!("/comments/{foreign}/reviewed"), &[("back", "")])
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_queue_pages_by_keyset_and_htmx_removes_a_reviewed_row() {
    let app = TestApp::spawn().await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    for i in 0..60 {
        let body = feed(
            "P1",
            "add",
            &format!("P1_1_{i}"),
            "P1_1",
            &format!("comment {i}"),
            1_700_000_000 + i,
        );
        app.post_webhook(&body).await;
    }
    app.process_webhooks().await;
    let (_, first) = admin.page("/comments").await;
    assert_eq!(texts(&first).len(), 50);
    assert_eq!(texts(&first)[0], "comment 59");
    let older = HtmlPage::parse(&first)
        .attrs("a.button[href*='after=']", "href")
        .remove(0);
    let (_, second) = admin.page(&older).await;
    let rest = texts(&second);
    assert_eq!(rest.len(), 10);
    assert_eq!(rest.last().map(String::as_str), Some("comment 0"));
    assert!(HtmlPage::parse(&second).count("a.button[href*='after=']") == 0);

    let id = HtmlPage::parse(&first).attrs("li.comment-row", "id")[0]
        .trim_start_matches("comment-")
        .to_string();
    let res = admin
        .post_form_htmx(&format!("/comments/{id}/reviewed"), &[("back", "")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        "",
        "the row is swapped for nothing"
    );
}

#[tokio::test]
async fn the_queue_filters_by_answer_question_date_post_and_search() {
    let app = TestApp::spawn().await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    let day = 86_400;
    let t0 = 1_764_547_200; // 2025-12-01 00:00 UTC
    let page_reply = serde_json::to_vec(&json!({"object":"page","entry":[{"id":"P1","time":1,"changes":[{
        "field":"feed","value":{"item":"comment","verb":"add","comment_id":"P1_1_r","post_id":"P1_1",
        "parent_id":"P1_1_a","from":{"id":"P1","name":"Acme"},"message":"Yes we are!","created_time":t0 + 3 * day}}]}]}))
    .unwrap();
    for body in [
        feed("P1", "add", "P1_1_a", "P1_1", "Are you open Sunday?", t0),
        feed("P1", "add", "P1_1_b", "P1_1", "Great latte", t0 + day),
        feed(
            "P1",
            "add",
            "P1_2_c",
            "P1_2",
            "¿Tienen leche de avena？",
            t0 + 2 * day,
        ),
        feed(
            "P1",
            "add",
            "P1_2_d",
            "P1_2",
            "Free followers at spam.biz",
            t0 + 4 * day,
        ),
        page_reply,
    ] {
        app.post_webhook(&body).await;
    }
    app.process_webhooks().await;
    let shown = |path: &'static str| {
        let mut client = app.copy_of(&moderator);
        async move { texts(&client.page(path).await.1) }
    };
    assert_eq!(
        shown("/comments?state=all&unanswered=1").await,
        [
            "Free followers at spam.biz",
            "¿Tienen leche de avena？",
            "Great latte"
        ]
    );
    assert_eq!(
        shown("/comments?state=replied").await,
        ["Are you open Sunday?"]
    );
    assert_eq!(
        shown("/comments?state=all&question=1").await,
        ["¿Tienen leche de avena？", "Are you open Sunday?"]
    );
    assert_eq!(
        shown("/comments?state=all&from=2025-12-02&to=2025-12-03").await,
        ["¿Tienen leche de avena？", "Great latte"]
    );
    assert_eq!(
        shown("/comments?state=all&post=P1_2").await,
        ["Free followers at spam.biz", "¿Tienen leche de avena？"]
    );
    assert_eq!(shown("/comments?state=all&q=lat").await, ["Great latte"]);
    assert_eq!(
        shown("/comments?state=all&q=acme+yes").await,
        ["Yes we are!"]
    );
    assert!(shown("/comments?state=all&q=nothing").await.is_empty());
    // The filters stay in the form and in the state tabs.
    let (_, html) = moderator
        .page("/comments?state=all&unanswered=1&q=latte&from=2025-12-01")
        .await;
    let page = HtmlPage::parse(&html);
    assert_eq!(page.input_values("q"), ["latte"]);
    assert_eq!(page.input_values("from"), ["2025-12-01"]);
    let tab = page.attrs("nav.tabs a", "href")[0].clone();
    assert!(
        tab.contains("unanswered=1") && tab.contains("q=latte"),
        "{tab}"
    );
}

#[tokio::test]
async fn new_comments_reach_an_open_moderation_page_live() {
    let app = TestApp::spawn().await;
    let (moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    let since = chrono::Utc::now().timestamp_millis();
    let mut stream = moderator
        .http
        .get(format!("{}/comments/live?since={since}", moderator.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let (_, html) = app.copy_of(&moderator).page("/comments").await;
    let page = HtmlPage::parse(&html);
    assert_eq!(page.attrs("[sse-connect]", "sse-connect").len(), 1);
    assert_eq!(
        page.attrs("#comment-queue", "hx-trigger"),
        ["sse:comments throttle:1s, sse:resync"]
    );

    app.post_webhook(&feed("P1", "add", "P1_1_a", "P1_1", "Live!", 1_700_000_000))
        .await;
    app.process_webhooks().await;
    let id = crate::comment_actions::row_id(&app, "P1_1_a").await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(&format!("event: m{id}")) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(&format!("event: comments\ndata: {id}")));

    // Agents and analysts have no moderation stream.
    let (agent, _, _) = app.signed_in("Acme", "a@acme.test", Role::Agent).await;
    let res = agent
        .http
        .get(format!("{}/comments/live", agent.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_hide_can_be_undone_before_it_reaches_meta() {
    let app = TestApp::spawn().await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    app.post_webhook(&feed("P1", "add", "P1_1_a", "P1_1", "Oops", 1_700_000_000))
        .await;
    app.process_webhooks().await;
    let id = crate::comment_actions::row_id(&app, "P1_1_a").await;
    moderator.page("/comments").await;
    let res = moderator
        .post_form(&format!("/comments/{id}/hide"), &[("back", "state=all")])
        .await;
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(back, format!("/comments?state=all&undo={id}"));
    let (_, html) = moderator.page(&back).await;
    let page = HtmlPage::parse(&html);
    assert_eq!(
        page.attrs("#undo-bar form", "action"),
        [format!("/comments/{id}/undo")]
    );
    moderator
        .post_form(&format!("/comments/{id}/undo"), &[("back", "state=all")])
        .await;
    let (_, html) = moderator.page("/comments?state=all").await;
    assert!(html.contains("Hide undone."));
    let chip = HtmlPage::parse(&html)
        .text(&format!("li#comment-{id} .chip-failed"))
        .unwrap_or_default();
    assert_eq!(chip, "hide failed: Undone before it reached Meta.");
    // The queued job finds nothing to do: Meta is never asked.
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert_eq!(outcomes, [Ok(())]);
    assert_eq!(
        crate::support::count(&app, "SELECT count(*) AS n FROM comments WHERE hidden").await,
        0
    );
}

#[tokio::test]
async fn every_comment_route_checks_the_role_and_the_tenant() {
    let app = TestApp::spawn().await;
    let (_, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    let channel = app
        .connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    app.post_webhook(&feed("P1", "add", "P1_1_a", "P1_1", "Hi", 1_700_000_000))
        .await;
    app.process_webhooks().await;
    let id = crate::comment_actions::row_id(&app, "P1_1_a").await;
    let posts = [
        format!("/comments/{id}/hide"),
        format!("/comments/{id}/unhide"),
        format!("/comments/{id}/delete"),
        format!("/comments/{id}/like"),
        format!("/comments/{id}/reviewed"),
        format!("/comments/{id}/reply"),
        format!("/comments/{id}/private-reply"),
        format!("/comments/{id}/undo"),
        format!("/comments/sync/{}", channel.id),
    ];
    let gets = [
        format!("/comments/{id}/reply"),
        format!("/comments/{id}/private-reply"),
        format!("/comments/{id}/delete"),
        "/comments/count".to_string(),
        "/comments/sync".to_string(),
    ];
    for role in [Role::Agent, Role::Analyst] {
        let (mut other, _, _) = app
            .signed_in("Acme", &format!("{}@acme.test", role.as_str()), role)
            .await;
        for path in &posts {
            let res = other
                .post_form(path, &[("message", "x"), ("back", "")])
                .await;
            assert_eq!(res.status(), 403, "{role} POST {path}");
        }
        let res = other
            .post_form(
                "/comments/bulk",
                &[
                    ("action", "hide"),
                    ("scope", "chosen"),
                    ("ids", &id.to_string()),
                ],
            )
            .await;
        assert_eq!(res.status(), 403, "{role} bulk");
        for path in &gets {
            assert_eq!(other.get(path).await.status(), 403, "{role} GET {path}");
        }
    }
    // A moderator of another tenant finds nothing of Acme's.
    let (mut stranger, _, _) = app
        .signed_in("Other", "mod@other.test", Role::Moderator)
        .await;
    stranger.page("/comments").await;
    for path in &posts {
        let res = stranger
            .post_form(path, &[("message", "x"), ("back", "")])
            .await;
        assert_eq!(res.status(), 404, "stranger POST {path}");
    }
    for path in &gets[..3] {
        assert_eq!(
            stranger.get(path).await.status(),
            404,
            "stranger GET {path}"
        );
    }
    stranger
        .post_form(
            "/comments/bulk",
            &[
                ("action", "hide"),
                ("scope", "chosen"),
                ("ids", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(
        crate::support::count(&app, "SELECT count(*) AS n FROM comment_actions").await,
        0,
        "nothing was asked of Meta for Acme's comment"
    );
}
