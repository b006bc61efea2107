//! Every Graph client call against the Meta sandbox (OAuth and channel setup calls are covered
//! by the wizard tests): the Send API with its windows, attachments, private replies, comments,
//! insights, message templates, and WhatsApp send, read, and media.

use std::time::Duration;

use chrono::Utc;
use meta_sandbox::{Channel, CustomerMessage, IssueToken, Sandbox};
use parley::meta::insights::Range;
use parley::meta::message_templates::NewMessageTemplate;
use parley::meta::messaging::{AttachmentKind, SendRequest, SenderAction};
use parley::meta::whatsapp::{WaContent, WaLanguage, WaMessage, WaTemplate};
use parley::meta::{AccessToken, GraphClient, GraphErrorKind, GraphSettings, WindowClosed};

use crate::support::{TEST_APP_ID, TEST_APP_SECRET, install_crypto_provider, sandbox_customer};

async fn setup() -> (Sandbox, GraphClient) {
    install_crypto_provider();
    let sandbox = Sandbox::start_local(meta_sandbox::SandboxConfig {
        app_id: TEST_APP_ID.into(),
        app_secret: TEST_APP_SECRET.into(),
        template_review_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await
    .unwrap();
    let meta = parley::config::Config::from_lookup(|k| match k {
        "META_GRAPH_URL" | "META_DIALOG_URL" => Some(sandbox.url()),
        "META_APP_ID" => Some(TEST_APP_ID.into()),
        "META_APP_SECRET" => Some(TEST_APP_SECRET.into()),
        _ => None,
    })
    .unwrap()
    .meta;
    let graph = GraphClient::new(GraphSettings::from_config(&meta)).unwrap();
    (sandbox, graph)
}

#[tokio::test]
async fn messenger_and_instagram_sends_respect_the_windows_exactly() {
    let (sandbox, graph) = setup().await;
    let seed = sandbox.world().seed();
    let page = seed.pages[0].clone();
    let ig = page.instagram.clone().unwrap();
    let token = AccessToken::new(
        sandbox
            .issue_token(IssueToken::Page {
                page_id: page.id.clone(),
            })
            .unwrap(),
    );
    let psid = sandbox_customer(&sandbox, Channel::Messenger, &page.id);
    let igsid = sandbox_customer(&sandbox, Channel::Instagram, &ig.id);

    // Inside 24 h: a RESPONSE goes out; sender actions too.
    sandbox
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - chrono::Duration::hours(1)),
            ..CustomerMessage::text(psid.clone(), "hi")
        })
        .await
        .unwrap();
    let sent = graph
        .send_message(&page.id, &token, &SendRequest::text(&psid, "Hello!"))
        .await
        .unwrap();
    assert!(!sent.message_id.is_empty());
    graph
        .sender_action(&page.id, &token, &psid, SenderAction::TypingOn)
        .await
        .unwrap();
    assert!(
        sandbox
            .sent_messages()
            .iter()
            .any(|m| m.message_id == sent.message_id)
    );

    // 30 h later: only HUMAN_AGENT.
    sandbox
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - chrono::Duration::hours(30)),
            ..CustomerMessage::text(psid.clone(), "hello?")
        })
        .await
        .unwrap();
    let err = graph
        .send_message(
            &page.id,
            &token,
            &SendRequest::text(&psid, "Sorry for the wait"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        GraphErrorKind::WindowClosed(WindowClosed::Messenger)
    );
    assert_eq!(err.meta.as_ref().unwrap().error_subcode, Some(2018278));
    graph
        .send_message(
            &page.id,
            &token,
            &SendRequest::text(&psid, "Sorry for the wait").with_human_agent_tag(),
        )
        .await
        .unwrap();

    // 8 days later: nothing goes out, even with the tag.
    sandbox
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - chrono::Duration::days(8)),
            ..CustomerMessage::text(psid.clone(), "old")
        })
        .await
        .unwrap();
    let err = graph
        .send_message(
            &page.id,
            &token,
            &SendRequest::text(&psid, "late").with_human_agent_tag(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err.kind, GraphErrorKind::WindowClosed(_)));

    // Instagram outside the window answers its own subcode.
    sandbox
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - chrono::Duration::hours(30)),
            ..CustomerMessage::text(igsid.clone(), "hey")
        })
        .await
        .unwrap();
    let err = graph
        .send_message(&page.id, &token, &SendRequest::text(&igsid, "hi"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        GraphErrorKind::WindowClosed(WindowClosed::Instagram)
    );

    // Attachments can be uploaded for reuse.
    let upload = graph
        .upload_attachment(
            &page.id,
            &token,
            AttachmentKind::Image,
            &format!("{}/_media/demo.png", sandbox.url()),
        )
        .await
        .unwrap();
    assert!(!upload.attachment_id.is_empty());
}

