//! The shared inbox against the Meta sandbox: replies inside and outside Meta's windows, the
//! send pipeline (pacing, failure, retry, never twice), attachments, agents' actions, search and
//! tenant isolation.

use chrono::Duration;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use meta_sandbox::{CustomerMessage, Fault, FaultKind};
use parley::auth::Role;
use parley::jobs::queue;

use crate::support::app_with_sandbox;
use crate::support::{Env, HtmlPage, env, outbound, run_jobs};

async fn reply(env: &mut Env, conv: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    env.agent.page(&format!("/inbox/{conv}")).await;
    env.agent
        .post_form(&format!("/inbox/{conv}/messages"), fields)
        .await
}

#[tokio::test]
async fn a_reply_inside_24h_goes_out_once_as_a_response_and_follows_receipts() {
    let mut env = env().await;
    let conv = env.customer_writes("Do you ship to Lisbon?", 1).await;
    let (status, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Do you ship to Lisbon?"), "{page}");
    assert!(page.contains("Window closes in 22 h"), "window shown");

    let res = reply(&mut env, conv, &[("text", "Yes, in 3 days.")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        outbound(&env.app).await[0].0,
        "sending",
        "shown at once as sending"
    );
    assert_eq!(run_jobs(&env.app, "send_message").await, 1);
    let sent = env.sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["messaging_type"], "RESPONSE");
    assert_eq!(sent[0].body["message"]["text"], "Yes, in 3 days.");
    assert!(
        sent[0].body["message"]["metadata"]
            .as_str()
            .unwrap()
            .starts_with("parley:")
    );

    // The echo links to the same message; receipts move it on. Nothing is doubled.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    env.app.process_webhooks().await;
    let out = outbound(&env.app).await;
    assert_eq!(
        out.len(),
        1,
        "the echo did not add a second message: {out:?}"
    );
    assert_eq!(out[0].0, "read");
    // Running the job again (a redelivered job) sends nothing more.
    let job = env
        .app
        .query(|c| queue::list(c, None, None, 10).unwrap())
        .await
        .into_iter()
        .find(|j| j.kind == "send_message")
        .unwrap();
    parley::jobs::kinds::run(&env.app.state, &job)
        .await
        .unwrap();
    assert_eq!(env.sandbox.sent_messages().len(), 1);
}

#[tokio::test]
async fn between_24h_and_7_days_a_reply_needs_the_human_agent_tag_and_beyond_is_blocked() {
    let mut env = env().await;
    let conv = env.customer_writes("Hello?", 30).await;
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(page.contains("Outside 24 h"), "{page}");

    let res = reply(&mut env, conv, &[("text", "Sorry for the wait!")]).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("Send as human agent"), "explains the tag");
    assert_eq!(
        HtmlPage::parse(&body)
            .text("form#composer textarea#reply-text")
            .as_deref(),
        Some("Sorry for the wait!"),
        "keeps what was typed, in the reply box"
    );
    assert!(outbound(&env.app).await.is_empty());

    let res = reply(
        &mut env,
        conv,
        &[("text", "Sorry for the wait!"), ("human_agent", "1")],
    )
    .await;
    assert_eq!(res.status(), 303);
    run_jobs(&env.app, "send_message").await;
    let sent = env.sandbox.sent_messages();
    assert_eq!(sent[0].body["messaging_type"], "MESSAGE_TAG");
    assert_eq!(sent[0].body["tag"], "HUMAN_AGENT");
    assert_eq!(outbound(&env.app).await[0].0, "sent");

    // Eight days: blocked with an explanation, and the page says so.
    let old = env.customer_writes("Anyone?", 8 * 24).await;
    assert_eq!(old, conv);
    env.app
        .query(move |c| {
            diesel::sql_query(
                "UPDATE conversations SET last_inbound_at = now() - interval '8 days' WHERE id = $1",
            )
            .bind::<BigInt, _>(conv)
            .execute(c)
            .unwrap()
        })
        .await;
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(page.contains("Window closed"), "{page}");
    let res = reply(&mut env, conv, &[("text", "Hi"), ("human_agent", "1")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("more than 7 days old"));
}

#[tokio::test]
async fn whatsapp_needs_a_template_after_24h_and_sends_inside() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let (conv, wa) = app
        .whatsapp_conversation(&sandbox, tenant, "Is my order ready?", Duration::hours(30))
        .await;
    let (_, page) = agent.page(&format!("/inbox/{conv}")).await;
    assert!(page.contains("only an approved template"), "{page}");
    let res = agent
        .post_form(&format!("/inbox/{conv}/messages"), &[("text", "Yes!")])
        .await;
    assert_eq!(res.status(), 422);

    sandbox
        .customer_message(CustomerMessage::text(wa.clone(), "Hello again"))
        .await
        .unwrap();
    app.process_webhooks().await;
    agent.page(&format!("/inbox/{conv}")).await;
    let res = agent
        .post_form(
            &format!("/inbox/{conv}/messages"),
            &[("text", "Yes, ready!")],
        )
        .await;
    assert_eq!(res.status(), 303);
    run_jobs(&app, "send_message").await;
    let sent = sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"]["body"], "Yes, ready!");
    let out = outbound(&app).await;
    assert!(
        matches!(out[0].0.as_str(), "sent" | "delivered" | "read"),
        "{out:?}"
    );
}

