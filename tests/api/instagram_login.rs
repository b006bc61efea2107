//! Instagram accounts without a Facebook Page, end to end against the sandbox's Instagram
//! hosts: the wizard (allow, deny, state replay, missing settings), the same account refused
//! the other way, the 60-day token's refresh and its refusal, and replies through
//! `graph.instagram.com`.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use parley::auth::Role;
use parley::db::schema::channels as ch;
use parley::models::channels::{Channel, Login, Platform};

use crate::support::{TestApp, app_with_instagram_login, app_with_sandbox, input_values, location};

const STUDIO: &str = meta_sandbox::STUDIO_IG_ID;

async fn instagram_channel(app: &TestApp, ig: &'static str) -> Option<Channel> {
    app.query(move |c| {
        ch::table
            .filter(ch::platform.eq(Platform::Instagram))
            .filter(ch::platform_id.eq(ig))
            .select(Channel::as_select())
            .first(c)
            .optional()
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn an_admin_connects_an_instagram_account_without_a_page() {
    let (app, sandbox) = app_with_instagram_login(3, &[]).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let (_, html) = admin.page("/channels").await;
    assert!(html.contains("Connect Instagram (without a Facebook Page)"));

    let res = admin
        .through_instagram_dialog("/channels/connect/instagram", Some(STUDIO))
        .await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(location(&res), "/channels");
    let channel = instagram_channel(&app, STUDIO).await.expect("stored");
    assert_eq!(channel.tenant_id, tenant);
    assert_eq!(channel.login, Login::Instagram);
    assert_eq!(channel.username.as_deref(), Some("acme.studio"));
    assert!(channel.page_id.is_none());
    let expires = channel.token_expires_at.expect("a 60-day token");
    assert!(expires > Utc::now() + Duration::days(59) && expires < Utc::now() + Duration::days(61));
    // Stored encrypted, never as the token itself.
    let raw = channel.token_ciphertext.clone().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("IGAA"));
    // Subscribed to the Instagram app's webhook fields.
    let fields = sandbox.instagram_subscriptions(STUDIO);
    assert!(fields.iter().any(|f| f == "messages") && fields.iter().any(|f| f == "comments"));
    // What the page shows: how it is reached, the token's end, the import under way.
    let (_, html) = admin.page("/channels").await;
    assert!(html.contains("Connected: Instagram @acme.studio (through Instagram Login)"));
    assert!(html.contains("Through Instagram Login (no Facebook Page)"));
    assert!(html.contains("Token valid until"));
    assert!(html.contains("Importing recent conversations"), "{html}");
    assert!(!html.contains("IGAA"));
    // The token is checked with /me on the Instagram host, not debug_token.
    let res = admin
        .post_form(&format!("/channels/{}/check", channel.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let checked = instagram_channel(&app, STUDIO).await.unwrap();
    assert!(checked.is_connected());
    assert!(
        sandbox
            .world()
            .graph_requests()
            .iter()
            .all(|r| !r.path.contains("debug_token")),
        "an Instagram token never goes to debug_token"
    );
}

#[tokio::test]
async fn declining_replaying_and_missing_settings_store_nothing() {
    let (app, _sandbox) = app_with_instagram_login(3, &[]).await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .through_instagram_dialog("/channels/connect/instagram", None)
        .await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("You cancelled on Instagram"), "{body}");
    assert!(instagram_channel(&app, STUDIO).await.is_none());

    // A callback used once cannot be used again, even with the code Instagram gave.
    let callback = admin
        .instagram_callback_url("/channels/connect/instagram", Some(STUDIO))
        .await;
    let path = callback
        .split_once("/oauth")
        .map(|(_, p)| format!("/oauth{p}"))
        .unwrap();
    let (other_status, _) = {
        let (mut other, _, _) = app.signed_in("Acme", "other@acme.test", Role::Admin).await;
        other.page(&path).await
    };
    assert_eq!(other_status, 400, "another session cannot use the state");
    let (status, _) = admin.page(&path).await;
    assert_eq!(status, 303, "its own session connects once");
    let (status, body) = admin.page(&path).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired or was already used"));

    // A forged code: Instagram's own error answer is read and shown, and nothing is stored.
    let callback = admin
        .instagram_callback_url("/channels/connect/instagram", Some(STUDIO))
        .await;
    let forged = callback
        .split_once("/oauth")
        .map(|(_, p)| format!("/oauth{p}"))
        .unwrap()
        .replace("code=", "code=forged");
    let (status, body) = admin.page(&forged).await;
    assert_eq!(status, 502);
    assert!(body.contains("Invalid authorization code"), "{body}");

    // A Facebook wizard state is not accepted by the Instagram callback.
    let res = admin.post_form("/channels/connect/meta", &[]).await;
    let state = location(&res)
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let (status, _) = admin
        .page(&format!("/oauth/instagram/callback?code=x&state={state}"))
        .await;
    assert_eq!(status, 400);

    // Without the Instagram app's settings the page says what to set, and the wizard too.
    let (app, _sandbox) = app_with_sandbox(3).await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let (_, html) = admin.page("/channels").await;
    assert!(html.contains("META_INSTAGRAM_APP_ID"));
    assert!(!html.contains("id=\"connect-instagram\""));
    let res = admin.post_form("/channels/connect/instagram", &[]).await;
    assert_eq!(location(&res), "/channels");
    let (_, html) = admin.page("/channels").await;
    assert!(
        html.contains("needs META_INSTAGRAM_APP_ID and META_INSTAGRAM_APP_SECRET"),
        "{html}"
    );

    // Agents cannot start it.
    let (mut agent, _, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let res = agent.post_form("/channels/connect/instagram", &[]).await;
    assert_eq!(res.status(), 403);
    let (status, _) = agent.page("/oauth/instagram/callback?code=x&state=y").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_same_account_is_refused_the_other_way_in_both_orders() {
    let (app, sandbox) = app_with_instagram_login(3, &[]).await;
    let coffee_ig = sandbox.world().seed().pages[0]
        .instagram
        .clone()
        .unwrap()
        .id;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    // Through the Page first.
    let callback = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select = location(&callback);
    let (_, html) = admin.page(&select).await;
    let igs = input_values(&html, "instagram");
    assert!(igs.contains(&coffee_ig));
    admin.post_form(&select, &[("instagram", &coffee_ig)]).await;
    let ig_static: &'static str = Box::leak(coffee_ig.clone().into_boxed_str());
    let first = instagram_channel(&app, ig_static).await.unwrap();
    assert_eq!(first.login, Login::Facebook);
    // Then through Instagram Login: refused with the reason, nothing subscribed or changed.
    let res = admin
        .through_instagram_dialog("/channels/connect/instagram", Some(&coffee_ig))
        .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("already connected to Parley through a Facebook Page"),
        "{body}"
    );
    assert!(body.contains("every message would arrive twice"));
    assert!(sandbox.instagram_subscriptions(&coffee_ig).is_empty());
    let still = instagram_channel(&app, ig_static).await.unwrap();
    assert_eq!(still.login, Login::Facebook);
    assert_eq!(still.token_ciphertext, first.token_ciphertext);

    // The other order: an account connected through Instagram Login is refused in the
    // Facebook wizard (another workspace, so the Page's own Messenger still connects).
    let (mut other, _, _) = app
        .signed_in("Bikes", "admin@bikes.test", Role::Admin)
        .await;
    let bikes_ig = sandbox.world().seed().pages[1]
        .instagram
        .clone()
        .unwrap()
        .id;
    let res = other
        .through_instagram_dialog("/channels/connect/instagram", Some(&bikes_ig))
        .await;
    assert_eq!(res.status(), 303);
    let res = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select = location(&res);
    let page2 = sandbox.world().seed().pages[1].id.clone();
    admin
        .post_form(&select, &[("page", &page2), ("instagram", &bikes_ig)])
        .await;
    let (_, html) = admin.page("/channels").await;
    assert!(
        html.contains("already connected to Parley through Instagram Login"),
        "{html}"
    );
    let bikes_static: &'static str = Box::leak(bikes_ig.into_boxed_str());
    let kept = instagram_channel(&app, bikes_static).await.unwrap();
    assert_eq!(
        kept.login,
        Login::Instagram,
        "the Instagram Login channel is untouched"
    );
}

/// Makes the stored token look `days` old in Parley (the clock Parley's refresh reads).
async fn age_in_parley(app: &TestApp, id: parley::db::ids::ChannelId, days: i64) {
    app.query(move |c| {
        diesel::update(ch::table.filter(ch::id.eq(id)))
            .set((
                ch::token_refreshed_at.eq(Utc::now() - Duration::days(days)),
                ch::token_expires_at.eq(Utc::now() + Duration::days(60 - days)),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
}

#[tokio::test]
async fn the_token_is_refreshed_well_before_it_ends_and_a_refusal_disconnects() {
    let (app, sandbox) = app_with_instagram_login(3, &[]).await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    admin
        .through_instagram_dialog("/channels/connect/instagram", Some(STUDIO))
        .await;
    let first = instagram_channel(&app, STUDIO).await.unwrap();
    let refreshes = || {
        sandbox
            .world()
            .graph_requests()
            .iter()
            .filter(|r| r.path.contains("refresh_access_token"))
            .count()
    };
    let refresh = || parley::channels::instagram_login::refresh_due(&app.state);

    // A fresh token is left alone.
    let report = refresh().await.unwrap();
    assert_eq!(report, Default::default());
    assert_eq!(refreshes(), 0);

    // 35 days on (both clocks): refreshed, stored encrypted, good for 60 days again.
    sandbox.age_instagram_tokens(std::time::Duration::from_secs(35 * 86_400));
    age_in_parley(&app, first.id, 35).await;
    let report = refresh().await.unwrap();
    assert_eq!(report.refreshed, 1, "{report:?}");
    assert_eq!(refreshes(), 1);
    let renewed = instagram_channel(&app, STUDIO).await.unwrap();
    assert_ne!(renewed.token_ciphertext, first.token_ciphertext);
    assert!(renewed.token_expires_at.unwrap() > Utc::now() + Duration::days(59));
    // The new token works on Instagram's host.
    let res = admin
        .post_form(&format!("/channels/{}/check", renewed.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        instagram_channel(&app, STUDIO)
            .await
            .unwrap()
            .is_connected()
    );

    // Parley thinks it is due but Meta's token is under 24 hours old: Meta refuses, the
    // channel stays connected and the next round tries again.
    age_in_parley(&app, first.id, 35).await;
    let report = refresh().await.unwrap();
    assert_eq!((report.refreshed, report.failed), (0, 1));
    assert!(
        instagram_channel(&app, STUDIO)
            .await
            .unwrap()
            .is_connected()
    );

    // Left to expire at Meta: the refusal (190/463) disconnects with a readable reason.
    sandbox.age_instagram_tokens(std::time::Duration::from_secs(61 * 86_400));
    let report = refresh().await.unwrap();
    assert_eq!(report.disconnected, 1, "{report:?}");
    let gone = instagram_channel(&app, STUDIO).await.unwrap();
    assert!(!gone.is_connected() && gone.needs_reconnect);
    assert!(gone.token_ciphertext.is_none());
    assert!(gone.disconnected_reason.unwrap().contains("expired"));
    let (_, html) = admin.page("/channels").await;
    assert!(html.contains("Needs reconnecting"));

    // Reconnect goes back through Instagram Login and restores the same row.
    let res = admin
        .through_instagram_dialog(&format!("/channels/{}/reconnect", first.id), Some(STUDIO))
        .await;
    assert_eq!(res.status(), 303);
    let back = instagram_channel(&app, STUDIO).await.unwrap();
    assert_eq!(back.id, first.id);
    assert!(back.is_connected() && back.login == Login::Instagram);
}
