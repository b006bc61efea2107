//! Meta's error bodies, and authentication of Graph calls: token lookup, revocation, expiry and
//! the appsecret_proof the sandbox app requires.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::fields::GraphRequest;
use super::util::{fbtrace_id, hmac_hex};
use super::world::TokenKind;

/// appsecret_proof: lowercase hex HMAC-SHA256 keyed with the app secret over the access token.
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    hmac_hex(app_secret.as_bytes(), access_token.as_bytes())
}

/// An error exactly as Graph returns it: `{"error":{message,type,code,...,fbtrace_id}}`.
#[derive(Debug, Clone)]
pub(crate) struct MetaError {
    pub status: u16,
    pub code: u32,
    pub subcode: Option<u32>,
    pub message: String,
    pub kind: &'static str,
    pub is_transient: Option<bool>,
    /// Rarely set parts, boxed so `Result<_, MetaError>` stays small.
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Clone, Default)]
struct Extra {
    user_title: Option<String>,
    user_msg: Option<String>,
    error_data: Option<Value>,
}

impl MetaError {
    /// An OAuthException with HTTP 400.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            subcode: None,
            message: message.into(),
            kind: "OAuthException",
            is_transient: None,
            extra: None,
        }
    }

    /// Code 100 with the message `(#100) {what}`.
    pub fn param(what: impl std::fmt::Display) -> Self {
        Self::new(100, format!("(#100) {what}"))
    }

    /// `(#100) The parameter {name} is required`.
    pub fn required(name: &str) -> Self {
        Self::param(format!("The parameter {name} is required"))
    }

    /// 100/33: the object does not exist or the token may not see it.
    pub fn unknown_object(id: &str, method: &str) -> Self {
        Self::new(
            100,
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
        .subcode(33)
        .kind("GraphMethodException")
    }

    /// An unknown field or edge on a known node.
    pub fn nonexisting_field(field: &str, node_type: &str) -> Self {
        Self::param(format!(
            "Tried accessing nonexisting field ({field}) on node type ({node_type})"
        ))
    }

    /// A WhatsApp Cloud API error: `(#code) title` plus `error_data.details`.
    pub fn whatsapp(code: u32, title: &str, details: impl Into<String>, status: u16) -> Self {
        let mut e = Self::new(code, format!("(#{code}) {title}")).status(status);
        e.extra.get_or_insert_default().error_data =
            Some(json!({"messaging_product": "whatsapp", "details": details.into()}));
        e
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub fn user(mut self, title: &str, msg: impl Into<String>) -> Self {
        let extra = self.extra.get_or_insert_default();
        extra.user_title = Some(title.into());
        extra.user_msg = Some(msg.into());
        self
    }

    pub fn transient(mut self) -> Self {
        self.is_transient = Some(true);
        self
    }

    /// The JSON body, with a fresh fbtrace_id.
    pub fn body(&self) -> Value {
        let mut e = json!({"message": self.message, "type": self.kind, "code": self.code});
        if let Some(sub) = self.subcode {
            e["error_subcode"] = json!(sub);
        }
        if let Some(t) = self.is_transient {
            e["is_transient"] = json!(t);
        }
        if let Some(extra) = &self.extra {
            if let Some(t) = &extra.user_title {
                e["error_user_title"] = json!(t);
            }
            if let Some(m) = &extra.user_msg {
                e["error_user_msg"] = json!(m);
            }
            if let Some(d) = &extra.error_data {
                e["error_data"] = d.clone();
            }
        }
        e["fbtrace_id"] = json!(fbtrace_id());
        json!({ "error": e })
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = HttpResponse::build(status);
        // Meta names token problems in this header too.
        if matches!(self.code, 102 | 104 | 190) {
            let value = format!(
                "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
                self.message.replace('"', "'")
            );
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
                resp.insert_header((actix_web::http::header::WWW_AUTHENTICATE, v));
            }
        }
        resp.json(self.body())
    }
}

/// Who is calling: the app itself (app token) or the holder of a user/Page/system token.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub token: String,
    /// `None` for the app token.
    pub kind: Option<TokenKind>,
    /// User id, Page id or system user id (the app id for the app token).
    pub subject: String,
    pub scopes: Vec<String>,
}

/// The message Meta gives for a token invalidated with `subcode`.
pub(crate) fn revoked_message(
    subcode: u32,
    user_id: &str,
    app_id: &str,
    at: DateTime<Utc>,
) -> String {
    match subcode {
        458 => format!(
            "Error validating access token: User {user_id} has not authorized application {app_id}."
        ),
        459 => "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.".into(),
        460 => "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".into(),
        463 => expired_message(at),
        464 => "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user.".into(),
        492 => "Error validating access token: The user must be an administrator, editor, or moderator of the page in order to impersonate it. If the page business requires Two Factor Authentication, the user also needs to enable Two Factor Authentication.".into(),
        _ => "Error validating access token: The session is invalid because the user logged out.".into(),
    }
}

