//! The 210 real webhook payloads in ../shared/fixtures/meta-webhooks (read in place, never
//! copied): each is accepted, and each part either lands or is recorded as ignored with a reason.

use std::path::PathBuf;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde_json::Value;

use crate::support::{TestApp, account_ids, platform_of, real_payload_files};

/// Connects a channel for every account the payloads in `files` name (one tenant); returns the
/// files' bytes.
async fn connect_accounts_of(app: &TestApp, files: &[PathBuf]) -> Vec<Vec<u8>> {
    let tenant = app
        .query(|c| {
            parley::models::tenants::find_or_create(c, "Fixtures")
                .unwrap()
                .id
        })
        .await;
    let mut connected = std::collections::HashSet::new();
    let mut bodies = Vec::new();
    for file in files {
        let raw = std::fs::read(file).unwrap();
        let body: Value = serde_json::from_slice(&raw).unwrap();
        let platform = platform_of(&body);
        for (id, waba) in account_ids(&body) {
            if connected.insert((platform, id.clone())) {
                app.connect_channel(tenant, platform, &id, waba.as_deref())
                    .await;
            }
        }
        bodies.push(raw);
    }
    bodies
}

#[derive(QueryableByName, Debug)]
struct ItemRow {
    #[diesel(sql_type = BigInt)]
    event_id: i64,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

#[tokio::test]
async fn every_real_payload_is_accepted_and_lands_or_is_ignored_with_a_reason() {
    let Some(files) = real_payload_files() else {
        return;
    };

    let app = TestApp::spawn().await;
    let bodies = connect_accounts_of(&app, &files).await;
    let mut event_files = Vec::new();
    for (file, raw) in files.iter().zip(&bodies) {
        // The exact bytes of the file, signed: as Meta would deliver them.
        let res = app.post_webhook(raw).await;
        assert_eq!(res.status(), 200, "{}", file.display());
        event_files.push(file.file_name().unwrap().to_string_lossy().into_owned());
    }
    app.process_webhooks().await;

    let failed_events: i64 = app
        .query(|c| {
            diesel::sql_query("SELECT count(*) AS event_id, '' AS state, '' AS kind, NULL::text AS last_error FROM webhook_events WHERE state <> 'split'")
                .get_result::<ItemRow>(c)
                .unwrap()
                .event_id
        })
        .await;
    assert_eq!(failed_events, 0, "every payload is a webhook body");
    let items = app
        .query(|c| {
            diesel::sql_query(
                "SELECT event_id, state, kind, last_error FROM webhook_items ORDER BY id",
            )
            .load::<ItemRow>(c)
            .unwrap()
        })
        .await;
    let mut processed = 0;
    let mut ignored = 0;
    for item in &items {
        let file = &event_files[(item.event_id - 1) as usize];
        match item.state.as_str() {
            "processed" => processed += 1,
            "ignored" => {
                ignored += 1;
                eprintln!(
                    "ignored {file}: {}",
                    item.last_error.as_deref().unwrap_or("")
                );
                assert!(
                    item.last_error
                        .as_deref()
                        .is_some_and(|r| !r.trim().is_empty()),
                    "{file}: ignored without a reason"
                );
            }
            other => panic!(
                "{file} ({}) ended {other}: {:?}",
                item.kind, item.last_error
            ),
        }
    }
    let messages: i64 = app.query(|c| diesel::sql_query("SELECT count(*) AS event_id, '' AS state, '' AS kind, NULL::text AS last_error FROM messages").get_result::<ItemRow>(c).unwrap().event_id).await;
    eprintln!(
        "{} payloads → {} items: {processed} processed, {ignored} ignored with a reason; {messages} messages stored",
        files.len(),
        items.len()
    );
    assert!(processed > 100, "most payloads carry domain events");
    assert!(messages > 25);
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    messages: i64,
    #[diesel(sql_type = BigInt)]
    reactions: i64,
    #[diesel(sql_type = BigInt)]
    comments: i64,
    #[diesel(sql_type = BigInt)]
    contacts: i64,
    #[diesel(sql_type = BigInt)]
    conversations: i64,
}

async fn counts(app: &TestApp) -> Counts {
    app.query(|c| {
        diesel::sql_query(
            "SELECT (SELECT count(*) FROM messages) AS messages,
                    (SELECT count(*) FROM message_reactions) AS reactions,
                    (SELECT count(*) FROM comments) AS comments,
                    (SELECT count(*) FROM contacts) AS contacts,
                    (SELECT count(*) FROM conversations) AS conversations",
        )
        .get_result(c)
        .unwrap()
    })
    .await
}

#[tokio::test]
async fn redelivering_every_real_payload_doubles_nothing() {
    let Some(files) = real_payload_files() else {
        return;
    };
    let app = TestApp::spawn().await;
    let bodies = connect_accounts_of(&app, &files).await;
    for raw in &bodies {
        assert_eq!(app.post_webhook(raw).await.status(), 200);
    }
    app.process_webhooks().await;
    let once = counts(&app).await;
    // Meta retries deliveries, in any order, sometimes long after.
    for raw in bodies.iter().rev() {
        assert_eq!(app.post_webhook(raw).await.status(), 200);
    }
    app.process_webhooks().await;
    assert_eq!(counts(&app).await, once, "a redelivery added rows");
    assert!(once.messages > 25, "{once:?}");
}

/// The comment ids a payload's comment and mention changes name (caption mentions have none).
fn comment_ids(body: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        let changes = entry["changes"].as_array().cloned().unwrap_or_else(|| {
            // Business Login puts `field`/`value` on the entry itself.
            if entry.get("field").is_some() {
                vec![entry.clone()]
            } else {
                vec![]
            }
        });
        for change in changes {
            let v = &change["value"];
            let id = match change["field"].as_str() {
                Some("feed") if v["item"] == "comment" => v["comment_id"].as_str(),
                Some("comments" | "live_comments") => v["id"].as_str().or(v["comment_id"].as_str()),
                Some("mentions") => v["comment_id"].as_str(),
                _ => None,
            };
            ids.extend(id.map(str::to_string));
        }
    }
    ids
}

#[tokio::test]
async fn every_real_comment_and_mention_payload_lands_as_a_comment() {
    let Some(files) = real_payload_files() else {
        return;
    };
    let app = TestApp::spawn().await;
    let bodies = connect_accounts_of(&app, &files).await;
    let mut expected = Vec::new();
    for raw in &bodies {
        let body: Value = serde_json::from_slice(raw).unwrap();
        let ids = comment_ids(&body);
        if !ids.is_empty() {
            assert_eq!(app.post_webhook(raw).await.status(), 200);
            expected.extend(ids);
        }
    }
    app.process_webhooks().await;
    expected.sort();
    expected.dedup();
    assert!(expected.len() >= 5, "{expected:?}");
    let stored: Vec<String> = app
        .query(|c| {
            use parley::db::schema::comments::dsl as c_;
            c_::comments
                .select(c_::platform_comment_id)
                .order(c_::platform_comment_id)
                .load(c)
                .unwrap()
        })
        .await;
    for id in &expected {
        assert!(stored.contains(id), "comment {id} did not land: {stored:?}");
    }
}
