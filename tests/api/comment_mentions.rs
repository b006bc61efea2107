//! Instagram mentions against the sandbox: a comment on someone else's media that mentions the
//! business arrives with its id only, its text and author are read from Meta, it cannot be
//! hidden or deleted, and a reply goes through the account's mentions.

use meta_sandbox::{Channel, CustomerEvent};
use parley::auth::Role;
use parley::models::channels::Platform;

use crate::comment_actions::row_id;
use crate::support::{HtmlPage, app_with_sandbox, sandbox_customer};

#[tokio::test]
async fn a_mention_is_read_from_meta_refuses_moderation_and_takes_a_reply() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut moderator, tenant, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let ig = sandbox.world().seed().pages[0].instagram.clone().unwrap();
    let token = sandbox
        .issue_token(meta_sandbox::IssueToken::Page {
            page_id: page_id.clone(),
        })
        .unwrap();
    app.connect_channel_with_token(tenant, Platform::Instagram, &ig.id, None, &token)
        .await;
    let customer = sandbox_customer(&sandbox, Channel::Instagram, &ig.id);
    let record = sandbox
        .customer_event(CustomerEvent::Mention { customer })
        .await
        .unwrap();
    app.process_webhooks().await;
    let outcomes = app.run_queued_jobs("fetch_mention").await;
    assert_eq!(outcomes, [Ok(())]);
    assert!(
        app.run_queued_jobs("fetch_comment_post").await.is_empty(),
        "someone else's media is not read as a post"
    );
    let id = row_id(&app, &record.id).await;
    let (_, html) = moderator.page("/comments?state=all").await;
    let page = HtmlPage::parse(&html);
    let text = page
        .text(&format!("li#comment-{id} .comment-text"))
        .unwrap();
    assert_eq!(
        text,
        format!("@{} you have to try this place!", ig.username)
    );

    // Not the business's media: hiding and deleting are refused before Meta is asked.
    for action in ["hide", "delete"] {
        moderator
            .post_form(
                &format!("/comments/{id}/{action}"),
                &[("back", "state=all")],
            )
            .await;
        let (_, html) = moderator.page("/comments?state=all").await;
        assert!(
            html.contains("lets you reply to it, not hide or delete it"),
            "{action}: {html}"
        );
    }
    // A reply goes through the account's mentions and lands under the comment at Meta.
    moderator
        .post_form(
            &format!("/comments/{id}/reply"),
            &[("message", "Thank you for the shout-out!"), ("back", "")],
        )
        .await;
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert_eq!(outcomes, [Ok(())]);
    let replies = app
        .state
        .graph
        .instagram_comment_replies(
            &record.id,
            &parley::meta::AccessToken::new(token),
            &ig.id,
            None,
        )
        .await
        .unwrap()
        .data;
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].text.as_deref(),
        Some("Thank you for the shout-out!")
    );
    assert_eq!(
        crate::support::count(
            &app,
            "SELECT count(*) AS n FROM comment_actions WHERE state = 'done'"
        )
        .await,
        1
    );
}
