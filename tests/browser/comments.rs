//! A moderator works the comments: writes a rule, sees a customer's spam arrive live and hidden
//! by it, undoes the hide from the moderation log, and answers the customer privately with the
//! keyboard; the Meta sandbox confirms each call.

use std::time::Duration;

use fantoccini::Locator;
use meta_sandbox::{Channel, CustomerEvent};
use parley::auth::Role;

use crate::harness::{Browser, eventually};
use crate::support::{PASSWORD, app_with_sandbox, sandbox_customer};

/// The text of the moderation queue as the page shows it now.
async fn queue_text(c: &fantoccini::Client) -> String {
    match c.find(Locator::Id("comment-queue")).await {
        Ok(el) => el.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Whether Meta (the sandbox) has the comment hidden.
async fn hidden_at_meta(app: &crate::support::TestApp, token: &str, page: &str, id: &str) -> bool {
    let token = parley::meta::AccessToken::new(token.to_string());
    let posts = app
        .state
        .graph
        .page_feed(page, &token, None)
        .await
        .unwrap()
        .data;
    for post in posts {
        let comments = app
            .state
            .graph
            .post_comments(&post.id, &token, page, None)
            .await
            .unwrap()
            .data;
        if let Some(c) = comments.into_iter().find(|c| c.id == id) {
            return c.is_hidden == Some(true);
        }
    }
    false
}

#[tokio::test]
async fn a_moderator_sees_spam_hidden_by_a_rule_undoes_it_and_replies_privately() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (tenant, _) = app
        .create_user("Acme", "mod@acme.test", Role::Moderator, PASSWORD)
        .await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let token = sandbox
        .issue_token(meta_sandbox::IssueToken::Page {
            page_id: page_id.clone(),
        })
        .unwrap();
    let customer = sandbox_customer(&sandbox, Channel::Messenger, &page_id);
    // Meta sends a Page's comments only to apps subscribed to its `feed`.
    app.state
        .graph
        .subscribe_page(
            &page_id,
            &parley::meta::AccessToken::new(token.clone()),
            &["messages", "message_echoes", "feed"],
        )
        .await
        .unwrap();

    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    browser
        .sign_in_at(&app.url("/comments/rules/new"), "mod@acme.test", PASSWORD)
        .await;
    // A rule, written in the form.
    c.wait()
        .for_element(Locator::Id("rule-name"))
        .await
        .unwrap();
    c.find(Locator::Id("rule-name"))
        .await
        .unwrap()
        .send_keys("Hide follower spam")
        .await
        .unwrap();
    c.find(Locator::Id("rule-keywords"))
        .await
        .unwrap()
        .send_keys("free followers")
        .await
        .unwrap();
    c.find(Locator::Css("button[value=save]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("rules-table"))
        .await
        .unwrap();

    // The queue is open when the spam arrives; it appears without a reload, hidden by the rule.
    c.goto(&app.url("/comments?state=all")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("comment-queue"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await; // the live stream connects
    let record = sandbox
        .customer_event(CustomerEvent::Comment {
            customer: customer.clone(),
            text: "Get FREE followers now at cheap-likes.biz".into(),
        })
        .await
        .unwrap();
    app.process_webhooks().await;
    let arrived = eventually(10, || async {
        queue_text(c).await.contains("rule: Hide follower spam")
    })
    .await;
    assert!(
        arrived,
        "the comment appeared live with its rule: {}",
        queue_text(c).await
    );
    browser.screenshot("comments-live-rule").await;
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(Result::is_ok),
        "{outcomes:?}"
    );
    assert!(
        hidden_at_meta(&app, &token, &page_id, &record.id).await,
        "hidden at Meta"
    );
    let shows_hidden = eventually(10, || async { queue_text(c).await.contains("hidden") }).await;
    assert!(
        shows_hidden,
        "the queue shows it hidden: {}",
        queue_text(c).await
    );

    // The moderator disagrees: Undo in the moderation log unhides it at Meta.
    c.goto(&app.url("/comments/audit")).await.unwrap();
    let log = c
        .find(Locator::Id("audit"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("rule: Hide follower spam"), "{log}");
    c.find(Locator::Css("#audit button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click's POST may still be on its way: run the queue until Meta has it unhidden.
    let unhidden = eventually(10, || async {
        let outcomes = app.run_queued_jobs("moderate_comment").await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        !hidden_at_meta(&app, &token, &page_id, &record.id).await
    })
    .await;
    assert!(unhidden, "unhidden at Meta");

    // And answers privately with the keyboard: j to the comment, p, type, Ctrl+Enter.
    c.goto(&app.url("/comments?state=all")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("li.comment-row"))
        .await
        .unwrap();
    let body = c.find(Locator::Css("body")).await.unwrap();
    body.send_keys("j").await.unwrap();
    // Keys go to the comment now in focus (sending them to <body> would move the focus back).
    c.active_element()
        .await
        .unwrap()
        .send_keys("p")
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("reply-message"))
        .await
        .unwrap();
    let reply = c.find(Locator::Id("reply-message")).await.unwrap();
    reply
        .send_keys("Hi! We've sent you the details here.")
        .await
        .unwrap();
    reply.send_keys("\u{E009}\u{E007}").await.unwrap(); // Control + Enter
    let back = eventually(10, || async {
        c.current_url().await.is_ok_and(|u| u.path() == "/comments")
    })
    .await;
    assert!(back, "back on the queue after sending");
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let private: Vec<_> = sandbox
        .sent_messages()
        .into_iter()
        .filter(|m| m.recipient == format!("comment:{}", record.id))
        .collect();
    assert_eq!(private.len(), 1, "Meta received the private reply");
    assert_eq!(
        private[0].body["message"]["text"],
        "Hi! We've sent you the details here."
    );
    c.goto(&app.url("/comments?state=all")).await.unwrap();
    let text = queue_text(c).await;
    assert!(text.contains("replied privately"), "{text}");
    browser.screenshot("comments-replied-privately").await;
    browser.close().await;
}