#[tokio::test]
async fn an_attachment_is_checked_stored_and_offered_to_meta_by_url() {
    let mut env = env().await;
    let conv = env.customer_writes("Send me a photo", 1).await;
    env.agent.page(&format!("/inbox/{conv}")).await;
    let png = b"\x89PNG\r\n\x1a\nimage-bytes".to_vec();
    let form = |bytes: Vec<u8>, ct: &str, token: String| {
        reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("text", "Here it is")
            .part(
                "attachment",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("photo.png")
                    .mime_str(ct)
                    .unwrap(),
            )
    };
    let url = format!("{}/inbox/{conv}/messages", env.agent.base);
    let csrf = env.agent.csrf.clone().unwrap();
    // A file whose bytes are not what it claims is refused with the reason; nothing is stored.
    let res = env
        .agent
        .http
        .post(&url)
        .multipart(form(b"MZ not a png".to_vec(), "image/png", csrf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("does not look like image/png")
    );
    assert!(outbound(&env.app).await.is_empty());

    let res = env
        .agent
        .http
        .post(&url)
        .multipart(form(png.clone(), "image/png", csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let out = outbound(&env.app).await;
    assert_eq!(
        out.len(),
        2,
        "Messenger sends the file and the text separately"
    );
    run_jobs(&env.app, "send_message").await;
    let sent = env.sandbox.sent_messages();
    let with_file = sent
        .iter()
        .find(|m| m.body["message"]["attachment"].is_object())
        .unwrap();
    assert_eq!(with_file.body["message"]["attachment"]["type"], "image");
    let file_url = with_file.body["message"]["attachment"]["payload"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(file_url.contains("/outbound-media/"), "{file_url}");
    // Meta fetches it without a session; the agents see it in the thread.
    let fetched = reqwest::get(&file_url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png);
    assert!(
        sent.iter()
            .any(|m| m.body["message"]["text"] == "Here it is")
    );
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(page.contains("/media/"), "the image is shown inline");
}

#[tokio::test]
async fn a_failed_send_shows_metas_reason_and_a_retry_sends_it_once() {
    let mut env = env().await;
    let conv = env.customer_writes("Hi", 1).await;
    let path = format!("/{}/messages", env.page_id);
    // Meta's edge answers an HTML 502: it may have acted, so Parley does not guess.
    env.sandbox.inject_fault(
        Fault::new(
            path.clone(),
            FaultKind::ServerError {
                status: 502,
                json: false,
            },
        )
        .times(1),
    );
    reply(&mut env, conv, &[("text", "First try")]).await;
    run_jobs(&env.app, "send_message").await;
    let out = outbound(&env.app).await;
    assert_eq!(out[0].0, "failed");
    assert!(
        out[0].2.as_deref().unwrap().contains("may or may not"),
        "{out:?}"
    );
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(
        page.contains("Not sent") && page.contains(">Retry<"),
        "{page}"
    );

    let id: i64 = env
        .app
        .query(|c| {
            use parley::db::schema::messages::dsl as m;
            m::messages
                .filter(m::direction.eq("outbound"))
                .select(m::id)
                .first(c)
                .unwrap()
        })
        .await;
    let res = env
        .agent
        .post_form(&format!("/inbox/messages/{id}/retry"), &[])
        .await;
    assert_eq!(res.status(), 303);
    // A second click while it is sending is refused: never two sends for one message.
    let again = env
        .agent
        .post_form(&format!("/inbox/messages/{id}/retry"), &[])
        .await;
    assert_eq!(again.status(), 400);
    run_jobs(&env.app, "send_message").await;
    run_jobs(&env.app, "send_message").await;
    assert_eq!(outbound(&env.app).await[0].0, "sent");
    let sends = env
        .sandbox
        .sent_messages()
        .iter()
        .filter(|m| m.body["message"]["text"] == "First try")
        .count();
    assert_eq!(sends, 1);

    // Meta's JSON "transient" error means it did not act: Parley tries again by itself, and
    // the customer still gets the message once.
    env.sandbox.inject_fault(
        Fault::new(
            path,
            FaultKind::ServerError {
                status: 500,
                json: true,
            },
        )
        .times(1),
    );
    reply(&mut env, conv, &[("text", "Second")]).await;
    run_jobs(&env.app, "send_message").await;
    assert_eq!(outbound(&env.app).await[1].0, "sent");
    let seconds = env
        .sandbox
        .sent_messages()
        .iter()
        .filter(|m| m.body["message"]["text"] == "Second")
        .count();
    assert_eq!(seconds, 1);
}

#[tokio::test]
async fn a_send_interrupted_after_claiming_is_never_repeated() {
    let mut env = env().await;
    let conv = env.customer_writes("Hi", 1).await;
    reply(&mut env, conv, &[("text", "Maybe sent")]).await;
    // As if a worker died between claiming the attempt and hearing back from Meta.
    env.app
        .query(|c| {
            diesel::sql_query(
                "UPDATE messages SET send_started_at = now() WHERE direction = 'outbound'",
            )
            .execute(c)
            .unwrap()
        })
        .await;
    run_jobs(&env.app, "send_message").await;
    assert!(env.sandbox.sent_messages().is_empty());
    let out = outbound(&env.app).await;
    assert_eq!(out[0].0, "failed");
    assert!(
        out[0]
            .2
            .as_deref()
            .unwrap()
            .contains("not known whether Meta received it")
    );
}
