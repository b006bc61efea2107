//! An Instagram Login account in the inbox: its imported history (20 messages at most each,
//! windows right, no unread), replies in and out of the window, seen, typing and reactions,
//! comments, private replies and insights, all through `graph.instagram.com`, and none of it
//! reachable from another workspace.

use diesel::prelude::*;
use meta_sandbox::CustomerMessage;
use parley::auth::Role;
use parley::db::schema::messages as m;
use parley::db::statuses::RunState;
use parley::models::channels::Platform;

use crate::history_import::{conversation_of, import_of, message_count};
use crate::support::{app_with_instagram_login, run_jobs};

const STUDIO: &str = meta_sandbox::STUDIO_IG_ID;

#[tokio::test]
async fn an_instagram_login_account_imports_its_history_and_answers_through_its_own_host() {
    let (app, sandbox) = app_with_instagram_login(3, &[]).await;
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .through_instagram_dialog("/channels/connect/instagram", Some(STUDIO))
        .await;
    assert_eq!(res.status(), 303);
    let channel = app.channel_of(Platform::Instagram).await;
    let started = std::time::Instant::now();
    assert_eq!(run_jobs(&app, "import_history").await, 1);
    // Four calls (the list and three conversations) at Meta's 2 a second.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    let (state, conversations, messages) = import_of(&app, channel.id.0).await;
    assert_eq!(state, RunState::Done);
    assert_eq!(conversations, 3);
    // Ines's thread has 26 messages at Meta, of which only the 20 newest can be read.
    assert_eq!(messages, 20 + 3 + 3);
    let customers: Vec<String> = sandbox
        .world()
        .seed()
        .customers
        .iter()
        .filter(|c| c.account_id == STUDIO)
        .map(|c| c.id.clone())
        .collect();
    let (ines, ines_unread, limited) = conversation_of(&app, &customers[0]).await;
    assert_eq!(ines_unread, 0, "history is not news");
    assert!(limited);
    assert_eq!(message_count(&app, ines).await, (20, 20));
    let (lena, _, lena_limited) = conversation_of(&app, &customers[2]).await;
    assert!(!lena_limited);
    let (_, html) = admin.page("/channels").await;
    assert!(
        html.contains("History imported: 3 conversations and 26 messages."),
        "{html}"
    );

    // The agent sees it, with the window computed from the imported messages.
    let (mut agent, _, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let (status, page) = agent.page(&format!("/inbox/{ines}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Earlier messages are not available from Meta"),
        "{page}"
    );
    assert!(page.contains("window-open"), "{page}");
    assert!(
        page.contains("Your team, before Parley"),
        "imported replies say so"
    );
    let (_, page) = agent.page(&format!("/inbox/{lena}")).await;
    assert!(!page.contains("Earlier messages are not available from Meta"));

    // A reply goes out once, through graph.instagram.com with the Instagram token.
    let res = agent
        .post_form(
            &format!("/inbox/{ines}/messages"),
            &[("text", "Thanks Ines!")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(run_jobs(&app, "send_message").await, 1);
    run_jobs(&app, "send_message").await;
    let sent = sandbox.sent_messages();
    assert_eq!(sent.len(), 1, "exactly one send: {sent:?}");
    assert!(sent[0].path.starts_with("/ig-graph/"), "{}", sent[0].path);
    assert_eq!(sent[0].account_id, STUDIO);
    assert_eq!(sent[0].body["message"]["text"], "Thanks Ines!");
    // Ravi wrote 30 hours ago: the HUMAN_AGENT tag carries the reply, on the same host.
    let (ravi, _, _) = conversation_of(&app, &customers[1]).await;
    agent.page(&format!("/inbox/{ravi}")).await;
    let res = agent
        .post_form(
            &format!("/inbox/{ravi}/messages"),
            &[("text", "Sorry for the wait!"), ("human_agent", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    run_jobs(&app, "send_message").await;
    let tagged = sandbox
        .sent_messages()
        .into_iter()
        .find(|m| m.recipient == customers[1])
        .expect("the tagged reply");
    assert_eq!(tagged.body["tag"], "HUMAN_AGENT");
    assert!(tagged.path.starts_with("/ig-graph/"));
    // Lena wrote 9 days ago: outside even the human-agent window, so nothing is sent.
    agent.page(&format!("/inbox/{lena}")).await;
    let res = agent
        .post_form(&format!("/inbox/{lena}/messages"), &[("text", "Hello?")])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        sandbox.sent_messages().len(),
        2,
        "Ines once, Ravi once, Lena never"
    );

    // New messages arrive by webhook, signed with the Instagram app's secret, and are news.
    sandbox
        .customer_message(CustomerMessage::text(
            customers[0].clone(),
            "One more thing",
        ))
        .await
        .unwrap();
    app.process_webhooks().await;
    let (_, unread, _) = conversation_of(&app, &customers[0]).await;
    assert_eq!(unread, 1);

    // Opening it shows Ines it was seen; writing shows "typing…"; both go through the
    // account's own host, once however often they are asked, and never outside the window.
    agent.page(&format!("/inbox/{ines}")).await;
    for _ in 0..3 {
        let res = agent.post_form(&format!("/inbox/{ines}/typing"), &[]).await;
        assert_eq!(res.status(), 204);
    }
    let res = agent.post_form(&format!("/inbox/{lena}/typing"), &[]).await;
    assert_eq!(res.status(), 204);
    let outcomes = app.run_queued_jobs("send_signal").await;
    assert_eq!(
        outcomes.len(),
        3,
        "seen and typing for Ines, typing for Lena: {outcomes:?}"
    );
    assert!(outcomes.iter().all(Result::is_ok));
    let actions: Vec<(String, String)> = sandbox
        .sent_messages()
        .into_iter()
        .filter(|m| m.message_id.is_empty())
        .map(|m| {
            (
                m.body["sender_action"].as_str().unwrap_or("").to_string(),
                m.path,
            )
        })
        .collect();
    assert_eq!(
        actions.len(),
        2,
        "nothing for Lena, outside the window: {actions:?}"
    );
    assert!(actions.iter().any(|(a, _)| a == "mark_seen"));
    assert!(actions.iter().any(|(a, _)| a == "typing_on"));
    assert!(actions.iter().all(|(_, p)| p.starts_with("/ig-graph/")));

    // A reaction to Ines's new message: shown at once, then sent to Meta; taken back the same way.
    let newest: i64 = app
        .query(move |c| {
            m::table
                .filter(m::conversation_id.eq(ines))
                .filter(m::direction.eq("inbound"))
                .order(m::sent_at.desc())
                .select(m::id)
                .first(c)
                .unwrap()
        })
        .await;
    let react = format!("/inbox/{ines}/messages/{newest}/react");
    let res = agent.post_form(&react, &[("on", "1")]).await;
    assert_eq!(res.status(), 303);
    let (_, page) = agent.page(&format!("/inbox/{ines}")).await;
    assert!(page.contains("Remove your ❤️"), "{page}");
    let outcomes = app.run_queued_jobs("send_reaction").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    agent.post_form(&react, &[("on", "0")]).await;
    let outcomes = app.run_queued_jobs("send_reaction").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let reactions: Vec<String> = sandbox
        .sent_messages()
        .into_iter()
        .filter_map(|m| {
            let action = m.body["sender_action"].as_str()?.to_string();
            (action == "react" || action == "unreact").then(|| {
                assert!(m.path.starts_with("/ig-graph/"), "{}", m.path);
                let reaction = m.body["payload"]["reaction"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string();
                format!("{action}:{reaction}")
            })
        })
        .collect();
    // The first job ran while the reaction was on; later runs send the latest state.
    assert_eq!(
        reactions.first().map(String::as_str),
        Some("react:love"),
        "{reactions:?}"
    );
    assert_eq!(
        reactions.last().map(String::as_str),
        Some("unreact:-"),
        "{reactions:?}"
    );
    // Lena is outside the window: refused before Meta is asked.
    let lena_message: i64 = app
        .query(move |c| {
            m::table
                .filter(m::conversation_id.eq(lena))
                .filter(m::direction.eq("inbound"))
                .select(m::id)
                .first(c)
                .unwrap()
        })
        .await;
    agent
        .post_form(
            &format!("/inbox/{lena}/messages/{lena_message}/react"),
            &[("on", "1")],
        )
        .await;
    let (_, page) = agent.page(&format!("/inbox/{lena}")).await;
    assert!(page.contains("only within 24 hours"), "{page}");
    app.run_queued_jobs("send_reaction").await;
    assert!(
        sandbox
            .sent_messages()
            .iter()
            .all(|m| m.recipient != customers[2]),
        "nothing was sent to Lena"
    );
    let (status, _) = {
        let (mut stranger, _, _) = app
            .signed_in("Bikes", "agent@bikes.test", Role::Agent)
            .await;
        let res = stranger
            .post_form(&format!("/inbox/{ines}/typing"), &[])
            .await;
        assert_eq!(res.status(), 404);
        let res = stranger
            .post_form(
                &format!("/inbox/{ines}/messages/{newest}/react"),
                &[("on", "1")],
            )
            .await;
        (res.status(), ())
    };
    assert_eq!(status, 404, "another workspace's conversation");

    // Another workspace sees none of it.
    let (mut other, _, _) = app
        .signed_in("Bikes", "admin@bikes.test", Role::Admin)
        .await;
    let (_, html) = other.page("/channels").await;
    assert!(!html.contains("acme.studio") && !html.contains("History imported"));
    let (status, _) = other.page(&format!("/inbox/{ines}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn comments_and_insights_of_an_instagram_login_account_go_through_its_host() {
    let (app, sandbox) = app_with_instagram_login(3, &[]).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    admin
        .through_instagram_dialog("/channels/connect/instagram", Some(STUDIO))
        .await;
    let outcomes = app.run_queued_jobs("sync_comments").await;
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(Result::is_ok),
        "{outcomes:?}"
    );
    let comments: Vec<(i64, String)> = app
        .query(move |c| {
            use parley::db::schema::comments as cm;
            cm::table
                .filter(cm::tenant_id.eq(tenant))
                .filter(cm::parent_comment_id.is_null())
                .filter(cm::from_business.eq(false))
                // The account's own customers (not the crowd, some of whom are hidden already).
                .filter(cm::author_id.like("990%"))
                .order(cm::id)
                .select((cm::id, cm::platform_comment_id))
                .load(c)
                .unwrap()
        })
        .await;
    assert!(
        comments.len() >= 2,
        "the account's comments were read: {comments:?}"
    );

    let (mut moderator, _, _) = app
        .signed_in("Acme", "mod@acme.test", Role::Moderator)
        .await;
    moderator.page("/comments?state=all").await;
    let (hide, hide_at_meta) = comments[0].clone();
    let res = moderator
        .post_form(&format!("/comments/{hide}/hide"), &[("back", "state=all")])
        .await;
    assert_eq!(res.status(), 303);
    let (private, private_at_meta) = comments[1].clone();
    let res = moderator
        .post_form(
            &format!("/comments/{private}/private-reply"),
            &[("message", "We sent you a DM!"), ("back", "state=all")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let outcomes = app.run_queued_jobs("moderate_comment").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let requests = sandbox.world().graph_requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "POST" && r.path == format!("/ig-graph/v24.0/{hide_at_meta}")),
        "hidden through graph.instagram.com: {requests:?}"
    );
    let private_reply = sandbox
        .sent_messages()
        .into_iter()
        .find(|m| m.recipient == format!("comment:{private_at_meta}"))
        .expect("the private reply was sent");
    assert!(
        private_reply.path.starts_with("/ig-graph/"),
        "{}",
        private_reply.path
    );

    // Account insights are read there too.
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(Result::is_ok),
        "{outcomes:?}"
    );
    assert!(
        sandbox
            .world()
            .graph_requests()
            .iter()
            .any(|r| r.path == format!("/ig-graph/v24.0/{STUDIO}/insights")),
        "insights through graph.instagram.com"
    );
    // And nothing of this account ever went to the Facebook host.
    assert!(
        sandbox
            .world()
            .graph_requests()
            .iter()
            .filter(|r| r.path.contains(STUDIO))
            .all(|r| r.path.starts_with("/ig-graph/")),
    );
}
