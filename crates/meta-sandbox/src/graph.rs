//! The Graph API front door: version check, faults, authentication, object resolution,
//! dispatch to the per-concern handlers, and usage headers on every answer.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::auth::{self, Caller, MetaError};
use super::faults::{self, FaultKind};
use super::fields::GraphRequest;
use super::nodes::{resolve, usage_scope};
use super::seed::Seed;
use super::world::TokenKind;
use super::{
    Inner, comments, conversations, insights, instagram, instagram_login, media, messaging, oauth,
    pages, post_insights, templates, tokens, uploads, whatsapp,
};

/// What a path's first segment names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Me,
    User,
    SystemUser,
    App,
    DebugToken,
    Page(String),
    Ig(String),
    Customer(String),
    Post(String),
    FbComment(String),
    IgMedia(String),
    IgComment(String),
    /// A Messenger or Instagram conversation (`t_<customer id>`).
    Conversation(String),
    Waba,
    Phone,
    Template(String),
    Media(String),
    /// A Resumable Upload session (`upload:<id>`).
    Upload(String),
    Unknown(String),
}

impl Node {
    fn is_whatsapp(&self) -> bool {
        matches!(
            self,
            Node::Waba | Node::Phone | Node::Template(_) | Node::Media(_)
        )
    }
}

/// Everything a handler needs about one authenticated call.
pub(crate) struct Ctx<'a> {
    pub inner: &'a Arc<Inner>,
    pub req: &'a GraphRequest,
    pub caller: &'a Caller,
    /// The object id from the path (`me` resolved).
    pub id: String,
    pub edge: Option<String>,
}

impl Ctx<'_> {
    pub fn seed(&self) -> &Seed {
        self.inner.world.seed()
    }

    pub fn method(&self) -> &str {
        &self.req.method
    }

    /// "Unsupported {method} request. Object with ID ... does not exist ...".
    pub fn unsupported(&self) -> MetaError {
        MetaError::unknown_object(&self.id, &self.req.method)
    }

    /// Requires a Page token of exactly this Page.
    pub fn require_page_token(&self, page_id: &str) -> Result<(), MetaError> {
        match self.caller.kind {
            Some(TokenKind::Page) if self.caller.subject == page_id => Ok(()),
            Some(TokenKind::User) | None => Err(MetaError::new(
                210,
                "(#210) A page access token is required to request this resource.",
            )),
            _ => Err(self.unsupported()),
        }
    }

    /// A user token (the admin manages every Page) or a Page token of this Page.
    pub fn require_page_access(&self, page_id: &str) -> Result<(), MetaError> {
        match self.caller.kind {
            Some(TokenKind::User) => Ok(()),
            Some(TokenKind::Page) if self.caller.subject == page_id => Ok(()),
            _ => Err(self.unsupported()),
        }
    }

    /// An Instagram Login token of this account, or access to the Page it is linked to.
    pub fn require_ig_access(&self, ig_id: &str) -> Result<(), MetaError> {
        match self.caller.kind {
            Some(TokenKind::InstagramUser) if self.caller.subject == ig_id => Ok(()),
            Some(TokenKind::InstagramUser) => Err(self.unsupported()),
            _ => match self.seed().ig(ig_id) {
                Some((page, _)) => self.require_page_access(&page.id),
                None => Err(self.unsupported()),
            },
        }
    }

    /// A system-user token, or a user token granted a WhatsApp permission.
    pub fn require_whatsapp(&self) -> Result<(), MetaError> {
        let ok = match self.caller.kind {
            Some(TokenKind::SystemUser) => true,
            Some(TokenKind::User) => self
                .caller
                .scopes
                .iter()
                .any(|s| s.starts_with("whatsapp_")),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.unsupported().status(400))
        }
    }

    /// Unknown edge: an error naming it for reads, "unsupported request" for writes.
    pub fn no_such_edge(&self, node_type: &str) -> MetaError {
        match (&self.edge, self.method()) {
            (Some(edge), "GET") => MetaError::nonexisting_field(edge, node_type),
            _ => self.unsupported(),
        }
    }
}

fn is_version(s: &str) -> bool {
    s.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.split('.');
        matches!((parts.next(), parts.next(), parts.next()),
            (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()))
    })
}

