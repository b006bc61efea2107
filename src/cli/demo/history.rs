//! The demo's past: conversations with back-and-forth replies over the last days (delivered as
//! Meta would, through signed webhooks), teammates, assignments, labels, notes, resolved and
//! snoozed threads, saved replies, a moderation rule, and comments in every state, so every page
//! is alive the moment a newcomer signs in.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::auth::roles::Role;
use crate::comments::Actor;
use crate::db::ids::{ConversationId, TenantId, UserId};
use crate::db::statuses::{ConversationStatus, ModerationAction, RuleAction, RunState};
use crate::state::AppState;
use meta_sandbox::{Channel, Customer, Sandbox};

/// A thread's turns: who speaks (`true`: the customer) and what, an image when the text is
/// `None`.
type Script = &'static [(bool, Option<&'static str>)];

const SCRIPTS: &[Script] = &[
    &[
        (true, Some("Hi! Are you open on Sunday mornings?")),
        (false, Some("Hi! Yes, 8am to 1pm on Sundays.")),
        (true, Some("Perfect, see you then \u{1F44D}")),
    ],
    &[
        (
            true,
            Some("Can I order 2 kg of the house blend for pickup tomorrow?"),
        ),
        (false, Some("Of course! Under which name?")),
        (true, Some("Under my name, thanks")),
        (false, Some("Noted, it'll be ready after 10am.")),
        (true, None),
        (true, Some("Is this the right bag?")),
    ],
    &[
        (
            true,
            Some("My loyalty card stamps disappeared from the app \u{1F615}"),
        ),
        (
            false,
            Some("Sorry about that! Could you send a screenshot?"),
        ),
        (true, None),
        (false, Some("Thanks, we've restored your 6 stamps.")),
        (true, Some("Thank you so much!!")),
    ],
    &[
        (true, Some("Do you ship to Canada?")),
        (false, Some("Not yet, but we're working on it!")),
    ],
    &[
        (
            true,
            Some("Do you do catering for office meetings? About 20 people."),
        ),
        (
            false,
            Some("We do! Our events team will send you a quote today."),
        ),
        (true, Some("Great, the meeting is on the 14th.")),
    ],
    &[
        (true, Some("Where is my order? It's been a week.")),
        (
            false,
            Some("Let me check that for you. What's the order number?"),
        ),
        (true, Some("#4471")),
    ],
];

const LABELS: &[&str] = &["VIP", "Order issue", "Wholesale", "Feedback"];

const NOTES: &[&str] = &[
    "Regular customer, prefers pickup in the morning.",
    "Asked for a quote; follow up on Monday if no answer.",
    "Refund approved by Ana, waiting for the courier.",
];

/// Whether the tenant already has the demo's past (the demo restarted on the same database):
/// the saved replies and rule come first, before any channel is connected.
fn seeded(conn: &mut diesel::PgConnection, tenant: TenantId) -> diesel::QueryResult<bool> {
    Ok(!crate::models::saved_replies::all(conn, tenant)?.is_empty())
}

/// Before the channels are connected: saved replies and a moderation rule, so the backfill
/// that connecting starts already meets the rule. Returns whether the history is still to come.
pub async fn prepare(state: &AppState, tenant: TenantId, admin: UserId) -> Result<bool, String> {
    crate::db::run(&state.pool, move |conn| {
        if seeded(conn, tenant)? {
            return Ok(false);
        }
        for (shortcut, body) in [
            (
                "hours",
                "We're open 8am to 6pm on weekdays and 8am to 1pm on weekends.",
            ),
            (
                "thanks",
                "Thank you for your message! We'll get back to you shortly.",
            ),
            (
                "dm",
                "Thanks for asking! We've sent you a private message with the details.",
            ),
        ] {
            crate::models::saved_replies::insert(conn, tenant, admin, shortcut, body)?;
        }
        let rule = crate::models::moderation_rules::RuleInput {
            name: "Hide spam and links".into(),
            enabled: true,
            match_all: false,
            conditions: crate::comments::rules::Conditions {
                keywords: vec![
                    "followers".into(),
                    "earn".into(),
                    "crypto".into(),
                    "f4f".into(),
                ],
                has_link: true,
                ..Default::default()
            },
            action: RuleAction::Hide,
            saved_reply_id: None,
        };
        crate::models::moderation_rules::insert(conn, tenant, &rule, admin)?;
        Ok(true)
    })
    .await
    .map_err(|e| e.to_string())
}

