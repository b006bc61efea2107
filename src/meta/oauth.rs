//! Facebook Login: the dialog URL, code and long-lived token exchanges, and debug_token.

use serde::Deserialize;

use crate::meta::client::{Auth, Call, GraphClient, Repeat};
use crate::meta::error::GraphError;
use crate::meta::token::AccessToken;

/// Permissions Parley asks for when connecting Pages and Instagram accounts (contract §3.1, §5).
pub const CONNECT_SCOPES: &[&str] = &[
    "pages_show_list",
    "pages_manage_metadata",
    "pages_messaging",
    "pages_read_engagement",
    "pages_manage_engagement",
    "read_insights",
    "business_management",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
    "instagram_manage_insights",
];

/// Permissions for WhatsApp (Embedded Signup and system-user tokens).
pub const WHATSAPP_SCOPES: &[&str] = &[
    "whatsapp_business_management",
    "whatsapp_business_messaging",
];

/// A token answer of `/oauth/access_token`.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: AccessToken,
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds; absent for tokens that do not expire.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl<'de> Deserialize<'de> for AccessToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(AccessToken::new)
    }
}

/// `debug_token`'s `data`.
#[derive(Debug, Clone, Deserialize)]
pub struct DebugToken {
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default, rename = "type")]
    pub token_type: Option<String>,
    #[serde(default)]
    pub is_valid: bool,
    /// Unix seconds; 0 = never.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub data_access_expires_at: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub granular_scopes: Vec<GranularScope>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub profile_id: Option<String>,
    #[serde(default)]
    pub error: Option<DebugTokenError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GranularScope {
    pub scope: String,
    #[serde(default)]
    pub target_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DebugTokenError {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub subcode: Option<i64>,
}

impl DebugToken {
    /// Whether the token carries `scope`, for `target` when the grant is per object.
    pub fn grants(&self, scope: &str, target: Option<&str>) -> bool {
        if let Some(g) = self.granular_scopes.iter().find(|g| g.scope == scope) {
            return match (&g.target_ids, target) {
                (Some(ids), Some(t)) => ids.iter().any(|id| id == t),
                _ => true,
            };
        }
        self.scopes.iter().any(|s| s == scope)
    }
}

#[derive(Deserialize)]
struct DebugEnvelope {
    data: DebugToken,
}

fn encode(v: &str) -> String {
    serde_urlencoded::to_string([("", v)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

impl GraphClient {
    /// Where to send the browser to connect assets (`response_type=code`).
    pub fn dialog_url(
        &self,
        redirect_uri: &str,
        state: &str,
        scopes: &[&str],
        config_id: Option<&str>,
    ) -> Result<String, GraphError> {
        let s = &self.inner.settings;
        let mut url = format!(
            "{}/{}/dialog/oauth?client_id={}&redirect_uri={}&state={}&response_type=code&scope={}",
            s.dialog_url,
            s.graph_version,
            encode(self.app_id()?),
            encode(redirect_uri),
            encode(state),
            encode(&scopes.join(","))
        );
        if let Some(config_id) = config_id {
            url.push_str(&format!(
                "&config_id={}&override_default_response_type=true",
                encode(config_id)
            ));
        }
        Ok(url)
    }

    /// Exchanges the dialog's `code` for a (short-lived) user token. Single use: never retried
    /// after an ambiguous failure.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<TokenResponse, GraphError> {
        let call = Call::get("oauth/access_token", Auth::None)
            .query("client_id", self.app_id()?)
            .query("client_secret", self.app_secret()?)
            .query("code", code)
            .query_opt("redirect_uri", redirect_uri);
        self.call(Call {
            repeat: Repeat::Once,
            ..call
        })
        .await
    }

    /// Exchanges a short-lived user token for a long-lived (about 60 days) one.
    pub async fn exchange_long_lived(
        &self,
        short: &AccessToken,
    ) -> Result<TokenResponse, GraphError> {
        let call = Call::get("oauth/access_token", Auth::None)
            .query("grant_type", "fb_exchange_token")
            .query("client_id", self.app_id()?)
            .query("client_secret", self.app_secret()?)
            .query("fb_exchange_token", short.expose_secret());
        self.call(call).await
    }

    /// What Meta knows of a token: validity, expiry, scopes (with the app token).
    pub async fn debug_token(&self, token: &AccessToken) -> Result<DebugToken, GraphError> {
        let call = Call::get("debug_token", Auth::App).query("input_token", token.expose_secret());
        self.call::<DebugEnvelope>(call).await.map(|e| e.data)
    }
}