/// Every Graph request lands here.
pub(crate) async fn handle(req: HttpRequest, body: Bytes, data: web::Data<Inner>) -> HttpResponse {
    let inner = data.into_inner();
    let mut segments: Vec<String> = req
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let configured = inner.config.graph_version.clone();
    // Instagram Login's hosts live under prefixes: `ig-www` (www.instagram.com), `ig-api`
    // (api.instagram.com) and `ig-graph` (graph.instagram.com).
    let ig_host = match segments.first().map(String::as_str) {
        Some(p @ ("ig-www" | "ig-api" | "ig-graph")) => Some(p.to_string()),
        _ => None,
    };
    if ig_host.is_some() {
        segments.remove(0);
    }
    let unversioned = match ig_host.as_deref() {
        Some("ig-www" | "ig-api") => true,
        Some(_) => matches!(
            segments.first().map(String::as_str),
            Some("access_token" | "refresh_access_token")
        ),
        None => false,
    };
    if unversioned {
        let greq = GraphRequest::parse(&req, body, Vec::new(), &configured, segments);
        log_request(&inner, &greq);
        return instagram_login::front(&inner, ig_host.as_deref().unwrap_or_default(), &greq);
    }
    let instagram_host = ig_host.is_some();
    let (version, rest) = match segments.split_first() {
        Some((first, rest)) if is_version(first) => (first.clone(), rest.to_vec()),
        _ => (configured.clone(), segments.clone()),
    };
    if version != configured || rest.is_empty() {
        return MetaError::new(
            2500,
            format!("Unknown path components: /{}", rest.join("/")),
        )
        .response();
    }
    let is_multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    let parts = if is_multipart {
        super::fields::read_parts(&req, body.clone()).await
    } else {
        Vec::new()
    };
    let greq = GraphRequest::parse(&req, body, parts, &version, rest);
    match greq.segments.first().map(String::as_str) {
        Some("dialog") if !instagram_host => return oauth::dialog(&inner, &greq),
        Some("oauth") if !instagram_host => {
            return into_response(tokens::exchange(&inner, &greq));
        }
        _ => {}
    }
    log_request(&inner, &greq);
    let node = resolve(&inner, &greq.segments[0]);
    let token_status = if node.is_whatsapp() { 401 } else { 400 };

    let fault = faults::take(&mut inner.world.lock(), &greq.method, &greq.path);
    match fault {
        Some(FaultKind::Slow { delay_ms }) => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await
        }
        Some(FaultKind::ServerError { status, json }) => return faults::server_error(status, json),
        Some(FaultKind::InvalidMetric) => return insights::invalid_metric().response(),
        Some(FaultKind::MissingPermission { permission }) => {
            return MetaError::new(
                200,
                format!("(#200) Requires {permission} permission to manage the object"),
            )
            .status(403)
            .response();
        }
        Some(FaultKind::RevokedToken { subcode }) => {
            let msg = auth::revoked_message(
                subcode,
                &inner.world.seed().user.id,
                &inner.config.app_id,
                chrono::Utc::now(),
            );
            return MetaError::new(190, msg)
                .subcode(subcode)
                .status(token_status)
                .response();
        }
        Some(FaultKind::RateLimit {
            code,
            regain_minutes,
        }) => {
            let kind = peek_kind(&inner, &greq);
            let scope = usage_scope(&inner, &greq, &node, kind);
            let header = faults::usage_header(
                &mut inner.world.lock(),
                &scope,
                Some(regain_minutes),
                inner.config.business_calls_per_hour,
            );
            let mut resp = faults::rate_limit_error(code).response();
            insert_header(&mut resp, header);
            return resp;
        }
        None => {}
    }

    let caller = match auth::authenticate(&inner, &greq, token_status, instagram_host) {
        Ok(c) => c,
        Err(e) => return e.response(),
    };
    let node = match node {
        Node::Me => match caller.kind {
            Some(TokenKind::User) => Node::User,
            Some(TokenKind::Page) => Node::Page(caller.subject.clone()),
            Some(TokenKind::SystemUser) => Node::SystemUser,
            Some(TokenKind::InstagramUser) => Node::Ig(caller.subject.clone()),
            None => {
                return MetaError::new(
                    2500,
                    "An active access token must be used to query information about the current user.",
                )
                .response();
            }
        },
        other => other,
    };
    let scope = usage_scope(&inner, &greq, &node, caller.kind);
    let result = dispatch(&inner, &greq, &caller, &node).await;
    let header = faults::usage_header(
        &mut inner.world.lock(),
        &scope,
        None,
        inner.config.business_calls_per_hour,
    );
    let mut resp = into_response(result);
    insert_header(&mut resp, header);
    resp
}