/// Seeds the demo tenant's past; returns a one-line summary.
pub async fn seed(
    base: &str,
    state: &AppState,
    sandbox: &Sandbox,
    tenant: TenantId,
    admin: UserId,
) -> Result<String, String> {
    let db = |e: crate::db::DbError| e.to_string();
    let secret = sandbox.config().app_secret.clone();
    let seed = sandbox.world().seed().clone();
    let http = reqwest::Client::new();
    let media = sandbox.url();
    let now = Utc::now();
    let mut threads = 0;
    for (i, c) in seed.customers.iter().enumerate() {
        let script = SCRIPTS[i % SCRIPTS.len()];
        // The last customer message is when the sandbox says it was (its window rules agree);
        // customers who never wrote get a thread older than the 7-day window.
        let last_in = now - Duration::hours(c.last_inbound_hours_ago.unwrap_or(24 * 9 + i as i64));
        // Each thread has its own pace, so response times vary as a team's do.
        let step = 4 + (i as i64 * 17) % 55;
        let start = last_in - Duration::minutes(step * script.len() as i64);
        for (k, (from_customer, text)) in script.iter().enumerate() {
            let at = if k + 1 == script.len() && *from_customer {
                last_in
            } else {
                start + Duration::minutes(step * k as i64)
            };
            let mid = format!("demo.{}.{k}", c.id);
            let body = match (c.channel, *from_customer) {
                (Channel::WhatsApp, true) => whatsapp_inbound(&seed, c, &mid, *text, at),
                (Channel::WhatsApp, false) => continue, // recorded below, as sent by Parley
                (_, true) => messaging(c, &mid, *text, at, false, &seed.app_id, &media),
                (_, false) => messaging(c, &mid, *text, at, true, &seed.app_id, &media),
            };
            let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
            let signature = crate::webhooks::verify::sign(&secret, &bytes);
            http.post(format!("{base}/webhooks/meta"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(bytes)
                .send()
                .await
                .map_err(|e| format!("delivering the demo's history: {e}"))?;
        }
        threads += 1;
    }
    for _ in 0..1000 {
        if crate::webhooks::processor::round(state)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            break;
        }
    }
    let customers = seed.customers.clone();
    let summary = crate::db::run(&state.pool, move |conn| {
        Ok(arrange(conn, tenant, admin, &customers, now))
    })
    .await
    .map_err(db)??;
    let comments = comments(state, tenant, admin).await?;
    let templates = crate::db::run(&state.pool, move |conn| Ok(templates(conn, tenant, admin)))
        .await
        .map_err(db)??;
    Ok(format!(
        "{threads} conversations; {summary}; {comments}; {templates}"
    ))
}

/// Two templates written in Parley beside the account's own (synced from Meta once the number
/// is connected): one awaiting the admins' approval, one draft the lint warns about.
fn templates(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    admin: UserId,
) -> Result<String, String> {
    use crate::message_templates::content::{Example, TemplateContent};
    use crate::message_templates::form::TemplateFields;
    use crate::message_templates::workflow;
    let accounts = workflow::accounts(conn, tenant).map_err(|e| e.to_string())?;
    let Some(waba) = accounts.first().and_then(|c| c.waba_id.clone()) else {
        return Ok("no WhatsApp account for templates".into());
    };
    let example = |param: &str, value: &str| Example {
        param: param.into(),
        value: value.into(),
    };
    let drafts = [
        (
            "table_reminder",
            "Hi {{1}}, this is a reminder of your table for {{2}} tomorrow. Reply to change it.",
            vec![example("1", "Ana"), example("2", "four")],
            true,
        ),
        (
            "spring_menu",
            "Hi {{1}}, our spring menu is here: 20% off your first tasting this week at our cafe.",
            vec![example("1", "Ana")],
            false,
        ),
    ];
    for (name, body, examples, ask) in drafts {
        let fields = TemplateFields {
            waba_id: waba.clone(),
            name: name.into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            parameter_format: "positional".into(),
            content: TemplateContent {
                body: body.into(),
                body_examples: examples,
                footer: "Acme Coffee".into(),
                ..TemplateContent::default()
            },
            comment: String::new(),
            editing: None,
        };
        let id = workflow::save(conn, tenant, admin, None, &fields).map_err(|e| e.to_string())?;
        if ask {
            workflow::request_approval(conn, tenant, admin, id, "For the weekend bookings.")
                .map_err(|e| e.to_string())?;
        }
    }
    Ok("2 templates written in Parley".into())
}

/// A Messenger or Instagram message (or the business's echo) as Meta delivers it.
fn messaging(
    c: &Customer,
    mid: &str,
    text: Option<&str>,
    at: chrono::DateTime<Utc>,
    echo: bool,
    app_id: &str,
    media: &str,
) -> Value {
    let object = if c.channel == Channel::Instagram {
        "instagram"
    } else {
        "page"
    };
    let ms = at.timestamp_millis();
    let mut message = match text {
        Some(t) => json!({"mid": mid, "text": t}),
        None => {
            json!({"mid": mid, "attachments": [{"type": "image", "payload": {"url": format!("{media}/_media/static/photo.png")}}]})
        }
    };
    let (sender, recipient) = if echo {
        message["is_echo"] = json!(true);
        message["app_id"] = json!(app_id);
        (&c.account_id, &c.id)
    } else {
        (&c.id, &c.account_id)
    };
    json!({"object": object, "entry": [{"id": c.account_id, "time": ms, "messaging": [{
        "sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": ms, "message": message}]}]})
}

/// A WhatsApp customer message as Meta delivers it.
fn whatsapp_inbound(
    seed: &meta_sandbox::Seed,
    c: &Customer,
    mid: &str,
    text: Option<&str>,
    at: chrono::DateTime<Utc>,
) -> Value {
    let message = json!({"from": c.id, "id": format!("wamid.{mid}"), "timestamp": at.timestamp().to_string(),
        "type": "text", "text": {"body": text.unwrap_or("Here is the photo")}});
    json!({"object": "whatsapp_business_account", "entry": [{"id": seed.waba.id, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": seed.phone_number.digits, "phone_number_id": seed.phone_number.id},
        "contacts": [{"profile": {"name": c.name()}, "wa_id": c.id}],
        "messages": [message]}}]}]})
}

