//! Changes to templates Meta has, against the sandbox: edits within Meta's limits (counted
//! before submit), duplicates, and deletions with Meta's 30-day rule.

use parley::auth::Role;

use crate::message_templates::{draft, reaches, status_of, template_id};
use crate::support::app_with_sandbox;

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
    let approved = reaches(&app, "order_update", "APPROVED").await;
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
async fn deleting_every_language_of_a_name_deletes_each_at_meta() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    let waba = sandbox.world().seed().waba.id.clone();
    assert!(
        app.run_queued_jobs("sync_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    // order_update exists in en_US; the team adds it in Portuguese.
    let mut portuguese = draft(
        "order_update",
        "Olá {{1}}, o seu pedido {{2}} está pronto para levantar hoje.",
        &waba,
    );
    portuguese.retain(|(k, _)| *k != "language");
    portuguese.push(("language", "pt_BR"));
    let res = admin.post_form("/message-templates", &portuguese).await;
    assert_eq!(res.status(), 303);
    let show = res.headers()["location"].to_str().unwrap().to_string();
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
    assert_eq!(
        sandbox
            .world()
            .template_status("order_update", "pt_BR")
            .as_deref(),
        Some("PENDING")
    );

    // Deleting every language from the English one deletes both.
    let english = template_id(&app, "order_update").await;
    let res = admin
        .post_form(
            &format!("/message-templates/{english}/delete"),
            &[("all_languages", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.run_queued_jobs("delete_templates")
            .await
            .iter()
            .all(Result::is_ok)
    );
    for language in ["en_US", "pt_BR"] {
        assert_eq!(
            sandbox.world().template_status("order_update", language),
            None
        );
    }
    let statuses: Vec<String> = app
        .query(|c| {
            use diesel::prelude::*;
            use parley::db::schema::message_templates::dsl as t;
            t::message_templates
                .filter(t::name.eq("order_update"))
                .order(t::language)
                .select(t::status)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(statuses, ["DELETED", "DELETED"]);
}

#[tokio::test]
async fn an_image_header_is_uploaded_to_meta_and_its_handle_is_the_example() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut admin, tenant, _) = app.signed_in("Acme", "boss@acme.test", Role::Admin).await;
    app.whatsapp_conversation(&sandbox, tenant, "hello", chrono::Duration::hours(1))
        .await;
    let waba = sandbox.world().seed().waba.id.clone();
    let mut fields = draft(
        "menu_card",
        "Hi {{1}}, here is this week's menu for table {{2}} at our cafe.",
        &waba,
    );
    fields.retain(|(k, _)| *k != "header_kind");
    fields.push(("header_kind", "image"));
    let res = admin.post_form("/message-templates", &fields).await;
    let show = res.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = admin.page(&show).await;
    assert!(
        html.contains("Upload an example image") && html.contains("header-media-form"),
        "{html}"
    );

    let upload = |bytes: Vec<u8>, csrf: String| {
        reqwest::multipart::Form::new()
            .text("csrf_token", csrf)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("menu.png")
                    .mime_str("image/png")
                    .unwrap(),
            )
    };
    let url = format!("{}{show}/header-media", admin.base);
    let csrf = admin.csrf.clone().unwrap();
    // Bytes that are not an image are refused and nothing is uploaded.
    let res = admin
        .http
        .post(&url)
        .multipart(upload(b"MZ not an image".to_vec(), csrf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let png = b"\x89PNG\r\n\x1a\nmenu-image-bytes".to_vec();
    let res = admin
        .http
        .post(&url)
        .multipart(upload(png, csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, html) = admin.page(&show).await;
    assert!(
        !html.contains("Upload an example image") && html.contains("4::"),
        "{html}"
    );

    // Approved and submitted, Meta accepts the handle.
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
    assert_eq!(status_of(&app, "menu_card").await, ("PENDING".into(), None));
}
