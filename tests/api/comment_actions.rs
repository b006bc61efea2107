//! Moderation actions against the Meta sandbox: hide, unhide (from the log), delete and public
//! reply through the job queue, refusals before the call and by Meta, and the moderation log.

use parley::auth::Role;

use crate::comments::feed;
use crate::support::{HtmlPage, TestApp};

/// A moderator of a tenant with the sandbox's first Page connected, and a customer's comment
/// on its newest post as Meta has it (not yet delivered to Parley).
pub(crate) struct Moderated {
    pub app: TestApp,
    pub moderator: crate::support::Client,
    pub page_id: String,
    pub token: parley::meta::AccessToken,
    pub post: parley::meta::comments::FbPost,
    pub comment: parley::meta::comments::FbComment,
    /// Kept alive for the test's duration.
    pub _sandbox: meta_sandbox::Sandbox,
}

pub(crate) async fn moderated() -> Moderated {
    let (app, sandbox) = crate::support::app_with_sandbox(2).await;
    let (moderator, tenant, _) = app
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
    let graph = &app.state.graph;
    let post = graph.page_feed(&page_id, &token, None).await.unwrap().data[0].clone();
    let comment = graph
        .post_comments(&post.id, &token, &page_id, None)
        .await
        .unwrap()
        .data
        .into_iter()
        .find(|c| c.from.as_ref().is_some_and(|f| f.id != page_id))
        .expect("a customer's comment");
    Moderated {
        app,
        moderator,
        page_id,
        token,
        post,
        comment,
        _sandbox: sandbox,
    }
}

/// Parley's id of the comment Meta calls `platform_id`.
pub(crate) async fn row_id(app: &TestApp, platform_id: &str) -> i64 {
    let platform_id = platform_id.to_string();
    app.query(move |c| {
        use diesel::prelude::*;
        use parley::db::schema::comments::dsl as c_;
        c_::comments
            .filter(c_::platform_comment_id.eq(platform_id))
            .select(c_::id)
            .first::<i64>(c)
            .unwrap()
    })
    .await
}

/// The comment `id` as Meta lists it on `post`, if Meta still has it.
pub(crate) async fn at_meta(
    graph: &parley::meta::GraphClient,
    token: &parley::meta::AccessToken,
    page_id: &str,
    post: &str,
    id: &str,
) -> Option<parley::meta::comments::FbComment> {
    graph
        .post_comments(post, token, page_id, None)
        .await
        .unwrap()
        .data
        .into_iter()
        .find(|c| c.id == id)
}

