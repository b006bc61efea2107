//! Channels without Meta: OAuth state rules, token encryption at rest and rotation, the
//! scheduler's one-run-per-period, and tenant isolation of channel routes.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use parley::auth::Role;
use parley::channels::connect::{self, Purpose};
use parley::channels::{ChannelError, open_token, seal_token};
use parley::crypto::TokenCipher;
use parley::db::ids::TenantId;
use parley::meta::AccessToken;
use parley::models::channels::{self, NewChannel, Platform};

use crate::support::{PASSWORD, TestApp, TestDb};

fn new_channel(cipher: &TokenCipher, tenant: TenantId, page: &str, token: &str) -> NewChannel {
    let sealed = seal_token(
        cipher,
        tenant,
        Platform::Messenger,
        page,
        &AccessToken::new(token),
    )
    .unwrap();
    NewChannel {
        tenant_id: tenant,
        platform: Platform::Messenger,
        platform_id: page.into(),
        name: format!("Page {page}"),
        username: None,
        picture_url: None,
        page_id: Some(page.into()),
        waba_id: None,
        display_phone_number: None,
        token_ciphertext: Some(sealed.blob),
        token_key_id: Some(sealed.key_id),
        subscribed_fields: vec!["messages".into()],
        connected_by: None,
    }
}

fn tenant(conn: &mut PgConnection, name: &str) -> TenantId {
    parley::models::tenants::find_or_create(conn, name)
        .unwrap()
        .id
}

#[test]
fn oauth_state_is_single_use_session_bound_tenant_bound_and_expires() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let app = &mut conn;
    let a = tenant(app, "A");
    let b = tenant(app, "B");
    let user_a = parley::models::users::create(
        app,
        &parley::models::users::NewUser {
            tenant_id: a,
            email: "a@a.test",
            display_name: "A",
            password_hash: "x",
            role: Role::Admin,
        },
    )
    .unwrap()
    .id;
    let user_b = parley::models::users::create(
        app,
        &parley::models::users::NewUser {
            tenant_id: b,
            email: "b@b.test",
            display_name: "B",
            password_hash: "x",
            role: Role::Admin,
        },
    )
    .unwrap()
    .id;

    let s = connect::start(app, a, user_a, Purpose::Meta).unwrap();
    // Not this session's state.
    assert!(matches!(
        connect::consume_state(app, a, user_a, &s, Some("other")),
        Err(ChannelError::StateInvalid)
    ));
    assert!(matches!(
        connect::consume_state(app, a, user_a, &s, None),
        Err(ChannelError::StateInvalid)
    ));
    // Another tenant's admin cannot use it (and that attempt uses it up).
    let s2 = connect::start(app, a, user_a, Purpose::Meta).unwrap();
    assert!(matches!(
        connect::consume_state(app, b, user_b, &s2, Some(&s2)),
        Err(ChannelError::StateInvalid)
    ));
    // The right session works once.
    assert_eq!(
        connect::consume_state(app, a, user_a, &s, Some(&s)).unwrap(),
        Purpose::Meta
    );
    assert!(
        matches!(
            connect::consume_state(app, a, user_a, &s, Some(&s)),
            Err(ChannelError::StateInvalid)
        ),
        "reuse"
    );
    // Expired.
    let s3 = connect::start(app, a, user_a, Purpose::Whatsapp).unwrap();
    diesel::sql_query("UPDATE oauth_states SET expires_at = now() - interval '1 second'")
        .execute(app)
        .unwrap();
    assert!(matches!(
        connect::consume_state(app, a, user_a, &s3, Some(&s3)),
        Err(ChannelError::StateInvalid)
    ));
}

