//! The connect wizard end to end against the Meta sandbox: state checks, denial, paging,
//! selection, subscription, reconnect without duplicates, token health, WhatsApp onboarding.

use diesel::prelude::*;
use parley::auth::Role;
use parley::models::channels::{self, Platform};

use crate::support::{app_with_sandbox, input_values, location};

#[tokio::test]
async fn an_admin_connects_chosen_pages_and_instagram_accounts_across_many_pages_of_results() {
    let (app, sandbox) = app_with_sandbox(30).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let callback = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    assert_eq!(callback.status(), 303);
    let select = location(&callback);
    assert!(select.starts_with("/channels/connect/select/"), "{select}");
    assert_eq!(
        app.query(|c| channels::list(c, parley::db::ids::TenantId(1))
            .unwrap()
            .len())
            .await,
        0,
        "nothing stored before choosing"
    );

    let (status, html) = admin.page(&select).await;
    assert_eq!(status, 200);
    let pages = input_values(&html, "page");
    let igs = input_values(&html, "instagram");
    assert_eq!(pages.len(), 30, "every page of me/accounts was followed");
    assert_eq!(igs.len(), 2);

    // Choose the first page, its Instagram account, and one more page.
    let res = admin
        .post_form(
            &select,
            &[
                ("page", &pages[0]),
                ("instagram", &igs[0]),
                ("page", &pages[5]),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, channels_html) = admin.page("/channels").await;
    assert!(
        channels_html.contains("Connected: Messenger"),
        "flash lists what was connected"
    );
    let stored = app.query(move |c| channels::list(c, tenant).unwrap()).await;
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().any(|c| c.platform == Platform::Instagram
            && c.page_id.as_deref() == Some(pages[0].as_str()))
    );
    // Parley's app is subscribed on Meta's side, with the fields Parley handles.
    let subscribed = sandbox
        .world()
        .page_subscriptions(&stored[0].page_id.clone().unwrap());
    assert!(subscribed.iter().any(|f| f == "messages"), "{subscribed:?}");
    // Tokens are stored encrypted and never rendered.
    let raw: Vec<u8> = stored[0].token_ciphertext.clone().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("EAA"));
    assert!(!channels_html.contains("access_token"));

    // The selection cannot be used twice.
    let (status, _) = admin.page(&select).await;
    assert_eq!(status, 404);

    // Reconnecting the same page updates it in place.
    let again = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select2 = location(&again);
    admin.post_form(&select2, &[("page", &pages[0])]).await;
    let after = app.query(move |c| channels::list(c, tenant).unwrap()).await;
    assert_eq!(after.len(), 3, "no duplicate rows");
}

