//! Sending approved templates in WhatsApp conversations against the sandbox: outside the
//! window, with parameters, the preview, the refusals before the send, and Meta's send-time
//! errors read as reasons.

use parley::auth::Role;

use crate::support::{HtmlPage, TestApp, app_with_sandbox};

/// The outbound message rows of the tenant: (kind, status, text, error message).
async fn outbound(app: &TestApp) -> Vec<(String, String, Option<String>, Option<String>)> {
    app.query(|c| {
        use diesel::prelude::*;
        use parley::db::schema::messages::dsl as m;
        let rows: Vec<(String, String, Option<String>, Option<serde_json::Value>)> = m::messages
            .filter(m::direction.eq("outbound"))
            .order(m::id)
            .select((m::kind, m::status, m::text, m::error))
            .load(c)
            .unwrap();
        rows.into_iter()
            .map(|(k, s, t, e)| {
                let e = e.and_then(|e| {
                    e.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                });
                (k, s, t, e)
            })
            .collect()
    })
    .await
}

#[tokio::test]
async fn an_agent_sends_an_approved_template_after_the_window_and_metas_refusals_read_clearly() {
    use diesel::prelude::*;

    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    let (conversation, wa_id) = app
        .whatsapp_conversation(&sandbox, tenant, "hello?", chrono::Duration::hours(30))
        .await;
    assert!(
        app.run_queued_jobs("sync_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );

    // Outside the window, the composer offers templates; the list has the approved ones only.
    let (_, html) = agent.page(&format!("/inbox/{conversation}")).await;
    assert!(html.contains("id=\"send-template\""), "{html}");
    let (status, html) = agent.page(&format!("/inbox/{conversation}/template")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("order_update") && !html.contains("winter_promo"),
        "{html}"
    );
    let ids: Vec<(String, i64)> = app
        .query(|c| {
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .select((t::name, t::id))
                .load(c)
                .unwrap()
        })
        .await;
    let id_of = |name: &str| ids.iter().find(|(n, _)| n == name).unwrap().1.to_string();
    let order = id_of("order_update");
    let (_, html) = agent
        .page(&format!(
            "/inbox/{conversation}/template?template_id={order}"
        ))
        .await;
    assert!(
        html.contains("Hi Maria, your order #1042 is ready"),
        "{html}"
    );

    // A missing parameter is refused and what was typed stays.
    let path = format!("/inbox/{conversation}/template");
    let res = agent
        .post_form(&path, &[("template_id", &order), ("body_1", "Ana")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("{{2}} is empty") && html.contains("value=\"Ana\""),
        "{html}"
    );
    // A paused template cannot be chosen.
    let paused = id_of("winter_promo");
    let res = agent.post_form(&path, &[("template_id", &paused)]).await;
    assert_eq!(res.status(), 422);

    // Filled, it is sent through the queue and shows in the thread as the filled message.
    let res = agent
        .post_form(
            &path,
            &[
                ("template_id", &order),
                ("body_1", "Ana"),
                ("body_2", "#77"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.run_queued_jobs("send_message")
            .await
            .iter()
            .all(Result::is_ok)
    );
    let sent = outbound(&app).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].0.as_str(), sent[0].1.as_str(), sent[0].2.as_deref()),
        (
            "template",
            "sent",
            Some("Hi Ana, your order #77 is ready for pickup at Acme Coffee.")
        )
    );
    let at_meta = sandbox.world().sent_messages();
    let last = at_meta.iter().rev().find(|m| m.recipient == wa_id).unwrap();
    assert_eq!(last.body["template"]["name"], "order_update");
    assert_eq!(
        last.body["template"]["components"][0]["parameters"][1]["text"],
        "#77"
    );
    let (_, html) = agent.page(&format!("/inbox/{conversation}")).await;
    assert!(html.contains("your order #77 is ready"), "{html}");
    // The language of the last template sent in the conversation comes first: en_US now,
    // then "en" after a template in "en" (spring_sale, the only one) was sent.
    let languages = async |agent: &mut crate::support::Client| {
        let (_, html) = agent.page(&path).await;
        HtmlPage::parse(&html)
            .texts("#template-choices li .muted")
            .into_iter()
            .map(|t| t.split(' ').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        languages(&mut agent).await.last().map(String::as_str),
        Some("en")
    );
    app.query(move |c| {
        diesel::sql_query(
            "UPDATE messages SET extra = jsonb_set(extra, '{template,language}', '\"en\"')
              WHERE kind = 'template' AND conversation_id = $1",
        )
        .bind::<diesel::sql_types::BigInt, _>(conversation)
        .execute(c)
        .unwrap();
    })
    .await;
    assert_eq!(
        languages(&mut agent).await.first().map(String::as_str),
        Some("en")
    );

    // A template Parley believes approved but Meta does not know: Meta's 132001, explained.
    app.query(move |c| {
        diesel::sql_query(
            "INSERT INTO message_templates (tenant_id, waba_id, platform_template_id, name, language, category, status, content)
             SELECT tenant_id, waba_id, '999', 'ghost_notice', 'en_US', 'UTILITY', 'APPROVED', '{\"body\": \"Hello there, this is a notice.\"}'
               FROM message_templates WHERE name = 'order_update'",
        )
        .execute(c)
        .unwrap();
    })
    .await;
    let ghost = app
        .query(|c| {
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq("ghost_notice"))
                .select(t::id)
                .first::<i64>(c)
                .unwrap()
        })
        .await
        .to_string();
    let res = agent.post_form(&path, &[("template_id", &ghost)]).await;
    assert_eq!(res.status(), 303);
    // The pair's send pacing has room again (as seconds later).
    app.query(|c| {
        diesel::sql_query("DELETE FROM send_budgets")
            .execute(c)
            .unwrap();
    })
    .await;
    app.run_queued_jobs("send_message").await;
    let failed = outbound(&app).await.pop().unwrap();
    assert_eq!(failed.1, "failed");
    let why = failed.3.unwrap_or_default();
    assert!(
        why.contains("Meta does not know this template") && why.contains("132001"),
        "{why}"
    );
}

#[tokio::test]
async fn metas_send_time_refusals_each_read_as_a_reason() {
    use diesel::prelude::*;

    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    let (conversation, _) = app
        .whatsapp_conversation(&sandbox, tenant, "hello?", chrono::Duration::hours(30))
        .await;
    assert!(
        app.run_queued_jobs("sync_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    let id_of = |name: &'static str| {
        app.query(move |c| {
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq(name))
                .select(t::id)
                .first::<i64>(c)
                .unwrap()
                .to_string()
        })
    };
    let path = format!("/inbox/{conversation}/template");
    let mut send = async |template: String, values: &[(&str, &str)]| {
        let mut fields = vec![("template_id", template.as_str())];
        fields.extend_from_slice(values);
        assert_eq!(agent.post_form(&path, &fields).await.status(), 303);
        app.query(|c| {
            diesel::sql_query("DELETE FROM send_budgets")
                .execute(c)
                .unwrap();
        })
        .await;
        app.run_queued_jobs("send_message").await;
        outbound(&app).await.pop().unwrap()
    };

    // Meta paused it and its webhook was lost: Parley still offers it, Meta refuses (132015).
    sandbox.world().mute_template_webhooks(true);
    assert!(sandbox.rate_template("order_update", "en_US", "RED").await);
    let order = id_of("order_update").await;
    let paused = send(order.clone(), &[("body_1", "Ana"), ("body_2", "#1")]).await;
    assert_eq!(paused.1, "failed");
    let why = paused.3.unwrap_or_default();
    assert!(
        why.contains("Meta paused this template") && why.contains("132015"),
        "{why}"
    );

    // Parley's copy has a parameter Meta's has not (changed in WhatsApp Manager since the
    // last sync): 132000.
    app.query(|c| {
        diesel::sql_query(
            "UPDATE message_templates SET content = jsonb_set(content, '{body}', '\"Hello {{1}}, welcome to Acme.\"')
              WHERE name = 'hello_world'",
        )
        .execute(c)
        .unwrap();
    })
    .await;
    let hello = id_of("hello_world").await;
    let mismatch = send(hello, &[("body_1", "Ana")]).await;
    assert_eq!(mismatch.1, "failed");
    let why = mismatch.3.unwrap_or_default();
    assert!(
        why.contains("number of parameters") && why.contains("132000"),
        "{why}"
    );

    // Parley's copy names a parameter differently from Meta's named template: 132012.
    app.query(|c| {
        diesel::sql_query(
            "UPDATE message_templates SET content = jsonb_set(content, '{body}', '\"Hi {{customer}}, your bike service is booked for {{date}}.\"')
              WHERE name = 'appointment_reminder'",
        )
        .execute(c)
        .unwrap();
    })
    .await;
    let named = id_of("appointment_reminder").await;
    let renamed = send(
        named,
        &[("body_customer", "Jonas"), ("body_date", "Saturday")],
    )
    .await;
    let why = renamed.3.unwrap_or_default();
    assert!(
        why.contains("format the template expects") && why.contains("132012"),
        "{why}"
    );

    // Paused twice for quality, Meta disables it; Parley has not heard: 132016.
    assert!(sandbox.rate_template("order_update", "en_US", "RED").await);
    let order = id_of("order_update").await;
    let disabled = send(order, &[("body_1", "Ana"), ("body_2", "#2")]).await;
    let why = disabled.3.unwrap_or_default();
    assert!(
        why.contains("Meta disabled this template") && why.contains("132016"),
        "{why}"
    );
    sandbox.world().mute_template_webhooks(false);
}
