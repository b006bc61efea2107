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
