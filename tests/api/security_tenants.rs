//! Tenants never affect each other through what they share at Meta: a Page subscription that
//! carries one tenant's Messenger and another's Instagram, a WhatsApp Business Account with
//! numbers in two tenants.

use diesel::prelude::*;
use parley::auth::Role;
use parley::models::channels::Platform;
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::TestApp;

async fn unsubscribes(graph: &MockServer) -> Vec<String> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.path().to_string())
        .collect()
}

#[tokio::test]
async fn a_shared_subscription_is_kept_while_another_tenant_needs_it() {
    let graph = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path_regex(".*/subscribed_apps$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&graph)
        .await;
    let app = TestApp::spawn_with(&[("META_GRAPH_URL", &graph.uri())]).await;
    let (mut a, ta, _) = app.signed_in("Acme", "ann@acme.test", Role::Admin).await;
    let (mut b, tb, _) = app
        .signed_in("Globex", "hank@globex.test", Role::Admin)
        .await;

    // Page P's Messenger is Acme's; the Instagram account linked to P is Globex's.
    let messenger = app
        .connect_channel_with_token(ta, Platform::Messenger, "P100", None, "tok-a")
        .await;
    let instagram = app
        .connect_channel_with_token(tb, Platform::Instagram, "IG200", None, "tok-b")
        .await;
    let ig_id = instagram.id;
    app.query(move |c| {
        use parley::db::schema::channels;
        diesel::update(channels::table.find(ig_id))
            .set(channels::page_id.eq("P100"))
            .execute(c)
            .unwrap();
    })
    .await;
    // One WhatsApp Business Account with a number in each tenant.
    let wa_a = app
        .connect_channel_with_token(ta, Platform::Whatsapp, "PN1", Some("WABA9"), "tok-wa")
        .await;
    let wa_b = app
        .connect_channel_with_token(tb, Platform::Whatsapp, "PN2", Some("WABA9"), "tok-wb")
        .await;

    a.page("/channels").await;
    for ch in [&messenger, &wa_a] {
        let res = a
            .post_form(&format!("/channels/{}/disconnect", ch.id), &[])
            .await;
        assert_eq!(res.status(), 303);
    }
    assert_eq!(
        unsubscribes(&graph).await,
        Vec::<String>::new(),
        "Globex still needs both subscriptions"
    );

    b.page("/channels").await;
    for ch in [&instagram, &wa_b] {
        b.post_form(&format!("/channels/{}/disconnect", ch.id), &[])
            .await;
    }
    let mut gone = unsubscribes(&graph).await;
    gone.sort();
    assert_eq!(gone.len(), 2, "{gone:?}");
    assert!(gone[0].ends_with("/P100/subscribed_apps"), "{gone:?}");
    assert!(gone[1].ends_with("/WABA9/subscribed_apps"), "{gone:?}");
}

#[tokio::test]
async fn a_template_review_reaches_every_tenant_with_a_number_on_the_account() {
    let app = TestApp::spawn().await;
    let (ta, _) = app
        .create_user("Acme", "ann@acme.test", Role::Admin, "long enough pw")
        .await;
    let (tb, _) = app
        .create_user("Globex", "hank@globex.test", Role::Admin, "long enough pw")
        .await;
    let (tc, _) = app
        .create_user(
            "Initech",
            "bill@initech.test",
            Role::Admin,
            "long enough pw",
        )
        .await;
    app.connect_channel(ta, Platform::Whatsapp, "PN1", Some("WABA9"))
        .await;
    app.connect_channel(tb, Platform::Whatsapp, "PN2", Some("WABA9"))
        .await;
    app.connect_channel(tc, Platform::Whatsapp, "PN3", Some("WABA_OTHER"))
        .await;
    let body = serde_json::to_vec(&json!({"object":"whatsapp_business_account","entry":[{"id":"WABA9","changes":[
        {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":777_i64,
          "message_template_name":"order_update","message_template_language":"en_US","reason":"NONE"}},
        {"field":"message_template_quality_update","value":{"message_template_id":777_i64,
          "previous_quality_score":"UNKNOWN","new_quality_score":"GREEN"}}
    ]}]}))
    .unwrap();
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.process_webhooks().await;
    let rows: Vec<(i64, String, Option<String>)> = app
        .query(|c| {
            use parley::db::schema::message_templates as t;
            t::table
                .order(t::tenant_id)
                .select((t::tenant_id, t::status, t::quality_score))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        rows,
        [
            (ta.0, "APPROVED".to_string(), Some("GREEN".to_string())),
            (tb.0, "APPROVED".to_string(), Some("GREEN".to_string())),
        ]
    );
}
