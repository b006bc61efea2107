//! Messaging analytics on a fixture tenant with known answers: volumes, replies by window, first
//! response median and p90, resolution, unanswered, per agent; the CSV carries the page's
//! numbers; days are cut in the tenant's time zone; roles and tenants are kept apart.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use parley::auth::Role;
use parley::db::ids::{ChannelId, ConversationId, TenantId, UserId};
use parley::db::statuses::ConversationStatus;
use parley::models::channels::Platform;
use parley::models::conversations;

use crate::support::{TestApp, csrf_from, messenger, text};

/// An outbound message sent by `agent` at `at` (as a send job records it).
async fn reply(
    app: &TestApp,
    conversation: i64,
    agent: UserId,
    at: DateTime<Utc>,
    mode: &'static str,
) {
    app.query(move |c| {
        diesel::sql_query(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, sent_at, kind,
                                   text, sender_user_id, status, extra)
             SELECT tenant_id, id, channel_id, 'outbound', $2, 'text', 'On it', $3, 'sent',
                    jsonb_build_object('send_mode', $4::text)
               FROM conversations WHERE id = $1",
        )
        .bind::<diesel::sql_types::BigInt, _>(conversation)
        .bind::<diesel::sql_types::Timestamptz, _>(at)
        .bind::<diesel::sql_types::BigInt, _>(agent.0)
        .bind::<diesel::sql_types::Text, _>(mode)
        .execute(c)
        .unwrap();
    })
    .await;
}

async fn conversation_of(app: &TestApp, psid: &'static str) -> i64 {
    app.query(move |c| {
        use parley::db::schema::{contacts, conversations as v};
        v::table
            .inner_join(contacts::table.on(contacts::id.eq(v::contact_id)))
            .filter(contacts::platform_user_id.eq(psid))
            .select(v::id)
            .first::<i64>(c)
            .unwrap()
    })
    .await
}

struct Fixture {
    app: TestApp,
    tenant: TenantId,
    alice: UserId,
    bob: UserId,
}

/// Three customers write at known times; Alice answers the first in 10 minutes and resolves it,
/// Bob answers the second in 30 minutes with the HUMAN_AGENT tag, the third is never answered.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let (tenant, alice) = app
        .create_user("Acme", "alice@acme.test", Role::Agent, "pw-alice-1234")
        .await;
    let (_, bob) = app
        .create_user("Acme", "bob@acme.test", Role::Agent, "pw-bob-123456")
        .await;
    app.connect_channel(tenant, Platform::Messenger, "PAGE1", None)
        .await;
    let now = Utc::now();
    let at = |h: i64| now - Duration::hours(h);
    let events = serde_json::json!([
        text(
            "PAGE1",
            "C1",
            "m1",
            at(10).timestamp_millis(),
            "Where is my order?"
        ),
        text(
            "PAGE1",
            "C2",
            "m2",
            at(6).timestamp_millis(),
            "Do you ship to Porto?"
        ),
        text("PAGE1", "C3", "m3", at(2).timestamp_millis(), "Hello?"),
    ]);
    assert_eq!(
        app.post_webhook(&messenger("PAGE1", events)).await.status(),
        200
    );
    app.process_webhooks().await;
    let (c1, c2) = (
        conversation_of(&app, "C1").await,
        conversation_of(&app, "C2").await,
    );
    reply(&app, c1, alice, at(10) + Duration::minutes(10), "response").await;
    reply(&app, c2, bob, at(6) + Duration::minutes(30), "human_agent").await;
    app.query(move |c| {
        let id = ConversationId(c1);
        conversations::set_assignee(c, tenant, id, Some(alice)).unwrap();
        conversations::set_status(c, tenant, id, ConversationStatus::Resolved, None).unwrap();
    })
    .await;
    Fixture {
        app,
        tenant,
        alice,
        bob,
    }
}

