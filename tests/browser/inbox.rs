//! An agent works the inbox: a customer's message arrives live, the agent replies with the
//! keyboard, and the Meta sandbox receives the reply.

use std::time::Duration;

use chrono::Utc;
use fantoccini::Locator;
use meta_sandbox::{Channel, CustomerMessage};
use parley::auth::Role;

use crate::harness::{Browser, eventually};
use crate::support::{PASSWORD, app_with_sandbox, sandbox_customer};

/// Whether the open thread shows `text` within 10 s (it updates live, without a reload).
async fn thread_shows(c: &fantoccini::Client, text: &str) -> bool {
    eventually(10, || async {
        c.find(Locator::Id("thread"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains(text)
    })
    .await
}

#[tokio::test]
async fn an_agent_sees_a_message_arrive_live_and_replies() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (tenant, _) = app
        .create_user("Acme Support", "agent@acme.test", Role::Agent, PASSWORD)
        .await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let psid = sandbox_customer(&sandbox, Channel::Messenger, &page_id);
    sandbox
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - chrono::Duration::minutes(5)),
            ..CustomerMessage::text(psid.clone(), "Hi! Is the blue bike in stock?")
        })
        .await
        .unwrap();
    app.process_webhooks().await;

    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    browser
        .sign_in_at(&app.url("/inbox"), "agent@acme.test", PASSWORD)
        .await;
    c.wait()
        .for_element(Locator::Css(".conversation-row a"))
        .await
        .unwrap();
    browser.screenshot("inbox-list").await;
    c.find(Locator::Css(".conversation-row a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("reply-text"))
        .await
        .unwrap();
    let thread = c
        .find(Locator::Id("thread"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(thread.contains("Is the blue bike in stock?"), "{thread}");
    assert!(thread.contains("Window closes in 23 h"), "{thread}");

    // The customer writes again: the thread shows it without a reload.
    sandbox
        .customer_message(CustomerMessage::text(psid.clone(), "Size M please"))
        .await
        .unwrap();
    app.process_webhooks().await;
    let arrived = thread_shows(c, "Size M please").await;
    assert!(arrived, "the new message appeared live");
    browser.screenshot("inbox-live-message").await;

    // Reply with the keyboard: r focuses the composer, Ctrl+Enter sends.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("r")
        .await
        .unwrap();
    let reply = c.find(Locator::Id("reply-text")).await.unwrap();
    reply.send_keys("Yes, we have it in M!").await.unwrap();
    reply.send_keys("\u{E009}\u{E007}").await.unwrap(); // Control + Enter
    let sending = thread_shows(c, "Yes, we have it in M!").await;
    assert!(sending, "the reply shows at once");
    let outcomes = app.run_queued_jobs("send_message").await;
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(Result::is_ok),
        "{outcomes:?}"
    );
    let sent = sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient, psid);
    assert_eq!(sent[0].body["message"]["text"], "Yes, we have it in M!");
    // Echo and receipts come back; the tick updates live.
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.process_webhooks().await;
    let read = eventually(10, || async {
        c.find(Locator::Css(".message.outbound"))
            .await
            .ok()
            .map(|_| ())
            .is_some()
            && c.find(Locator::Css(".message.outbound[data-status=read]"))
                .await
                .is_ok()
    })
    .await;
    assert!(read, "the reply is shown as read");
    let composer = c
        .find(Locator::Id("reply-text"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(composer.as_deref(), Some(""), "the composer was cleared");
    browser.screenshot("inbox-replied").await;
    browser.close().await;
}
