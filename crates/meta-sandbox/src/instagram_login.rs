//! Instagram API with Instagram Login: the authorization window (`www.instagram.com`), the
//! code exchange (`api.instagram.com`), 60-day tokens and their refresh, and an account's
//! `me/subscribed_apps` (`graph.instagram.com`). Instagram tokens work on the Instagram host
//! only, with the Instagram app's secret.

use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;
use chrono::{Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::auth::{self, MetaError};
use super::fields::GraphRequest;
use super::graph::Ctx;
use super::oauth::append_query;
use super::seed::APP_NAME;
use super::util::random_alnum;
use super::world::{Token, TokenKind};

/// Short-lived tokens live an hour.
const SHORT_LIVED_SECS: i64 = 3600;
/// Long-lived tokens: 60 days.
const LONG_LIVED_SECS: i64 = 5_184_000;

/// Scopes of Instagram Login (the renamed `instagram_business_*` values).
const KNOWN_SCOPES: &[&str] = &[
    "instagram_business_basic",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
    "instagram_business_content_publish",
    "instagram_business_manage_insights",
];

/// An open authorization window.
#[derive(Debug, Clone)]
pub(crate) struct IgDialog {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct IgCode {
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub account: String,
    pub created: chrono::DateTime<Utc>,
    pub used: bool,
}

#[derive(Template)]
#[template(path = "ig_dialog.html")]
struct DialogPage {
    app_name: &'static str,
    action: String,
    dialog_id: String,
    /// (id, username, note)
    accounts: Vec<(String, String, &'static str)>,
    scopes: Vec<String>,
}

fn oauth_error(message: &str, code: u32) -> MetaError {
    MetaError::new(code, message.to_string()).kind("OAuthException")
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Requests on Instagram Login's unversioned endpoints.
pub(crate) fn front(inner: &Inner, host: &str, req: &GraphRequest) -> HttpResponse {
    let path: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let result = match (host, path.as_slice(), req.method.as_str()) {
        ("ig-www" | "ig-api", ["oauth", "authorize"], "GET") => return dialog(inner, host, req),
        ("ig-www" | "ig-api", ["oauth", "authorize", "confirm"], "POST") => {
            return confirm(inner, req);
        }
        ("ig-api", ["oauth", "access_token"], "POST") => {
            // api.instagram.com answers errors in its own shape, not Graph's.
            return match exchange_code(inner, req) {
                Ok(v) => HttpResponse::Ok().json(v),
                Err(e) => HttpResponse::BadRequest().json(json!({
                    "error_type": e.kind,
                    "code": 400,
                    "error_message": e.message,
                })),
            };
        }
        ("ig-graph", ["access_token"], "GET") => long_lived(inner, req),
        ("ig-graph", ["refresh_access_token"], "GET") => refresh(inner, req),
        _ => Err(MetaError::new(
            2500,
            format!("Unknown path components: /{}", path.join("/")),
        )),
    };
    match result {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => e.response(),
    }
}

fn dialog(inner: &Inner, host: &str, req: &GraphRequest) -> HttpResponse {
    let bad = |msg: &str| {
        html(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("<!doctype html><title>Error</title><p>{msg}</p>"),
        )
    };
    if req.param("client_id") != Some(inner.config.instagram_app_id.as_str()) {
        return bad("Invalid app ID");
    }
    let redirect_uri = match req.param("redirect_uri") {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => u.to_string(),
        _ => return bad("Invalid redirect_uri"),
    };
    if req.param("response_type") != Some("code") {
        return bad("Invalid response_type: only code is supported");
    }
    let scopes: Vec<String> = req
        .param("scope")
        .unwrap_or("")
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(s) = scopes.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return bad(&format!("Invalid scope: {s}"));
    }
    if !scopes.iter().any(|s| s == "instagram_business_basic") {
        return bad("instagram_business_basic is required");
    }
    let dialog_id = random_alnum(24);
    inner.world.lock().ig_dialogs.insert(
        dialog_id.clone(),
        IgDialog {
            redirect_uri,
            state: req.param("state").map(str::to_string),
            scopes: scopes.clone(),
        },
    );
    let seed = inner.world.seed();
    // The account without a Page first; the Page-linked ones can log in this way too.
    let mut accounts: Vec<(String, String, &'static str)> = seed
        .instagram_login
        .iter()
        .map(|ig| (ig.id.clone(), ig.username.clone(), "no Facebook Page"))
        .collect();
    accounts.extend(seed.pages.iter().filter_map(|p| {
        p.instagram.as_ref().map(|ig| {
            (
                ig.id.clone(),
                ig.username.clone(),
                "linked to a Facebook Page",
            )
        })
    }));
    let page = DialogPage {
        app_name: APP_NAME,
        action: format!("/{host}/oauth/authorize/confirm"),
        dialog_id,
        accounts,
        scopes,
    };
    match page.render() {
        Ok(body) => html(actix_web::http::StatusCode::OK, body),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

fn confirm(inner: &Inner, req: &GraphRequest) -> HttpResponse {
    let pending = req
        .param("dialog_id")
        .and_then(|id| inner.world.lock().ig_dialogs.remove(id));
    let Some(pending) = pending else {
        return html(
            actix_web::http::StatusCode::BAD_REQUEST,
            "<!doctype html><title>Expired</title><p>This page has expired. Go back to the app and try again.</p>".into(),
        );
    };
    let state = pending.state.clone().unwrap_or_default();
    let account = req
        .param("account")
        .filter(|a| inner.world.seed().ig_account(a).is_some())
        .map(str::to_string);
    let location = match (req.param("action"), account) {
        (Some("allow"), Some(account)) => {
            let code = format!("AQB{}", random_alnum(120));
            inner.world.lock().ig_codes.insert(
                code.clone(),
                IgCode {
                    redirect_uri: pending.redirect_uri.clone(),
                    scopes: pending.scopes.clone(),
                    account,
                    created: Utc::now(),
                    used: false,
                },
            );
            // Instagram appends `#_` to the redirect.
            format!(
                "{}#_",
                append_query(&pending.redirect_uri, &[("code", &code), ("state", &state)])
            )
        }
        _ => append_query(
            &pending.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_reason", "user_denied"),
                ("error_description", "The user denied your request."),
                ("state", &state),
            ],
        ),
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn check_client(inner: &Inner, req: &GraphRequest, with_id: bool) -> Result<(), MetaError> {
    if with_id && req.param("client_id") != Some(inner.config.instagram_app_id.as_str()) {
        return Err(oauth_error("Invalid platform app", 400));
    }
    match req.param("client_secret") {
        Some(s)
            if super::util::constant_time_eq(
                s.as_bytes(),
                inner.config.instagram_app_secret.as_bytes(),
            ) =>
        {
            Ok(())
        }
        _ => Err(oauth_error("Error validating client secret.", 101)),
    }
}

/// `POST api.instagram.com/oauth/access_token`: a code for a short-lived token.
fn exchange_code(inner: &Inner, req: &GraphRequest) -> Result<Value, MetaError> {
    check_client(inner, req, true)?;
    if req.param("grant_type") != Some("authorization_code") {
        return Err(oauth_error("Invalid grant_type", 400));
    }
    let code = req
        .param("code")
        .map(|c| c.trim_end_matches("#_"))
        .ok_or_else(|| MetaError::required("code"))?;
    let now = Utc::now();
    let mut state = inner.world.lock();
    let Some(entry) = state.ig_codes.get_mut(code) else {
        return Err(oauth_error("Invalid authorization code", 400));
    };
    if entry.used {
        return Err(oauth_error("This authorization code has been used", 400));
    }
    if entry.created + TimeDelta::hours(1) < now {
        return Err(oauth_error("This authorization code has expired", 400));
    }
    if req.param("redirect_uri") != Some(entry.redirect_uri.as_str()) {
        return Err(oauth_error(
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
            400,
        ));
    }
    entry.used = true;
    let (account, scopes) = (entry.account.clone(), entry.scopes.clone());
    let token = state.mint_with(
        "IGAA",
        Token {
            kind: TokenKind::InstagramUser,
            subject: account.clone(),
            parent: None,
            issued_at: now,
            expires_at: Some(now + TimeDelta::seconds(SHORT_LIVED_SECS)),
            scopes: scopes.clone(),
            revoked: None,
        },
    );
    Ok(json!({"data": [{
        "access_token": token,
        "user_id": account,
        "permissions": scopes.join(","),
    }]}))
}

/// An Instagram token presented to a token endpoint: known, unrevoked and unexpired.
fn live_token(inner: &Inner, value: &str) -> Result<Token, MetaError> {
    let now = Utc::now();
    let info = inner.world.lock().tokens.get(value).cloned();
    let info = match info {
        Some(t) if t.kind == TokenKind::InstagramUser => t,
        _ => return Err(auth::cannot_parse(400)),
    };
    if let Some(sub) = info.revoked {
        return Err(MetaError::new(
            190,
            auth::revoked_message(sub, &info.subject, &inner.config.instagram_app_id, now),
        )
        .subcode(sub));
    }
    if info.expires_at.is_some_and(|e| e <= now) {
        return Err(MetaError::new(
            190,
            auth::revoked_message(
                463,
                &info.subject,
                &inner.config.instagram_app_id,
                info.expires_at.unwrap_or(now),
            ),
        )
        .subcode(463));
    }
    Ok(info)
}

fn mint_long(inner: &Inner, info: Token) -> Value {
    let now = Utc::now();
    let token = inner.world.lock().mint_with(
        "IGAA",
        Token {
            issued_at: now,
            expires_at: Some(now + TimeDelta::seconds(LONG_LIVED_SECS)),
            revoked: None,
            parent: None,
            ..info
        },
    );
    json!({"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECS})
}

/// `GET graph.instagram.com/access_token?grant_type=ig_exchange_token`.
fn long_lived(inner: &Inner, req: &GraphRequest) -> Result<Value, MetaError> {
    check_client(inner, req, false)?;
    if req.param("grant_type") != Some("ig_exchange_token") {
        return Err(MetaError::param("Unsupported grant_type"));
    }
    let short = req
        .param("access_token")
        .ok_or_else(|| MetaError::required("access_token"))?;
    let info = live_token(inner, short)?;
    Ok(mint_long(inner, info))
}

/// `GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token`: only for a
/// long-lived token at least 24 hours old and unexpired. The old token stays valid until its
/// own end, as Meta's does.
fn refresh(inner: &Inner, req: &GraphRequest) -> Result<Value, MetaError> {
    if req.param("grant_type") != Some("ig_refresh_token") {
        return Err(MetaError::param("Unsupported grant_type"));
    }
    let value = req
        .param("access_token")
        .ok_or_else(|| MetaError::required("access_token"))?;
    let info = live_token(inner, value)?;
    let lifetime = info.expires_at.map(|e| e - info.issued_at);
    if lifetime.is_none_or(|l| l < TimeDelta::days(1)) {
        return Err(MetaError::param(
            "Short-lived access tokens cannot be refreshed; exchange it for a long-lived token first",
        ));
    }
    if Utc::now() - info.issued_at < TimeDelta::hours(24) {
        return Err(MetaError::param(
            "The access token must be at least 24 hours old to be refreshed",
        ));
    }
    Ok(mint_long(inner, info))
}

/// `GET|POST|DELETE graph.instagram.com/me/subscribed_apps` of an Instagram Login account.
pub(crate) fn subscribed_apps(ctx: &Ctx) -> Result<Value, MetaError> {
    if ctx.caller.kind != Some(TokenKind::InstagramUser) || ctx.caller.subject != ctx.id {
        return Err(ctx.unsupported());
    }
    let mut state = ctx.inner.world.lock();
    match ctx.method() {
        "POST" => {
            let fields: Vec<String> = ctx
                .req
                .param("subscribed_fields")
                .ok_or_else(|| MetaError::required("subscribed_fields"))?
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect();
            state.ig_subscriptions.insert(ctx.id.clone(), fields);
            Ok(json!({"success": true}))
        }
        "DELETE" => {
            state.ig_subscriptions.remove(&ctx.id);
            Ok(json!({"success": true}))
        }
        _ => {
            let data: Vec<Value> = state
                .ig_subscriptions
                .get(&ctx.id)
                .map(|f| {
                    vec![json!({"id": ctx.inner.config.instagram_app_id, "name": APP_NAME, "subscribed_fields": f})]
                })
                .unwrap_or_default();
            Ok(json!({ "data": data }))
        }
    }
}
