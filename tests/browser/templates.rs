//! An agent drafts a WhatsApp template with a variable, sees the preview and a lint error fixed
//! live; an admin approves it and sees its status turn APPROVED live; the agent sends it in a
//! conversation older than 24 hours and the sandbox receives it (screenshots under target/).

use fantoccini::{Client, Locator};
use parley::auth::Role;

use crate::harness::{Browser, eventually};
use crate::support::{PASSWORD, app_with_sandbox};

async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn type_into(c: &Client, id: &str, text: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn sign_out(c: &Client) {
    c.delete_all_cookies().await.unwrap();
}

#[tokio::test]
async fn an_agent_drafts_an_admin_approves_and_the_agent_sends_it_after_the_window() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (tenant, _) = app
        .create_user("Acme", "ag@acme.test", Role::Agent, PASSWORD)
        .await;
    app.create_user("Acme", "boss@acme.test", Role::Admin, PASSWORD)
        .await;
    let (conversation, wa_id) = app
        .whatsapp_conversation(
            &sandbox,
            tenant,
            "is my order ready?",
            chrono::Duration::hours(30),
        )
        .await;

    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    browser
        .sign_in_at(&app.url("/message-templates/new"), "ag@acme.test", PASSWORD)
        .await;
    c.wait()
        .for_element(Locator::Id("template-form"))
        .await
        .unwrap();
    type_into(c, "name", "pickup_notice").await;
    type_into(
        c,
        "body",
        "Hi {{1}}, your order is ready for pickup at the counter today.",
    )
    .await;
    // The lint asks for the parameter's example, live.
    let asked = eventually(10, || async {
        text_of(c, "#lint")
            .await
            .contains("Give an example for {{1}}")
    })
    .await;
    assert!(asked, "{}", text_of(c, "#lint").await);
    // Saved, the example field appears; filled, the preview shows it and the error is gone.
    click(c, "#template-form button[type=submit]").await;
    c.wait()
        .for_element(Locator::Id("template-status"))
        .await
        .unwrap();
    click(c, "a.button[href$='/edit']").await;
    c.wait()
        .for_element(Locator::Id("example_1"))
        .await
        .unwrap();
    type_into(c, "example_1", "Ana").await;
    let fixed = eventually(10, || async {
        let lint = text_of(c, "#lint").await;
        lint.contains("found nothing to fix")
            && text_of(c, ".wa-body")
                .await
                .contains("Hi Ana, your order is ready")
    })
    .await;
    assert!(fixed, "{}", text_of(c, "#lint").await);
    browser.screenshot("template-editor").await;
    click(c, "#template-form button[type=submit]").await;
    c.wait()
        .for_element(Locator::Id("template-status"))
        .await
        .unwrap();
    click(c, "form[action$='/request-approval'] button[type=submit]").await;
    let asked = eventually(10, || async {
        text_of(c, "#template-status").await == "Awaiting approval"
    })
    .await;
    assert!(asked);
    let page = c.current_url().await.unwrap().to_string();

    // The admin approves; the status follows Meta's review without a reload.
    sign_out(c).await;
    browser.sign_in_at(&page, "boss@acme.test", PASSWORD).await;
    c.wait()
        .for_element(Locator::Css("form[action$='/approve']"))
        .await
        .unwrap();
    click(c, "form[action$='/approve'] button[type=submit]").await;
    let submitting = eventually(10, || async {
        text_of(c, "#template-status").await == "Submitting"
    })
    .await;
    assert!(submitting);
    let outcomes = app.run_queued_jobs("submit_template").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let approved = eventually(20, || async {
        app.process_webhooks().await;
        text_of(c, "#template-status").await == "Approved"
    })
    .await;
    assert!(approved, "{}", text_of(c, "#template-status").await);
    browser.screenshot("template-approved").await;

    // The agent sends it in the conversation whose window has closed.
    sign_out(c).await;
    browser
        .sign_in_at(
            &app.url(&format!("/inbox/{conversation}")),
            "ag@acme.test",
            PASSWORD,
        )
        .await;
    c.wait()
        .for_element(Locator::Id("send-template"))
        .await
        .unwrap();
    click(c, "#send-template").await;
    c.wait()
        .for_element(Locator::Id("template-choices"))
        .await
        .unwrap();
    let option = c
        .find(Locator::XPath(
            "//ul[@id='template-choices']//a[contains(., 'pickup_notice')]",
        ))
        .await
        .unwrap();
    option.click().await.unwrap();
    c.wait().for_element(Locator::Id("body_1")).await.unwrap();
    type_into(c, "body_1", "Jonas").await;
    let previewed = eventually(10, || async {
        text_of(c, "#template-preview")
            .await
            .contains("Hi Jonas, your order is ready")
    })
    .await;
    assert!(previewed, "{}", text_of(c, "#template-preview").await);
    browser.screenshot("template-send").await;
    click(c, "#template-send button[type=submit]").await;
    let sent_page = eventually(10, || async {
        c.current_url()
            .await
            .map(|u| u.path() == format!("/inbox/{conversation}"))
            .unwrap_or(false)
    })
    .await;
    assert!(sent_page);
    let outcomes = app.run_queued_jobs("send_message").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let at_meta = sandbox.world().sent_messages();
    let sent = at_meta
        .iter()
        .rev()
        .find(|m| m.recipient == wa_id)
        .expect("the sandbox received the template");
    assert_eq!(sent.body["template"]["name"], "pickup_notice");
    assert_eq!(
        sent.body["template"]["components"][0]["parameters"][0]["text"],
        "Jonas"
    );
    c.refresh().await.unwrap();
    let thread = eventually(10, || async {
        text_of(c, "body")
            .await
            .contains("Hi Jonas, your order is ready for pickup")
    })
    .await;
    assert!(thread);
    browser.screenshot("template-in-thread").await;
    browser.close().await;
}
