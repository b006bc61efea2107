//! The user, `me/accounts` (with derived Page tokens), Page and IG account nodes, Page
//! `subscribed_apps`, and Messenger/Instagram user profiles.

use chrono::{Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::auth::MetaError;
use super::fields::{paginate, select, select_all};
use super::graph::{Ctx, Node};
use super::seed::{APP_NAME, Channel, SeedPage};
use super::world::{Token, TokenKind};

/// Page webhook fields `subscribed_apps` accepts (a realistic subset of Meta's list).
pub(crate) const PAGE_FIELDS: &[&str] = &[
    "feed",
    "mention",
    "name",
    "picture",
    "category",
    "description",
    "conversations",
    "messages",
    "message_echoes",
    "message_deliveries",
    "message_reads",
    "message_reactions",
    "message_edits",
    "messaging_postbacks",
    "messaging_optins",
    "messaging_referrals",
    "messaging_handovers",
    "messaging_policy_enforcement",
    "messaging_account_linking",
    "messaging_feedback",
    "messaging_game_plays",
    "messaging_customer_information",
    "standby",
    "message_template_status_update",
    "inbox_labels",
    "response_feedback",
    "ratings",
    "live_videos",
    "leadgen",
    "email",
    "website",
    "phone",
    "location",
    "members",
];

const PAGE_TASKS: [&str; 6] = [
    "MANAGE",
    "CREATE_CONTENT",
    "MODERATE",
    "MESSAGING",
    "ADVERTISE",
    "ANALYZE",
];
const PAGE_KNOWN: &[&str] = &[
    "access_token",
    "instagram_business_account",
    "username",
    "about",
];

/// The Page object with every field the sandbox knows (`access_token` added by callers).
fn page_json(page: &SeedPage) -> Value {
    let mut v = json!({
        "id": page.id,
        "name": page.name,
        "category": page.category,
        "category_list": [{"id": "2200", "name": page.category}],
        "tasks": PAGE_TASKS,
        "link": format!("https://www.facebook.com/{}", page.id),
        "fan_count": 1000 + page.id.len() * 10,
        "followers_count": 1200,
        "picture": {"data": {"height": 50, "width": 50, "is_silhouette": false, "url": page.picture_url}},
    });
    if let Some(ig) = &page.instagram {
        v["instagram_business_account"] = json!({
            "id": ig.id,
            "username": ig.username,
            "name": ig.name,
            "profile_picture_url": ig.profile_picture_url,
            "followers_count": ig.followers_count,
        });
    }
    v
}

/// The Page token for `page_id` derived from a user token (stable per user token and Page).
/// From a long-lived user token it never expires; otherwise it expires with the user token.
fn derive_page_token(ctx: &Ctx, page_id: &str) -> String {
    let mut state = ctx.inner.world.lock();
    let key = (ctx.caller.token.clone(), page_id.to_string());
    if let Some(t) = state.derived_page_tokens.get(&key) {
        return t.clone();
    }
    let parent = state.tokens.get(&ctx.caller.token).cloned();
    let now = Utc::now();
    let expires_at = parent.as_ref().and_then(|p| {
        let long_lived = p
            .expires_at
            .is_none_or(|e| e - p.issued_at > TimeDelta::days(1));
        if long_lived { None } else { p.expires_at }
    });
    let token = state.mint(Token {
        kind: TokenKind::Page,
        subject: page_id.to_string(),
        parent: Some(ctx.caller.token.clone()),
        issued_at: now,
        expires_at,
        scopes: ctx.caller.scopes.clone(),
        revoked: None,
    });
    state.derived_page_tokens.insert(key, token.clone());
    token
}

/// The user, system user and app nodes, and `me/accounts`.
pub(crate) fn person(ctx: &Ctx, node: &Node) -> Result<Value, MetaError> {
    let seed = ctx.seed();
    let (full, node_type) = match node {
        Node::User => (json!({"id": seed.user.id, "name": seed.user.name}), "User"),
        Node::SystemUser => (
            json!({"id": seed.system_user.id, "name": seed.system_user.name}),
            "User",
        ),
        _ => (
            json!({"id": seed.app_id, "name": APP_NAME, "link": format!("https://www.facebook.com/games/?app_id={}", seed.app_id), "category": "Business"}),
            "Application",
        ),
    };
    match (ctx.edge.as_deref(), ctx.method()) {
        (None, "GET") => select(
            &full,
            &ctx.req.fields("name,id")?,
            node_type,
            &["email", "picture"],
        ),
        (Some("accounts"), "GET")
            if *node == Node::User && ctx.caller.kind == Some(TokenKind::User) =>
        {
            accounts(ctx)
        }
        _ => Err(ctx.no_such_edge(node_type)),
    }
}

fn accounts(ctx: &Ctx) -> Result<Value, MetaError> {
    // Without pages_show_list Meta lists nothing.
    if !ctx.caller.scopes.iter().any(|s| s == "pages_show_list") {
        return Ok(json!({"data": []}));
    }
    let fields = ctx
        .req
        .fields("access_token,category,category_list,name,id,tasks")?;
    let wants_token = fields.iter().any(|f| f.name == "access_token");
    let mut items = Vec::new();
    for page in &ctx.seed().pages {
        let mut full = page_json(page);
        if wants_token {
            full["access_token"] = json!(derive_page_token(ctx, &page.id));
        }
        items.push((page.id.clone(), full));
    }
    let mut page = paginate(ctx.req, &ctx.inner.base_url, items, 25)?;
    if let Some(data) = page.get("data").and_then(Value::as_array) {
        page["data"] = Value::Array(select_all(data, &fields, "Page", PAGE_KNOWN)?);
    }
    Ok(page)
}

/// `GET /{page-id}` and `/{page-id}/subscribed_apps`.
pub(crate) fn page(ctx: &Ctx) -> Result<Value, MetaError> {
    let page = ctx.seed().page(&ctx.id).ok_or_else(|| ctx.unsupported())?;
    if ctx.edge.as_deref() == Some("subscribed_apps") {
        return subscribed_apps(ctx, &page.id);
    }
    if ctx.method() != "GET" {
        return Err(ctx.unsupported());
    }
    ctx.require_page_access(&page.id)?;
    let fields = ctx.req.fields("name,id")?;
    let mut full = page_json(page);
    if fields.iter().any(|f| f.name == "access_token") {
        full["access_token"] = match ctx.caller.kind {
            Some(TokenKind::User) => json!(derive_page_token(ctx, &page.id)),
            _ => json!(ctx.caller.token),
        };
    }
    select(&full, &fields, "Page", PAGE_KNOWN)
}

fn subscribed_apps(ctx: &Ctx, page_id: &str) -> Result<Value, MetaError> {
    ctx.require_page_token(page_id)?;
    let seed = ctx.seed();
    match ctx.method() {
        "POST" => {
            let wanted: Vec<String> = match ctx.req.obj("subscribed_fields") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => ctx
                    .req
                    .text("subscribed_fields")
                    .unwrap_or_default()
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            };
            if wanted.is_empty() {
                return Err(MetaError::required("subscribed_fields"));
            }
            for (i, f) in wanted.iter().enumerate() {
                if !PAGE_FIELDS.contains(&f.as_str()) {
                    return Err(MetaError::param(format!(
                        "Param subscribed_fields[{i}] must be one of {{{}}} - got \"{f}\"",
                        PAGE_FIELDS.join(", ")
                    )));
                }
            }
            let mut state = ctx.inner.world.lock();
            let subs = state
                .page_subscriptions
                .entry(page_id.to_string())
                .or_default();
            for f in wanted {
                if !subs.contains(&f) {
                    subs.push(f);
                }
            }
            Ok(json!({"success": true}))
        }
        "DELETE" => {
            ctx.inner.world.lock().page_subscriptions.remove(page_id);
            Ok(json!({"success": true}))
        }
        _ => {
            let subs = ctx.inner.world.page_subscriptions(page_id);
            if subs.is_empty() {
                return Ok(json!({"data": []}));
            }
            Ok(json!({"data": [{
                "link": format!("https://www.facebook.com/games/?app_id={}", seed.app_id),
                "name": APP_NAME,
                "id": seed.app_id,
                "subscribed_fields": subs,
            }]}))
        }
    }
}