/// Keeps the request in the log tests read (capped).
fn log_request(inner: &Inner, greq: &GraphRequest) {
    let mut state = inner.world.lock();
    if state.graph_requests.len() >= super::world::REQUEST_LOG {
        state.graph_requests.pop_front();
    }
    state
        .graph_requests
        .push_back(super::world::GraphRequestRecord {
            method: greq.method.clone(),
            path: greq.path.clone(),
            metric: greq.text("metric"),
        });
}

fn into_response(result: Result<Value, MetaError>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => e.response(),
    }
}

fn insert_header(resp: &mut HttpResponse, (name, value): (&'static str, String)) {
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
        resp.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static(lower(name)),
            v,
        );
    }
}

fn lower(name: &'static str) -> &'static str {
    match name {
        "X-App-Usage" => "x-app-usage",
        _ => "x-business-use-case-usage",
    }
}

/// The kind of the presented token, without authenticating (for throttled answers).
fn peek_kind(inner: &Inner, req: &GraphRequest) -> Option<TokenKind> {
    let token = req.token.as_ref()?;
    inner.world.lock().tokens.get(token).map(|t| t.kind)
}

async fn dispatch(
    inner: &Arc<Inner>,
    req: &GraphRequest,
    caller: &Caller,
    node: &Node,
) -> Result<Value, MetaError> {
    if req.segments.len() > 2 {
        return Err(MetaError::new(
            2500,
            format!("Unknown path components: /{}", req.segments[1..].join("/")),
        ));
    }
    let id = match node {
        Node::Page(id)
        | Node::Ig(id)
        | Node::Customer(id)
        | Node::Post(id)
        | Node::FbComment(id)
        | Node::IgMedia(id)
        | Node::IgComment(id)
        | Node::Conversation(id)
        | Node::Template(id)
        | Node::Media(id)
        | Node::Unknown(id) => id.clone(),
        _ => req.segments[0].clone(),
    };
    let ctx = Ctx {
        inner,
        req,
        caller,
        id,
        edge: req.segments.get(1).cloned(),
    };
    let edge = ctx.edge.as_deref();
    match node {
        Node::DebugToken => tokens::debug_token(&ctx),
        Node::App if edge == Some("uploads") => uploads::start(&ctx),
        Node::Upload(_) => uploads::write(&ctx),
        Node::User | Node::SystemUser | Node::App => pages::person(&ctx, node),
        Node::Page(_) => match edge {
            None | Some("subscribed_apps") => pages::page(&ctx),
            Some("messages") => messaging::send(&ctx),
            Some("message_attachments") => messaging::upload_attachment(&ctx),
            Some("feed" | "posts" | "published_posts") => comments::feed(&ctx),
            Some("insights") => insights::page(&ctx),
            Some("conversations") => conversations::list(&ctx),
            _ => Err(ctx.no_such_edge("Page")),
        },
        Node::Ig(_) => match edge {
            None => pages::ig_user(&ctx),
            Some("media" | "stories") => instagram::media_list(&ctx),
            Some("insights") => insights::ig_user(&ctx),
            Some("messages") => messaging::send(&ctx),
            Some("conversations") => conversations::list(&ctx),
            Some("subscribed_apps") => instagram_login::subscribed_apps(&ctx),
            Some("mentions") if ctx.method() == "POST" => {
                let ig = ctx.id.clone();
                ctx.require_ig_access(&ig)
                    .and_then(|()| instagram::reply_to_mention(&ctx, &ig))
            }
            _ => Err(ctx.no_such_edge("IGUser")),
        },
        Node::Customer(_) => pages::profile(&ctx),
        Node::Post(_) if edge == Some("insights") => post_insights::fb_post(&ctx),
        Node::Post(_) | Node::FbComment(_) => comments::fb(&ctx, node),
        Node::IgMedia(_) if edge == Some("insights") => post_insights::media(&ctx),
        Node::IgMedia(_) | Node::IgComment(_) => instagram::node(&ctx, node),
        Node::Waba => match edge {
            Some("message_templates") => templates::edge(&ctx),
            _ => whatsapp::waba(&ctx),
        },
        Node::Phone => match edge {
            Some("messages") => whatsapp::send(&ctx),
            Some("media") => media::upload(&ctx),
            _ => whatsapp::phone(&ctx),
        },
        Node::Conversation(_) => conversations::detail(&ctx),
        Node::Template(_) => templates::node(&ctx),
        Node::Media(_) => media::node(&ctx),
        Node::Me | Node::Unknown(_) => Err(ctx.unsupported()),
    }
}
