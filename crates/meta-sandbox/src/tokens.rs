//! Token endpoints: `oauth/access_token` (code exchange, long-lived exchange, app token) and
//! `debug_token`.

use chrono::{Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::auth::{self, MetaError};
use super::fields::GraphRequest;
use super::graph::Ctx;
use super::seed::APP_NAME;
use super::world::{Token, TokenKind};

/// Short-lived user tokens, as Meta's code exchange returns them.
const SHORT_LIVED_SECS: i64 = 5183;
/// Long-lived user tokens (about 60 days).
const LONG_LIVED_SECS: i64 = 5_183_944;

/// `GET /{v}/oauth/access_token`: code exchange, long-lived exchange, app token.
pub(crate) fn exchange(inner: &Inner, req: &GraphRequest) -> Result<Value, MetaError> {
    if req.segments.get(1).map(String::as_str) != Some("access_token") {
        return Err(MetaError::unknown_object("oauth", &req.method));
    }
    let app_id = &inner.config.app_id;
    match req.param("client_id") {
        None => return Err(MetaError::new(101, "Missing client_id parameter.")),
        Some(id) if id != app_id => {
            return Err(MetaError::new(
                101,
                "Error validating application. Invalid application ID.",
            ));
        }
        _ => {}
    }
    match req.param("client_secret") {
        None => return Err(MetaError::new(1, "Missing client_secret parameter.")),
        Some(s)
            if !crate::util::constant_time_eq(s.as_bytes(), inner.config.app_secret.as_bytes()) =>
        {
            return Err(MetaError::new(1, "Error validating client secret."));
        }
        _ => {}
    }
    let now = Utc::now();
    match req.param("grant_type") {
        Some("client_credentials") => {
            return Ok(
                json!({"access_token": format!("{app_id}|{}", inner.config.app_secret), "token_type": "bearer"}),
            );
        }
        Some("fb_exchange_token") => {
            let short = req
                .param("fb_exchange_token")
                .ok_or_else(|| MetaError::required("fb_exchange_token"))?;
            let info = inner.world.lock().tokens.get(short).cloned();
            let info = match info {
                Some(t) if t.kind == TokenKind::User => t,
                _ => return Err(auth::cannot_parse(400)),
            };
            if let Some(sub) = info.revoked {
                let msg = auth::revoked_message(sub, &info.subject, app_id, now);
                return Err(MetaError::new(190, msg).subcode(sub));
            }
            if info.expires_at.is_some_and(|e| e <= now) {
                return Err(MetaError::new(
                    190,
                    auth::revoked_message(463, &info.subject, app_id, now),
                )
                .subcode(463));
            }
            let token = inner.world.lock().mint(Token {
                issued_at: now,
                expires_at: Some(now + TimeDelta::seconds(LONG_LIVED_SECS)),
                revoked: None,
                parent: None,
                ..info
            });
            return Ok(
                json!({"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECS}),
            );
        }
        Some(other) if other != "authorization_code" => {
            return Err(MetaError::param(format!("Unsupported grant_type: {other}")));
        }
        _ => {}
    }
    let code = req
        .param("code")
        .ok_or_else(|| MetaError::required("code"))?;
    let mut state = inner.world.lock();
    let Some(entry) = state.codes.get_mut(code) else {
        return Err(MetaError::new(100, "Invalid verification code format."));
    };
    if entry.used {
        return Err(MetaError::new(100, "This authorization code has been used.").subcode(36009));
    }
    // Embedded Signup codes live 30 s; Login codes 10 minutes.
    let ttl = if entry.signup {
        TimeDelta::seconds(30)
    } else {
        TimeDelta::minutes(10)
    };
    if entry.created + ttl < now {
        return Err(MetaError::new(100, "This authorization code has expired.").subcode(36007));
    }
    let redirect_ok = match req.param("redirect_uri") {
        Some(uri) => uri == entry.redirect_uri,
        None => entry.signup,
    };
    if !redirect_ok {
        return Err(MetaError::new(
            100,
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        )
        .subcode(36008));
    }
    entry.used = true;
    let scopes = entry.scopes.clone();
    let seed = inner.world.seed();
    if entry.signup {
        let token = state.mint(Token {
            kind: TokenKind::SystemUser,
            subject: seed.system_user.id.clone(),
            parent: None,
            issued_at: now,
            expires_at: None,
            scopes,
            revoked: None,
        });
        return Ok(json!({"access_token": token, "token_type": "bearer"}));
    }
    let token = state.mint(Token {
        kind: TokenKind::User,
        subject: seed.user.id.clone(),
        parent: None,
        issued_at: now,
        expires_at: Some(now + TimeDelta::seconds(SHORT_LIVED_SECS)),
        scopes,
        revoked: None,
    });
    Ok(json!({"access_token": token, "token_type": "bearer", "expires_in": SHORT_LIVED_SECS}))
}

/// `GET /{v}/debug_token?input_token=` with an app token (or the admin's user token).
pub(crate) fn debug_token(ctx: &Ctx) -> Result<Value, MetaError> {
    if !matches!(ctx.caller.kind, None | Some(TokenKind::User)) {
        return Err(MetaError::param(
            "You must provide an app access token, or a user access token that is an owner or developer of the app",
        ));
    }
    let input = ctx
        .req
        .param("input_token")
        .ok_or_else(|| MetaError::required("input_token"))?;
    let seed = ctx.seed();
    let app_token = format!("{}|{}", seed.app_id, ctx.inner.config.app_secret);
    if input == app_token {
        return Ok(
            json!({"data": {"app_id": seed.app_id, "type": "APP", "application": APP_NAME, "is_valid": true, "scopes": []}}),
        );
    }
    let info = ctx.inner.world.lock().tokens.get(input).cloned();
    let Some(info) = info else {
        return Ok(json!({"data": {
            "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
            "is_valid": false,
            "scopes": [],
        }}));
    };
    let now = Utc::now();
    let (kind, user_id) = match info.kind {
        TokenKind::User => ("USER", seed.user.id.clone()),
        TokenKind::Page => ("PAGE", seed.user.id.clone()),
        TokenKind::SystemUser => ("SYSTEM_USER", seed.system_user.id.clone()),
        // Instagram Login tokens belong to another app and host: Facebook cannot read them.
        TokenKind::InstagramUser => {
            return Ok(json!({"data": {
                "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
                "is_valid": false,
                "scopes": [],
            }}));
        }
    };
    let targets = |scope: &str| -> Option<Vec<String>> {
        let pages: Vec<String> = match info.kind {
            TokenKind::Page => vec![info.subject.clone()],
            _ => seed.pages.iter().map(|p| p.id.clone()).collect(),
        };
        if scope.starts_with("pages_") || scope == "read_insights" {
            Some(pages)
        } else if scope.starts_with("instagram_") {
            Some(
                seed.pages
                    .iter()
                    .filter(|p| pages.contains(&p.id))
                    .filter_map(|p| p.instagram.as_ref().map(|ig| ig.id.clone()))
                    .collect(),
            )
        } else if scope.starts_with("whatsapp_") {
            Some(vec![seed.waba.id.clone()])
        } else if scope == "business_management" {
            Some(vec![seed.business_id.clone()])
        } else {
            None
        }
    };
    let granular: Vec<Value> = info
        .scopes
        .iter()
        .map(|s| match targets(s) {
            Some(ids) => json!({"scope": s, "target_ids": ids}),
            None => json!({"scope": s}),
        })
        .collect();
    let expired = info.expires_at.is_some_and(|e| e <= now);
    let never_expires = info.kind == TokenKind::SystemUser
        || (info.kind == TokenKind::Page && info.expires_at.is_none());
    let mut data = json!({
        "app_id": seed.app_id,
        "type": kind,
        "application": APP_NAME,
        "data_access_expires_at": if info.kind == TokenKind::SystemUser { 0 } else { (info.issued_at + TimeDelta::days(90)).timestamp() },
        "expires_at": if never_expires { 0 } else { info.expires_at.map(|e| e.timestamp()).unwrap_or(0) },
        "is_valid": info.revoked.is_none() && !expired,
        "issued_at": info.issued_at.timestamp(),
        "scopes": info.scopes,
        "granular_scopes": granular,
        "user_id": user_id,
    });
    if info.kind == TokenKind::Page {
        data["profile_id"] = json!(info.subject);
    }
    let sub = info.revoked.or(expired.then_some(463));
    if let Some(sub) = sub {
        let at = info.expires_at.unwrap_or(now);
        data["error"] = json!({
            "code": 190,
            "message": auth::revoked_message(sub, &seed.user.id, &seed.app_id, at),
            "subcode": sub,
        });
    }
    Ok(json!({ "data": data }))
}
