//! Instagram API with Instagram Login (contract §3.2): the authorization dialog, the code
//! exchange at `api.instagram.com`, 60-day tokens and their refresh at `graph.instagram.com`,
//! the account itself and its webhook subscription.

use serde::Deserialize;
use serde_json::Value;

use crate::meta::client::{Auth, Body, Call, GraphClient, Host, Repeat, Success};
use crate::meta::error::GraphError;
use crate::meta::token::AccessToken;

/// Permissions asked of an Instagram account (the renamed `instagram_business_*` scopes).
pub const INSTAGRAM_SCOPES: &[&str] = &[
    "instagram_business_basic",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
];

/// Asked as well while the insights pages are on.
pub const INSTAGRAM_INSIGHTS_SCOPE: &str = "instagram_business_manage_insights";

/// Webhook fields of an Instagram Login account that Parley handles.
pub const INSTAGRAM_WEBHOOK_FIELDS: &[&str] = &[
    "messages",
    "messaging_postbacks",
    "messaging_seen",
    "message_reactions",
    "message_edit",
    "messaging_referral",
    "comments",
    "mentions",
    "story_insights",
];

/// The short-lived token of a code exchange and the account it is for.
#[derive(Debug, Clone)]
pub struct InstagramGrant {
    pub access_token: AccessToken,
    pub user_id: Option<String>,
    pub permissions: Vec<String>,
}

/// A long-lived (or refreshed) Instagram token.
#[derive(Debug, Clone, Deserialize)]
pub struct InstagramToken {
    #[serde(deserialize_with = "instagram_token")]
    pub access_token: AccessToken,
    /// Seconds (about 60 days).
    #[serde(default)]
    pub expires_in: Option<i64>,
}

fn instagram_token<'de, D: serde::Deserializer<'de>>(d: D) -> Result<AccessToken, D::Error> {
    String::deserialize(d).map(AccessToken::instagram)
}

/// The account behind an Instagram Login token (`GET /me`).
#[derive(Debug, Clone, Deserialize)]
pub struct InstagramAccount {
    /// App-scoped id.
    #[serde(default, deserialize_with = "id_text")]
    pub id: Option<String>,
    /// The professional account's id: what webhooks name as the entry id.
    #[serde(default, deserialize_with = "id_text")]
    pub user_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    #[serde(default)]
    pub account_type: Option<String>,
}

impl InstagramAccount {
    /// The id Parley keys the channel by: the professional account id, which webhooks carry.
    pub fn account_id(&self) -> Option<&str> {
        self.user_id.as_deref().or(self.id.as_deref())
    }
}

/// Ids come as strings, or as numbers from older endpoints.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn encode(v: &str) -> String {
    serde_urlencoded::to_string([("", v)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Reads the code exchange's answer: `{"data":[{access_token,user_id,permissions}]}` as Meta's
/// Business Login page shows it, or the same fields flat, as older answers had them.
fn grant_of(v: Value) -> Result<InstagramGrant, GraphError> {
    let item = match v.get("data").and_then(Value::as_array) {
        Some(items) => items.first().cloned().unwrap_or(Value::Null),
        None => v,
    };
    let token = item
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::unexpected("Instagram's code exchange gave no access token"))?;
    let user_id = match item.get("user_id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let permissions = match item.get("permissions") {
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ok(InstagramGrant {
        access_token: AccessToken::instagram(token),
        user_id,
        permissions,
    })
}

impl GraphClient {
    /// Where to send the browser to connect an Instagram account through Instagram Login.
    pub fn instagram_dialog_url(
        &self,
        redirect_uri: &str,
        state: &str,
        scopes: &[&str],
    ) -> Result<String, GraphError> {
        Ok(format!(
            "{}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope={}&state={}",
            self.settings().instagram.dialog_url,
            encode(self.instagram_app_id()?),
            encode(redirect_uri),
            encode(&scopes.join(",")),
            encode(state)
        ))
    }

    /// Exchanges the dialog's code for a short-lived (1 hour) Instagram token. Single use.
    pub async fn exchange_instagram_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<InstagramGrant, GraphError> {
        let form = vec![
            (
                "client_id".to_string(),
                self.instagram_app_id()?.to_string(),
            ),
            (
                "client_secret".to_string(),
                self.instagram_app_secret()?.to_string(),
            ),
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("redirect_uri".to_string(), redirect_uri.to_string()),
            ("code".to_string(), code.to_string()),
        ];
        let call = Call::post(
            "oauth/access_token",
            Auth::None,
            Body::Form(form),
            Repeat::Once,
        )
        .host(Host::InstagramApi);
        grant_of(self.call::<Value>(call).await?)
    }

    /// Exchanges a short-lived Instagram token for a 60-day one.
    pub async fn instagram_long_lived(
        &self,
        short: &AccessToken,
    ) -> Result<InstagramToken, GraphError> {
        let call = Call::get("access_token", Auth::None)
            .host(Host::InstagramUnversioned)
            .query("grant_type", "ig_exchange_token")
            .query("client_secret", self.instagram_app_secret()?)
            .query("access_token", short.expose_secret());
        self.call(call).await
    }

    /// A fresh 60-day token for a long-lived one that is at least 24 hours old and unexpired.
    pub async fn refresh_instagram_token(
        &self,
        token: &AccessToken,
    ) -> Result<InstagramToken, GraphError> {
        let call = Call::get("refresh_access_token", Auth::None)
            .host(Host::InstagramUnversioned)
            .query("grant_type", "ig_refresh_token")
            .query("access_token", token.expose_secret());
        self.call(call).await
    }

    /// The account the token belongs to.
    pub async fn instagram_me(&self, token: &AccessToken) -> Result<InstagramAccount, GraphError> {
        let call = Call::get("me", Auth::Token(token)).query(
            "fields",
            "id,user_id,username,name,profile_picture_url,account_type",
        );
        self.call(call).await
    }

    /// Subscribes the app to the account's webhook fields.
    pub async fn subscribe_instagram_account(
        &self,
        ig_id: &str,
        token: &AccessToken,
    ) -> Result<(), GraphError> {
        let call = Call::post(
            "me/subscribed_apps",
            Auth::Token(token),
            Body::Form(vec![(
                "subscribed_fields".into(),
                INSTAGRAM_WEBHOOK_FIELDS.join(","),
            )]),
            Repeat::Safe,
        )
        .budget(ig_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Removes the app from the account's webhooks.
    pub async fn unsubscribe_instagram_account(
        &self,
        ig_id: &str,
        token: &AccessToken,
    ) -> Result<(), GraphError> {
        let call = Call::delete("me/subscribed_apps", Auth::Token(token)).budget(ig_id);
        self.call::<Success>(call).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_shapes_of_the_code_exchange() {
        let wrapped = grant_of(serde_json::json!({"data": [{
            "access_token": "IGQ1", "user_id": "1784", "permissions": "instagram_business_basic,instagram_business_manage_messages"
        }]}))
        .unwrap();
        assert_eq!(wrapped.user_id.as_deref(), Some("1784"));
        assert_eq!(wrapped.permissions.len(), 2);
        assert_eq!(
            wrapped.access_token.host(),
            crate::meta::token::TokenHost::Instagram
        );
        let flat = grant_of(
            serde_json::json!({"access_token": "IGQ2", "user_id": 1785, "permissions": ["a"]}),
        )
        .unwrap();
        assert_eq!(flat.user_id.as_deref(), Some("1785"));
        assert_eq!(flat.permissions, ["a"]);
        assert!(grant_of(serde_json::json!({"data": []})).is_err());
    }
}
