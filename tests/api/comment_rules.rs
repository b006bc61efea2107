//! Auto-moderation rules through the app: saved from the form (refused ones keep what was
//! typed), tried on recent comments, run once per comment as webhooks arrive (never again on a
//! redelivery), acting at Meta through the queue, and shown on the comment and in the log.

use parley::auth::Role;
use parley::models::channels::Platform;

use crate::comment_actions::{Moderated, at_meta, moderated, row_id};
use crate::comments::feed;
use crate::support::{HtmlPage, TestApp, count};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_rule_hides_a_matching_comment_at_meta_once_even_when_redelivered() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        token,
        post,
        comment,
        _sandbox,
    } = moderated().await;
    moderator.page("/comments/rules/new").await;
    let res = moderator
        .post_form(
            "/comments/rules",
            &[
                ("name", "No freebies"),
                ("enabled", "on"),
                ("match", "any"),
                ("keywords", "free followers\ngiveaway"),
                ("action", "hide"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, rules) = moderator.page("/comments/rules").await;
    assert_eq!(
        HtmlPage::parse(&rules).texts("#rules-table tbody td:nth-child(2)"),
        ["No freebies"]
    );

    let body = feed(
        &page_id,
        "add",
        &comment.id,
        &post.id,
        "Get FREE   followers now!",
        now(),
    );
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    let actions = || {
        count(
            &app,
            "SELECT count(*) AS n FROM comment_actions WHERE rule_id IS NOT NULL",
        )
    };
    assert_eq!(actions().await, 1, "the rule asked for a hide");
    // Meta redelivers the same comment: the rule does not run again.
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    assert_eq!(actions().await, 1, "a redelivery runs no rule");

    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let at = at_meta(&app.state.graph, &token, &page_id, &post.id, &comment.id).await;
    assert_eq!(at.unwrap().is_hidden, Some(true), "hidden at Meta");

    let id = row_id(&app, &comment.id).await;
    let (_, queue) = moderator.page("/comments?state=hidden").await;
    let chips = HtmlPage::parse(&queue).texts(&format!("li#comment-{id} .chip"));
    assert!(
        chips.contains(&"rule: No freebies".to_string()),
        "{chips:?}"
    );
    let (_, log) = moderator.page("/comments/audit").await;
    let log = HtmlPage::parse(&log);
    assert_eq!(log.texts("#audit tbody td.result"), ["done"]);
    assert!(
        log.text("#audit tbody")
            .unwrap()
            .contains("rule: No freebies")
    );
}

#[tokio::test]
async fn the_first_matching_rule_acts_and_rules_can_be_switched_off_and_reordered() {
    let app = TestApp::spawn().await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    moderator.page("/comments/rules/new").await;
    for (name, words) in [
        ("Flag prices", "price"),
        ("Flag all questions", "price\nopen"),
    ] {
        moderator
            .post_form(
                "/comments/rules",
                &[
                    ("name", name),
                    ("enabled", "on"),
                    ("keywords", words),
                    ("action", "review"),
                ],
            )
            .await;
    }
    let rule_ids: Vec<i64> = {
        let (_, html) = moderator.page("/comments/rules").await;
        HtmlPage::parse(&html)
            .attrs("#rules-table tbody tr", "id")
            .iter()
            .map(|id| id.trim_start_matches("rule-").parse().unwrap())
            .collect()
    };
    let (first, second) = (rule_ids[0], rule_ids[1]);
    let deliver = |id: &str, text: &str| feed("P1", "add", id, "P1_1", text, now());
    app.post_webhook(&deliver("P1_1_a", "What price?")).await;
    app.process_webhooks().await;
    // The second rule goes first, the first is switched off: the next comment meets the second.
    moderator
        .post_form(&format!("/comments/rules/{second}/up"), &[])
        .await;
    moderator
        .post_form(&format!("/comments/rules/{first}/disable"), &[])
        .await;
    app.post_webhook(&deliver("P1_1_b", "price and are you open?"))
        .await;
    app.process_webhooks().await;
    let matched = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::comments::dsl as c_;
            c_::comments
                .order(c_::platform_comment_id)
                .select((c_::platform_comment_id, c_::rule_id))
                .load::<(String, Option<i64>)>(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        matched,
        [
            ("P1_1_a".to_string(), Some(first)),
            ("P1_1_b".to_string(), Some(second))
        ]
    );
    // "Mark for review" asks nothing of Meta; the comments wait in "needs review".
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM comment_actions").await,
        0
    );
    let (_, queue) = moderator.page("/comments").await;
    assert_eq!(HtmlPage::parse(&queue).count("li.comment-row"), 2);
}