#[tokio::test]
async fn hiding_goes_to_meta_through_the_queue_and_refusals_say_why() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        token,
        post,
        comment,
        _sandbox,
    } = moderated().await;
    let graph = &app.state.graph;
    let deliver = |id: &str| feed(&page_id, "add", id, &post.id, "Hello there", 1_700_000_000);
    app.post_webhook(&deliver(&comment.id)).await;
    app.post_webhook(&deliver("999_gone")).await;
    app.process_webhooks().await;
    let (_, html) = moderator.page("/comments?state=all").await;
    let page = HtmlPage::parse(&html);
    let ours = page.attrs("li.comment-row", "id");
    assert_eq!(ours.len(), 2, "{html}");
    let id_of = |platform_id: &str| {
        let platform_id = platform_id.to_string();
        app.query(move |c| {
            use diesel::prelude::*;
            use parley::db::schema::comments::dsl as c_;
            c_::comments
                .filter(c_::platform_comment_id.eq(platform_id))
                .select(c_::id)
                .first::<i64>(c)
                .unwrap()
        })
    };
    let (real, gone) = (id_of(&comment.id).await, id_of("999_gone").await);

    // Hide: pending at once, then done at Meta and in Parley.
    let res = moderator
        .post_form(&format!("/comments/{real}/hide"), &[("back", "state=all")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, pending) = moderator.page("/comments?state=all").await;
    assert!(
        HtmlPage::parse(&pending)
            .text(&format!("li#comment-{real} .chip-pending"))
            .is_some_and(|t| t.contains("hiding")),
        "{pending}"
    );
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].is_ok(), "{outcomes:?}");
    let hidden_at_meta = at_meta(graph, &token, &page_id, &post.id, &comment.id).await;
    assert_eq!(
        hidden_at_meta.unwrap().is_hidden,
        Some(true),
        "Meta has it hidden"
    );
    let (_, hidden) = moderator.page("/comments?state=hidden").await;
    assert_eq!(
        HtmlPage::parse(&hidden).count(&format!("li#comment-{real}")),
        1
    );

    // The log shows who hid it and Meta's answer; undoing it there unhides it at Meta.
    let (_, log) = moderator.page("/comments/audit").await;
    let log_page = HtmlPage::parse(&log);
    assert_eq!(log_page.texts("#audit tbody td.result"), ["done"]);
    let undo = moderator
        .post_form(&format!("/comments/{real}/unhide"), &[("to", "audit")])
        .await;
    assert_eq!(undo.headers()["location"], "/comments/audit");
    app.run_queued_jobs("moderate_comment").await;
    let (_, log) = moderator.page("/comments/audit?action=unhide").await;
    assert_eq!(
        HtmlPage::parse(&log).texts("#audit tbody td.result"),
        ["done"]
    );
    let shown_at_meta = at_meta(graph, &token, &page_id, &post.id, &comment.id).await;
    assert_eq!(
        shown_at_meta.unwrap().is_hidden,
        Some(false),
        "unhidden at Meta"
    );
    let csv = moderator
        .get("/comments/audit.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("time,who,action,result,reason,comment,author,text\n"));
    assert_eq!(csv.lines().count(), 3, "{csv}");
    moderator
        .post_form(&format!("/comments/{real}/hide"), &[("back", "")])
        .await;
    app.run_queued_jobs("moderate_comment").await;

    // Refused before any call: it is hidden already.
    moderator
        .post_form(&format!("/comments/{real}/hide"), &[("back", "")])
        .await;
    let (_, refused) = moderator.page("/comments").await;
    assert!(
        refused.contains("This comment is already hidden."),
        "{refused}"
    );
    let actions = crate::support::count(&app, "SELECT count(*) AS n FROM comment_actions").await;
    assert_eq!(actions, 3, "a refused request records no action");

    // Delete asks first, then removes the comment at Meta; it shows as deleted in Parley.
    let (status, confirm) = moderator
        .page(&format!("/comments/{real}/delete?back=state%3Dhidden"))
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("cannot be undone"), "{confirm}");
    let form = HtmlPage::parse(&confirm);
    assert_eq!(form.input_values("back"), ["state=hidden"]);
    let res = moderator
        .post_form(
            &format!("/comments/{real}/delete"),
            &[("back", "state=hidden")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/comments?state=hidden");
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let gone_at_meta = at_meta(graph, &token, &page_id, &post.id, &comment.id).await;
    assert!(gone_at_meta.is_none(), "deleted at Meta");
    let (_, deleted) = moderator.page("/comments?state=deleted").await;
    assert_eq!(
        HtmlPage::parse(&deleted).count(&format!("li#comment-{real}")),
        1
    );

    // Meta no longer has the comment (deleted there): it is marked deleted, not an error.
    moderator
        .post_form(&format!("/comments/{gone}/hide"), &[("back", "")])
        .await;
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let (_, failed) = moderator.page("/comments?state=deleted").await;
    let failed = HtmlPage::parse(&failed);
    let chip = failed
        .text(&format!("li#comment-{gone} .chip-failed"))
        .unwrap_or_default();
    assert!(
        chip.starts_with("hide failed: The comment no longer exists at Meta"),
        "{chip}"
    );
    assert_eq!(
        failed.count(&format!("li#comment-{gone}.deleted-comment")),
        1
    );
}

#[tokio::test]
async fn a_public_reply_is_posted_at_meta_and_a_refused_one_keeps_its_text() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        token,
        post,
        comment,
        _sandbox,
    } = moderated().await;
    let graph = &app.state.graph;
    app.post_webhook(&feed(
        &page_id,
        "add",
        &comment.id,
        &post.id,
        "Open Sunday?",
        1_700_000_000,
    ))
    .await;
    app.process_webhooks().await;
    let (_, html) = moderator.page("/comments").await;
    let id = HtmlPage::parse(&html).attrs("li.comment-row", "id")[0]
        .trim_start_matches("comment-")
        .to_string();

    // Too long: refused with the reason, and the text is still in the box.
    moderator.page(&format!("/comments/{id}/reply")).await;
    let long = "x".repeat(2001);
    let res = moderator
        .post_form(
            &format!("/comments/{id}/reply"),
            &[("message", &long), ("back", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = HtmlPage::parse(&res.text().await.unwrap());
    assert_eq!(
        page.text("#reply-error").as_deref(),
        Some("Replies are limited to 2000 characters.")
    );
    assert_eq!(
        page.text("textarea#reply-message").map(|t| t.len()),
        Some(2001)
    );

    // Sent: queued, then posted under the comment at Meta.
    let res = moderator
        .post_form(
            &format!("/comments/{id}/reply"),
            &[("message", "Yes, 10 to 4!"), ("back", "state=all")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/comments?state=all");
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let replies = graph
        .post_comments(&post.id, &token, &page_id, None)
        .await
        .unwrap()
        .data;
    assert!(
        replies
            .iter()
            .any(|r| r.message.as_deref() == Some("Yes, 10 to 4!")
                && r.parent.as_ref().is_some_and(|p| p.id == comment.id)),
        "the reply is under the comment at Meta"
    );
    let (_, after) = moderator.page("/comments?state=all").await;
    assert!(
        HtmlPage::parse(&after)
            .texts(&format!("li#comment-{id} .chip"))
            .contains(&"replied publicly".to_string()),
        "{after}"
    );
}

#[tokio::test]
async fn a_missing_permission_at_meta_fails_the_action_with_the_reason() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        post,
        comment,
        _sandbox: sandbox,
        ..
    } = moderated().await;
    app.post_webhook(&feed(
        &page_id,
        "add",
        &comment.id,
        &post.id,
        "Hi",
        1_700_000_000,
    ))
    .await;
    app.process_webhooks().await;
    let id = row_id(&app, &comment.id).await;
    sandbox.inject_fault(meta_sandbox::Fault {
        after: 0,
        path: comment.id.clone(),
        method: Some("POST".into()),
        count: 1,
        kind: meta_sandbox::FaultKind::MissingPermission {
            permission: "pages_manage_engagement".into(),
        },
    });
    moderator.page("/comments").await;
    moderator
        .post_form(&format!("/comments/{id}/hide"), &[("back", "state=all")])
        .await;
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let (_, html) = moderator.page("/comments?state=all").await;
    let page = HtmlPage::parse(&html);
    let chip = page
        .text(&format!("li#comment-{id} .chip-failed"))
        .unwrap_or_default();
    assert!(chip.starts_with("hide failed: "), "{chip}");
    assert!(chip.contains("pages_manage_engagement"), "{chip}");
    assert_eq!(
        page.count(&format!("li#comment-{id} .retry")),
        1,
        "it can be retried"
    );
}