/// `GET /{ig-user-id}`.
pub(crate) fn ig_user(ctx: &Ctx) -> Result<Value, MetaError> {
    let (_, ig) = ctx
        .seed()
        .ig_account(&ctx.id)
        .ok_or_else(|| ctx.unsupported())?;
    if ctx.method() != "GET" {
        return Err(ctx.unsupported());
    }
    ctx.require_ig_access(&ig.id)?;
    if ctx
        .req
        .param("fields")
        .is_some_and(|f| f.contains("mentioned_comment"))
    {
        return super::instagram::mentioned_comment(ctx, &ig.id);
    }
    let media_count = ctx
        .inner
        .world
        .lock()
        .ig_media
        .iter()
        .filter(|m| m.ig_id == ig.id)
        .count();
    let mut full = json!({
        "id": ig.id,
        "ig_id": ig.id.trim_start_matches("178414"),
        "username": ig.username,
        "name": ig.name,
        "profile_picture_url": ig.profile_picture_url,
        "followers_count": ig.followers_count,
        "follows_count": 180,
        "media_count": media_count,
        "biography": format!("{} · sandbox account", ig.name),
        "website": "https://example.com",
    });
    if ctx.caller.kind == Some(TokenKind::InstagramUser) {
        // On graph.instagram.com `id` is app-scoped; `user_id` is the professional account's
        // id, the one webhooks carry.
        full["id"] = json!(format!("2{}", ig.id.trim_start_matches("178414")));
        full["user_id"] = json!(ig.id);
        full["account_type"] = json!("BUSINESS");
    }
    select(&full, &ctx.req.fields("id")?, "IGUser", &[])
}

