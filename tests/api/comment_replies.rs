//! Private replies and likes against the sandbox: a private reply opens the author's
//! conversation in the inbox, is allowed once per comment and within 7 days, and Meta's own
//! refusal is shown with its reason.

use crate::comment_actions::{Moderated, moderated, row_id};
use crate::comments::feed;
use crate::support::HtmlPage;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_private_reply_opens_the_authors_conversation_once_within_seven_days() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        token,
        post,
        comment,
        _sandbox: sandbox,
    } = moderated().await;
    let graph = &app.state.graph;
    let customers: Vec<_> = graph
        .post_comments(&post.id, &token, &page_id, None)
        .await
        .unwrap()
        .data
        .into_iter()
        .filter(|c| c.from.as_ref().is_some_and(|f| f.id != page_id))
        .collect();
    let other = customers
        .iter()
        .find(|c| c.id != comment.id)
        .expect("a second customer comment");
    for (c, ts) in [(&comment.id, now()), (&other.id, now())] {
        app.post_webhook(&feed(&page_id, "add", c, &post.id, "Do you ship?", ts))
            .await;
    }
    app.post_webhook(&feed(
        &page_id,
        "add",
        "old_1",
        &post.id,
        "Old one",
        now() - 8 * 86_400,
    ))
    .await;
    app.process_webhooks().await;
    let id = row_id(&app, &comment.id).await;

    let (status, form) = moderator
        .page(&format!("/comments/{id}/private-reply"))
        .await;
    assert_eq!(status, 200);
    assert!(form.contains("Reply privately"), "{form}");
    let res = moderator
        .post_form(
            &format!("/comments/{id}/private-reply"),
            &[("message", "We do! Details here."), ("back", "state=all")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/comments?state=all");
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let sent: Vec<_> = sandbox
        .sent_messages()
        .into_iter()
        .filter(|m| m.recipient == format!("comment:{}", comment.id))
        .collect();
    assert_eq!(sent.len(), 1, "Meta received one private reply");

    // The reply is a message in the author's conversation, which the comment links to.
    let (conversation, text, status) = app
        .query(move |c| {
            use diesel::prelude::*;
            use parley::db::schema::{comments as cm, messages as m};
            let conversation: i64 = cm::table
                .filter(cm::id.eq(id))
                .select(cm::conversation_id.assume_not_null())
                .first(c)
                .unwrap();
            let (text, status): (Option<String>, String) = m::table
                .filter(m::conversation_id.eq(conversation))
                .select((m::text, m::status))
                .first(c)
                .unwrap();
            (conversation, text, status)
        })
        .await;
    assert_eq!(text.as_deref(), Some("We do! Details here."));
    assert_eq!(status, "sent");
    let (_, queue) = moderator.page("/comments?state=all").await;
    let queue = HtmlPage::parse(&queue);
    assert!(
        queue
            .texts(&format!("li#comment-{id} .chip"))
            .contains(&"replied privately".to_string())
    );
    // Moderators have no inbox; an admin's queue links the conversation.
    assert!(
        queue
            .attrs(&format!("li#comment-{id} a[href^='/inbox/']"), "href")
            .is_empty()
    );
    let (mut admin, _, _) = app
        .signed_in("Acme", "admin@acme.test", parley::auth::Role::Admin)
        .await;
    let (_, admin_queue) = admin.page("/comments?state=all").await;
    assert_eq!(
        HtmlPage::parse(&admin_queue).attrs(&format!("li#comment-{id} a[href^='/inbox/']"), "href"),
        [format!("/inbox/{conversation}")]
    );

    // Only one per comment: refused before Meta is asked, the text kept.
    let res = moderator
        .post_form(
            &format!("/comments/{id}/private-reply"),
            &[("message", "Again"), ("back", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = HtmlPage::parse(&res.text().await.unwrap());
    assert!(page.text("#reply-error").unwrap().contains("already sent"));
    assert_eq!(
        page.text("textarea#reply-message").as_deref(),
        Some("Again")
    );

    // Older than 7 days: refused before Meta is asked.
    let old = row_id(&app, "old_1").await;
    let res = moderator
        .post_form(
            &format!("/comments/{old}/private-reply"),
            &[("message", "Hi"), ("back", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = HtmlPage::parse(&res.text().await.unwrap());
    assert!(page.text("#reply-error").unwrap().contains("within 7 days"));

    // Replied privately elsewhere (Meta knows, Parley does not): Meta refuses, with its reason.
    graph
        .send_message(
            &page_id,
            &token,
            &parley::meta::messaging::SendRequest {
                recipient: parley::meta::messaging::Recipient::Comment {
                    comment_id: other.id.clone(),
                },
                messaging_type: None,
                tag: None,
                message: Some(parley::meta::messaging::OutgoingMessage {
                    text: Some("From the Page inbox".into()),
                    ..Default::default()
                }),
                sender_action: None,
            },
        )
        .await
        .unwrap();
    let other_id = row_id(&app, &other.id).await;
    moderator
        .post_form(
            &format!("/comments/{other_id}/private-reply"),
            &[("message", "Hello"), ("back", "")],
        )
        .await;
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let (_, queue) = moderator.page("/comments?state=all").await;
    let chip = HtmlPage::parse(&queue)
        .text(&format!("li#comment-{other_id} .chip-failed"))
        .unwrap_or_default();
    assert!(chip.starts_with("private reply failed: "), "{chip}");
    assert!(chip.contains("Cannot message this user"), "{chip}");
    // "Try again" opens the reply with the failed text.
    let (_, queue) = moderator.page("/comments?state=all").await;
    let again = HtmlPage::parse(&queue).attrs(&format!("li#comment-{other_id} a.retry"), "href");
    assert_eq!(again.len(), 1, "{queue}");
    let (_, form) = moderator.page(&again[0]).await;
    assert_eq!(
        HtmlPage::parse(&form)
            .text("textarea#reply-message")
            .as_deref(),
        Some("Hello")
    );
}

#[tokio::test]
async fn a_page_likes_a_facebook_comment_once() {
    let Moderated {
        app,
        mut moderator,
        page_id,
        token,
        post,
        comment,
        _sandbox,
    } = moderated().await;
    app.post_webhook(&feed(&page_id, "add", &comment.id, &post.id, "Nice", now()))
        .await;
    app.process_webhooks().await;
    let id = row_id(&app, &comment.id).await;
    let likes = || async {
        app.state
            .graph
            .post_comments(&post.id, &token, &page_id, None)
            .await
            .unwrap()
            .data
            .into_iter()
            .find(|c| c.id == comment.id)
            .and_then(|c| c.like_count)
            .unwrap_or_default()
    };
    let before = likes().await;
    moderator.page("/comments").await;
    let res = moderator
        .post_form(&format!("/comments/{id}/like"), &[("back", "")])
        .await;
    assert_eq!(res.status(), 303);
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(likes().await, before + 1, "liked at Meta");
    let (_, queue) = moderator.page("/comments").await;
    let page = HtmlPage::parse(&queue);
    assert!(
        page.texts(&format!("li#comment-{id} .chip"))
            .contains(&"liked".to_string())
    );
    assert_eq!(
        page.count(&format!("li#comment-{id} form[action$='/like']")),
        0,
        "no second like"
    );
    moderator
        .post_form(&format!("/comments/{id}/like"), &[("back", "")])
        .await;
    let (_, queue) = moderator.page("/comments").await;
    assert!(queue.contains("You already like this comment."));
}
