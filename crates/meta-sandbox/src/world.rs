//! The in-memory state of one sandbox: tokens, windows, seeded content and recorded traffic.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::content::{FbComment, IgComment, IgMedia, Post};
use super::faults::{Fault, Usage};
use super::media::Media;
use super::seed::{self, Channel, Seed};
use super::templates::Template;
use super::util::random_alnum;
use super::{SandboxConfig, SandboxError};

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    User,
    Page,
    SystemUser,
    /// An Instagram Login token (`graph.instagram.com`); the subject is the IG account id.
    InstagramUser,
}

/// Which tokens [`super::Sandbox::revoke_token`] invalidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    All,
    Token(String),
    Kind(TokenKind),
}

/// A token to issue directly, without the OAuth dialog.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IssueToken {
    /// A long-lived user token of the sandbox admin with every scope.
    User,
    /// A non-expiring Page token.
    Page { page_id: String },
    /// A business system-user token for the WhatsApp Business Account.
    SystemUser,
}

/// One message Parley sent (Send API or WhatsApp `messages`), with the request body.
#[derive(Debug, Clone, Serialize)]
pub struct SentMessage {
    /// `m_…` / IG message id / `wamid.…`; empty for sender actions and read receipts.
    pub message_id: String,
    pub channel: Channel,
    /// Page id, IG account id or phone number id that sent it.
    pub account_id: String,
    /// PSID, IGSID, wa_id, or `comment:<id>` for private replies.
    pub recipient: String,
    /// The Graph path called, e.g. `/v24.0/me/messages`.
    pub path: String,
    /// The request parameters as received (JSON body, or form/query fields).
    pub body: Value,
    pub at: DateTime<Utc>,
}

/// One webhook delivery attempt (or a webhook recorded without delivery).
#[derive(Debug, Clone, Serialize)]
pub struct DeliveredWebhook {
    /// Same for every attempt of one webhook.
    pub delivery_id: u64,
    /// 1 for the first try; 0 when not delivered at all (see `error`).
    pub attempt: u32,
    pub url: Option<String>,
    pub object: String,
    pub field: String,
    /// The exact bytes sent (signed).
    pub body: String,
    /// `sha256=<hex>` as sent in `X-Hub-Signature-256`.
    pub signature: String,
    /// HTTP status Parley answered with.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// A customer action the sandbox recorded.
#[derive(Debug, Clone, Serialize)]
pub struct InboundRecord {
    /// Message id (`m_…`, IG mid, `wamid.…`) or comment id.
    pub id: String,
    pub customer_id: String,
    pub channel: Channel,
    /// `message`, `postback`, `comment`, ...
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The first delivery attempt of its webhook.
    pub webhook: Option<DeliveredWebhook>,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// User id, Page id or system user id.
    pub subject: String,
    /// The user token a Page token was derived from.
    pub parent: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub revoked: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub created: DateTime<Utc>,
    pub used: bool,
    /// From WhatsApp Embedded Signup: exchanges for a system-user token.
    pub signup: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingDialog {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    pub signup: bool,
}

/// Everything that changes. One lock; no handler holds it across an await.
/// One Graph request as the sandbox received it (tests check what Parley asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphRequestRecord {
    pub method: String,
    pub path: String,
    /// The `metric` parameter, when there was one.
    pub metric: Option<String>,
}

/// How many Graph requests the log keeps.
pub(crate) const REQUEST_LOG: usize = 5000;

#[derive(Default)]
pub(crate) struct State {
    pub tokens: HashMap<String, Token>,
    pub derived_page_tokens: HashMap<(String, String), String>,
    pub codes: HashMap<String, AuthCode>,
    pub dialogs: HashMap<String, PendingDialog>,
    pub page_subscriptions: HashMap<String, Vec<String>>,
    pub ig_dialogs: HashMap<String, crate::instagram_login::IgDialog>,
    pub ig_codes: HashMap<String, crate::instagram_login::IgCode>,
    /// Instagram Login accounts' `me/subscribed_apps` fields.
    pub ig_subscriptions: HashMap<String, Vec<String>>,
    /// Messenger and Instagram messages, seeded and live, for the Conversations API.
    pub history: Vec<crate::conversations::HistoryMessage>,
    /// Customers added by [`World::add_conversations`] (only the Conversations API knows them).
    pub extra_customers: Vec<crate::seed::Customer>,
    pub waba_subscribed: bool,
    pub waba_override_uri: Option<String>,
    pub last_inbound: HashMap<String, DateTime<Utc>>,
    /// Latest message id Parley sent to each customer (reactions and replies target it).
    pub last_outbound: HashMap<String, String>,
    pub sent: Vec<SentMessage>,
    pub inbound: Vec<InboundRecord>,
    pub webhooks: Vec<DeliveredWebhook>,
    pub faults: Vec<Fault>,
    pub usage: Usage,
    pub posts: Vec<Post>,
    pub fb_comments: Vec<FbComment>,
    pub ig_media: Vec<IgMedia>,
    pub ig_comments: Vec<IgComment>,
    pub private_replies: HashSet<String>,
    pub templates: Vec<Template>,
    /// Resumable Upload sessions by id (`upload:<n>`), and the handles of finished files.
    pub uploads: HashMap<String, crate::uploads::Session>,
    /// (handle, file type).
    pub upload_handles: Vec<(String, String)>,
    /// Template webhooks are decided but not sent (a lost delivery; the poll must notice).
    pub template_webhooks_muted: bool,
    pub media: HashMap<String, Media>,
    /// Download token -> (media id, expiry).
    pub media_urls: HashMap<String, (String, DateTime<Utc>)>,
    pub attachments: HashSet<String>,
    pub registrations: Vec<DateTime<Utc>>,
    /// The latest Graph requests (method, path and query), newest last; capped so a long demo
    /// does not grow without end.
    pub graph_requests: std::collections::VecDeque<GraphRequestRecord>,
    /// WhatsApp pair rate limit: recipient -> (available burst, last refill).
    pub pair_buckets: HashMap<String, (f64, DateTime<Utc>)>,
    counter: u64,
    delivery_counter: u64,
}

impl State {
    /// A fresh numeric id: `prefix` followed by a zero-padded counter to `width` digits.
    pub fn next_id(&mut self, prefix: &str, width: usize) -> String {
        self.counter += 1;
        format!("{prefix}{:0width$}", 5000 + self.counter)
    }