fn expired_message(at: DateTime<Utc>) -> String {
    let pst = |t: DateTime<Utc>| {
        (t - chrono::Duration::hours(8))
            .format("%A, %d-%b-%y %H:%M:%S PST")
            .to_string()
    };
    format!(
        "Error validating access token: Session has expired on {}. The current time is {}.",
        pst(at),
        pst(Utc::now())
    )
}

/// The `190` error for an unknown or malformed token.
pub(crate) fn cannot_parse(status: u16) -> MetaError {
    MetaError::new(
        190,
        "Invalid OAuth access token - Cannot parse access token",
    )
    .status(status)
}

/// Authenticates a Graph call. `status` is the HTTP status of token errors (400 for Facebook
/// and Instagram, 401 for WhatsApp).
pub(crate) fn authenticate(
    inner: &Inner,
    req: &GraphRequest,
    status: u16,
    instagram_host: bool,
) -> Result<Caller, MetaError> {
    let Some(token) = req.token.clone() else {
        return Err(
            MetaError::new(104, "An access token is required to request this resource.")
                .status(status),
        );
    };
    let app_id = &inner.config.app_id;
    if let Some(secret) = token
        .strip_prefix(&format!("{app_id}|"))
        .filter(|_| !instagram_host)
    {
        if crate::util::constant_time_eq(secret.as_bytes(), inner.config.app_secret.as_bytes()) {
            return Ok(Caller {
                token,
                kind: None,
                subject: app_id.clone(),
                scopes: Vec::new(),
            });
        }
        return Err(MetaError::new(190, "Invalid OAuth access token signature.").status(status));
    }
    let info = inner.world.lock().tokens.get(&token).cloned();
    // Each host knows only its own app's tokens.
    let Some(info) = info.filter(|t| (t.kind == TokenKind::InstagramUser) == instagram_host) else {
        return Err(cannot_parse(status));
    };
    let user_id = &inner.world.seed().user.id;
    if let Some(subcode) = info.revoked {
        let at = info.expires_at.unwrap_or_else(Utc::now);
        return Err(
            MetaError::new(190, revoked_message(subcode, user_id, app_id, at))
                .subcode(subcode)
                .status(status),
        );
    }
    if let Some(expires) = info.expires_at
        && expires <= Utc::now()
    {
        return Err(MetaError::new(190, expired_message(expires))
            .subcode(463)
            .status(status));
    }
    let secret = if instagram_host {
        &inner.config.instagram_app_secret
    } else {
        &inner.config.app_secret
    };
    check_proof(secret, &token, req.param("appsecret_proof"))?;
    Ok(Caller {
        token,
        kind: Some(info.kind),
        subject: info.subject,
        scopes: info.scopes,
    })
}

/// The sandbox app has "Require App Secret" on: every user/Page/system call needs the proof.
pub(crate) fn check_proof(secret: &str, token: &str, proof: Option<&str>) -> Result<(), MetaError> {
    let Some(proof) = proof.filter(|p| !p.is_empty()) else {
        return Err(MetaError::new(
            100,
            "API calls from the server require an appsecret_proof argument",
        )
        .kind("GraphMethodException"));
    };
    let expected = appsecret_proof(secret, token);
    if crate::util::constant_time_eq(expected.as_bytes(), proof.as_bytes()) {
        Ok(())
    } else {
        Err(
            MetaError::new(100, "Invalid appsecret_proof provided in the API argument")
                .kind("GraphMethodException"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_is_hmac_of_token_with_secret() {
        let p = appsecret_proof("secret", "token");
        assert_eq!(p.len(), 64);
        assert!(check_proof("secret", "token", Some(&p)).is_ok());
        let missing = check_proof("secret", "token", None).unwrap_err();
        assert_eq!(missing.code, 100);
        assert!(missing.message.contains("require an appsecret_proof"));
        let wrong =
            check_proof("secret", "token", Some(&appsecret_proof("other", "token"))).unwrap_err();
        assert!(wrong.message.contains("Invalid appsecret_proof"));
    }

    #[test]
    fn error_body_has_meta_shape() {
        let body = MetaError::unknown_object("123", "GET").body();
        let e = &body["error"];
        assert_eq!(e["code"], 100);
        assert_eq!(e["error_subcode"], 33);
        assert_eq!(e["type"], "GraphMethodException");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("Unsupported get request. Object with ID '123'")
        );
        assert_eq!(e["fbtrace_id"].as_str().unwrap().len(), 23);
    }
}