#[test]
fn tokens_are_stored_encrypted_and_bound_to_their_row() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let cipher = TokenCipher::new(&[7; 32], &[]).unwrap();
    let t = tenant(&mut conn, "A");
    let stored = channels::upsert_connected(
        &mut conn,
        &new_channel(&cipher, t, "111", "EAAB-secret-token"),
    )
    .unwrap();
    let raw: Vec<u8> = stored.token_ciphertext.clone().unwrap();
    assert!(
        !String::from_utf8_lossy(&raw).contains("EAAB"),
        "ciphertext in the database"
    );
    assert_eq!(
        open_token(&cipher, &stored).unwrap().expose_secret(),
        "EAAB-secret-token"
    );
    // A ciphertext copied onto another channel row does not decrypt.
    let other =
        channels::upsert_connected(&mut conn, &new_channel(&cipher, t, "222", "other")).unwrap();
    let mut swapped = other.clone();
    swapped.token_ciphertext = stored.token_ciphertext.clone();
    assert!(open_token(&cipher, &swapped).is_err());
}

#[test]
fn reconnecting_updates_in_place_and_another_tenant_cannot_take_a_connected_asset() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let cipher = TokenCipher::new(&[7; 32], &[]).unwrap();
    let (a, b) = (tenant(&mut conn, "A"), tenant(&mut conn, "B"));
    let first = connect::store_channel(&mut conn, &new_channel(&cipher, a, "111", "t1")).unwrap();
    channels::disconnect(&mut conn, a, first.id, "revoked", true).unwrap();
    let again = connect::store_channel(&mut conn, &new_channel(&cipher, a, "111", "t2")).unwrap();
    assert_eq!(again.id, first.id, "same row");
    assert!(again.is_connected() && !again.needs_reconnect);
    assert_eq!(channels::list(&mut conn, a).unwrap().len(), 1);
    assert!(matches!(
        connect::store_channel(&mut conn, &new_channel(&cipher, b, "111", "t3")),
        Err(ChannelError::OwnedElsewhere(_))
    ));
    // Once A disconnects, B may connect the asset (with its own row); webhooks route to B.
    channels::disconnect(&mut conn, a, first.id, "by admin", false).unwrap();
    let b_row = connect::store_channel(&mut conn, &new_channel(&cipher, b, "111", "t3")).unwrap();
    assert_eq!(
        channels::route(&mut conn, Platform::Messenger, "111")
            .unwrap()
            .unwrap()
            .id,
        b_row.id
    );
}

#[test]
fn rotation_re_encrypts_every_token_under_the_new_key() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let old = TokenCipher::new(&[1; 32], &[]).unwrap();
    let t = tenant(&mut conn, "A");
    for page in ["1", "2", "3"] {
        channels::upsert_connected(
            &mut conn,
            &new_channel(&old, t, page, &format!("token-{page}")),
        )
        .unwrap();
    }
    let during = TokenCipher::new(&[2; 32], &[&[1; 32]]).unwrap();
    let report = parley::channels::rotation::rotate_tokens(&mut conn, &during).unwrap();
    assert_eq!(report.rotated, 3);
    let after = TokenCipher::new(&[2; 32], &[]).unwrap();
    for c in channels::list(&mut conn, t).unwrap() {
        assert_eq!(c.token_key_id.as_deref(), Some(after.current_key_id()));
        assert_eq!(
            open_token(&after, &c).unwrap().expose_secret(),
            format!("token-{}", c.platform_id)
        );
    }
    assert_eq!(
        parley::channels::rotation::rotate_tokens(&mut conn, &after)
            .unwrap()
            .already_current,
        3
    );
}

#[test]
fn periodic_jobs_run_once_per_period_however_many_schedulers_tick() {
    let db = TestDb::new();
    // Thirty seconds into an hour: a second later is still the same minute for every period.
    let now = parley::jobs::scheduler::period_start(Utc::now(), Duration::hours(1))
        + Duration::seconds(30);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut conn = parley::db::connect(&url).unwrap();
                parley::jobs::scheduler::enqueue_due(&mut conn, now)
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(
        total,
        parley::jobs::scheduler::PERIODIC.len(),
        "each periodic kind once"
    );
    let mut conn = db.connect();
    assert!(
        parley::jobs::scheduler::enqueue_due(&mut conn, now + Duration::seconds(1))
            .unwrap()
            .is_empty()
    );
    let next_hour =
        parley::jobs::scheduler::enqueue_due(&mut conn, now + Duration::hours(1)).unwrap();
    assert!(next_hour.contains(&"token_health"));
}