    pub fn next_delivery_id(&mut self) -> u64 {
        self.delivery_counter += 1;
        self.delivery_counter
    }

    /// Creates a token and returns its string.
    pub fn mint(&mut self, token: Token) -> String {
        self.mint_with("EAAS", token)
    }

    /// Creates a token whose string starts with `prefix` (Instagram's start with `IGAA`).
    pub fn mint_with(&mut self, prefix: &str, token: Token) -> String {
        let value = format!("{prefix}{}", random_alnum(120));
        self.tokens.insert(value.clone(), token);
        value
    }
}

/// The seeded world (read-only ids) and its live state.
pub struct World {
    seed: Seed,
    state: Mutex<State>,
}

/// Scopes granted to tokens issued without the dialog.
pub(crate) const USER_SCOPES: &[&str] = &[
    "public_profile",
    "pages_show_list",
    "pages_messaging",
    "pages_manage_metadata",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
    "read_insights",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "business_management",
];
pub(crate) const SYSTEM_SCOPES: &[&str] = &[
    "business_management",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
];

impl World {
    pub(crate) fn new(config: &SandboxConfig, base_url: &str) -> Self {
        let seed = seed::build(
            &config.app_id,
            &config.graph_version,
            config.page_count,
            base_url,
        );
        let now = Utc::now();
        let mut state = State::default();
        for c in &seed.customers {
            if let Some(hours) = c.last_inbound_hours_ago {
                state
                    .last_inbound
                    .insert(c.id.clone(), now - TimeDelta::hours(hours));
            }
        }
        super::content::seed_content(&seed, &mut state, now, base_url);
        state.history = super::conversations::seeded(&seed, now);
        state.templates = super::templates::seeded(now);
        Self {
            seed,
            state: Mutex::new(state),
        }
    }

    /// Seeded ids and names.
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything Parley sent, oldest first.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.lock().sent.clone()
    }

