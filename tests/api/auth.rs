//! Sign-in, sign-out, throttling and the signed-out redirect.

use parley::auth::Role;

use crate::support::{PASSWORD, TestApp, location};

#[tokio::test]
async fn signed_out_requests_to_pages_redirect_to_login_with_return_path() {
    let app = TestApp::spawn().await;
    let mut client = app.client();
    for path in [
        "/",
        "/inbox",
        "/team",
        "/channels",
        "/comments",
        "/insights",
        "/message-templates",
    ] {
        let res = client.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        let to = location(&res);
        assert!(to.starts_with("/login?next="), "{path} -> {to}");
    }
    let res = client.get("/team").await;
    assert_eq!(location(&res), "/login?next=%2Fteam");
}

#[tokio::test]
async fn htmx_requests_are_told_to_redirect_instead_of_swapping_the_login_page() {
    let app = TestApp::spawn().await;
    let res = app
        .client()
        .http
        .get(app.url("/team"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["HX-Redirect"], "/login?next=%2Fteam");
}

#[tokio::test]
async fn correct_credentials_sign_in_and_return_to_the_requested_page() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let mut client = app.client();
    client.page("/login?next=/team").await;
    let res = client
        .post_form(
            "/login",
            &[
                ("email", "ANN@acme.test"),
                ("password", PASSWORD),
                ("next", "/team"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/team");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_lowercase();
    assert!(cookie.contains("httponly"), "{cookie}");
    assert!(cookie.contains("samesite=lax"), "{cookie}");
    assert!(
        !cookie.contains("secure"),
        "plain http public URL: no Secure flag: {cookie}"
    );

    let (status, body) = client.page("/team").await;
    assert_eq!(status, 200);
    assert!(body.contains("ann@acme.test"));
    // Navigation of an admin.
    for label in [
        "Inbox",
        "Comments",
        "Insights",
        "Templates",
        "Channels",
        "Team",
        "Sign out",
    ] {
        assert!(body.contains(label), "nav lacks {label}");
    }
}

#[tokio::test]
async fn an_external_next_parameter_is_not_followed() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let mut client = app.client();
    client.page("/login").await;
    let res = client
        .post_form(
            "/login",
            &[
                ("email", "ann@acme.test"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_clear_error_and_keep_the_email() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let mut client = app.client();
    for email in ["ann@acme.test", "nobody@acme.test"] {
        client.page("/login").await;
        let res = client
            .post_form(
                "/login",
                &[("email", email), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(res.status(), 401);
        let body = res.text().await.unwrap();
        assert!(body.contains("That email and password do not match an active account."));
        assert!(
            body.contains(&format!("value=\"{email}\"")),
            "email kept in the form"
        );
    }
    // Still signed out.
    assert_eq!(client.get("/team").await.status(), 303);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    app.create_user("Acme", "ann@acme.test", Role::Admin, PASSWORD)
        .await;
    let mut client = app.client();
    client.page("/login").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = client
            .post_form(
                "/login",
                &[
                    ("email", "ann@acme.test"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    let res = client
        .post_form(
            "/login",
            &[("email", "ann@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 429);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Too many failed sign-in attempts. Try again in 15 minutes."),
        "{body}"
    );

    // Another account from another address is unaffected... but the same address is counted.
    app.create_user("Acme", "bob@acme.test", Role::Agent, PASSWORD)
        .await;
    let mut other = app.client();
    assert_eq!(other.login("bob@acme.test", PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn one_address_failing_across_many_accounts_is_throttled() {
    let app = TestApp::spawn().await;
    let mut client = app.client();
    client.page("/login").await;
    let mut last = 0;
    for i in 0..20 {
        let email = format!("user{i}@acme.test");
        last = client
            .post_form(
                "/login",
                &[("email", &email), ("password", "nope nope nope")],
            )
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429, "the 20th failure from one address locks it");
}

#[tokio::test]
async fn deactivated_users_cannot_sign_in_and_lose_their_session() {
    let app = TestApp::spawn().await;
    let (mut client, tenant, user) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    assert_eq!(client.get("/inbox").await.status(), 200);
    parley::db::run(app.pool(), move |conn| {
        Ok(parley::models::users::set_active(
            conn, tenant, user, false,
        )?)
    })
    .await
    .unwrap();
    assert_eq!(
        client.get("/inbox").await.status(),
        303,
        "session ends at once"
    );
    let res = client.login("agent@acme.test", PASSWORD).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let res = client.post_form("/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");
    assert_eq!(client.get("/team").await.status(), 303);
}