#[tokio::test]
async fn declining_on_facebook_stores_nothing_and_says_so() {
    let (app, _sandbox) = app_with_sandbox(3).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .through_meta_dialog("/channels/connect/meta", false)
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("You cancelled on Facebook")
    );
    assert!(
        app.query(move |c| channels::list(c, tenant).unwrap())
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_callback_replayed_or_used_by_another_session_is_refused() {
    let (app, _sandbox) = app_with_sandbox(3).await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin.post_form("/channels/connect/meta", &[]).await;
    let dialog = location(&res);
    let state = dialog
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    // Another admin's session presenting this state (as if the link leaked) is refused, and
    // cannot burn it for its owner either.
    let (mut other, _, _) = app.signed_in("Acme", "other@acme.test", Role::Admin).await;
    let (status, _) = other
        .page(&format!("/oauth/meta/callback?code=x&state={state}"))
        .await;
    assert_eq!(status, 400);
    // Its own session may use it once: here with a forged code, which Meta refuses.
    let (status, body) = admin
        .page(&format!("/oauth/meta/callback?code=forged&state={state}"))
        .await;
    assert_eq!(status, 502);
    assert!(body.contains("Meta did not complete the connection"));
    // A replay of the same state is refused.
    let (status, body) = admin
        .page(&format!("/oauth/meta/callback?code=forged&state={state}"))
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("expired or was already used"));
    let n: i64 = app
        .query(|c| {
            parley::db::schema::connect_sessions::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn token_health_goes_valid_then_revoked_then_reconnected() {
    let (app, sandbox) = app_with_sandbox(3).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let cb = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select = location(&cb);
    let (_, html) = admin.page(&select).await;
    let page = input_values(&html, "page").remove(0);
    admin.post_form(&select, &[("page", &page)]).await;

    let report = parley::channels::health::sweep(&app.state).await.unwrap();
    assert_eq!(report.verified, 1);

    // The person who connected it changes their Facebook password.
    sandbox.revoke_token(
        meta_sandbox::TokenSelector::Kind(meta_sandbox::TokenKind::User),
        460,
    );
    let report = parley::channels::health::sweep(&app.state).await.unwrap();
    assert_eq!(report.disconnected, 1);
    let ch = app
        .query(move |c| channels::list(c, tenant).unwrap().remove(0))
        .await;
    assert!(!ch.is_connected() && ch.needs_reconnect);
    assert!(
        ch.disconnected_reason
            .unwrap()
            .contains("changed their Facebook password")
    );
    assert!(ch.token_ciphertext.is_none(), "the dead token is wiped");
    let (_, banner) = admin.page("/team").await;
    assert!(banner.contains("lost its connection"));

    // Reconnect through the wizard: the same row comes back, and the banner goes.
    let cb = admin
        .through_meta_dialog(&format!("/channels/{}/reconnect", ch.id), true)
        .await;
    let select = location(&cb);
    admin.post_form(&select, &[("page", &page)]).await;
    let back = app.query(move |c| channels::list(c, tenant).unwrap()).await;
    assert_eq!(back.len(), 1);
    assert!(back[0].is_connected() && !back[0].needs_reconnect);
    let (_, html) = admin.page("/team").await;
    assert!(!html.contains("lost its connection"));
}

#[tokio::test]
async fn a_graph_call_answering_190_disconnects_the_channel_at_once() {
    let (app, sandbox) = app_with_sandbox(3).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let cb = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let status = cb.status();
    let select = location(&cb);
    assert_eq!(status, 303, "{}", cb.text().await.unwrap());
    let (status, html) = admin.page(&select).await;
    assert_eq!(status, 200, "{html}");
    admin
        .post_form(&select, &[("page", &input_values(&html, "page")[0])])
        .await;
    let ch = app
        .query(move |c| channels::list(c, tenant).unwrap().remove(0))
        .await;
    sandbox.revoke_token(
        meta_sandbox::TokenSelector::Kind(meta_sandbox::TokenKind::User),
        463,
    );
    let token = parley::channels::open_token(&app.state.cipher, &ch).unwrap();
    let err = app
        .state
        .graph
        .page(ch.page_id.as_deref().unwrap(), &token)
        .await
        .unwrap_err();
    assert!(
        parley::channels::health::record_graph_failure(&app.state, &ch, &err)
            .await
            .unwrap()
    );
    let ch = app
        .query(move |c| channels::list(c, tenant).unwrap().remove(0))
        .await;
    assert!(ch.needs_reconnect);
    assert!(ch.disconnected_reason.unwrap().contains("expired"));
}

#[tokio::test]
async fn disconnect_unsubscribes_wipes_the_token_and_keeps_the_row() {
    let (app, sandbox) = app_with_sandbox(3).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let cb = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select = location(&cb);
    let (_, html) = admin.page(&select).await;
    let page = input_values(&html, "page").remove(0);
    admin.post_form(&select, &[("page", &page)]).await;
    let ch = app
        .query(move |c| channels::list(c, tenant).unwrap().remove(0))
        .await;
    let (status, confirm) = admin.page(&format!("/channels/{}/disconnect", ch.id)).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("delete its access token"));
    let res = admin
        .post_form(&format!("/channels/{}/disconnect", ch.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let after = app
        .query(move |c| channels::list(c, tenant).unwrap().remove(0))
        .await;
    assert!(!after.is_connected() && !after.needs_reconnect && after.token_ciphertext.is_none());
    assert!(
        sandbox.world().page_subscriptions(&page).is_empty(),
        "Meta was told to stop"
    );
}