    /// The latest Graph requests (up to 5,000), oldest first.
    pub fn graph_requests(&self) -> Vec<GraphRequestRecord> {
        self.lock().graph_requests.iter().cloned().collect()
    }

    /// Every webhook attempt, oldest first.
    pub fn webhooks(&self) -> Vec<DeliveredWebhook> {
        self.lock().webhooks.clone()
    }

    /// Every recorded customer action, oldest first.
    pub fn inbound(&self) -> Vec<InboundRecord> {
        self.lock().inbound.clone()
    }

    /// When a customer last wrote to the business (drives messaging windows).
    pub fn last_inbound(&self, customer_id: &str) -> Option<DateTime<Utc>> {
        self.lock().last_inbound.get(customer_id).copied()
    }

    /// Fields the Page is subscribed to through `subscribed_apps`.
    pub fn page_subscriptions(&self, page_id: &str) -> Vec<String> {
        self.lock()
            .page_subscriptions
            .get(page_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Adds `count` past conversations to the Page's Messenger or the Instagram account (a
    /// history longer than one page of the Conversations API), each active `hours_ago` or
    /// earlier; returns the new customers' ids, most recent first.
    pub fn add_conversations(&self, account_id: &str, count: usize, hours_ago: i64) -> Vec<String> {
        crate::conversations::add(&self.seed, &mut self.lock(), account_id, count, hours_ago)
    }

    /// Stops (or resumes) sending template webhooks; reviews still happen.
    pub fn mute_template_webhooks(&self, muted: bool) {
        self.lock().template_webhooks_muted = muted;
    }

    /// Adds `count` approved templates to the WhatsApp account (a library longer than one page).
    pub fn add_templates(&self, count: usize) {
        crate::templates::add_bulk(&mut self.lock(), count);
    }

    /// Status of a message template by name and language, if it exists.
    pub fn template_status(&self, name: &str, language: &str) -> Option<String> {
        self.lock()
            .templates
            .iter()
            .find(|t| t.name == name && t.language == language && !t.deleted)
            .map(|t| t.status.clone())
    }

    pub(crate) fn revoke(&self, which: &TokenSelector, subcode: u32) -> usize {
        let mut state = self.lock();
        let mut hit: Vec<String> = state
            .tokens
            .iter()
            .filter(|(value, t)| {
                t.revoked.is_none()
                    && match which {
                        TokenSelector::All => true,
                        TokenSelector::Token(v) => *value == v,
                        TokenSelector::Kind(k) => t.kind == *k,
                    }
            })
            .map(|(value, _)| value.clone())
            .collect();
        // Page tokens die with the user session they came from.
        let children: Vec<String> = state
            .tokens
            .iter()
            .filter(|(_, t)| {
                t.revoked.is_none() && t.parent.as_ref().is_some_and(|p| hit.contains(p))
            })
            .map(|(value, _)| value.clone())
            .collect();
        hit.extend(children);
        hit.sort();
        hit.dedup();
        for value in &hit {
            if let Some(t) = state.tokens.get_mut(value) {
                t.revoked = Some(subcode);
            }
        }
        hit.len()
    }

    pub(crate) fn issue(&self, request: &IssueToken) -> Result<String, SandboxError> {
        let now = Utc::now();
        let (kind, subject, scopes) = match request {
            IssueToken::User => (TokenKind::User, seed::USER_ID.to_string(), USER_SCOPES),
            IssueToken::Page { page_id } => {
                if self.seed.page(page_id).is_none() {
                    return Err(SandboxError::UnknownObject(page_id.clone()));
                }
                (TokenKind::Page, page_id.clone(), USER_SCOPES)
            }
            IssueToken::SystemUser => (
                TokenKind::SystemUser,
                seed::SYSTEM_USER_ID.to_string(),
                SYSTEM_SCOPES,
            ),
        };
        let expires_at = (kind == TokenKind::User).then(|| now + TimeDelta::days(60));
        Ok(self.lock().mint(Token {
            kind,
            subject,
            parent: None,
            issued_at: now,
            expires_at,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            revoked: None,
        }))
    }
}
