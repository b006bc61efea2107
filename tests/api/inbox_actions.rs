//! Agents' actions, the list's filters and search, tenant isolation of every inbox route, and
//! live updates reaching a second Parley process on the same database.

use std::net::TcpListener;
use std::time::Duration;

use parley::auth::Role;

use crate::support::{env, list_has_row};

#[tokio::test]
async fn assignment_status_read_state_notes_and_labels_work_and_show() {
    let mut env = env().await;
    let conv = env.customer_writes("Where is my parcel?", 1).await;
    env.agent.page(&format!("/inbox/{conv}")).await;
    let p = |s: &str| format!("/inbox/{conv}/{s}");

    assert_eq!(
        env.agent
            .post_form(&p("assign"), &[("assignee", "me")])
            .await
            .status(),
        303
    );
    let (_, mine) = env.agent.page("/inbox?assignee=mine").await;
    assert!(list_has_row(&mine, conv), "in Mine");
    let (_, unassigned) = env.agent.page("/inbox?assignee=unassigned").await;
    assert!(!list_has_row(&unassigned, conv));

    // Snoozing needs a future time; then it leaves Open and shows under Snoozed.
    let res = env
        .agent
        .post_form(&p("status"), &[("status", "snoozed"), ("snooze_until", "")])
        .await;
    assert_eq!(res.status(), 303, "refused with a flash");
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(page.contains("Choose until when"), "{page}");
    let later = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    env.agent
        .post_form(
            &p("status"),
            &[
                ("status", "snoozed"),
                ("snooze_until", &later),
                ("tz_offset", "0"),
            ],
        )
        .await;
    let (_, open) = env.agent.page("/inbox").await;
    assert!(!list_has_row(&open, conv));
    let (_, snoozed) = env.agent.page("/inbox?status=snoozed").await;
    assert!(list_has_row(&snoozed, conv));
    // When the time comes it reopens.
    env.app
        .query(move |c| {
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "UPDATE conversations SET snoozed_until = now() - interval '1 minute'",
            )
            .execute(c)
            .unwrap();
            parley::inbox::actions::wake_snoozed(c).unwrap()
        })
        .await;
    let (_, open) = env.agent.page("/inbox").await;
    assert!(list_has_row(&open, conv));

    env.agent.post_form(&p("read"), &[("read", "0")]).await;
    let (_, unread) = env.agent.page("/inbox?unread=1").await;
    assert!(list_has_row(&unread, conv));

    env.agent
        .post_form(&p("notes"), &[("body", "Customer is a VIP")])
        .await;
    env.agent
        .post_form(&p("labels"), &[("name", "Shipping")])
        .await;
    env.agent
        .post_form(&p("labels"), &[("name", "shipping")])
        .await;
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(page.contains("Customer is a VIP") && page.contains("Private note"));
    assert_eq!(
        page.matches("class=\"label-chip\"").count(),
        1,
        "one label, case-insensitive"
    );
    let tenant = env.tenant;
    let label: i64 = env
        .app
        .query(move |c| {
            parley::inbox::actions::labels(c, tenant)
                .unwrap()
                .first()
                .map(|l| l.id)
                .unwrap_or_default()
        })
        .await;
    let (_, by_label) = env.agent.page(&format!("/inbox?label={label}")).await;
    assert!(list_has_row(&by_label, conv));
    env.agent
        .post_form(&p(&format!("labels/{label}/remove")), &[])
        .await;
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert_eq!(page.matches("class=\"label-chip\"").count(), 0);
    // Notes never went to Meta.
    assert!(env.sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn search_finds_message_text_and_names_and_the_list_pages_by_keyset() {
    let env = env().await;
    let conv = env.customer_writes("My invoice number is 4471", 1).await;
    let mut agent = env.agent;
    let (_, found) = agent.page("/inbox?q=invoice").await;
    assert!(list_has_row(&found, conv), "{found}");
    let (_, prefix) = agent.page("/inbox?q=invo").await;
    assert!(
        prefix.contains(&format!("conversation-{conv}")),
        "prefix match"
    );
    let (_, none) = agent.page("/inbox?q=refund").await;
    assert!(none.contains("No conversations match"));
    let name: String = env
        .app
        .query(|c| {
            use diesel::prelude::*;
            parley::db::schema::contacts::table
                .select(parley::db::schema::contacts::name)
                .first::<Option<String>>(c)
                .unwrap()
                .unwrap_or_default()
        })
        .await;
    if let Some(first) = name.split_whitespace().next() {
        let (_, by_name) = agent.page(&format!("/inbox?q={first}")).await;
        assert!(
            by_name.contains(&format!("conversation-{conv}")),
            "by contact name"
        );
    }

    // 120 more conversations: pages of 50, newest first, no repeats.
    let tenant = env.tenant;
    let channel = env.page_id.clone();
    env.app
        .query(move |c| {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "WITH ch AS (SELECT id FROM channels WHERE platform_id = '{channel}'),
                      ct AS (INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name)
                             SELECT {t}, ch.id, 'bulk' || g, 'Bulk ' || g FROM ch, generate_series(1, 120) g RETURNING id, channel_id, platform_user_id)
                 INSERT INTO conversations (tenant_id, channel_id, contact_id, last_message_at, last_message_preview)
                 SELECT {t}, channel_id, id, now() - (substr(platform_user_id, 5)::int * interval '1 minute'), 'bulk' FROM ct",
                t = tenant.0
            ))
            .execute(c)
            .unwrap();
        })
        .await;
    let mut seen = std::collections::HashSet::new();
    let mut url = "/inbox?status=all".to_string();
    let mut pages = 0;
    loop {
        let (_, page) = agent.page(&url).await;
        pages += 1;
        for piece in page.split("id=\"conversation-").skip(1) {
            let id: String = piece.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !id.is_empty() {
                assert!(seen.insert(id.clone()), "conversation {id} twice on {url}");
            }
        }
        match page.split("href=\"/inbox?").find(|s| s.contains("after=")) {
            Some(rest) => {
                let q: String = rest.chars().take_while(|c| *c != '"').collect();
                url = format!("/inbox?{}", q.replace("&amp;", "&").replace("&#38;", "&"));
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 121);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn another_tenant_cannot_reach_any_inbox_route() {
    let mut env = env().await;
    let conv = env.customer_writes("Private to Acme", 1).await;
    let (mut other, _, _) = env
        .app
        .signed_in("Other", "agent@other.test", Role::Agent)
        .await;
    other.page("/inbox").await;
    let msg: i64 = env
        .app
        .query(|c| {
            use diesel::prelude::*;
            parley::db::schema::messages::table
                .select(parley::db::schema::messages::id)
                .first(c)
                .unwrap()
        })
        .await;
    for path in [
        format!("/inbox/{conv}"),
        format!("/inbox/{conv}/thread"),
        format!("/inbox/{conv}/panel"),
        format!("/inbox/{conv}/composer"),
    ] {
        assert_eq!(other.get(&path).await.status(), 404, "GET {path}");
    }
    for (path, fields) in [
        (format!("/inbox/{conv}/messages"), vec![("text", "hi")]),
        (format!("/inbox/{conv}/notes"), vec![("body", "x")]),
        (format!("/inbox/{conv}/assign"), vec![("assignee", "me")]),
        (
            format!("/inbox/{conv}/status"),
            vec![("status", "resolved")],
        ),
        (format!("/inbox/{conv}/read"), vec![("read", "1")]),
        (format!("/inbox/{conv}/labels"), vec![("name", "x")]),
        (format!("/inbox/{conv}/labels/1/remove"), vec![]),
        (format!("/inbox/messages/{msg}/retry"), vec![]),
    ] {
        assert_eq!(
            other.post_form(&path, &fields).await.status(),
            404,
            "POST {path}"
        );
    }
    let (_, list) = other.page("/inbox?status=all&q=private").await;
    assert!(!list.contains("Private to Acme"));
    let (_, page) = env.agent.page(&format!("/inbox/{conv}")).await;
    assert!(
        !page.contains("class=\"note\""),
        "nothing was added by the other tenant"
    );
    // Moderators and analysts have no inbox.
    let (mut analyst, _, _) = env
        .app
        .signed_in("Acme", "analyst@acme.test", Role::Analyst)
        .await;
    assert_eq!(analyst.get(&format!("/inbox/{conv}")).await.status(), 403);
}

#[tokio::test]
async fn live_updates_reach_a_page_served_by_another_process() {
    let mut env = env().await;
    let conv = env.customer_writes("Hi there", 1).await;
    // A second Parley server on the same database (its own LISTEN connection and hub).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = format!("http://{}", listener.local_addr().unwrap());
    let server = parley::web::server::build(env.app.state.clone(), listener).unwrap();
    let handle = server.handle();
    tokio::spawn(server);

    let mut stream = env
        .agent
        .http
        .get(format!("{second}/inbox/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("resync"),
        "a new stream reloads"
    );

    // An action through the first server, then a customer message through webhooks.
    env.agent.page(&format!("/inbox/{conv}")).await;
    env.agent
        .post_form(&format!("/inbox/{conv}/assign"), &[("assignee", "me")])
        .await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(&format!("event: c{conv}")) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: inbox"));
    handle.stop(false).await;
}

#[tokio::test]
async fn customers_pictures_are_kept_by_parley_and_served_only_to_their_tenant() {
    let env = crate::support::env().await;
    env.customer_writes("Hello there", 1).await;
    let ran = env.app.run_queued_jobs("fetch_profile").await;
    assert!(!ran.is_empty() && ran.iter().all(Result::is_ok), "{ran:?}");
    let mut agent = env.agent;
    let (_, page) = agent.page("/inbox").await;
    let start = page
        .find("/contacts/")
        .expect("the list shows Parley's copy");
    let url = &page[start..start + page[start..].find('"').unwrap()];
    assert!(url.ends_with("/picture"), "{url}");
    assert!(
        !page.contains("/_media/static/"),
        "Meta's own URL is never rendered"
    );
    let res = agent.get(url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // The copy outlives Meta's URL.
    env.app
        .query(|c| {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("UPDATE contacts SET picture_url = 'https://expired.invalid/x'"),
                c,
            )
            .unwrap()
        })
        .await;
    assert_eq!(agent.get(url).await.status(), 200);
    let (mut other, _, _) = env
        .app
        .signed_in("Globex", "hank@globex.test", Role::Agent)
        .await;
    assert_eq!(other.get(url).await.status(), 404);
}

/// Search results, page by page, as (conversation ids, whether there is a next page).
fn search_all(
    conn: &mut diesel::PgConnection,
    tenant: parley::db::ids::TenantId,
    me: parley::db::ids::UserId,
    words: &str,
    strategy: parley::inbox::search::Strategy,
) -> Vec<i64> {
    let filter = parley::inbox::list::ListFilter {
        search: Some(words.into()),
        ..Default::default()
    };
    let ts = parley::inbox::list::tsquery(words).unwrap();
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page =
            parley::inbox::search::page_with(conn, tenant, me, &filter, &ts, after, 4, strategy)
                .unwrap();
        found.extend(page.rows.iter().map(|r| r.id.0));
        match page.next {
            Some(next) => after = Some(next),
            None => return found,
        }
    }
}

#[tokio::test]
async fn search_finds_the_same_newest_first_whether_the_walk_or_the_indexes_find_it() {
    let app = crate::support::TestApp::spawn().await;
    let (_, tenant, me) = app.signed_in("Acme", "ann@acme.test", Role::Agent).await;
    let (_, other, _) = app
        .signed_in("Globex", "hank@globex.test", Role::Agent)
        .await;
    let acme = app
        .connect_channel(
            tenant,
            parley::models::channels::Platform::Messenger,
            "P1",
            None,
        )
        .await;
    let globex = app
        .connect_channel(
            other,
            parley::models::channels::Platform::Messenger,
            "P2",
            None,
        )
        .await;
    let (t, ch, o, och) = (tenant.0, acme.id.0, other.0, globex.id.0);
    app.query(move |c| {
        use diesel::connection::SimpleConnection;
        // 30 conversations, newest first by id: "order" in every one, "refund" only in the 3
        // oldest, "Zelda" as a contact name in one; Globex has "refund" everywhere.
        c.batch_execute(&format!(
            "INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name)
               SELECT {t}, {ch}, 'u' || g, CASE WHEN g = 7 THEN 'Zelda Fitz' ELSE 'Customer ' || g END
                 FROM generate_series(1, 30) g;
             INSERT INTO conversations (tenant_id, channel_id, contact_id, status, last_message_at, last_inbound_at)
               SELECT {t}, {ch}, id, 'open', now() - (id * interval '1 minute'), now() FROM contacts WHERE tenant_id = {t};
             INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, platform_message_id, sent_at, kind, text, status)
               SELECT {t}, v.id, {ch}, 'inbound', 'm' || v.id || '_' || g, v.last_message_at, 'text',
                      'about my order ' || CASE WHEN v.id > 27 THEN 'and a refund' ELSE '' END, 'received'
                 FROM conversations v, generate_series(1, 3) g WHERE v.tenant_id = {t};
             INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name)
               SELECT {o}, {och}, 'g' || g, 'Other ' || g FROM generate_series(1, 10) g;
             INSERT INTO conversations (tenant_id, channel_id, contact_id, status, last_message_at, last_inbound_at)
               SELECT {o}, {och}, id, 'open', now(), now() FROM contacts WHERE tenant_id = {o};
             INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, platform_message_id, sent_at, kind, text, status)
               SELECT {o}, v.id, {och}, 'inbound', 'x' || v.id, now(), 'text', 'refund please', 'received'
                 FROM conversations v WHERE v.tenant_id = {o};"
        ))
        .unwrap();
    })
    .await;
    for words in ["order", "refund", "zelda", "order refund", "nothing"] {
        use parley::inbox::search::Strategy;
        let (indexed, walked, small_window) = app
            .query(move |c| {
                let walk = |window| Strategy {
                    window,
                    indexed_max: -1.0,
                };
                (
                    search_all(c, tenant, me, words, Strategy::default()),
                    search_all(c, tenant, me, words, walk(2_000)),
                    search_all(c, tenant, me, words, walk(5)),
                )
            })
            .await;
        assert_eq!(indexed, walked, "{words}: the indexes and the walk agree");
        assert_eq!(
            walked, small_window,
            "{words}: the walk and its fallback agree"
        );
        let big = indexed;
        let expected = match words {
            "order" => 30,
            "refund" | "order refund" => 3,
            "zelda" => 1,
            _ => 0,
        };
        assert_eq!(big.len(), expected, "{words}: {big:?}");
        let mut sorted = big.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), big.len(), "{words}: no conversation twice");
    }
}
