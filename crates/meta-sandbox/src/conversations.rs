//! The Conversations API: `/{page-id}/conversations?platform=messenger|instagram` with a Page
//! token, `/me/conversations` with an Instagram Login token, and `/{conversation-id}` with its
//! participants and only the 20 most recent messages, as Meta allows. The history behind them
//! is seeded (a few exchanges per customer who wrote; one long thread) and grows with every
//! message a customer or Parley sends.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::auth::MetaError;
use super::fields::paginate;
use super::graph::Ctx;
use super::seed::{Channel, Customer, STUDIO_IG_ID, Seed};
use super::util::graph_time;
use super::world::TokenKind;

/// Messages of a conversation Meta lets an app read in detail.
const DETAIL_LIMIT: usize = 20;
/// Messages in the seeded long thread (more than Meta shows).
const LONG_THREAD: usize = 26;

/// One Messenger or Instagram message, either way.
#[derive(Debug, Clone)]
pub(crate) struct HistoryMessage {
    pub id: String,
    pub customer_id: String,
    pub from_business: bool,
    pub text: Option<String>,
    pub at: DateTime<Utc>,
}

const CUSTOMER_LINES: &[&str] = &[
    "Hi! Are you open on Sunday?",
    "Do you ship abroad?",
    "Thanks, that helps a lot.",
    "Can I change my order?",
    "Is the blue one back in stock?",
];
const BUSINESS_LINES: &[&str] = &[
    "Hello! Yes, from 9 to 5.",
    "We do, to most of Europe.",
    "You're welcome!",
    "Of course, what would you like to change?",
    "It is, since this morning.",
];

/// The seeded history: customers who wrote get a short exchange ending with their last
/// message; the first customer of the Instagram account without a Page gets a long thread.
pub(crate) fn seeded(seed: &Seed, now: DateTime<Utc>) -> Vec<HistoryMessage> {
    let mut out = Vec::new();
    for (n, c) in seed
        .customers
        .iter()
        .filter(|c| c.channel != Channel::WhatsApp)
        .enumerate()
    {
        let Some(hours) = c.last_inbound_hours_ago else {
            continue;
        };
        let last = now - TimeDelta::hours(hours);
        let long = c.account_id == STUDIO_IG_ID
            && seed
                .customers
                .iter()
                .find(|x| x.account_id == STUDIO_IG_ID)
                .map(|x| &x.id)
                == Some(&c.id);
        let count = if long { LONG_THREAD } else { 3 };
        for k in 0..count {
            // Oldest first; the last one (k = count - 1) is the customer's, at `last`.
            let back = i64::try_from(count - 1 - k).unwrap_or(0);
            let from_business = back % 2 == 1;
            let lines = if from_business {
                BUSINESS_LINES
            } else {
                CUSTOMER_LINES
            };
            out.push(HistoryMessage {
                id: message_id(c, k),
                customer_id: c.id.clone(),
                from_business,
                text: Some(lines[(n + k) % lines.len()].to_string()),
                at: last - TimeDelta::minutes(25 * back),
            });
        }
    }
    out
}

fn message_id(c: &Customer, k: usize) -> String {
    match c.channel {
        Channel::Instagram => format!("aWdfZAG1faXRlbToxOkhpc3Rvcnk{}x{k:02}", c.id),
        _ => format!("m_history{}x{k:02}", c.id),
    }
}

fn conversation_id(customer: &str) -> String {
    format!("t_{customer}")
}

/// Who the business is in a conversation of this customer: (id, name or username).
fn business_of(seed: &Seed, c: &Customer) -> (String, String) {
    match c.channel {
        Channel::Instagram => seed
            .ig_account(&c.account_id)
            .map(|(_, ig)| (ig.id.clone(), ig.username.clone()))
            .unwrap_or_default(),
        _ => seed
            .page(&c.account_id)
            .map(|p| (p.id.clone(), p.name.clone()))
            .unwrap_or_default(),
    }
}

fn person(c: &Customer) -> Value {
    match c.channel {
        Channel::Instagram => json!({"id": c.id, "username": c.username}),
        _ => json!({"id": c.id, "name": c.name(), "email": format!("{}@facebook.com", c.id)}),
    }
}

fn business_json(c: &Customer, (id, name): &(String, String)) -> Value {
    match c.channel {
        Channel::Instagram => json!({"id": id, "username": name}),
        _ => json!({"id": id, "name": name}),
    }
}

