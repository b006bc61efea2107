//! An admin connects channels through the wizard in a real browser, against the Meta sandbox.

use fantoccini::Locator;
use parley::auth::Role;

use crate::harness::Browser;
use crate::support::{PASSWORD, app_with_sandbox};

#[tokio::test]
async fn an_admin_clicks_through_the_wizard_and_sees_the_connected_channels() {
    let (app, sandbox) = app_with_sandbox(3).await;
    app.create_user("Acme Support", "admin@acme.test", Role::Admin, PASSWORD)
        .await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;

    browser
        .sign_in_at(&app.url("/channels"), "admin@acme.test", PASSWORD)
        .await;
    let empty = c
        .wait()
        .for_element(Locator::Css(".inline-empty"))
        .await
        .unwrap();
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains("No channels connected")
    );

    // Step 1: Meta's dialog (the sandbox), listing what will be shared.
    c.find(Locator::Id("connect-meta"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let continue_button = c
        .wait()
        .for_element(Locator::Css("button[value=continue]"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&sandbox.url())
    );
    let dialog = c.source().await.unwrap();
    assert!(dialog.contains("Acme Coffee"));
    browser.screenshot("connect-dialog").await;
    continue_button.click().await.unwrap();

    // Step 2: choose (everything is ticked); untick the third Page.
    c.wait()
        .for_element(Locator::Id("select-form"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/channels/connect/select/")
    );
    let boxes = c.find_all(Locator::Css("input[name=page]")).await.unwrap();
    assert_eq!(boxes.len(), 3);
    boxes[2].click().await.unwrap();
    browser.screenshot("connect-select").await;
    c.find(Locator::Css("#select-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Step 3: back on Channels with the connected channels listed.
    let list = c
        .wait()
        .for_element(Locator::Id("channel-list"))
        .await
        .unwrap();
    let text = list.text().await.unwrap();
    assert!(
        text.contains("Acme Coffee") && text.contains("Acme Bikes"),
        "{text}"
    );
    assert!(
        !text.contains("Acme Store 3"),
        "the unticked Page was not connected"
    );
    assert!(text.contains("@acmecoffee"));
    let toast = c
        .find(Locator::Css(".toast-success"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(toast.starts_with("Connected:"), "{toast}");
    browser.screenshot("channels-connected").await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_connects_an_instagram_account_without_a_page_and_answers_its_history() {
    let (app, sandbox) = crate::support::app_with_instagram_login(3, &[]).await;
    app.create_user("Acme Support", "admin@acme.test", Role::Admin, PASSWORD)
        .await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    browser
        .sign_in_at(&app.url("/channels"), "admin@acme.test", PASSWORD)
        .await;

    // Instagram's window (the sandbox): log in as the account without a Page.
    c.find(Locator::Id("connect-instagram"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let allow = c
        .wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .unwrap();
    let window = c.source().await.unwrap();
    assert!(window.contains("@acme.studio") && window.contains("no Facebook Page"));
    browser.screenshot("connect-instagram-window").await;
    allow.click().await.unwrap();

    // Back on the Channels page: connected, its history being imported.
    let row = c
        .wait()
        .for_element(Locator::Css("#channel-list .history-import"))
        .await
        .unwrap();
    assert!(
        row.text()
            .await
            .unwrap()
            .contains("Importing recent conversations")
    );
    let page = c.source().await.unwrap();
    assert!(page.contains("Through Instagram Login (no Facebook Page)"));
    let outcomes = app.run_queued_jobs("import_history").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    c.refresh().await.unwrap();
    let row = c
        .wait()
        .for_element(Locator::Css("#channel-list .history-import"))
        .await
        .unwrap();
    assert!(
        row.text()
            .await
            .unwrap()
            .contains("History imported: 3 conversations"),
        "{}",
        row.text().await.unwrap()
    );
    browser.screenshot("connect-instagram-imported").await;

    // The imported conversation is in the inbox, read, with Meta's limit said; answer it.
    let ines = sandbox
        .world()
        .seed()
        .customers
        .iter()
        .find(|x| x.account_id == meta_sandbox::STUDIO_IG_ID)
        .unwrap()
        .id
        .clone();
    let conversation: i64 = app
        .query(move |conn| {
            use diesel::prelude::*;
            use parley::db::schema::{contacts as ct, conversations as cv};
            cv::table
                .inner_join(ct::table.on(ct::id.eq(cv::contact_id)))
                .filter(ct::platform_user_id.eq(ines))
                .select(cv::id)
                .first(conn)
                .unwrap()
        })
        .await;
    c.goto(&app.url(&format!("/inbox/{conversation}")))
        .await
        .unwrap();
    let limit = c
        .wait()
        .for_element(Locator::Id("history-limit"))
        .await
        .unwrap();
    assert!(
        limit
            .text()
            .await
            .unwrap()
            .contains("not available from Meta")
    );
    let reply = c.find(Locator::Id("reply-text")).await.unwrap();
    reply.send_keys("Thanks for your patience!").await.unwrap();
    reply.send_keys("\u{E009}\u{E007}").await.unwrap(); // Control + Enter
    let shown = crate::harness::eventually(10, || async {
        c.source()
            .await
            .is_ok_and(|s| s.contains("Thanks for your patience!"))
    })
    .await;
    assert!(shown, "the reply shows at once");
    // Writing asked Meta to show "typing…" to the customer.
    let typing: i64 = app
        .query(|conn| {
            use diesel::prelude::*;
            parley::db::schema::jobs::table
                .filter(parley::db::schema::jobs::kind.eq("send_signal"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(
        typing, 1,
        "one typing signal however many keys were pressed"
    );
    let outcomes = app.run_queued_jobs("send_message").await;
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(Result::is_ok),
        "{outcomes:?}"
    );
    let sent = sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].path.starts_with("/ig-graph/"), "{}", sent[0].path);
    browser.screenshot("inbox-instagram-login-reply").await;
    browser.close().await;
}