/// Teammates, assignments, labels, notes and statuses.
fn arrange(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    admin: UserId,
    customers: &[Customer],
    now: chrono::DateTime<Utc>,
) -> Result<String, String> {
    use crate::inbox::actions;
    let e = |e: crate::inbox::InboxError| e.to_string();
    let q = |e: diesel::result::Error| e.to_string();
    let mut team = vec![admin];
    for (name, email, role) in [
        ("Sam Rivera", "sam@demo.parley.test", Role::Agent),
        ("Kim Lee", "kim@demo.parley.test", Role::Moderator),
        ("Ana Costa", "ana@demo.parley.test", Role::Analyst),
    ] {
        let hash = crate::auth::password::hash(&crate::crypto::random_hex(12))
            .map_err(|e| e.to_string())?;
        let id = match crate::models::users::find_for_login(conn, email).map_err(q)? {
            Some(u) => u.id,
            None => {
                crate::models::users::create(
                    conn,
                    &crate::models::users::NewUser {
                        tenant_id: tenant,
                        email,
                        display_name: name,
                        password_hash: &hash,
                        role,
                    },
                )
                .map_err(q)?
                .id
            }
        };
        if role == Role::Agent {
            team.push(id);
        }
    }
    let channels: std::collections::HashMap<String, crate::db::ids::ChannelId> =
        crate::models::channels::list(conn, tenant)
            .map_err(q)?
            .into_iter()
            .map(|ch| (ch.platform_id, ch.id))
            .collect();
    let mut arranged = 0;
    for (i, c) in customers.iter().enumerate() {
        let Some(channel) = channels.get(&c.account_id) else {
            continue;
        };
        let Some(conversation) =
            crate::models::conversations::of_customer(conn, *channel, &c.id).map_err(q)?
        else {
            continue;
        };
        let conversation: ConversationId = conversation;
        arranged += 1;
        if i % 3 != 2 {
            let agent = team[i % team.len()];
            actions::assign(conn, tenant, conversation, Some(agent)).map_err(e)?;
            // The assignee wrote the business's replies.
            crate::models::messages::attribute_outbound(conn, tenant, conversation, agent)
                .map_err(q)?;
        }
        if i % 2 == 0 {
            actions::add_label(conn, tenant, conversation, LABELS[i % LABELS.len()]).map_err(e)?;
        }
        if i % 4 == 1 {
            actions::add_note(conn, tenant, conversation, admin, NOTES[i % NOTES.len()])
                .map_err(e)?;
        }
        let status = match i % 5 {
            3 => Some((ConversationStatus::Resolved, None)),
            4 => Some((ConversationStatus::Snoozed, Some(now + Duration::hours(20)))),
            _ => None,
        };
        if let Some((status, until)) = status {
            actions::set_status(conn, tenant, conversation, status, until, now).map_err(e)?;
        }
    }
    // The history was written before it was attributed and resolved: count it again.
    crate::models::analytics::rebuild(conn, tenant).map_err(q)?;
    Ok(format!("{arranged} arranged"))
}

