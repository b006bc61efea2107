//! Settings of the Instagram app behind "Instagram API with Instagram Login": Meta gives it its
//! own id and secret, and its own dialog, token and Graph hosts.

use secrecy::SecretString;

use super::{ConfigError, parse_base_url};

/// The Instagram Login app; `None` fields mean the path is not configured.
#[derive(Debug, Clone)]
pub struct InstagramLoginConfig {
    pub app_id: Option<String>,
    /// Also signs the webhooks of accounts connected this way.
    pub app_secret: Option<SecretString>,
    /// `https://www.instagram.com` (the authorization dialog).
    pub dialog_url: String,
    /// `https://api.instagram.com` (the code exchange).
    pub api_url: String,
    /// `https://graph.instagram.com` (long-lived tokens, `/me`, messages, comments, insights).
    pub graph_url: String,
}

impl InstagramLoginConfig {
    /// Reads `META_INSTAGRAM_*` through `get`.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let app_id = get("META_INSTAGRAM_APP_ID");
        if let Some(id) = &app_id
            && !id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(ConfigError::new(
                "META_INSTAGRAM_APP_ID",
                "expected the numeric Instagram app id from Meta's App Dashboard (Instagram > API setup with Instagram login)",
            ));
        }
        let base = |var: &'static str, default: &str| {
            parse_base_url(var, &get(var).unwrap_or_else(|| default.to_string()))
        };
        Ok(InstagramLoginConfig {
            app_id,
            app_secret: get("META_INSTAGRAM_APP_SECRET").map(SecretString::from),
            dialog_url: base("META_INSTAGRAM_DIALOG_URL", "https://www.instagram.com")?,
            api_url: base("META_INSTAGRAM_API_URL", "https://api.instagram.com")?,
            graph_url: base("META_INSTAGRAM_GRAPH_URL", "https://graph.instagram.com")?,
        })
    }

    /// What an admin must still set for the path to work (empty: nothing).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.app_id.is_none() {
            out.push("META_INSTAGRAM_APP_ID");
        }
        if self.app_secret.is_none() {
            out.push("META_INSTAGRAM_APP_SECRET");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::InstagramLoginConfig;

    #[test]
    fn defaults_overrides_and_refusals() {
        let none = InstagramLoginConfig::from_env(&|_| None).unwrap();
        assert_eq!(none.graph_url, "https://graph.instagram.com");
        assert_eq!(none.api_url, "https://api.instagram.com");
        assert_eq!(none.dialog_url, "https://www.instagram.com");
        assert_eq!(
            none.missing(),
            ["META_INSTAGRAM_APP_ID", "META_INSTAGRAM_APP_SECRET"]
        );
        let set = InstagramLoginConfig::from_env(&|k| match k {
            "META_INSTAGRAM_APP_ID" => Some("123".into()),
            "META_INSTAGRAM_APP_SECRET" => Some("s".into()),
            "META_INSTAGRAM_GRAPH_URL" => Some("http://127.0.0.1:9/".into()),
            _ => None,
        })
        .unwrap();
        assert!(set.missing().is_empty());
        assert_eq!(set.graph_url, "http://127.0.0.1:9");
        let bad = InstagramLoginConfig::from_env(&|k| {
            (k == "META_INSTAGRAM_APP_ID").then(|| "ig-app".into())
        });
        assert_eq!(bad.unwrap_err().var, "META_INSTAGRAM_APP_ID");
    }
}