fn kpi(html: &str, key: &str) -> String {
    let start = html
        .find(&format!("id=\"kpi-{key}\""))
        .unwrap_or_else(|| panic!("no {key} card"));
    let rest = &html[start..];
    let v = rest.find("insight-value\">").unwrap() + "insight-value\">".len();
    rest[v..rest[v..].find("</p>").unwrap() + v].to_string()
}

fn csv_value(csv: &str, table: &str, name: &str, metric: &str) -> String {
    csv.lines()
        .map(|l| {
            l.split(',')
                .map(|f| f.trim_matches('"'))
                .collect::<Vec<_>>()
        })
        .find(|f| f.len() == 4 && f[0] == table && f[1] == name && f[2] == metric)
        .map(|f| f[3].to_string())
        .unwrap_or_else(|| panic!("no {table}/{name}/{metric} in\n{csv}"))
}

#[tokio::test]
async fn known_conversations_give_known_figures_on_the_page_and_in_the_csv() {
    let fx = fixture().await;
    let (mut analyst, _, _) = fx
        .app
        .signed_in("Acme", "an@acme.test", Role::Analyst)
        .await;
    let (status, html) = analyst.page("/insights/messaging?range=7").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(kpi(&html, "opened"), "3");
    assert_eq!(kpi(&html, "inbound"), "3");
    assert_eq!(kpi(&html, "outbound"), "2");
    assert_eq!(kpi(&html, "unanswered"), "1");
    // 10 and 30 minutes: the median is 20, the p90 28 (interpolated).
    assert_eq!(kpi(&html, "response_median"), "20m 00s");
    assert_eq!(kpi(&html, "response_p90"), "28m 00s");
    assert!(kpi(&html, "resolution_median").starts_with("10h"), "{html}");
    assert!(html.contains("<svg class=\"chart heatmap\""));
    assert!(html.contains("id=\"table-agents\""));

    let csv = analyst
        .get("/insights/messaging.csv?range=7")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv_value(&csv, "summary", "", "opened"), "3");
    assert_eq!(csv_value(&csv, "summary", "", "response_median"), "1200");
    assert_eq!(csv_value(&csv, "summary", "", "response_p90"), "1680");
    let inbound: i64 = csv
        .lines()
        .filter(|l| l.starts_with("\"daily\",") && l.contains(",\"inbound\","))
        .map(|l| {
            l.rsplit(',')
                .next()
                .unwrap()
                .trim_matches('"')
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(inbound, 3, "the daily rows add up to the card");
    let heat: i64 = csv
        .lines()
        .filter(|l| l.starts_with("\"heatmap\","))
        .map(|l| {
            l.rsplit(',')
                .next()
                .unwrap()
                .trim_matches('"')
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(heat, 3, "every incoming message is in the heatmap once");
    // Replies by window: one inside 24 h, one with HUMAN_AGENT.
    assert_eq!(csv_value(&csv, "platform", "Messenger", "within_24h"), "1");
    assert_eq!(csv_value(&csv, "platform", "Messenger", "human_agent"), "1");
    // Per agent.
    assert_eq!(csv_value(&csv, "agent", "alice", "replies"), "1");
    assert_eq!(
        csv_value(&csv, "agent", "alice", "first_response_median_s"),
        "600"
    );
    assert_eq!(csv_value(&csv, "agent", "alice", "resolved"), "1");
    assert_eq!(csv_value(&csv, "agent", "bob", "human_agent"), "1");
    assert_eq!(
        csv_value(&csv, "agent", "bob", "first_response_median_s"),
        "1800"
    );
    assert_eq!(csv_value(&csv, "agent", "bob", "resolved"), "0");
    let _ = (fx.alice, fx.bob);
}

#[tokio::test]
async fn a_new_message_after_resolution_opens_the_next_episode() {
    let fx = fixture().await;
    let at = Utc::now() - Duration::hours(1);
    let events = serde_json::json!([text(
        "PAGE1",
        "C1",
        "m4",
        at.timestamp_millis(),
        "One more thing"
    )]);
    fx.app.post_webhook(&messenger("PAGE1", events)).await;
    fx.app.process_webhooks().await;
    let (episodes, open) = fx
        .app
        .query(|c| {
            use parley::db::schema::conversation_episodes as e;
            let all: i64 = e::table.count().get_result(c).unwrap();
            let open: i64 = e::table
                .filter(e::resolved_at.is_null())
                .count()
                .get_result(c)
                .unwrap();
            (all, open)
        })
        .await;
    assert_eq!((episodes, open), (4, 3));
    // A copy of a message removed (an echo's duplicate) leaves the counts.
    let inbound: i64 = fx
        .app
        .query(|c| {
            diesel::sql_query("DELETE FROM messages WHERE platform_message_id = 'm4'")
                .execute(c)
                .unwrap();
            // The counts messages appended are folded into the hourly counts, once.
            assert!(parley::models::messaging_counts::fold_deltas(c).unwrap() > 0);
            assert_eq!(parley::models::messaging_counts::fold_deltas(c).unwrap(), 0);
            use parley::db::schema::messaging_hours as h;
            h::table
                .select(diesel::dsl::sum(h::inbound))
                .first::<Option<i64>>(c)
                .unwrap()
                .unwrap_or(0)
        })
        .await;
    assert_eq!(inbound, 3);
}

#[tokio::test]
async fn days_are_cut_in_the_tenants_time_zone() {
    let fx = fixture().await;
    let tenant = fx.tenant;
    // A message at 20:00 UTC on Nov 10 is Nov 11 in Tokyo (UTC+9).
    let at = Utc.with_ymd_and_hms(2026, 11, 10, 20, 0, 0).unwrap();
    let events = serde_json::json!([text(
        "PAGE1",
        "C9",
        "m9",
        at.timestamp_millis(),
        "Late night"
    )]);
    fx.app.post_webhook(&messenger("PAGE1", events)).await;
    fx.app.process_webhooks().await;
    let day = |zone: &'static str| {
        fx.app.query(move |c| {
            let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            let (start, end) =
                parley::models::analytics::bounds(c, zone, d("2026-11-09"), d("2026-11-12"))
                    .unwrap();
            parley::models::messaging_counts::figures(c, tenant, None, zone, start, end)
                .unwrap()
                .days
                .into_iter()
                .map(|(day, inbound, _)| (day, inbound))
                .collect::<Vec<_>>()
        })
    };
    let nov = |n| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
    assert_eq!(day("UTC").await, [(nov(10), 1)]);
    assert_eq!(day("Asia/Tokyo").await, [(nov(11), 1)]);

    // An admin sets the zone; an unknown one is refused and changes nothing.
    let (mut admin, _, _) = fx
        .app
        .signed_in("Acme", "boss@acme.test", Role::Admin)
        .await;
    let (_, html) = admin.page("/insights/messaging").await;
    assert!(
        html.contains("name=\"time_zone\""),
        "admins see the setting"
    );
    let csrf = csrf_from(&html).unwrap();
    let res = admin
        .post_form(
            "/insights/time-zone",
            &[("csrf_token", &csrf), ("time_zone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = admin.page("/insights/messaging").await;
    assert!(html.contains("not a time zone Parley knows"), "{html}");
    assert!(html.contains("cut in UTC"));
    admin
        .post_form(
            "/insights/time-zone",
            &[("csrf_token", &csrf), ("time_zone", "Asia/Tokyo")],
        )
        .await;
    let (_, html) = admin.page("/insights/messaging").await;
    assert!(html.contains("cut in Asia/Tokyo"), "{html}");
}

#[tokio::test]
async fn agents_cannot_see_it_analysts_cannot_set_the_zone_and_tenants_stay_apart() {
    let fx = fixture().await;
    let (mut agent, _, _) = fx.app.signed_in("Acme", "ag@acme.test", Role::Agent).await;
    assert_eq!(agent.get("/insights/messaging").await.status(), 403);
    assert_eq!(agent.get("/insights/messaging.csv").await.status(), 403);
    let (mut analyst, _, _) = fx
        .app
        .signed_in("Acme", "an@acme.test", Role::Analyst)
        .await;
    let (_, html) = analyst.page("/insights/messaging").await;
    assert!(!html.contains("name=\"time_zone\""));
    let csrf = csrf_from(&html).unwrap();
    let res = analyst
        .post_form(
            "/insights/time-zone",
            &[("csrf_token", &csrf), ("time_zone", "Asia/Tokyo")],
        )
        .await;
    assert_eq!(res.status(), 403);

    let (mut other, _, _) = fx
        .app
        .signed_in("Globex", "an@globex.test", Role::Analyst)
        .await;
    let (_, html) = other.page("/insights/messaging").await;
    assert_eq!(kpi(&html, "opened"), "0");
    assert_eq!(kpi(&html, "inbound"), "0");
    assert!(!html.contains("alice"));
}

#[tokio::test]
async fn a_rebuild_from_the_messages_gives_the_counts_the_triggers_kept() {
    let fx = fixture().await;
    let tenant = fx.tenant;
    type Snapshot = (
        Vec<(i64, i64, i32, i32, i32)>,
        Vec<(i64, Option<DateTime<Utc>>, Option<i64>)>,
        Vec<(DateTime<Utc>, i32, i32)>,
        Vec<(i64, NaiveDate, i32, i32, i32, i32)>,
        Vec<(i64, NaiveDate, i32, i32)>,
    );
    async fn snapshot(app: &TestApp) -> Snapshot {
        app.query(move |c| {
            use parley::db::schema::{conversation_episodes as e, messaging_hours as h};
            let hours: Vec<(i64, i64, i32, i32, i32)> = h::table
                .order((h::channel_id, h::hour, h::agent_id))
                .select((
                    h::channel_id,
                    h::agent_id,
                    h::inbound,
                    h::outbound,
                    h::human_agent,
                ))
                .load(c)
                .unwrap();
            let episodes: Vec<(i64, Option<DateTime<Utc>>, Option<i64>)> = e::table
                .order(e::conversation_id)
                .select((
                    e::conversation_id,
                    e::first_response_at,
                    e::first_responder_id,
                ))
                .load(c)
                .unwrap();
            use parley::db::schema::{
                messaging_agent_days as a, messaging_channel_days as d, messaging_tenant_hours as t,
            };
            let tenant_hours = t::table
                .order(t::hour)
                .select((t::hour, t::inbound, t::outbound))
                .load(c)
                .unwrap();
            let channel_days = d::table
                .order((d::channel_id, d::day))
                .select((
                    d::channel_id,
                    d::day,
                    d::inbound,
                    d::outbound,
                    d::human_agent,
                    d::template,
                ))
                .load(c)
                .unwrap();
            let agent_days = a::table
                .order((a::agent_id, a::day))
                .select((a::agent_id, a::day, a::outbound, a::human_agent))
                .load(c)
                .unwrap();
            (hours, episodes, tenant_hours, channel_days, agent_days)
        })
        .await
    }
    fx.app
        .query(|c| parley::models::messaging_counts::fold_deltas(c).unwrap())
        .await;
    let before = snapshot(&fx.app).await;
    assert!(!before.2.is_empty() && !before.3.is_empty() && !before.4.is_empty());
    fx.app
        .query(move |c| parley::models::analytics::rebuild(c, tenant).unwrap())
        .await;
    assert_eq!(snapshot(&fx.app).await, before);
}

#[tokio::test]
async fn the_rollups_over_all_channels_equal_the_sum_of_each_channels_hours_in_any_zone() {
    let fx = fixture().await;
    let tenant = fx.tenant;
    // Some counts folded into the rollups, some still waiting as deltas.
    fx.app
        .query(|c| parley::models::messaging_counts::fold_deltas(c).unwrap())
        .await;
    let late = Utc.with_ymd_and_hms(2026, 11, 10, 20, 0, 0).unwrap();
    let events = serde_json::json!([text("PAGE1", "C9", "m9", late.timestamp_millis(), "Late")]);
    fx.app.post_webhook(&messenger("PAGE1", events)).await;
    fx.app.process_webhooks().await;
    // The fixture's messages are in the last hours, so short ranges cut days through them.
    let today = Utc::now().date_naive();
    let ranges = [
        (
            late.date_naive() - Duration::days(40),
            today + Duration::days(2),
        ),
        (today - Duration::days(1), today - Duration::days(1)),
        (today - Duration::days(1), today),
        (today, today),
    ];
    let zones = ["UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata"];
    for (zone, (from, to)) in zones
        .into_iter()
        .flat_map(|z| ranges.into_iter().map(move |r| (z, r)))
    {
        let (all, merged) = fx
            .app
            .query(move |c| {
                use parley::models::messaging_counts::{VolumeFigures, figures};
                let (start, end) = parley::models::analytics::bounds(c, zone, from, to).unwrap();
                let all = figures(c, tenant, None, zone, start, end).unwrap();
                let channels: Vec<i64> = parley::db::schema::channels::table
                    .filter(parley::db::schema::channels::tenant_id.eq(tenant))
                    .select(parley::db::schema::channels::id)
                    .load(c)
                    .unwrap();
                let mut merged = VolumeFigures::default();
                let mut agents = std::collections::BTreeMap::<i64, (i64, i64)>::new();
                let mut days = std::collections::BTreeMap::<NaiveDate, (i64, i64)>::new();
                let mut heat = std::collections::BTreeMap::<(i32, i32), i64>::new();
                for ch in channels {
                    let one = figures(c, tenant, Some(ChannelId(ch)), zone, start, end).unwrap();
                    merged.channels.extend(one.channels);
                    for a in one.agents {
                        let e = agents.entry(a.agent_id).or_default();
                        e.0 += a.outbound;
                        e.1 += a.human_agent;
                    }
                    for (day, i, o) in one.days {
                        let e = days.entry(day).or_default();
                        e.0 += i;
                        e.1 += o;
                    }
                    for (w, h, n) in one.heat {
                        *heat.entry((w, h)).or_default() += n;
                    }
                }
                merged.channels.sort_by_key(|v| v.channel_id);
                merged.agents = agents
                    .into_iter()
                    .map(|(agent_id, (outbound, human_agent))| {
                        parley::models::messaging_counts::AgentVolume {
                            agent_id,
                            outbound,
                            human_agent,
                        }
                    })
                    .collect();
                merged.days = days.into_iter().map(|(d, (i, o))| (d, i, o)).collect();
                merged.heat = heat.into_iter().map(|((w, h), n)| (w, h, n)).collect();
                (all, merged)
            })
            .await;
        if from < today - Duration::days(1) {
            assert!(!all.channels.is_empty() && !all.agents.is_empty(), "{zone}");
        }
        assert_eq!(all, merged, "{zone} {from}..{to}");
    }
}

#[tokio::test]
async fn the_previous_periods_timings_are_computed_as_the_periods_are() {
    let fx = fixture().await;
    let tenant = fx.tenant;
    let (all, overall) = fx
        .app
        .query(move |c| {
            let today = Utc::now().date_naive();
            let (start, end) = parley::models::analytics::bounds(
                c,
                "UTC",
                today - Duration::days(30),
                today + Duration::days(1),
            )
            .unwrap();
            let timings = parley::models::analytics::timings(c, tenant, None, start, end).unwrap();
            let all = timings
                .into_iter()
                .find(|t| t.group() == parley::models::analytics::TimingGroup::All)
                .unwrap();
            let overall =
                parley::models::analytics::overall_timing(c, tenant, None, start, end).unwrap();
            (all, overall)
        })
        .await;
    assert!(all.answered > 1 && all.resolved > 0, "{all:?}");
    assert_eq!(all, overall);
}
