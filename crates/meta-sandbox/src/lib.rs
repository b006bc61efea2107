//! The built-in Meta sandbox: an in-memory HTTP server that speaks Meta's Graph API contract for
//! every endpoint Parley uses (OAuth dialog, tokens, Pages, Messenger/Instagram Send API,
//! comments, insights, WhatsApp Cloud API, templates), signs and delivers webhooks, and simulates
//! customers. Operators run it with `parley sandbox`; tests start it in-process.
//!
//! It is an independent implementation of Meta's side: this crate does not depend on Parley, so
//! the compiler keeps Parley's Graph client and the sandbox checking each other. It must never be exposed publicly: its `/_sandbox/`
//! control API has no authentication. See `docs/SANDBOX.md`.

mod auth;
mod comments;
mod content;
mod control;
mod conversations;
mod events;
mod faults;
mod fields;
mod graph;
mod inbound;
mod insights;
mod instagram;
mod instagram_login;
mod media;
mod messaging;
mod nodes;
mod oauth;
mod pages;
mod post_insights;
mod seed;
mod simulator;
mod template_rules;
mod templates;
mod tokens;
mod uploads;
mod util;
mod webhooks;
mod whatsapp;
mod window;
mod world;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};

pub use auth::appsecret_proof;
pub use events::{CustomerEvent, CustomerMessage, InboundAttachment};
pub use faults::{Fault, FaultKind};
pub use insights::daily_value;
pub use seed::{
    Channel, Customer, STUDIO_IG_ID, Seed, SeedIg, SeedPage, SeedPerson, SeedPhone, SeedWaba,
};
pub use simulator::Simulator;
pub use world::{
    DeliveredWebhook, GraphRequestRecord, InboundRecord, IssueToken, SentMessage, TokenKind,
    TokenSelector, World,
};

/// Settings of one sandbox instance.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The sandbox app's numeric id (what Parley has as `META_APP_ID`).
    pub app_id: String,
    /// The Instagram app behind Instagram Login (`META_INSTAGRAM_APP_ID`).
    pub instagram_app_id: String,
    /// Its secret: token exchanges, its tokens' appsecret_proof, and the signature of the
    /// webhooks of accounts without a Page.
    pub instagram_app_secret: String,
    /// Used for appsecret_proof checks, app tokens and webhook signatures.
    pub app_secret: String,
    /// The one Graph version served, e.g. `v24.0`; any other `/vXX.X/` prefix is refused.
    pub graph_version: String,
    /// Parley's `/webhooks/meta` URL; `None` records webhooks without delivering them.
    pub webhook_url: Option<String>,
    /// How long a new message template stays PENDING before it is approved or rejected.
    pub template_review_delay: Duration,
    /// Number of Pages the sandbox user manages (at least 2: Acme Coffee and Acme Bikes).
    pub page_count: usize,
    /// Delay before a customer's phone "receives" a message (delivery webhook / WhatsApp
    /// `delivered`); reads follow after twice this delay.
    pub receipt_delay: Duration,
    /// Backoff before the first webhook retry; doubles for each of the 3 retries.
    pub webhook_retry_backoff: Duration,
    /// Calls per hour a business object (Page, IG account, WABA) may make before its usage
    /// header reaches 100%: Meta grants a Page 4,800 per engaged user, so a small Page has few
    /// and a busy one many. The default plays a small Page.
    pub business_calls_per_hour: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            app_id: DEFAULT_APP_ID.into(),
            app_secret: DEFAULT_APP_SECRET.into(),
            instagram_app_id: DEFAULT_INSTAGRAM_APP_ID.into(),
            instagram_app_secret: DEFAULT_INSTAGRAM_APP_SECRET.into(),
            graph_version: "v24.0".into(),
            webhook_url: None,
            template_review_delay: Duration::from_secs(5),
            page_count: 3,
            receipt_delay: Duration::from_millis(800),
            webhook_retry_backoff: Duration::from_secs(1),
            business_calls_per_hour: faults::SMALL_PAGE_CALLS_PER_HOUR,
        }
    }
}

