//! Send budgets hold across worker processes: they live in PostgreSQL, so two workers together
//! keep Meta's rates and WhatsApp's one-message-per-6-seconds-per-customer rule.

use std::time::Duration;

use chrono::Utc;
use parley::auth::Role;
use parley::meta::limits::BucketSpec;

use crate::support::{TestDb, app_with_sandbox};

#[test]
fn a_budget_is_shared_by_every_connection() {
    let db = TestDb::new();
    let spec = BucketSpec {
        key: "send:page1:MessengerMedia".into(),
        interval: Duration::from_secs(10),
        burst: 3,
    };
    // Four "processes", each with its own connection, each trying five sends at once.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, spec) = (db.url.clone(), spec.clone());
            std::thread::spawn(move || {
                let mut conn = parley::db::connect(&url).unwrap();
                (0..5)
                    .filter(|_| {
                        parley::models::send_budgets::take(&mut conn, std::slice::from_ref(&spec))
                            .unwrap()
                            .is_ok()
                    })
                    .count()
            })
        })
        .collect();
    let sent: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sent, 3, "the burst, however many processes take");
    // The next one is due an interval later, and says so.
    let mut conn = db.connect();
    let wait = parley::models::send_budgets::take(&mut conn, &[spec])
        .unwrap()
        .unwrap_err();
    assert!(
        wait > Duration::from_secs(8) && wait <= Duration::from_secs(10),
        "{wait:?}"
    );
    // All budgets of a send or none: a full pair budget leaves the number's budget untouched.
    let number = BucketSpec {
        key: "send:phone:WhatsApp".into(),
        interval: Duration::from_millis(10),
        burst: 1,
    };
    let pair = BucketSpec {
        key: "pair:phone:alice".into(),
        interval: Duration::from_secs(6),
        burst: 1,
    };
    let both = [number.clone(), pair.clone()];
    assert!(
        parley::models::send_budgets::take(&mut conn, &both)
            .unwrap()
            .is_ok()
    );
    std::thread::sleep(Duration::from_millis(20));
    let wait = parley::models::send_budgets::take(&mut conn, &both)
        .unwrap()
        .unwrap_err();
    assert!(wait > Duration::from_secs(5), "{wait:?}");
    assert!(
        parley::models::send_budgets::take(&mut conn, &[number])
            .unwrap()
            .is_ok(),
        "the refused send took nothing"
    );
}

#[tokio::test]
async fn two_workers_keep_whatsapps_pair_limit_together() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (mut agent, tenant, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let (conv, wa) = app
        .whatsapp_conversation(
            &sandbox,
            tenant,
            "Two questions",
            chrono::Duration::minutes(5),
        )
        .await;
    agent.page(&format!("/inbox/{conv}")).await;
    for text in ["First answer", "Second answer"] {
        let res = agent
            .post_form(&format!("/inbox/{conv}/messages"), &[("text", text)])
            .await;
        assert_eq!(res.status(), 303);
    }
    // Two worker processes: each with its own state (its own Graph client), one database.
    let other =
        parley::state::AppState::new(app.pool().clone(), (*app.state.config).clone()).unwrap();
    let a = parley::jobs::worker::WorkerPool::start(app.state.clone(), 2);
    let b = parley::jobs::worker::WorkerPool::start(other, 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    a.shutdown().await;
    b.shutdown().await;
    let sent: Vec<_> = sandbox
        .sent_messages()
        .into_iter()
        .filter(|m| m.recipient == wa && !m.message_id.is_empty())
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "one message per 6 s to one customer: {sent:?}"
    );
    let waiting = app
        .query(|c| {
            parley::jobs::queue::list(c, None, Some(parley::db::statuses::JobState::Queued), 10)
                .unwrap()
        })
        .await;
    let paced: Vec<_> = waiting
        .iter()
        .filter(|j| j.kind == "send_message")
        .collect();
    assert_eq!(paced.len(), 1, "{waiting:?}");
    assert_eq!(paced[0].attempts, 0, "pacing is not a failed attempt");
    assert!(
        paced[0].run_at > Utc::now() + chrono::Duration::seconds(1),
        "{:?}",
        paced[0].run_at
    );
}