/// After the backfill: one spam comment deleted, one question answered privately, two marked
/// reviewed (what a moderator's first morning leaves behind).
async fn comments(state: &AppState, tenant: TenantId, admin: UserId) -> Result<String, String> {
    // The connect wizard started a backfill of every Page and Instagram account.
    for _ in 0..60 {
        let running = crate::db::run(&state.pool, move |conn| {
            Ok(crate::models::comment_syncs::latest(conn, tenant)?
                .iter()
                .any(|s| s.state == RunState::Running))
        })
        .await
        .map_err(|e| e.to_string())?;
        if !running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    crate::db::run(&state.pool, move |conn| {
        use crate::models::comment_queue::{self, QueueFilter, QueueState};
        let all = QueueFilter {
            state: QueueState::NeedsReview,
            ..QueueFilter::default()
        };
        let (rows, _) = comment_queue::queue(conn, tenant, &all, None, 200)?;
        let spam = rows
            .iter()
            .find(|r| r.text.as_deref().is_some_and(|t| t.contains("earn $500")));
        if let Some(spam) = spam {
            let _ = crate::comments::request(
                conn,
                tenant,
                spam.id,
                ModerationAction::Delete,
                None,
                Actor::User(admin),
            );
        }
        let week_ago = Utc::now() - Duration::days(6);
        let question = rows.iter().find(|r| {
            r.commented_at > week_ago && r.text.as_deref().is_some_and(|t| t.ends_with('?'))
        });
        if let Some(q) = question {
            let _ = crate::comments::request(
                conn,
                tenant,
                q.id,
                ModerationAction::PrivateReply,
                Some("Thanks for asking! Here are the details you wanted."),
                Actor::User(admin),
            );
        }
        for r in rows.iter().skip(4).take(2) {
            crate::models::comments::mark_reviewed(conn, tenant, r.id, admin)?;
        }
        Ok(format!("{} comments waiting for review", rows.len()))
    })
    .await
    .map_err(|e| e.to_string())
}