/// App id used when none is configured (clearly not a real Meta app).
pub const DEFAULT_APP_ID: &str = "1000000000000001";
/// App secret used when none is configured; for local sandboxes only.
pub const DEFAULT_APP_SECRET: &str = "sandbox-app-secret-not-for-production";

/// The Instagram app's id when none is configured.
pub const DEFAULT_INSTAGRAM_APP_ID: &str = "1000000000000002";
/// The Instagram app's secret when none is configured; for local sandboxes only.
pub const DEFAULT_INSTAGRAM_APP_SECRET: &str = "sandbox-instagram-secret-not-for-production";

/// Everything that can go wrong starting or steering the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot serve the sandbox: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("no sandbox customer has the id or name {0:?}")]
    UnknownCustomer(String),
    #[error("no sandbox object has the id {0:?}")]
    UnknownObject(String),
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// State shared by the HTTP handlers and background tasks of one sandbox.
pub(crate) struct Inner {
    pub config: SandboxConfig,
    /// Where the sandbox is reachable, e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    pub world: World,
    pub client: reqwest::Client,
    pub webhook_url: Mutex<Option<String>>,
    /// Set by `stop`: background tasks stop delivering.
    pub stopped: AtomicBool,
}

impl Inner {
    pub fn webhook_url(&self) -> Option<String> {
        self.webhook_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

/// A running sandbox. Dropping it leaves the server running until the runtime ends; call
/// [`Sandbox::stop`] for a graceful shutdown.
pub struct Sandbox {
    inner: Arc<Inner>,
    server: ServerHandle,
}

impl Sandbox {
    /// Serves on `listener` (e.g. bound to `127.0.0.1:0`); returns once listening.
    pub async fn start(
        config: SandboxConfig,
        listener: TcpListener,
    ) -> Result<Sandbox, SandboxError> {
        if config.page_count < 2 {
            return Err(SandboxError::Invalid(
                "page_count must be at least 2 (Acme Coffee and Acme Bikes)".into(),
            ));
        }
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        // A wildcard bind still has to hand out URLs a browser can follow.
        let host = if addr.ip().is_unspecified() {
            format!("127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        let client = http_client().map_err(SandboxError::Client)?;
        let webhook_url = config.webhook_url.clone();
        let base_url = format!("http://{host}");
        let inner = Arc::new(Inner {
            world: World::new(&config, &base_url),
            config,
            base_url,
            client,
            webhook_url: Mutex::new(webhook_url),
            stopped: AtomicBool::new(false),
        });
        let data = web::Data::from(inner.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .configure(control::configure)
                .configure(media::configure)
                .default_service(web::to(graph::handle))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(2)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        tracing::info!(url = %inner.base_url, "Meta sandbox listening");
        Ok(Sandbox {
            inner,
            server: handle,
        })
    }

    /// Binds `127.0.0.1:0` and serves.
    pub async fn start_local(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        Self::start(config, TcpListener::bind("127.0.0.1:0")?).await
    }

    /// Base URL serving both the Graph API (`META_GRAPH_URL`) and the dialog (`META_DIALOG_URL`).
    pub fn url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The bases that play Instagram Login's hosts: `www.instagram.com` (the dialog),
    /// `api.instagram.com` (the code exchange) and `graph.instagram.com`, in that order.
    pub fn instagram_urls(&self) -> (String, String, String) {
        let base = &self.inner.base_url;
        (
            format!("{base}/ig-www"),
            format!("{base}/ig-api"),
            format!("{base}/ig-graph"),
        )
    }

    /// Moves every Instagram Login token's issue and expiry `by` into the past, as if that much
    /// time had gone by (tests of the refresh rules: too young to refresh, expired).
    pub fn age_instagram_tokens(&self, by: std::time::Duration) -> usize {
        let by = chrono::Duration::from_std(by).unwrap_or_default();
        let mut state = self.inner.world.lock();
        let mut n = 0;
        for t in state.tokens.values_mut() {
            if t.kind == TokenKind::InstagramUser {
                t.issued_at -= by;
                t.expires_at = t.expires_at.map(|e| e - by);
                n += 1;
            }
        }
        n
    }

    /// Fields the Instagram Login account is subscribed to through `me/subscribed_apps`.
    pub fn instagram_subscriptions(&self, ig_id: &str) -> Vec<String> {
        self.inner
            .world
            .lock()
            .ig_subscriptions
            .get(ig_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The configuration this sandbox runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// Seeded ids and recorded traffic.
    pub fn world(&self) -> &World {
        &self.inner.world
    }

    /// Changes where webhooks go (e.g. once Parley's port is known); `None` stops delivery.
    pub fn set_webhook_url(&self, url: Option<String>) {
        *self
            .inner
            .webhook_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = url;
    }

    /// A customer sends a message: records it (opening or refreshing the messaging window) and
    /// delivers a signed webhook. Returns after the first delivery attempt.
    pub async fn customer_message(
        &self,
        msg: CustomerMessage,
    ) -> Result<InboundRecord, SandboxError> {
        events::deliver(&self.inner, CustomerEvent::Message(msg)).await
    }

    /// Any other customer action (postback, reaction, comment, WhatsApp location...).
    pub async fn customer_event(
        &self,
        event: CustomerEvent,
    ) -> Result<InboundRecord, SandboxError> {
        events::deliver(&self.inner, event).await
    }

    /// The business posts a story on the Instagram account now (one with `few_viewers` answers
    /// its insights with Meta's code 10); returns the story's media id.
    pub fn post_story(&self, ig_id: &str, caption: &str, few_viewers: bool) -> String {
        post_insights::post_story(&self.inner, ig_id, caption, few_viewers)
    }

    /// The story's 24 hours end now: it leaves `/stories` and its insights, and Meta sends the
    /// `story_insights` webhook with its final figures. False for an unknown story.
    pub async fn expire_story(&self, media_id: &str) -> bool {
        post_insights::expire_story(&self.inner, media_id).await
    }

    /// Meta rates a template (`GREEN`, `YELLOW`, `RED`): a RED approved template is paused, a
    /// RED paused one disabled; the quality and status webhooks follow. False when unknown.
    pub async fn rate_template(&self, name: &str, language: &str, score: &str) -> bool {
        templates::rate(&self.inner, name, language, score).await
    }

    /// Meta moves a template to another category; the `template_category_update` webhook
    /// follows. False when unknown.
    pub async fn recategorise_template(&self, name: &str, language: &str, category: &str) -> bool {
        templates::recategorise(&self.inner, name, language, category).await
    }

    /// Everything Parley sent through the Send API or WhatsApp `messages`, oldest first.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.inner.world.sent_messages()
    }

    /// Every webhook delivery attempt (and webhooks recorded but not delivered), oldest first.
    pub fn webhooks_delivered(&self) -> Vec<DeliveredWebhook> {
        self.inner.world.webhooks()
    }

    /// Makes the next `fault.count` matching Graph requests fail (or slow down) as described.
    pub fn inject_fault(&self, fault: Fault) {
        self.inner.world.lock().faults.push(fault);
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.inner.world.lock().faults.clear();
    }

    /// Invalidates existing tokens with a Meta 190 subcode (460 password changed, 463 expired,
    /// 458 app not installed, ...). Page tokens derived from a revoked user token go with it.
    /// Returns how many tokens were revoked.
    pub fn revoke_token(&self, which: TokenSelector, subcode: u32) -> usize {
        self.inner.world.revoke(&which, subcode)
    }

    /// Issues a token directly, skipping the OAuth dialog (tests and demos).
    pub fn issue_token(&self, request: IssueToken) -> Result<String, SandboxError> {
        self.inner.world.issue(&request)
    }

    /// Stops serving (in-flight requests get 2 s) and stops background deliveries.
    pub async fn stop(self) {
        self.inner.stopped.store(true, Ordering::Relaxed);
        self.server.stop(true).await;
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

/// The sandbox's own outbound client (webhook deliveries): rustls on ring, no redirects.
fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .user_agent(concat!("MetaSandbox/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
