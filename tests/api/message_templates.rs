//! Message templates against the sandbox: an agent drafts, the lint blocks an error, an admin
//! approves, the submission job sends it to Meta and Meta's webhook approves it; a stale
//! webhook never moves it back; the sync reads every page; roles.

use parley::auth::Role;
use parley::message_templates::status::TemplateStatus;

use crate::support::{HtmlPage, TestApp, app_with_sandbox};

/// The template row's status and reason, by name.
async fn status_of(app: &TestApp, name: &'static str) -> (String, Option<String>) {
    app.query(move |c| {
        use diesel::prelude::*;
        use parley::db::schema::message_templates::dsl as t;
        t::message_templates
            .filter(t::name.eq(name))
            .select((t::status, t::status_reason))
            .first(c)
            .unwrap()
    })
    .await
}

fn draft<'a>(name: &'a str, body: &'a str, waba: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("waba_id", waba),
        ("name", name),
        ("language", "en_US"),
        ("category", "UTILITY"),
        ("parameter_format", "positional"),
        ("header_kind", "none"),
        ("body", body),
        ("example_1", "Ana"),
        ("example_2", "#1042"),
        ("footer", "Acme Coffee"),
    ]
}

#[tokio::test]
async fn an_agent_drafts_an_admin_approves_and_metas_webhook_approves_it() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    let (mut admin, _, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    let waba = sandbox.world().seed().waba.id.clone();

    // A draft with an error is saved, shows the error and cannot go for approval.
    let (status, html) = agent.page("/message-templates/new").await;
    assert_eq!(status, 200, "{html}");
    let bad = draft("shipping_update", "Hi {{1}}, your order {{2}}", &waba);
    let res = agent.post_form("/message-templates", &bad).await;
    assert_eq!(res.status(), 303);
    let show = res.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = agent.page(&show).await;
    assert!(html.contains("cannot end with a parameter"), "{html}");
    let id = show.rsplit('/').next().unwrap().to_string();
    let res = agent
        .post_form(&format!("/message-templates/{id}/request-approval"), &[])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(status_of(&app, "shipping_update").await.0, "DRAFT");

    // The live preview fills the examples in.
    let good = draft(
        "shipping_update",
        "Hi {{1}}, your order {{2}} has shipped and arrives tomorrow.",
        &waba,
    );
    let mut editing = good.clone();
    editing.push(("template_id", &id));
    let preview = agent
        .post_form("/message-templates/preview", &editing)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains("Hi Ana, your order #1042 has shipped"),
        "{preview}"
    );
    assert!(preview.contains("found nothing to fix"), "{preview}");

    // Fixed, it goes for approval; an agent cannot approve.
    let res = agent
        .post_form(&format!("/message-templates/{id}"), &good)
        .await;
    assert_eq!(res.status(), 303);
    let res = agent
        .post_form(
            &format!("/message-templates/{id}/request-approval"),
            &[("comment", "for shipping")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        status_of(&app, "shipping_update").await.0,
        "AWAITING_APPROVAL"
    );
    let res = agent
        .post_form(&format!("/message-templates/{id}/approve"), &[])
        .await;
    assert_eq!(res.status(), 403);

    // An admin approves: the submission is queued and sent to Meta.
    let res = admin
        .post_form(
            &format!("/message-templates/{id}/approve"),
            &[("comment", "ok")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(status_of(&app, "shipping_update").await.0, "SUBMITTING");
    assert!(
        app.run_queued_jobs("submit_template")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(
        status_of(&app, "shipping_update").await,
        ("PENDING".into(), None)
    );

    // Meta's review arrives by webhook.
    let mut approved = false;
    for _ in 0..50 {
        app.process_webhooks().await;
        if status_of(&app, "shipping_update").await.0 == "APPROVED" {
            approved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(approved, "{:?}", status_of(&app, "shipping_update").await);
    let (_, html) = admin.page(&show).await;
    let doc = HtmlPage::parse(&html);
    assert_eq!(
        doc.text("#template-status").unwrap_or_default().trim(),
        "Approved"
    );
    let history = doc.text("#template-history").unwrap_or_default();
    for step in [
        "created",
        "approval requested",
        "approved",
        "submitted",
        "status",
    ] {
        assert!(history.contains(step), "{step}: {history}");
    }
    assert!(history.contains("webhook"), "{history}");
    let (_, library) = agent.page("/message-templates?status=APPROVED").await;
    assert!(library.contains("shipping_update"), "{library}");
    let (_, none) = agent.page("/message-templates?status=REJECTED").await;
    assert!(!none.contains("shipping_update"));
    assert_eq!(
        TemplateStatus::parse(&status_of(&app, "shipping_update").await.0),
        TemplateStatus::Approved
    );
}

#[tokio::test]
async fn a_late_webhook_never_moves_a_template_back_and_a_rejection_shows_its_reason() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    let waba = sandbox.world().seed().waba.id.clone();
    let envelope = |event: &str, time: i64, reason: &str| {
        serde_json::json!({"object": "whatsapp_business_account", "entry": [{
            "id": waba, "time": time,
            "changes": [{"field": "message_template_status_update", "value": {
                "event": event, "message_template_id": 9_001_i64,
                "message_template_name": "late_news", "message_template_language": "en_US",
                "reason": reason}}]}]})
    };
    let now = chrono::Utc::now().timestamp();
    app.post_webhook(&serde_json::to_vec(&envelope("REJECTED", now, "INVALID_FORMAT")).unwrap())
        .await;
    app.post_webhook(&serde_json::to_vec(&envelope("PENDING", now - 600, "NONE")).unwrap())
        .await;
    app.process_webhooks().await;
    let (status, reason) = status_of(&app, "late_news").await;
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("REJECTED", Some("INVALID_FORMAT"))
    );
    // The same news again changes nothing and records nothing twice.
    app.post_webhook(&serde_json::to_vec(&envelope("REJECTED", now, "INVALID_FORMAT")).unwrap())
        .await;
    app.process_webhooks().await;
    let id: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq("late_news"))
                .select(t::id)
                .first(c)
                .unwrap()
        })
        .await;
    let (_, html) = admin.page(&format!("/message-templates/{id}")).await;
    let doc = HtmlPage::parse(&html);
    assert!(
        doc.text("#status-banner")
            .unwrap_or_default()
            .contains("INVALID_FORMAT"),
        "{html}"
    );
    assert_eq!(doc.count("#template-history li"), 1, "{html}");
}

