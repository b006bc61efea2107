//! Message templates against the sandbox: an agent drafts, the lint blocks an error, an admin
//! approves, the submission job sends it to Meta and Meta's webhook approves it; a stale
//! webhook never moves it back; the sync reads every page; roles.

use parley::auth::Role;
use parley::message_templates::status::TemplateStatus;

use crate::support::{HtmlPage, TestApp, app_with_sandbox};

/// The template row's status and reason, by name.
pub(crate) async fn status_of(app: &TestApp, name: &'static str) -> (String, Option<String>) {
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

/// The id of the template named `name` (any tenant: the tests have one).
pub(crate) async fn template_id(app: &TestApp, name: &'static str) -> i64 {
    app.query(move |c| {
        use diesel::prelude::*;
        use parley::db::schema::message_templates::dsl as t;
        t::message_templates
            .filter(t::name.eq(name))
            .select(t::id)
            .first(c)
            .unwrap()
    })
    .await
}

/// Processes webhooks until the template has `status` (up to five seconds).
pub(crate) async fn reaches(app: &TestApp, name: &'static str, status: &str) -> bool {
    for _ in 0..50 {
        app.process_webhooks().await;
        if status_of(app, name).await.0 == status {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

pub(crate) fn draft<'a>(name: &'a str, body: &'a str, waba: &'a str) -> Vec<(&'a str, &'a str)> {
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
    let approved = reaches(&app, "shipping_update", "APPROVED").await;
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
    let id = template_id(&app, "late_news").await;
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
    let paused = reaches(&app, "order_update", "PAUSED").await;
    assert!(paused);
    let id = template_id(&app, "order_update").await;
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
