//! The job queue: each job runs once under concurrent workers; a dead worker's job runs again.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::Duration;
use parley::db::statuses::JobState;
use parley::jobs::queue::{self, NewJob};
use serde_json::json;

use diesel::prelude::*;

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
    assert_eq!(row.state, JobState::Queued);
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
    let row = queue::list(&mut conn, None, Some(JobState::Dead), 10)
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
        if remaining.len() == 1 && remaining[0].state == JobState::Dead {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    a.shutdown().await;
    b.shutdown().await;
    assert_eq!(remaining.len(), 1, "all known jobs ran and were removed");
    assert_eq!(remaining[0].kind, "from_the_future");
    assert_eq!(remaining[0].state, JobState::Dead);
    assert!(
        remaining[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no job kind")
    );
}

/// A job whose Graph call hangs: fetching the profile of a customer behind a slow fault.
async fn slow_profile_job(app: &TestApp, sandbox: &meta_sandbox::Sandbox) {
    let seed = sandbox.world().seed();
    let page = seed.pages[0].id.clone();
    let psid = seed
        .customers
        .iter()
        .find(|c| c.account_id == page)
        .unwrap()
        .id
        .clone();
    let token = sandbox
        .issue_token(meta_sandbox::IssueToken::Page {
            page_id: page.clone(),
        })
        .unwrap();
    sandbox.inject_fault(meta_sandbox::Fault::new(
        psid.clone(),
        meta_sandbox::FaultKind::Slow { delay_ms: 2500 },
    ));
    let tenant = app
        .query(|c| {
            parley::models::tenants::find_or_create(c, "Acme")
                .unwrap()
                .id
        })
        .await;
    let cipher = app.state.cipher.clone();
    app.query(move |c| {
        use parley::models::channels::{NewChannel, Platform};
        let sealed = parley::channels::seal_token(&cipher, tenant, Platform::Messenger, &page, &parley::meta::AccessToken::new(token)).unwrap();
        let ch = parley::channels::connect::store_channel(c, &NewChannel {
            tenant_id: tenant, platform: Platform::Messenger, platform_id: page.clone(), name: "Page".into(), username: None,
            picture_url: None, page_id: Some(page.clone()), waba_id: None, display_phone_number: None,
            token_ciphertext: Some(sealed.blob), token_key_id: Some(sealed.key_id), subscribed_fields: vec![], connected_by: None,
        }).unwrap();
        diesel::sql_query(format!("INSERT INTO contacts (tenant_id, channel_id, platform_user_id) VALUES ({}, {}, '{psid}')", tenant.0, ch.id.0))
            .execute(c).unwrap();
        // Only the slow job: what connecting queues (comment sync, insights, history import)
        // would keep the one worker busy first.
        diesel::delete(parley::db::schema::jobs::table).execute(c).unwrap();
        let contact: i64 = parley::db::schema::contacts::table.select(parley::db::schema::contacts::id).first(c).unwrap();
        queue::enqueue(c, &NewJob::new("fetch_profile", json!({"contact_id": contact})).for_tenant(tenant)).unwrap();
    })
    .await;
}

async fn wait_for_state(app: &TestApp, state: JobState) -> Vec<queue::JobRow> {
    for _ in 0..100 {
        let jobs = app
            .query(move |c| queue::list(c, None, Some(state), 10).unwrap())
            .await;
        let jobs: Vec<_> = jobs
            .into_iter()
            .filter(|j| j.kind == "fetch_profile")
            .collect();
        if !jobs.is_empty() {
            return jobs;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("no fetch_profile job reached {state}");
}

#[tokio::test]
async fn a_stopping_worker_hands_back_a_job_it_cannot_finish_in_time() {
    let (app, sandbox) = crate::support::app_with_sandbox(3).await;
    slow_profile_job(&app, &sandbox).await;
    let pool = parley::jobs::worker::WorkerPool::start_with_grace(
        app.state.clone(),
        1,
        StdDuration::from_millis(200),
    );
    let running = wait_for_state(&app, JobState::Running).await;
    assert_eq!(running[0].attempts, 1);
    pool.shutdown().await;
    let after = app
        .query(|c| queue::list(c, None, None, 100).unwrap())
        .await;
    let job = after.iter().find(|j| j.kind == "fetch_profile").unwrap();
    assert_eq!(job.state, JobState::Queued, "handed back, not lost");
    assert_eq!(job.attempts, 0, "the interrupted attempt does not count");
    assert!(job.locked_by.is_none());
}

#[tokio::test]
async fn a_stopping_worker_lets_its_job_finish_within_the_grace_period() {
    let (app, sandbox) = crate::support::app_with_sandbox(3).await;
    slow_profile_job(&app, &sandbox).await;
    let pool = parley::jobs::worker::WorkerPool::start_with_grace(
        app.state.clone(),
        1,
        StdDuration::from_secs(10),
    );
    wait_for_state(&app, JobState::Running).await;
    pool.shutdown().await;
    let after = app
        .query(|c| queue::list(c, None, None, 100).unwrap())
        .await;
    assert!(
        after.iter().all(|j| j.kind != "fetch_profile"),
        "finished and removed"
    );
    let name: Option<String> = app
        .query(|c| {
            parley::db::schema::contacts::table
                .select(parley::db::schema::contacts::name)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(name.is_some(), "the profile was stored");
}

#[tokio::test]
async fn a_periodic_job_that_died_does_not_stop_its_later_periods_and_is_shown() {
    let app = TestApp::spawn().await;
    let (mut admin, _, _) = app
        .signed_in("Acme", "ann@acme.test", parley::auth::Role::Admin)
        .await;
    let now = chrono::Utc::now();
    let period = Duration::hours(1);
    app.query(move |conn| {
        parley::jobs::scheduler::enqueue_due(conn, now).unwrap();
        // Meta is down for good: the token sweep spends its attempts and dies.
        let mut job = None;
        for _ in 0..20 {
            let Some(claimed) = queue::claim(conn, "w", Duration::minutes(1)).unwrap() else {
                break;
            };
            if claimed.kind == "token_health" {
                queue::fail(conn, &claimed, "w", "Meta unreachable", true).unwrap();
                job = Some(claimed.id);
            } else {
                queue::complete(conn, claimed.id, "w").unwrap();
            }
        }
        let dead = job.expect("the token sweep ran");
        // The next period enqueues it again.
        let next = parley::jobs::scheduler::enqueue_due(conn, now + period).unwrap();
        assert!(next.contains(&"token_health"), "{next:?}");
        // Retrying the dead one while a newer run is queued changes nothing (and is no error).
        assert!(!queue::retry(conn, dead, None).unwrap());
    })
    .await;

    let (status, page) = admin.page("/jobs").await;
    assert_eq!(status, 200);
    assert!(page.contains("Periodic work failed."), "{page}");
    assert!(page.contains("token_health"));
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"parley_jobs{kind="token_health",state="dead"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"parley_jobs{kind="token_health",state="queued"} 1"#));
}
