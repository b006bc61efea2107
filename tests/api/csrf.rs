//! State-changing requests without a valid CSRF token are refused and change nothing.

use parley::auth::Role;

use crate::support::{PASSWORD, TestApp};

async fn user_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    parley::db::run(app.pool(), |conn| {
        Ok(parley::db::schema::users::table
            .count()
            .get_result::<i64>(conn)?)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_form_post_without_or_with_a_wrong_token_is_refused_with_403() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let before = user_count(&app).await;
    let fields = [
        ("display_name", "Mallory"),
        ("email", "mallory@acme.test"),
        ("role", "admin"),
        ("password", "long enough password"),
    ];
    let res = client.post_form_raw("/team/users", &fields).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Form expired"));

    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf_token", "0000"));
    let res = client.post_form_raw("/team/users", &with_wrong).await;
    assert_eq!(res.status(), 403);
    assert_eq!(user_count(&app).await, before, "nothing was created");

    // The same form with the page's token goes through.
    let res = client.post_form("/team/users", &fields).await;
    assert_eq!(res.status(), 303);
    assert_eq!(user_count(&app).await, before + 1);
}

#[tokio::test]
async fn htmx_requests_may_send_the_token_in_a_header() {
    let app = TestApp::spawn().await;
    let (client, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let res = client
        .http
        .post(app.url("/team/users"))
        .header("X-CSRF-Token", client.csrf.clone().unwrap())
        .form(&[
            ("display_name", "Header Person"),
            ("email", "header@acme.test"),
            ("role", "agent"),
            ("password", "long enough password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn sign_in_itself_requires_the_token_of_the_login_page() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let mut client = app.client();
    let res = client
        .post_form_raw(
            "/login",
            &[("email", "ann@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_token_from_another_session_is_refused() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.signed_in("Acme", "alice@acme.test", Role::Admin).await;
    let (bob, _, _) = app.signed_in("Acme", "bob@acme.test", Role::Admin).await;
    alice.csrf = bob.csrf.clone();
    let res = alice.post_form("/logout", &[]).await;
    assert_eq!(res.status(), 403);
}