/// Messenger (`/{psid}`) and Instagram (`/{igsid}`) user profiles, with a Page token.
pub(crate) fn profile(ctx: &Ctx) -> Result<Value, MetaError> {
    let seed = ctx.seed();
    let customer = seed
        .customers
        .iter()
        .find(|c| c.id == ctx.id)
        .ok_or_else(|| ctx.unsupported())?;
    if ctx.method() != "GET" || ctx.edge.is_some() {
        return Err(ctx.unsupported());
    }
    // The Page's token, or the Instagram Login token of the account the customer writes to.
    let page = seed.page_of_account(&customer.account_id);
    match ctx.caller.kind {
        Some(TokenKind::Page) if page.is_some_and(|p| ctx.caller.subject == p.id) => {}
        Some(TokenKind::InstagramUser) if ctx.caller.subject == customer.account_id => {}
        _ => return Err(ctx.unsupported()),
    }
    if customer.channel == Channel::Messenger {
        // Some people's profiles are not available to the Page at all.
        if customer.withholds_profile {
            return Err(ctx.unsupported());
        }
        let full = json!({
            "id": customer.id,
            "name": customer.name(),
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "profile_pic": customer.profile_pic,
        });
        let known = ["locale", "timezone", "gender"];
        return select(
            &full,
            &ctx.req.fields("first_name,last_name,profile_pic,id")?,
            "User",
            &known,
        );
    }
    let mut full = json!({
        "id": customer.id,
        "username": customer.username,
        "follower_count": 40 + customer.first_name.len() * 13,
        "is_user_follow_business": !customer.withholds_profile,
        "is_business_follow_user": false,
        "is_verified_user": false,
    });
    // Instagram users who withhold their profile come back without name and picture.
    if !customer.withholds_profile {
        full["name"] = json!(customer.name());
        full["profile_pic"] = json!(customer.profile_pic);
    }
    select(
        &full,
        &ctx.req.fields("name,username,profile_pic,id")?,
        "User",
        &["name", "profile_pic"],
    )
}