#[tokio::test]
async fn a_dry_run_lists_what_would_match_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    for (id, text) in [
        ("P1_1_a", "Visit www.cheap-pills.biz"),
        ("P1_1_b", "Lovely coffee"),
        ("P1_1_c", "call me +44 20 7946 0958"),
    ] {
        app.post_webhook(&feed("P1", "add", id, "P1_1", text, now()))
            .await;
    }
    app.process_webhooks().await;
    moderator.page("/comments/rules/new").await;
    let res = moderator
        .post_form(
            "/comments/rules",
            &[
                ("name", "Contact spam"),
                ("has_link", "on"),
                ("has_phone", "on"),
                ("action", "hide"),
                ("intent", "dry-run"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = HtmlPage::parse(&res.text().await.unwrap());
    assert_eq!(
        page.text("#dry-run h2").as_deref(),
        Some("This rule would have matched 2 of the last 3 comments")
    );
    assert_eq!(page.count("#dry-run li.comment-row"), 2);
    assert_eq!(
        page.input_values("name"),
        ["Contact spam"],
        "the form keeps its fields"
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM moderation_rules").await,
        0,
        "a dry run saves nothing"
    );
}

#[tokio::test]
async fn a_refused_rule_comes_back_with_the_reason_and_what_was_typed() {
    let app = TestApp::spawn().await;
    let (mut moderator, _, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    moderator.page("/comments/rules/new").await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("name", "Slow"),
                ("pattern", "(a{1000}){1000}"),
                ("action", "hide"),
            ],
            "too complex",
        ),
        (
            &[
                ("name", "Broken"),
                ("pattern", "(unclosed"),
                ("action", "hide"),
            ],
            "not a valid regular expression",
        ),
        (
            &[
                ("name", "Everything"),
                ("platform", "instagram"),
                ("action", "delete"),
            ],
            "at least one condition on the comment",
        ),
        (
            &[
                ("name", "Answer"),
                ("keywords", "hours"),
                ("action", "private_reply"),
            ],
            "Choose a saved reply",
        ),
        (
            // Not a saved reply of this tenant (a forged id).
            &[
                ("name", "Forged"),
                ("keywords", "hours"),
                ("action", "reply"),
                ("saved_reply_id", "424242"),
            ],
            "Choose one of your saved replies.",
        ),
    ];
    for (fields, reason) in cases {
        let mut fields = fields.to_vec();
        fields.push(("intent", "save"));
        let res = moderator.post_form("/comments/rules", &fields).await;
        assert_eq!(res.status(), 422, "{fields:?}");
        let page = HtmlPage::parse(&res.text().await.unwrap());
        let error = page.text("#rule-error").unwrap_or_default();
        assert!(error.contains(reason), "{error} for {fields:?}");
        assert_eq!(page.input_values("name"), [fields[0].1]);
        if let Some((_, pattern)) = fields.iter().find(|(k, _)| *k == "pattern") {
            assert_eq!(page.input_values("pattern"), [*pattern]);
        }
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM moderation_rules").await,
        0
    );
}

#[tokio::test]
async fn rules_belong_to_their_tenant_and_only_moderators_and_admins_reach_them() {
    let app = TestApp::spawn().await;
    let (mut moderator, _, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    moderator.page("/comments/rules/new").await;
    moderator
        .post_form(
            "/comments/rules",
            &[
                ("name", "Mine"),
                ("keywords", "x"),
                ("action", "hide"),
                ("enabled", "on"),
            ],
        )
        .await;
    let id: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::moderation_rules::dsl as r;
            r::moderation_rules.select(r::id).first(c).unwrap()
        })
        .await;
    let (mut stranger, _, _) = app
        .signed_in("Other", "admin@other.test", Role::Admin)
        .await;
    assert_eq!(
        stranger.page(&format!("/comments/rules/{id}/edit")).await.0,
        404
    );
    assert_eq!(
        stranger
            .page(&format!("/comments/rules/{id}/delete"))
            .await
            .0,
        404
    );
    stranger.page("/comments/rules").await;
    for change in ["disable", "up", "delete"] {
        let res = stranger
            .post_form(&format!("/comments/rules/{id}/{change}"), &[])
            .await;
        assert_eq!(res.status(), 404, "{change}");
    }
    let res = stranger
        .post_form(
            &format!("/comments/rules/{id}"),
            &[("name", "Stolen"), ("keywords", "y"), ("action", "hide")],
        )
        .await;
    assert_eq!(res.status(), 404);
    let (_, list) = stranger.page("/comments/rules").await;
    assert!(!list.contains("Mine"));

    let (mut agent, _, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    assert_eq!(
        agent.page(&format!("/comments/rules/{id}/edit")).await.0,
        403
    );
    let res = agent
        .post_form(&format!("/comments/rules/{id}/delete"), &[])
        .await;
    assert_eq!(res.status(), 403);

    // The owner deletes it after confirming; its name stays intact until then.
    let (status, confirm) = moderator
        .page(&format!("/comments/rules/{id}/delete"))
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Delete the rule “Mine”?"));
    moderator
        .post_form(&format!("/comments/rules/{id}/delete"), &[])
        .await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM moderation_rules").await,
        0
    );
}
