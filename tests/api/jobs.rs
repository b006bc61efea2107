//! The job queue: each job runs once under concurrent workers; a dead worker's job runs again.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::Duration;
use parley::jobs::queue::{self, NewJob};
use serde_json::json;

use crate::support::{TestApp, TestDb};

#[test]
fn concurrent_claimers_never_get_the_same_job() {
    let db = TestDb::new();
    let mut conn = db.connect();
    for i in 0..60 {
        queue::enqueue(
            &mut conn,
            &NewJob::new("cleanup_login_throttle", json!({ "n": i })),
        )
        .unwrap();
    }
    let handles: Vec<_> = (0..3)
        .map(|w| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut conn = parley::db::connect(&url).unwrap();
                let me = format!("worker-{w}");
                let mut got = Vec::new();
                while let Some(job) = queue::claim(&mut conn, &me, Duration::minutes(5)).unwrap() {
                    assert!(queue::complete(&mut conn, job.id, &me).unwrap());
                    got.push(job.id.0);
                }
                got
            })
        })
        .collect();
    let all: Vec<i64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "every job claimed");
    assert_eq!(unique.len(), 60, "none claimed twice");
}

#[test]
fn a_job_held_by_a_dead_worker_is_claimed_again_after_its_lease() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let id = queue::enqueue(&mut conn, &NewJob::new("cleanup_login_throttle", json!({})))
        .unwrap()
        .unwrap();
    let held = queue::claim(&mut conn, "doomed", Duration::seconds(1))
        .unwrap()
        .unwrap();
    assert_eq!(held.id, id);
    assert!(
        queue::claim(&mut conn, "other", Duration::minutes(5))
            .unwrap()
            .is_none(),
        "leased"
    );
    std::thread::sleep(StdDuration::from_millis(1300));
    let again = queue::claim(&mut conn, "other", Duration::minutes(5))
        .unwrap()
        .unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 2);
    // The dead worker can no longer complete it.
    assert!(!queue::complete(&mut conn, id, "doomed").unwrap());
    assert!(queue::complete(&mut conn, id, "other").unwrap());
}

#[test]
fn failures_back_off_then_end_dead_and_can_be_retried() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let id = queue::enqueue(&mut conn, &NewJob::new("x", json!({})).max_attempts(2))
        .unwrap()
        .unwrap();
    let job = queue::claim(&mut conn, "w", Duration::minutes(5))
        .unwrap()
        .unwrap();
    queue::fail(&mut conn, &job, "w", "first failure", false).unwrap();
    let row = queue::list(&mut conn, None, None, 10).unwrap().remove(0);
    assert_eq!(row.state, "queued");
    assert!(
        row.run_at > chrono::Utc::now() + Duration::seconds(5),
        "backed off"
    );
    assert_eq!(row.last_error.as_deref(), Some("first failure"));

    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE jobs SET run_at = now()"),
        &mut conn,
    )
    .unwrap();
    let job = queue::claim(&mut conn, "w", Duration::minutes(5))
        .unwrap()
        .unwrap();
    queue::fail(&mut conn, &job, "w", "second failure", false).unwrap();
    let row = queue::list(&mut conn, None, Some("dead"), 10)
        .unwrap()
        .remove(0);
    assert_eq!(row.id, id);
    assert!(
        queue::claim(&mut conn, "w", Duration::minutes(5))
            .unwrap()
            .is_none(),
        "dead jobs stay put"
    );

    assert!(queue::retry(&mut conn, id, None).unwrap());
    let again = queue::claim(&mut conn, "w", Duration::minutes(5))
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 1);
}

#[test]
fn a_dedupe_key_keeps_one_live_job() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let job = NewJob::new("cleanup_login_throttle", json!({})).dedupe("cleanup:2026-11-21");
    assert!(queue::enqueue(&mut conn, &job).unwrap().is_some());
    assert!(queue::enqueue(&mut conn, &job).unwrap().is_none());
}

#[tokio::test]
async fn two_worker_pools_drain_the_queue_and_unknown_kinds_go_dead() {
    let app = TestApp::spawn().await;
    parley::db::run(app.pool(), |conn| {
        for _ in 0..20 {
            queue::enqueue(conn, &NewJob::new("cleanup_login_throttle", json!({})))?;
        }
        queue::enqueue(conn, &NewJob::new("from_the_future", json!({})))?;
        Ok(())
    })
    .await
    .unwrap();
    let a = parley::jobs::worker::WorkerPool::start(app.state.clone(), 2);
    let b = parley::jobs::worker::WorkerPool::start(app.state.clone(), 2);
    let mut remaining = Vec::new();
    for _ in 0..100 {
        remaining = parley::db::run(app.pool(), |conn| Ok(queue::list(conn, None, None, 100)?))
            .await
            .unwrap();
        if remaining.len() == 1 && remaining[0].state == "dead" {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    a.shutdown().await;
    b.shutdown().await;
    assert_eq!(remaining.len(), 1, "all known jobs ran and were removed");
    assert_eq!(remaining[0].kind, "from_the_future");
    assert_eq!(remaining[0].state, "dead");
    assert!(
        remaining[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no job kind")
    );
}