/// `GET /{page-id}/conversations?platform=` or `GET /me/conversations` (Instagram Login).
pub(crate) fn list(ctx: &Ctx) -> Result<Value, MetaError> {
    if ctx.method() != "GET" {
        return Err(ctx.unsupported());
    }
    let seed = ctx.seed();
    let platform = ctx.req.param("platform");
    let accounts: Vec<(String, Channel)> = match (&ctx.caller.kind, ctx.req.segments.first()) {
        (Some(TokenKind::InstagramUser), _) => {
            if ctx.caller.subject != ctx.id {
                return Err(ctx.unsupported());
            }
            if platform.is_some_and(|p| p != "instagram") {
                return Err(MetaError::param(
                    "platform must be instagram for an Instagram account",
                ));
            }
            vec![(ctx.id.clone(), Channel::Instagram)]
        }
        _ => {
            ctx.require_page_token(&ctx.id)?;
            let page = seed.page(&ctx.id).ok_or_else(|| ctx.unsupported())?;
            match platform {
                Some("messenger") | None => vec![(page.id.clone(), Channel::Messenger)],
                Some("instagram") => match &page.instagram {
                    Some(ig) => vec![(ig.id.clone(), Channel::Instagram)],
                    None => Vec::new(),
                },
                Some(other) => {
                    return Err(MetaError::param(format!(
                        "Param platform must be one of {{messenger, instagram}} - got \"{other}\""
                    )));
                }
            }
        }
    };
    let state = ctx.inner.world.lock();
    let mut rows: Vec<(DateTime<Utc>, String)> = seed
        .customers
        .iter()
        .chain(state.extra_customers.iter())
        .filter(|c| {
            accounts
                .iter()
                .any(|(a, ch)| *a == c.account_id && *ch == c.channel)
        })
        .filter_map(|c| {
            let latest = state
                .history
                .iter()
                .filter(|m| m.customer_id == c.id)
                .map(|m| m.at)
                .max()?;
            Some((latest, c.id.clone()))
        })
        .collect();
    drop(state);
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let items = rows
        .into_iter()
        .map(|(at, customer)| {
            let id = conversation_id(&customer);
            (
                id.clone(),
                json!({"id": id, "updated_time": graph_time(at)}),
            )
        })
        .collect();
    paginate(ctx.req, &ctx.inner.base_url, items, 25)
}

/// `GET /{conversation-id}?fields=participants,messages{…}`: the 20 most recent messages.
pub(crate) fn detail(ctx: &Ctx) -> Result<Value, MetaError> {
    if ctx.method() != "GET" {
        return Err(ctx.unsupported());
    }
    if let Some(edge) = &ctx.edge {
        return Err(MetaError::nonexisting_field(edge, "Conversation"));
    }
    let seed = ctx.seed();
    let customer_id = ctx.id.strip_prefix("t_").unwrap_or_default();
    let extra = ctx.inner.world.lock().extra_customers.clone();
    let c = seed
        .customers
        .iter()
        .chain(extra.iter())
        .find(|c| c.id == customer_id)
        .ok_or_else(|| ctx.unsupported())?;
    match c.channel {
        Channel::Instagram => ctx.require_ig_access(&c.account_id)?,
        _ => ctx.require_page_token(&c.account_id)?,
    }
    let business = business_of(seed, c);
    let mut messages: Vec<HistoryMessage> = ctx
        .inner
        .world
        .lock()
        .history
        .iter()
        .filter(|m| m.customer_id == c.id)
        .cloned()
        .collect();
    messages.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    let total = messages.len();
    let shown: Vec<Value> = messages
        .iter()
        .take(DETAIL_LIMIT)
        .map(|m| {
            let (from, to) = if m.from_business {
                (business_json(c, &business), person(c))
            } else {
                (person(c), business_json(c, &business))
            };
            json!({
                "id": m.id,
                "created_time": graph_time(m.at),
                "from": from,
                "to": {"data": [to]},
                "message": m.text.clone().unwrap_or_default(),
            })
        })
        .collect();
    let mut page = json!({"data": shown});
    if total > DETAIL_LIMIT {
        // Meta lists the older ones, but reading them answers that they were deleted.
        page["paging"] = json!({"cursors": {"after": "older"}, "next": format!("{}/{}/messages?after=older", ctx.inner.base_url, ctx.id)});
    }
    let mut out = json!({
        "id": ctx.id,
        "participants": {"data": [business_json(c, &business), person(c)]},
        "messages": page,
    });
    if c.channel == Channel::Messenger {
        out["message_count"] = json!(total);
    }
    Ok(out)
}

/// Adds `count` customers to `account_id`, each with a two-message exchange, the most recent
/// `hours_ago` and each further one an hour older.
pub(crate) fn add(
    seed: &Seed,
    state: &mut super::world::State,
    account_id: &str,
    count: usize,
    hours_ago: i64,
) -> Vec<String> {
    let channel = if seed.page(account_id).is_some() {
        Channel::Messenger
    } else {
        Channel::Instagram
    };
    let now = Utc::now();
    let mut ids = Vec::with_capacity(count);
    for k in 0..count {
        let id = state.next_id("7", 15);
        let customer = Customer {
            profile_pic: String::new(),
            id: id.clone(),
            channel,
            account_id: account_id.to_string(),
            first_name: "Past".into(),
            last_name: format!("Customer {}", k + 1),
            username: (channel == Channel::Instagram).then(|| format!("past.customer.{}", k + 1)),
            withholds_profile: false,
            last_inbound_hours_ago: None,
        };
        let last = now - TimeDelta::hours(hours_ago + i64::try_from(k).unwrap_or(0));
        for (j, from_business) in [false, true].into_iter().enumerate() {
            state.history.push(HistoryMessage {
                id: format!("{}x{j:02}", message_id(&customer, 90)),
                customer_id: id.clone(),
                from_business,
                text: Some(
                    if from_business {
                        "Thanks for writing!"
                    } else {
                        "Hello there"
                    }
                    .into(),
                ),
                at: last - TimeDelta::minutes(10 * (1 - i64::try_from(j).unwrap_or(0))),
            });
        }
        state.extra_customers.push(customer);
        ids.push(id);
    }
    ids
}
