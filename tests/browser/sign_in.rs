//! A person signs in and finds their way around.

use fantoccini::Locator;
use parley::auth::Role;

use crate::harness::Browser;
use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn an_admin_signs_in_sees_the_navigation_and_adds_a_teammate() {
    let app = TestApp::spawn().await;
    app.create_user("Acme Support", "admin@acme.test", Role::Admin, PASSWORD)
        .await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;

    c.goto(&app.url("/team")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("admin@acme.test")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    c.wait()
        .for_element(Locator::Css("nav.rail"))
        .await
        .unwrap();
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/team",
        "back to the page asked for"
    );
    let nav = c
        .find(Locator::Css("nav.rail"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for label in [
        "Inbox",
        "Comments",
        "Insights",
        "Templates",
        "Channels",
        "Team",
    ] {
        assert!(nav.contains(label), "navigation shows {label}: {nav}");
    }
    let top = c
        .find(Locator::Css("header.topbar"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        top.contains("Acme Support") && top.contains("Sign out"),
        "{top}"
    );

    // Add a teammate with the keyboard-friendly form; a mistake keeps what was typed.
    c.find(Locator::Id("display_name"))
        .await
        .unwrap()
        .send_keys("Bea Agent")
        .await
        .unwrap();
    c.find(Locator::Id("new-email"))
        .await
        .unwrap()
        .send_keys("bea@acme.test")
        .await
        .unwrap();
    c.find(Locator::Id("new-password"))
        .await
        .unwrap()
        .send_keys("short")
        .await
        .unwrap();
    c.find(Locator::Css("#add-member button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = c
        .wait()
        .for_element(Locator::Css(".field-error"))
        .await
        .unwrap();
    assert!(
        error
            .text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    let kept = c
        .find(Locator::Id("new-email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("bea@acme.test"));
    c.find(Locator::Id("new-password"))
        .await
        .unwrap()
        .send_keys("a much longer password")
        .await
        .unwrap();
    c.find(Locator::Css("#add-member button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let toast = c
        .wait()
        .for_element(Locator::Css(".toast-success"))
        .await
        .unwrap();
    assert!(
        toast
            .text()
            .await
            .unwrap()
            .contains("Bea Agent can now sign in as Agent.")
    );
    let rows = c
        .find(Locator::Id("team-members"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(rows.contains("bea@acme.test"));

    let shot = browser.screenshot("team-page").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // Sign out returns to the sign-in page.
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("email")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    browser.close().await;
}