#[tokio::test]
async fn profiles_comments_and_private_replies() {
    let (sandbox, graph) = setup().await;
    let seed = sandbox.world().seed();
    let page = seed.pages[0].clone();
    let ig = page.instagram.clone().unwrap();
    let token = AccessToken::new(
        sandbox
            .issue_token(IssueToken::Page {
                page_id: page.id.clone(),
            })
            .unwrap(),
    );
    let psid = sandbox_customer(&sandbox, Channel::Messenger, &page.id);
    let profile = graph
        .messenger_profile(&psid, &token, &page.id)
        .await
        .unwrap();
    assert!(profile.first_name.is_some());
    let igsid = sandbox_customer(&sandbox, Channel::Instagram, &ig.id);
    assert!(
        graph
            .instagram_profile(&igsid, &token, &ig.id)
            .await
            .unwrap()
            .username
            .is_some()
    );

    // Facebook: feed → comments → reply, hide, unhide, private reply once, delete.
    let posts = graph.page_feed(&page.id, &token, None).await.unwrap().data;
    let post = posts.first().unwrap();
    let comments = graph
        .post_comments(&post.id, &token, &page.id, None)
        .await
        .unwrap()
        .data;
    let c = comments.first().expect("seeded comments").clone();
    let reply = graph
        .reply_to_facebook_comment(&c.id, &token, &page.id, "Thanks!")
        .await
        .unwrap();
    assert!(!reply.id.is_empty());
    graph
        .set_facebook_comment_hidden(&c.id, &token, &page.id, true)
        .await
        .unwrap();
    graph
        .set_facebook_comment_hidden(&c.id, &token, &page.id, false)
        .await
        .unwrap();
    graph
        .private_reply(&page.id, &token, &c.id, "We sent you a DM")
        .await
        .unwrap();
    let second = graph
        .private_reply(&page.id, &token, &c.id, "again")
        .await
        .unwrap_err();
    assert_eq!(second.kind, GraphErrorKind::InvalidRequest);
    graph.delete_comment(&c.id, &token, &page.id).await.unwrap();
    let gone = graph
        .set_facebook_comment_hidden(&c.id, &token, &page.id, true)
        .await
        .unwrap_err();
    assert_eq!(gone.kind, GraphErrorKind::NotFound);

    // Instagram: media → comments → replies, reply, hide.
    let media = graph
        .instagram_media(&ig.id, &token, None)
        .await
        .unwrap()
        .data;
    let m = media
        .iter()
        .find(|m| m.comments_count.unwrap_or(0) > 0)
        .unwrap();
    let ig_comments = graph
        .instagram_comments(&m.id, &token, &ig.id, None)
        .await
        .unwrap()
        .data;
    let ic = ig_comments.first().unwrap().clone();
    graph
        .reply_to_instagram_comment(&ic.id, &token, &ig.id, "Glad you like it")
        .await
        .unwrap();
    let replies = graph
        .instagram_comment_replies(&ic.id, &token, &ig.id, None)
        .await
        .unwrap()
        .data;
    assert!(
        replies
            .iter()
            .any(|r| r.text.as_deref() == Some("Glad you like it"))
    );
    graph
        .set_instagram_comment_hidden(&ic.id, &token, &ig.id, true)
        .await
        .unwrap();
}