#[tokio::test]
async fn channel_routes_are_admin_only_and_tenant_scoped() {
    let app = TestApp::spawn().await;
    let (mut a_admin, a, _) = app.signed_in("A", "admin@a.test", Role::Admin).await;
    let (mut b_admin, b, _) = app.signed_in("B", "admin@b.test", Role::Admin).await;
    let (mut agent, _, _) = app.signed_in("A", "agent@a.test", Role::Agent).await;
    let cipher = app.state.cipher.clone();
    let b_channel = parley::db::run(app.pool(), move |conn| {
        Ok(channels::upsert_connected(
            conn,
            &new_channel(&cipher, b, "999", "tok"),
        )?)
    })
    .await
    .unwrap();
    let _ = a;

    let (status, body) = a_admin.page("/channels").await;
    assert_eq!(status, 200);
    assert!(body.contains("No channels connected"));
    // Instagram Login is not configured in tests: the page says what to set.
    assert!(
        body.contains(
            "<code>META_INSTAGRAM_APP_ID</code> and <code>META_INSTAGRAM_APP_SECRET</code>"
        ),
        "{body}"
    );
    assert!(!body.contains("Page 999"));
    assert_eq!(
        a_admin
            .page(&format!("/channels/{}/disconnect", b_channel.id))
            .await
            .0,
        404
    );
    for action in ["disconnect", "check", "reconnect"] {
        let res = a_admin
            .post_form(&format!("/channels/{}/{action}", b_channel.id), &[])
            .await;
        assert_eq!(res.status(), 404, "{action}");
    }
    assert_eq!(agent.page("/channels").await.0, 403);
    assert_eq!(
        agent
            .post_form("/channels/connect/meta", &[])
            .await
            .status(),
        403
    );
    let (_, body) = b_admin.page("/channels").await;
    assert!(body.contains("Page 999"));
    let _ = PASSWORD;
}

#[tokio::test]
async fn a_callback_with_a_foreign_or_missing_state_stores_nothing() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app.signed_in("A", "admin@a.test", Role::Admin).await;
    let (status, body) = admin
        .page("/oauth/meta/callback?code=abc&state=forged")
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("expired or was already used"));
    let (status, _) = admin.page("/oauth/meta/callback?error=access_denied").await;
    assert_eq!(status, 400, "a denial without a valid state is refused too");
    let count: i64 = parley::db::run(app.pool(), |conn| {
        Ok(parley::db::schema::connect_sessions::table
            .count()
            .get_result(conn)?)
    })
    .await
    .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn admins_see_a_reconnect_banner_on_every_page_while_a_channel_needs_it() {
    let app = TestApp::spawn().await;
    let (mut admin, t, _) = app.signed_in("A", "admin@a.test", Role::Admin).await;
    let (mut agent, _, _) = app.signed_in("A", "agent@a.test", Role::Agent).await;
    let cipher = app.state.cipher.clone();
    parley::db::run(app.pool(), move |conn| {
        let c = channels::upsert_connected(conn, &new_channel(&cipher, t, "555", "tok"))?;
        channels::disconnect(
            conn,
            t,
            c.id,
            "The person who connected it changed their Facebook password.",
            true,
        )?;
        Ok(())
    })
    .await
    .unwrap();
    for path in ["/team", "/inbox", "/channels"] {
        let (_, body) = admin.page(path).await;
        assert!(body.contains("lost its connection"), "{path}");
        assert!(body.contains("changed their Facebook password"));
        assert!(body.contains("/reconnect"));
    }
    let (_, body) = agent.page("/inbox").await;
    assert!(!body.contains("lost its connection"), "only admins");
}
