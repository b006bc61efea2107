//! Attachments: downloaded only from Meta's media hosts with type and size checks, stored in
//! Parley's storage dir, and served only to signed-in users of the owning tenant.

use parley::auth::Role;
use parley::models::channels::Platform;
use serde_json::json;

use crate::support::app_with_sandbox;

/// Runs the queued jobs of `kind`; there must be some, and each must succeed.
async fn run_jobs(app: &crate::support::TestApp, kind: &'static str) {
    let outcomes = app.run_queued_jobs(kind).await;
    assert!(!outcomes.is_empty(), "a {kind} job was enqueued");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

async fn attachments_of(app: &crate::support::TestApp) -> Vec<(i64, serde_json::Value)> {
    use diesel::prelude::*;
    app.query(|c| {
        parley::db::schema::messages::table
            .select((
                parley::db::schema::messages::id,
                parley::db::schema::messages::attachments,
            ))
            .order(parley::db::schema::messages::id)
            .load::<(i64, serde_json::Value)>(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn messenger_media_is_stored_and_served_only_to_its_tenant() {
    let (app, sandbox) = app_with_sandbox(3).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let (mut other, _, _) = app
        .signed_in("Other", "agent@other.test", Role::Agent)
        .await;
    app.connect_channel(tenant, Platform::Messenger, "111", None)
        .await;
    let good = format!("{}/_media/static/post/1.png", sandbox.url());
    let body = serde_json::to_vec(&json!({"object":"page","entry":[{"id":"111","time":1,"messaging":[
        {"sender":{"id":"U1"},"recipient":{"id":"111"},"timestamp":1700000000000_i64,"message":{"mid":"m_img","attachments":[{"type":"image","payload":{"url":good}}]}},
        {"sender":{"id":"U1"},"recipient":{"id":"111"},"timestamp":1700000001000_i64,"message":{"mid":"m_evil","attachments":[{"type":"image","payload":{"url":"https://evil.example/x.png"}}]}}
    ]}]})).unwrap();
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.process_webhooks().await;
    run_jobs(&app, "download_attachments").await;

    let atts = attachments_of(&app).await;
    let stored = &atts[0].1[0]["stored"];
    assert_eq!(stored["content_type"], "image/png", "{stored}");
    assert!(
        atts[1].1[0]["stored"]["error"]
            .as_str()
            .unwrap()
            .contains("not one of Meta's media hosts")
    );

    let url = format!("/media/{}/0", atts[0].0);
    let res = agent.get(&url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.bytes().await.unwrap().starts_with(b"\x89PNG"));
    assert_eq!(other.get(&url).await.status(), 404, "another tenant");
    assert_eq!(app.client().get(&url).await.status(), 303, "signed out");
    assert_eq!(
        agent.get(&format!("/media/{}/0", atts[1].0)).await.status(),
        404,
        "refused media is not served"
    );
}

#[tokio::test]
async fn whatsapp_media_is_fetched_with_the_channel_token() {
    let (app, sandbox) = app_with_sandbox(3).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let seed = sandbox.world().seed();
    let token = sandbox
        .issue_token(meta_sandbox::IssueToken::SystemUser)
        .unwrap();
    app.connect_channel_with_token(
        tenant,
        Platform::Whatsapp,
        &seed.phone_number.id,
        Some(&seed.waba.id),
        &token,
    )
    .await;
    let media = app
        .state
        .graph
        .whatsapp_upload_media(
            &seed.phone_number.id,
            &parley::meta::AccessToken::new(token),
            b"\x89PNG\r\n\x1a\nwa".to_vec(),
            "image/png",
            "p.png",
        )
        .await
        .unwrap();
    let body = serde_json::to_vec(&json!({"object":"whatsapp_business_account","entry":[{"id":seed.waba.id,"changes":[{"field":"messages","value":{
        "metadata":{"phone_number_id":seed.phone_number.id},"contacts":[{"profile":{"name":"Kim"},"wa_id":"15550009999"}],
        "messages":[{"from":"15550009999","id":"wamid.img","timestamp":"1700000000","type":"image","image":{"id":media.id,"mime_type":"image/png","caption":"my receipt"}}]}}]}]})).unwrap();
    app.post_webhook(&body).await;
    app.process_webhooks().await;
    run_jobs(&app, "download_attachments").await;
    let atts = attachments_of(&app).await;
    assert_eq!(atts[0].1[0]["stored"]["content_type"], "image/png");
    let res = agent.get(&format!("/media/{}/0", atts[0].0)).await;
    assert_eq!(res.status(), 200);
}
