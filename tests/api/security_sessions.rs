//! Sessions end when they should: on sign-out (a copied cookie too), after 2 idle hours or 12
//! hours in all, on a password change (others), on "sign out everywhere" and on deactivation;
//! live streams end with them and are capped per user.

use std::time::Duration;

use diesel::prelude::*;
use parley::auth::Role;
use parley::db::schema::user_sessions;

use crate::support::{Client, PASSWORD, TestApp, location};

/// Whether `client` is still signed in (a page answers instead of redirecting to sign-in).
async fn signed_in(client: &mut Client) -> bool {
    let res = client.get("/account").await;
    match res.status().as_u16() {
        200 => true,
        303 => {
            assert!(location(&res).starts_with("/login"));
            false
        }
        other => panic!("unexpected status {other}"),
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_so_a_copied_cookie_stops_working() {
    let app = TestApp::spawn().await;
    let (mut ann, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let mut thief = app.copy_of(&ann);
    assert!(
        signed_in(&mut thief).await,
        "the copy works while the session is open"
    );
    let res = ann.post_form("/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    assert!(
        !signed_in(&mut thief).await,
        "the copy died with the session"
    );
}

#[tokio::test]
async fn idle_and_old_sessions_end() {
    let app = TestApp::spawn().await;
    let (mut ann, _, ann_id) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let (mut bob, _, bob_id) = app.signed_in("Acme", "bob@acme.test", Role::Agent).await;
    app.query(move |c| {
        // Ann was last seen 2 h 1 min ago; Bob signed in 12 h 1 min ago but is active.
        diesel::sql_query(
            "UPDATE user_sessions SET last_seen_at = now() - interval '121 minutes' WHERE user_id = $1",
        )
        .bind::<diesel::sql_types::BigInt, _>(ann_id.0)
        .execute(c)
        .unwrap();
        diesel::sql_query(
            "UPDATE user_sessions SET created_at = now() - interval '721 minutes' WHERE user_id = $1",
        )
        .bind::<diesel::sql_types::BigInt, _>(bob_id.0)
        .execute(c)
        .unwrap();
    })
    .await;
    assert!(!signed_in(&mut ann).await);
    assert!(!signed_in(&mut bob).await);
    let reasons: Vec<Option<String>> = app
        .query(|c| {
            user_sessions::table
                .order(user_sessions::user_id)
                .select(user_sessions::end_reason)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(reasons, [Some("idle".into()), Some("expired".into())]);
    // A fresh sign-in works again.
    let mut again = app.client();
    assert_eq!(again.login("ann@acme.test", PASSWORD).await.status(), 303);
    assert!(signed_in(&mut again).await);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let (mut laptop, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Agent).await;
    let mut phone = app.client();
    assert_eq!(phone.login("ann@acme.test", PASSWORD).await.status(), 303);

    let (status, page) = laptop.page("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("Change your password"));
    assert_eq!(page.matches("<tr>").count() - 1, 2, "two sessions listed");

    // A wrong current password, a short and a mismatched new one: each field says why.
    let res = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "short"),
                ("confirm_password", "other"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("That is not your current password."));
    assert!(body.contains("at least 10 characters"));
    assert!(body.contains("The two new passwords differ."));
    assert!(signed_in(&mut phone).await, "a refused change ends nothing");

    let res = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "an entirely new password"),
                ("confirm_password", "an entirely new password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = laptop.page("/account").await;
    assert!(page.contains("Your other session was signed out."));
    assert!(!signed_in(&mut phone).await);
    let mut fresh = app.client();
    assert_eq!(fresh.login("ann@acme.test", PASSWORD).await.status(), 401);
    assert_eq!(
        fresh
            .login("ann@acme.test", "an entirely new password")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = TestApp::spawn().await;
    let (mut laptop, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Analyst).await;
    let mut phone = app.client();
    phone.login("ann@acme.test", PASSWORD).await;
    laptop.page("/account").await;
    let res = laptop.post_form("/account/sign-out-everywhere", &[]).await;
    assert_eq!(location(&res), "/login");
    assert!(!signed_in(&mut phone).await);
    assert!(!signed_in(&mut laptop).await);
}

/// Opens `/inbox/live` and returns the response (its body is the event stream).
async fn open_stream(client: &Client) -> reqwest::Response {
    let since = chrono::Utc::now().timestamp_millis();
    client
        .http
        .get(format!("{}/inbox/live?since={since}", client.base))
        .send()
        .await
        .unwrap()
}

/// Reads the stream until it ends; panics if it is still open after `within`.
async fn ends_within(mut stream: reqwest::Response, within: Duration) {
    let ended = tokio::time::timeout(within, async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream was still open after {within:?}");
}

#[tokio::test]
async fn live_streams_are_capped_and_end_with_their_session() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let (agent, _, agent_id) = app.signed_in("Acme", "bob@acme.test", Role::Agent).await;

    let mut open = Vec::new();
    for _ in 0..parley::inbox::live::STREAMS_PER_USER {
        let res = open_stream(&agent).await;
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    // One more ends the oldest: the page in front is never the one left without updates.
    let newest = open_stream(&agent).await;
    assert_eq!(newest.status(), 200);
    let oldest = open.remove(0);
    ends_within(oldest, Duration::from_secs(5)).await;
    open.push(newest);

    // Deactivating the agent ends every one of their streams at once.
    admin.page("/team").await;
    let res = admin
        .post_form(&format!("/team/users/{agent_id}/deactivate"), &[])
        .await;
    assert_eq!(res.status(), 303);
    for stream in open {
        ends_within(stream, Duration::from_secs(5)).await;
    }

    // Signing out ends the stream of that session.
    let mut ann_stream = open_stream(&admin).await;
    assert_eq!(ann_stream.status(), 200);
    assert!(ann_stream.chunk().await.unwrap().is_some(), "the hello");
    admin.page("/inbox").await;
    admin.post_form("/logout", &[]).await;
    ends_within(ann_stream, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_process_serves_at_most_its_configured_number_of_streams() {
    let app = TestApp::spawn_with(&[("PARLEY_LIVE_STREAMS_MAX", "2")]).await;
    let (ann, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Agent).await;
    let (bob, _, _) = app.signed_in("Acme", "bob@acme.test", Role::Agent).await;
    let (cy, _, _) = app.signed_in("Acme", "cy@acme.test", Role::Agent).await;
    let _a = open_stream(&ann).await;
    let b = open_stream(&bob).await;
    assert_eq!(b.status(), 200);
    let refused = open_stream(&cy).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn guesses_at_the_current_password_are_throttled_like_sign_ins() {
    let app = TestApp::spawn().await;
    let (mut thief, _, _) = app.signed_in("Acme", "ann@acme.test", Role::Agent).await;
    thief.page("/account").await;
    let guess = |n: usize| format!("guess number {n}");
    let mut statuses = Vec::new();
    for n in 0..6 {
        let g = guess(n);
        let res = thief
            .post_form(
                "/account/password",
                &[
                    ("current_password", g.as_str()),
                    ("new_password", "a new password here"),
                    ("confirm_password", "a new password here"),
                ],
            )
            .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429], "{statuses:?}");
}

#[test]
fn a_locked_address_no_longer_counts_against_the_accounts_it_tries() {
    use diesel::prelude::*;
    let db = crate::support::TestDb::new();
    let mut conn = db.connect();
    let mut throttled = 0;
    for n in 0..23 {
        let email = format!("person{n}@acme.test");
        if parley::auth::login::admit(&mut conn, &email, "203.0.113.5").is_err() {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 3, "the address admits 20");
    let counted: i64 = parley::db::schema::login_throttle::table
        .filter(parley::db::schema::login_throttle::key.like("account:%"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(counted, 20, "refused attempts left the accounts alone");
}
