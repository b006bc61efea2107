//! The Team page: add with validation (keeping what was typed), change roles, deactivate.

use parley::auth::Role;

use crate::support::{HtmlPage, PASSWORD, TestApp, location};

#[tokio::test]
async fn an_admin_adds_a_teammate_who_can_then_sign_in() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .post_form(
            "/team/users",
            &[
                ("display_name", "Carla Moderator"),
                ("email", "Carla@Acme.test"),
                ("role", "moderator"),
                ("password", "a good long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/team");
    let (_, body) = admin.page("/team").await;
    assert!(
        body.contains("Carla Moderator can now sign in as Moderator."),
        "flash shown"
    );
    assert!(body.contains("carla@acme.test"));
    let (_, again) = admin.page("/team").await;
    assert!(!again.contains("can now sign in as"), "flash shown once");

    let mut carla = app.client();
    assert_eq!(
        carla
            .login("carla@acme.test", "a good long password")
            .await
            .status(),
        303
    );
    assert_eq!(carla.page("/comments").await.0, 200);
}

#[tokio::test]
async fn a_rejected_form_says_what_is_wrong_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .post_form(
            "/team/users",
            &[
                ("display_name", "Dan Typed"),
                ("email", "not-an-email"),
                ("role", "analyst"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("Enter an email address like name@example.com."));
    assert!(body.contains("Use at least 10 characters for the password."));
    // What was typed is back in the form's own fields.
    let form = HtmlPage::parse(&body);
    assert_eq!(form.attrs("input#display_name", "value"), ["Dan Typed"]);
    assert_eq!(form.attrs("input#new-email", "value"), ["not-an-email"]);
    assert_eq!(
        form.attrs("select#new-role option[selected]", "value"),
        ["analyst"]
    );

    // A duplicate email is explained on the field.
    let res = admin
        .post_form(
            "/team/users",
            &[
                ("display_name", "Again"),
                ("email", "admin@acme.test"),
                ("role", "agent"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Someone already has an account with this email.")
    );
}

#[tokio::test]
async fn role_changes_take_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let (mut agent, _, agent_id) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    assert_eq!(agent.page("/insights").await.0, 403);
    let res = admin
        .post_form(
            &format!("/team/users/{agent_id}/role"),
            &[("role", "analyst")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(agent.page("/insights").await.0, 200);
    assert_eq!(agent.page("/inbox").await.0, 403);
}

#[tokio::test]
async fn deactivation_asks_first_then_signs_the_person_out_and_can_be_undone() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let (mut agent, _, agent_id) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;

    let (status, confirm) = admin
        .page(&format!("/team/users/{agent_id}/deactivate"))
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("will be signed out at once"));

    let res = admin
        .post_form(&format!("/team/users/{agent_id}/deactivate"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(agent.get("/inbox").await.status(), 303, "signed out");
    assert_eq!(
        app.client()
            .login("agent@acme.test", PASSWORD)
            .await
            .status(),
        401
    );

    admin.page("/team").await;
    let res = admin
        .post_form(&format!("/team/users/{agent_id}/reactivate"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.client()
            .login("agent@acme.test", PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_and_nobody_deactivates_themselves() {
    let app = TestApp::spawn().await;
    let (mut admin, _, admin_id) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .post_form(&format!("/team/users/{admin_id}/deactivate"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let (_, body) = admin.page("/team").await;
    assert!(body.contains("You cannot deactivate your own account."));

    let res = admin
        .post_form(
            &format!("/team/users/{admin_id}/role"),
            &[("role", "agent")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, body) = admin.page("/team").await;
    assert!(body.contains("A team needs at least one active admin"));
    assert_eq!(admin.page("/team").await.0, 200, "still an admin");
}

#[tokio::test]
async fn an_unknown_role_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let (_, _, agent) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let res = admin
        .post_form(&format!("/team/users/{agent}/role"), &[("role", "owner")])
        .await;
    assert_eq!(res.status(), 400);
}
