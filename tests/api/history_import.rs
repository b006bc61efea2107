//! History on connect against the sandbox's Conversations API: a Page's Messenger history over
//! several pages, resumed after a failure, deduplicated against webhooks, within the window
//! setting. (An Instagram Login account's import is in `instagram_inbox.rs`.)

use diesel::prelude::*;
use meta_sandbox::{CustomerMessage, Fault, FaultKind};
use parley::auth::Role;
use parley::db::schema::{conversations as cv, history_imports as hi, messages as m};
use parley::db::statuses::RunState;
use parley::models::channels::Platform;

use crate::support::{TestApp, app_with_sandbox_env, location, run_jobs};

/// (state, conversations, messages) of the channel's latest import.
pub(crate) async fn import_of(app: &TestApp, channel: i64) -> (RunState, i32, i32) {
    app.query(move |c| {
        hi::table
            .filter(hi::channel_id.eq(channel))
            .order(hi::id.desc())
            .select((hi::state, hi::conversations_done, hi::messages_done))
            .first(c)
            .unwrap()
    })
    .await
}

/// The conversation of a customer, with its unread count and earlier-unavailable flag.
pub(crate) async fn conversation_of(app: &TestApp, customer: &str) -> (i64, i32, bool) {
    let customer = customer.to_string();
    app.query(move |c| {
        use parley::db::schema::contacts as ct;
        cv::table
            .inner_join(ct::table.on(ct::id.eq(cv::contact_id)))
            .filter(ct::platform_user_id.eq(customer))
            .select((cv::id, cv::unread_count, cv::history_limited))
            .first(c)
            .unwrap()
    })
    .await
}

pub(crate) async fn message_count(app: &TestApp, conversation: i64) -> (i64, i64) {
    app.query(move |c| {
        let all: i64 = m::table
            .filter(m::conversation_id.eq(conversation))
            .count()
            .get_result(c)
            .unwrap();
        let imported: i64 = m::table
            .filter(m::conversation_id.eq(conversation))
            .filter(m::imported.eq(true))
            .count()
            .get_result(c)
            .unwrap();
        (all, imported)
    })
    .await
}

#[tokio::test]
async fn a_page_history_import_pages_resumes_after_a_failure_and_deduplicates() {
    // Meta's pace (2 calls a second) would make this test take 17 seconds.
    let (app, sandbox) = app_with_sandbox_env(3, &[("PARLEY_HISTORY_IMPORT_RATE", "1000")]).await;
    let page = sandbox.world().seed().pages[0].id.clone();
    // 3 seeded conversations and 30 more: two pages of the Conversations API.
    let extra = sandbox.world().add_conversations(&page, 30, 1);
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select = location(&res);
    admin.post_form(&select, &[("page", &page)]).await;
    let channel = app.channel_of(Platform::Messenger).await;

    // A customer writes before the import runs: the webhook's message is the same one the
    // import will read.
    let maria = sandbox.world().seed().customer("Maria").unwrap().id.clone();
    sandbox
        .customer_message(CustomerMessage::text(maria.clone(), "Are you open today?"))
        .await
        .unwrap();
    app.process_webhooks().await;

    // The second page fails on one conversation (Meta answers 500 to every attempt, the
    // client's retries included, of both queued runs): the first page stays imported, and the
    // job is retried.
    let victim = extra.last().unwrap().clone();
    sandbox.inject_fault(
        Fault::new(
            format!("t_{victim}"),
            FaultKind::ServerError {
                status: 500,
                json: true,
            },
        )
        .times(6),
    );
    // One conversation of the first page Meta refuses to describe (a 100): skipped and
    // counted, never the end of the import.
    sandbox.inject_fault(Fault::new(
        format!("t_{}", extra[0]),
        FaultKind::InvalidMetric,
    ));
    let outcomes = app.run_queued_jobs("import_history").await;
    assert!(
        outcomes.iter().all(Result::is_ok),
        "first page: {outcomes:?}"
    );
    let outcomes = app.run_queued_jobs("import_history").await;
    assert!(
        outcomes.iter().any(Result::is_err),
        "the failing page: {outcomes:?}"
    );
    let (state, conversations, _) = import_of(&app, channel.id.0).await;
    assert_eq!(state, RunState::Running);
    // The first page, and the second page's conversations before the failing one, are kept.
    assert_eq!(conversations, 30);
    // Resumed: the page is done again, nothing twice.
    run_jobs(&app, "import_history").await;
    let (state, conversations, messages) = import_of(&app, channel.id.0).await;
    assert_eq!(state, RunState::Done);
    assert_eq!(conversations, 33);
    // 3 + 3 + 3 seeded (Maria's fourth came by webhook) and 2 for each of the 29 Meta showed.
    assert_eq!(messages, 9 + 58);
    let (_, html) = admin.page("/channels").await;
    assert!(
        html.contains(
            "History imported: 33 conversations and 67 messages (1 Meta would not show)."
        ),
        "{html}"
    );
    let (maria_conv, unread, _) = conversation_of(&app, &maria).await;
    assert_eq!(
        message_count(&app, maria_conv).await,
        (4, 3),
        "one row per message"
    );
    assert_eq!(unread, 1, "only the webhook's message is unread");
    let notices: i64 = app
        .query(|c| {
            parley::db::schema::conversations::table
                .filter(parley::db::schema::conversations::unread_count.gt(0))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(notices, 1, "imported conversations are not unread");
}

#[tokio::test]
async fn the_window_setting_bounds_the_import() {
    let (app, sandbox) = app_with_sandbox_env(
        3,
        &[
            ("PARLEY_HISTORY_IMPORT_MAX", "5"),
            ("PARLEY_HISTORY_IMPORT_DAYS", "30"),
            ("PARLEY_HISTORY_IMPORT_RATE", "1000"),
        ],
    )
    .await;
    let page = sandbox.world().seed().pages[0].id.clone();
    sandbox.world().add_conversations(&page, 10, 1);
    // Older than the window: never imported.
    sandbox.world().add_conversations(&page, 3, 24 * 40);
    let (state, conversations, _) = connect_first_page_and_import(&app, &page).await;
    assert_eq!(state, RunState::Done);
    assert_eq!(conversations, 5);

    let (app, sandbox) = app_with_sandbox_env(3, &[("PARLEY_HISTORY_IMPORT_DAYS", "30")]).await;
    let page = sandbox.world().seed().pages[0].id.clone();
    sandbox.world().add_conversations(&page, 3, 24 * 40);
    let (_, conversations, _) = connect_first_page_and_import(&app, &page).await;
    assert_eq!(conversations, 3, "only the seeded ones are within 30 days");
}

/// An admin connects the Page's Messenger through the wizard; its import runs.
async fn connect_first_page_and_import(app: &TestApp, page: &str) -> (RunState, i32, i32) {
    let (mut admin, _, _) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let res = admin
        .through_meta_dialog("/channels/connect/meta", true)
        .await;
    let select = location(&res);
    admin.post_form(&select, &[("page", page)]).await;
    let channel = app.channel_of(Platform::Messenger).await;
    run_jobs(app, "import_history").await;
    import_of(app, channel.id.0).await
}
