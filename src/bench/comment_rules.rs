//! The rule latency part of `parley bench comments`: the sandbox plays Meta, customers comment
//! spam at a steady rate (each comment created at the sandbox, which delivers its webhook), and
//! a rule hides each one at the sandbox through the job queue. Measured per comment from the
//! moment the sandbox was asked to create it to Meta's answer to the hide.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::comments::Figure;
use crate::comments::rules::Conditions;
use crate::db::statuses::RuleAction;
use crate::models::channels::Platform;
use crate::models::moderation_rules::RuleInput;
use meta_sandbox::{Channel, CustomerEvent, IssueToken, Sandbox, SandboxConfig};

const APP_ID: &str = "1000000000000001";

/// A comment the sandbox was asked to create, and when.
type Sent = (String, DateTime<Utc>);
const SECRET: &str = "bench-app-secret";

/// p50/p95/p99 of webhook-to-hidden-at-Meta while `rate` comments a second arrive.
pub async fn latency(url: &str, dir: &Path, rate: u32, seconds: u64) -> Result<Figure, String> {
    println!("rule latency: {rate} comments/s for {seconds} s through the sandbox…");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let sandbox = Sandbox::start(
        SandboxConfig {
            app_id: APP_ID.into(),
            app_secret: SECRET.into(),
            // A Page busy enough to get 50 comments a second has many engaged users, and Meta
            // grants 4,800 calls an hour for each.
            business_calls_per_hour: 10_000_000,
            ..SandboxConfig::default()
        },
        listener,
    )
    .await
    .map_err(|e| e.to_string())?;
    let state = super::setup::state(url, dir, SECRET, Some(&sandbox.url()), 24)?;
    let mut conn = crate::db::connect(url).map_err(|e| e.to_string())?;
    let tenant = crate::models::tenants::find_or_create(&mut conn, "Bench rules")
        .map_err(|e| e.to_string())?;
    let page = sandbox.world().seed().pages[0].clone();
    let token = sandbox
        .issue_token(IssueToken::Page {
            page_id: page.id.clone(),
        })
        .map_err(|e| e.to_string())?;
    super::setup::channel(
        &mut conn,
        &state,
        tenant.id,
        Platform::Messenger,
        &page.id,
        &token,
    )?;
    // Meta sends a Page's comment webhooks only once the app is subscribed to its `feed`.
    state
        .graph
        .subscribe_page(
            &page.id,
            &crate::meta::AccessToken::new(token.clone()),
            &["feed"],
        )
        .await
        .map_err(|e| e.to_string())?;
    let me = super::setup::user(
        &mut conn,
        tenant.id,
        "rules@bench.test",
        crate::auth::Role::Moderator,
    )?;
    // The rule sits behind 49 that do not match, as in a busy tenant.
    for n in 0..49 {
        let conditions = Conditions {
            keywords: vec![format!("never{n}"), format!("buy now {n}")],
            ..Conditions::default()
        };
        crate::models::moderation_rules::insert(
            &mut conn,
            tenant.id,
            &RuleInput {
                name: format!("Rule {n}"),
                enabled: true,
                match_all: false,
                conditions,
                action: RuleAction::Hide,
                saved_reply_id: None,
            },
            me,
        )
        .map_err(|e| e.to_string())?;
    }
    crate::models::moderation_rules::insert(
        &mut conn,
        tenant.id,
        &RuleInput {
            name: "Hide spam".into(),
            enabled: true,
            match_all: false,
            conditions: Conditions {
                keywords: vec!["free followers".into()],
                ..Conditions::default()
            },
            action: RuleAction::Hide,
            saved_reply_id: None,
        },
        me,
    )
    .map_err(|e| e.to_string())?;
    let (base, handle) = super::setup::serve(&state)?;
    sandbox.set_webhook_url(Some(format!("{base}/webhooks/meta")));
    let workers = crate::jobs::worker::WorkerPool::start(state.clone(), 8);
    let customers: Vec<String> = sandbox
        .world()
        .seed()
        .customers
        .iter()
        .filter(|c| c.channel == Channel::Messenger && c.account_id == page.id)
        .map(|c| c.id.clone())
        .collect();

    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let sandbox = Arc::new(sandbox);
    let total = u64::from(rate) * seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let mut tasks = Vec::new();
    for i in 0..total {
        tick.tick().await;
        let (sandbox, sent) = (sandbox.clone(), sent.clone());
        let customer = customers[i as usize % customers.len()].clone();
        tasks.push(tokio::spawn(async move {
            let at = Utc::now();
            let event = CustomerEvent::Comment {
                customer,
                text: format!("Free followers {i} at cheap-likes.biz"),
            };
            if let Ok(record) = sandbox.customer_event(event).await
                && let Ok(mut sent) = sent.lock()
            {
                sent.push((record.id, at));
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    // Wait for the last hides (at most a minute).
    let ids: Vec<Sent> = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latencies = Vec::new();
    for _ in 0..120 {
        latencies = finished(&mut conn, &ids)?;
        if latencies.len() == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = latencies.len();
    if done < ids.len() {
        report_stragglers(&mut conn)?;
    }
    latencies.sort_by(f64::total_cmp);
    workers.shutdown().await;
    handle.stop(true).await;
    if let Ok(sandbox) = Arc::try_unwrap(sandbox) {
        sandbox.stop().await;
    }
    Ok(Figure {
        what: format!("webhook to hidden at Meta by a rule (50 rules), {rate} comments/s"),
        rows: format!("{done} of {} comments hidden", ids.len()),
        p50: super::percentile(&latencies, 50.0),
        p95: super::percentile(&latencies, 95.0),
        p99: super::percentile(&latencies, 99.0),
        unit: "ms",
    })
}

/// Milliseconds from creation to the hide Meta confirmed, for the comments already hidden.
fn finished(conn: &mut PgConnection, ids: &[(String, DateTime<Utc>)]) -> Result<Vec<f64>, String> {
    use crate::db::schema::{comment_actions as a, comments as c};
    let names: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
    let rows: Vec<(String, Option<DateTime<Utc>>)> = a::table
        .inner_join(c::table)
        .filter(c::platform_comment_id.eq_any(names))
        .filter(a::state.eq(crate::db::statuses::ActionState::Done))
        .select((c::platform_comment_id, a::finished_at))
        .load(conn)
        .map_err(|e| e.to_string())?;
    let sent: std::collections::HashMap<&str, DateTime<Utc>> =
        ids.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    Ok(rows
        .into_iter()
        .filter_map(|(id, done)| {
            Some((done? - *sent.get(id.as_str())?).num_microseconds()? as f64 / 1000.0)
        })
        .collect())
}

/// Prints where the comments that were not hidden stand (actions by state, jobs by state).
fn report_stragglers(conn: &mut PgConnection) -> Result<(), String> {
    use crate::db::schema::{comment_actions as a, comments as c, jobs as j};
    let actions: Vec<(crate::db::statuses::ActionState, Option<String>, i64)> = a::table
        .group_by((a::state, a::error))
        .select((a::state, a::error, diesel::dsl::count_star()))
        .load(conn)
        .map_err(|e| e.to_string())?;
    let unmatched: i64 = c::table
        .filter(c::rule_id.is_null())
        .filter(c::text.like("Free followers%"))
        .count()
        .get_result(conn)
        .map_err(|e| e.to_string())?;
    let jobs: Vec<(String, String, i64)> = j::table
        .group_by((j::kind, j::state))
        .select((j::kind, j::state, diesel::dsl::count_star()))
        .load(conn)
        .map_err(|e| e.to_string())?;
    let items: Vec<(String, String, i64)> = crate::db::schema::webhook_items::table
        .group_by((
            crate::db::schema::webhook_items::kind,
            crate::db::schema::webhook_items::state,
        ))
        .select((
            crate::db::schema::webhook_items::kind,
            crate::db::schema::webhook_items::state,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .map_err(|e| e.to_string())?;
    println!(
        "  not all hidden: actions {actions:?}; comments without a rule {unmatched}; jobs {jobs:?}; webhook items {items:?}"
    );
    Ok(())
}