#[tokio::test]
async fn insights_are_series_and_deprecated_metrics_are_refused() {
    let (sandbox, graph) = setup().await;
    let seed = sandbox.world().seed();
    let page = seed.pages[0].clone();
    let ig = page.instagram.clone().unwrap();
    let token = AccessToken::new(
        sandbox
            .issue_token(IssueToken::Page {
                page_id: page.id.clone(),
            })
            .unwrap(),
    );
    let until = Utc::now().timestamp();
    let range = Range {
        since: until - 28 * 86400,
        until,
    };
    let series = graph
        .page_insights(
            &page.id,
            &token,
            &["page_media_view", "page_follows"],
            "day",
            range,
        )
        .await
        .unwrap();
    assert_eq!(series.len(), 2);
    assert!(series[0].values.len() >= 27);
    let again = graph
        .page_insights(&page.id, &token, &["page_media_view"], "day", range)
        .await
        .unwrap();
    assert_eq!(
        again[0].values[3].value, series[0].values[3].value,
        "deterministic"
    );
    let err = graph
        .page_insights(&page.id, &token, &["page_impressions"], "day", range)
        .await
        .unwrap_err();
    assert_eq!(err.kind, GraphErrorKind::InvalidRequest);
    assert!(
        graph
            .instagram_insights(
                &ig.id,
                &token,
                &parley::meta::insights::IgInsightsQuery {
                    metrics: &["reach"],
                    period: "day",
                    metric_type: "time_series",
                    breakdown: None,
                    timeframe: None,
                    range: Some(range),
                }
            )
            .await
            .is_ok()
    );
    let media = graph
        .instagram_media(&ig.id, &token, None)
        .await
        .unwrap()
        .data;
    assert!(
        graph
            .media_insights(&media[0].id, &token, &ig.id, &["reach", "likes"], None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn whatsapp_send_window_templates_read_and_media() {
    let (sandbox, graph) = setup().await;
    let seed = sandbox.world().seed();
    let (waba, phone) = (seed.waba.id.clone(), seed.phone_number.id.clone());
    let token = AccessToken::new(sandbox.issue_token(IssueToken::SystemUser).unwrap());
    let wa_id = sandbox_customer(&sandbox, Channel::WhatsApp, &phone);
    assert_eq!(
        graph
            .whatsapp_phone_number(&phone, &token)
            .await
            .unwrap()
            .id,
        phone
    );

    sandbox
        .customer_message(CustomerMessage {
            at: Some(Utc::now() - chrono::Duration::hours(30)),
            ..CustomerMessage::text(wa_id.clone(), "hi")
        })
        .await
        .unwrap();
    let err = graph
        .whatsapp_send(&phone, &token, &WaMessage::text(&wa_id, "hello"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        GraphErrorKind::WindowClosed(WindowClosed::WhatsAppReengagement)
    );

    // Submit a template; it is approved after the review delay and can then be sent.
    let created = graph
        .create_message_template(
            &waba,
            &token,
            &NewMessageTemplate {
                name: "order_ready".into(),
                category: "UTILITY".into(),
                language: "en_US".into(),
                parameter_format: None,
                components: vec![
                    serde_json::json!({"type": "BODY", "text": "Your order is ready for pickup."}),
                ],
            },
        )
        .await
        .unwrap();
    assert_eq!(created.status, "PENDING");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        graph
            .message_template_status(&created.id, &token, &waba)
            .await
            .unwrap()
            .status,
        "APPROVED"
    );
    let listed = graph
        .message_templates(&waba, &token, Some("APPROVED"), None)
        .await
        .unwrap()
        .data;
    assert!(listed.iter().any(|t| t.name == "order_ready"));
    let template = WaMessage::new(
        &wa_id,
        WaContent::Template {
            template: WaTemplate {
                name: "order_ready".into(),
                language: WaLanguage {
                    code: "en_US".into(),
                },
                components: vec![],
            },
        },
    );
    let sent = graph
        .whatsapp_send(&phone, &token, &template)
        .await
        .unwrap();
    assert!(sent.message_id().unwrap().starts_with("wamid."));

    // Inside the window: text, read receipt, media round trip.
    let inbound = sandbox
        .customer_message(CustomerMessage::text(wa_id.clone(), "thanks"))
        .await
        .unwrap();
    graph
        .whatsapp_send(&phone, &token, &WaMessage::text(&wa_id, "You're welcome"))
        .await
        .unwrap();
    let last_wamid = inbound.id;
    graph
        .whatsapp_mark_read(&phone, &token, &last_wamid)
        .await
        .unwrap();
    let media = graph
        .whatsapp_upload_media(
            &phone,
            &token,
            b"\x89PNG\r\n\x1a\nfake".to_vec(),
            "image/png",
            "a.png",
        )
        .await
        .unwrap();
    let url = graph.whatsapp_media_url(&media.id, &token).await.unwrap();
    assert_eq!(url.mime_type.as_deref(), Some("image/png"));
    let (bytes, mime) = graph
        .download_media(&url.url, &token, 1 << 20)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    assert_eq!(mime.as_deref(), Some("image/png"));
    graph
        .delete_message_template(&waba, &token, "order_ready", None)
        .await
        .unwrap();
}