#[tokio::test]
async fn the_sync_reads_every_template_and_roles_hold() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    // More templates than one page of Meta's listing (100).
    sandbox.world().add_templates(150);
    let res = admin.post_form("/message-templates/sync", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(
        app.run_queued_jobs("sync_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    let listed = sandbox
        .world()
        .graph_requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/message_templates"))
        .count();
    assert!(listed >= 2, "{listed} listing calls");
    let stored: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates.count().get_result(c).unwrap()
        })
        .await;
    assert!(stored >= 155, "{stored}");
    // Synced again, nothing doubles.
    admin.post_form("/message-templates/sync", &[]).await;
    assert!(
        app.run_queued_jobs("sync_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    let count: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates.count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(count, stored);
    let (_, html) = admin.page("/message-templates").await;
    assert_eq!(
        HtmlPage::parse(&html).count("#templates-table tbody tr"),
        50
    );
    assert!(html.contains(&format!("{stored} templates")), "{html}");
    let (_, html) = admin.page("/message-templates?q=notice+148").await;
    assert_eq!(
        HtmlPage::parse(&html).count("#templates-table tbody tr"),
        1,
        "{html}"
    );

    for role in [Role::Analyst, Role::Moderator] {
        let (mut other, _, _) = app
            .signed_in("Acme", &format!("{role}@acme.test"), role)
            .await;
        assert_eq!(
            other.get("/message-templates").await.status(),
            403,
            "{role}"
        );
        assert_eq!(
            other.get("/message-templates/new").await.status(),
            403,
            "{role}"
        );
    }
    let (mut stranger, _, _) = app
        .signed_in("Globex", "boss@globex.test", Role::Admin)
        .await;
    let (_, html) = stranger.page("/message-templates").await;
    assert_eq!(HtmlPage::parse(&html).count("#templates-table tbody tr"), 0);
    let id: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates.select(t::id).first(c).unwrap()
        })
        .await;
    assert_eq!(
        stranger
            .get(&format!("/message-templates/{id}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn without_its_webhook_the_poll_finds_the_review_and_the_late_webhook_adds_nothing() {
    use diesel::prelude::*;
    use parley::jobs::job::Job;

    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    let waba = sandbox.world().seed().waba.id.clone();
    let fields = draft(
        "pickup_ready",
        "Hi {{1}}, your order {{2}} is ready for pickup at the counter.",
        &waba,
    );
    let res = admin.post_form("/message-templates", &fields).await;
    let show = res.headers()["location"].to_str().unwrap().to_string();
    // Meta's template webhooks are lost from here on.
    sandbox.world().mute_template_webhooks(true);
    admin
        .post_form(&format!("{show}/request-approval"), &[])
        .await;
    admin.post_form(&format!("{show}/approve"), &[]).await;
    assert!(
        app.run_queued_jobs("submit_template")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(status_of(&app, "pickup_ready").await.0, "PENDING");

    // Meta decides; no webhook comes. The poll, once due, asks.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    app.query(|c| {
        diesel::sql_query("UPDATE message_templates SET poll_after = now() - interval '1 second' WHERE name = 'pickup_ready'")
            .execute(c)
            .unwrap();
        parley::jobs::queue::enqueue(
            c,
            &parley::message_templates::poll::PollTemplates::default().to_new_job(),
        )
        .unwrap();
    })
    .await;
    assert!(
        app.run_queued_jobs("poll_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(status_of(&app, "pickup_ready").await.0, "APPROVED");
    let (poll_after, polled): (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = app
        .query(|c| {
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq("pickup_ready"))
                .select((t::poll_after, t::polled_at))
                .first(c)
                .unwrap()
        })
        .await;
    assert!(
        polled.is_some() && poll_after.is_none(),
        "decided: no more polls"
    );

    // The webhook, older than the poll's answer, changes nothing and adds no step.
    app.process_webhooks().await;
    let (_, html) = admin.page(&show).await;
    let history = HtmlPage::parse(&html)
        .text("#template-history")
        .unwrap_or_default();
    assert!(history.contains("poll"), "{history}");
    assert_eq!(
        history.matches("PENDING → APPROVED").count(),
        1,
        "{history}"
    );
    assert_eq!(status_of(&app, "pickup_ready").await.0, "APPROVED");
}

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
    // The language already used in the conversation comes first.
    let (_, html) = agent.page(&path).await;
    let languages: Vec<String> = HtmlPage::parse(&html)
        .texts("#template-choices li .muted")
        .into_iter()
        .map(|t| t.split(' ').next().unwrap_or_default().to_string())
        .collect();
    let first_other = languages
        .iter()
        .position(|l| l != "en_US")
        .unwrap_or(languages.len());
    assert!(
        languages[first_other..].iter().all(|l| l != "en_US") && first_other > 0,
        "{languages:?}"
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
async fn edits_within_metas_limits_duplicates_and_deletions_with_the_thirty_day_rule() {
    use diesel::prelude::*;

    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    let (mut agent, _, _) = app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    let waba = sandbox.world().seed().waba.id.clone();
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
        })
    };
    let order = id_of("order_update").await;

    // An approved template's edit goes to Meta, counted; a second one the same day is refused.
    let (_, html) = admin
        .page(&format!("/message-templates/{order}/edit"))
        .await;
    assert!(
        html.contains("Submit changes to Meta") && html.contains("Used: 0 in the last day"),
        "{html}"
    );
    let edit = |body: &'static str, category: &'static str| {
        let mut f = draft("order_update", body, "");
        f.retain(|(k, _)| *k != "waba_id" && *k != "category");
        f.push(("category", category));
        f
    };
    let mut fields = edit(
        "Hi {{1}}, your order {{2}} is ready at the counter of Acme Coffee.",
        "UTILITY",
    );
    fields.push(("waba_id", &waba));
    let res = admin
        .post_form(&format!("/message-templates/{order}"), &fields)
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.run_queued_jobs("edit_template")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(
        status_of(&app, "order_update").await,
        ("PENDING".into(), None)
    );
    let mut approved = false;
    for _ in 0..50 {
        app.process_webhooks().await;
        if status_of(&app, "order_update").await.0 == "APPROVED" {
            approved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(approved);
    let res = admin
        .post_form(&format!("/message-templates/{order}"), &fields)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("one edit a day"));
    let mut recategorised = edit(
        "Hi {{1}}, your order {{2}} is ready at the counter of Acme Coffee.",
        "MARKETING",
    );
    recategorised.push(("waba_id", &waba));
    let res = admin
        .post_form(&format!("/message-templates/{order}"), &recategorised)
        .await;
    assert_eq!(res.status(), 422);
    // Agents cannot submit changes to Meta.
    let res = agent
        .post_form(&format!("/message-templates/{order}"), &fields)
        .await;
    assert_eq!(res.status(), 422);

    // Duplicated as a new draft under another name.
    let res = agent
        .post_form(
            &format!("/message-templates/{order}/duplicate"),
            &[("name", "order_update_v2"), ("language", "en_US")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(status_of(&app, "order_update_v2").await.0, "DRAFT");

    // Deleting one language at Meta; the name cannot come back for 30 days.
    let sale = id_of("spring_sale").await;
    assert_eq!(
        agent
            .post_form(&format!("/message-templates/{sale}/delete"), &[])
            .await
            .status(),
        403
    );
    let res = admin
        .post_form(&format!("/message-templates/{sale}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.run_queued_jobs("delete_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(status_of(&app, "spring_sale").await.0, "DELETED");
    // Gone at Meta.
    assert_eq!(
        sandbox.world().template_status("spring_sale", "en_US"),
        None
    );
    let mut again = draft(
        "spring_sale",
        "Hi {{1}}, your order {{2}} is on its way to you now.",
        &waba,
    );
    again.retain(|(k, _)| *k != "language");
    again.push(("language", "en"));
    let res = admin.post_form("/message-templates", &again).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("used again from"));

    // A draft never sent to Meta is simply removed.
    let v2 = id_of("order_update_v2").await;
    let res = admin
        .post_form(&format!("/message-templates/{v2}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let left: i64 = app
        .query(|c| {
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq("order_update_v2"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_red_quality_pauses_a_template_with_a_banner_and_a_recategorisation_is_recorded() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    let (conversation, _) = app
        .whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(30))
        .await;
    assert!(
        app.run_queued_jobs("sync_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert!(sandbox.rate_template("order_update", "en_US", "RED").await);
    assert!(
        sandbox
            .recategorise_template("order_update", "en_US", "MARKETING")
            .await
    );
    let mut paused = false;
    for _ in 0..50 {
        app.process_webhooks().await;
        if status_of(&app, "order_update").await.0 == "PAUSED" {
            paused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(paused);
    let id: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq("order_update"))
                .select(t::id)
                .first(c)
                .unwrap()
        })
        .await;
    let (_, html) = admin.page(&format!("/message-templates/{id}")).await;
    let doc = HtmlPage::parse(&html);
    assert!(
        doc.text("#status-banner")
            .unwrap_or_default()
            .contains("paused"),
        "{html}"
    );
    assert!(html.contains("quality-red"), "{html}");
    let history = doc.text("#template-history").unwrap_or_default();
    for step in [
        "quality",
        "GREEN → RED",
        "APPROVED → PAUSED",
        "category",
        "UTILITY → MARKETING",
    ] {
        assert!(history.contains(step), "{step}: {history}");
    }
    // A paused template is not offered in the inbox.
    let (_, html) = admin.page(&format!("/inbox/{conversation}/template")).await;
    assert!(!html.contains("order_update"), "{html}");
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
    sandbox.world().mute_template_webhooks(false);
}
