//! WhatsApp onboarding against the sandbox: Embedded Signup, and a pasted system-user token
//! validated against the Graph API before anything is stored.

use meta_sandbox::IssueToken;
use parley::auth::Role;
use parley::models::channels::{self, Platform};

use crate::support::{app_with_sandbox, app_with_sandbox_env, input_values, location};

#[tokio::test]
async fn embedded_signup_registers_subscribes_and_stores_the_chosen_number() {
    let (app, sandbox) = app_with_sandbox_env(3, &[("META_WHATSAPP_CONFIG_ID", "987654321")]).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let cb = admin
        .through_meta_dialog("/channels/connect/whatsapp", true)
        .await;
    assert_eq!(cb.status(), 303);
    let select = location(&cb);
    let (_, html) = admin.page(&select).await;
    let numbers = input_values(&html, "number");
    let phone_id = sandbox.world().seed().phone_number.id.clone();
    assert_eq!(numbers, vec![phone_id.clone()]);
    assert!(html.contains("Two-step verification PIN"));

    // A malformed PIN is explained and nothing is stored.
    let res = admin
        .post_form(&select, &[("number", &phone_id), ("pin", "12")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("6-digit"));
    assert!(
        app.query(move |c| channels::list(c, tenant).unwrap())
            .await
            .is_empty()
    );

    let res = admin
        .post_form(&select, &[("number", &phone_id), ("pin", "123456")])
        .await;
    assert_eq!(res.status(), 303);
    let stored = app.query(move |c| channels::list(c, tenant).unwrap()).await;
    assert_eq!(stored.len(), 1);
    let ch = &stored[0];
    assert_eq!(ch.platform, Platform::Whatsapp);
    assert_eq!(
        ch.waba_id.as_deref(),
        Some(sandbox.world().seed().waba.id.as_str())
    );
    assert!(ch.display_phone_number.is_some());
    let report = parley::channels::health::sweep(&app.state).await.unwrap();
    assert_eq!(
        report.verified, 1,
        "the system-user token passes the health check"
    );
}

#[tokio::test]
async fn embedded_signup_is_explained_when_not_configured() {
    let (app, _sandbox) = app_with_sandbox(3).await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin.post_form("/channels/connect/whatsapp", &[]).await;
    assert_eq!(location(&res), "/channels");
    let (_, html) = admin.page("/channels").await;
    assert!(html.contains("META_WHATSAPP_CONFIG_ID"));
}

#[tokio::test]
async fn a_pasted_token_is_checked_with_meta_field_by_field_before_storing() {
    let (app, sandbox) = app_with_sandbox(3).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let token = sandbox.issue_token(IssueToken::SystemUser).unwrap();
    let waba = sandbox.world().seed().waba.id.clone();
    let phone = sandbox.world().seed().phone_number.id.clone();
    admin.page("/channels/whatsapp/manual").await;

    // Malformed ids are explained per field, what was typed is kept, the token is not echoed.
    let res = admin
        .post_form(
            "/channels/whatsapp/manual",
            &[
                ("token", &token),
                ("waba_id", "my waba"),
                ("phone_number_id", "+1 555 0100"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("The WhatsApp Business Account id is a number"));
    assert!(html.contains("value=\"my waba\""));
    assert!(!html.contains(&token), "the token is never rendered");

    // A number that is not in the WABA.
    let res = admin
        .post_form(
            "/channels/whatsapp/manual",
            &[
                ("token", &token),
                ("waba_id", &waba),
                ("phone_number_id", "999999999"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("has no phone number with id 999999999")
    );

    // A revoked token.
    let revoked = sandbox.issue_token(IssueToken::SystemUser).unwrap();
    sandbox.revoke_token(meta_sandbox::TokenSelector::Token(revoked.clone()), 460);
    let res = admin
        .post_form(
            "/channels/whatsapp/manual",
            &[
                ("token", &revoked),
                ("waba_id", &waba),
                ("phone_number_id", &phone),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Meta says this token is not valid")
    );
    assert!(
        app.query(move |c| channels::list(c, tenant).unwrap())
            .await
            .is_empty()
    );

    // The right values connect.
    let res = admin
        .post_form(
            "/channels/whatsapp/manual",
            &[
                ("token", &token),
                ("waba_id", &waba),
                ("phone_number_id", &phone),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored = app.query(move |c| channels::list(c, tenant).unwrap()).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].platform_id, phone);
}
