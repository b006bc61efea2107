//! Access tokens as a type that never prints, and `appsecret_proof`.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};

/// Which of Meta's hosts and apps a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHost {
    /// Facebook Login (user, Page and system-user tokens): `graph.facebook.com`, Parley's app.
    Facebook,
    /// Instagram Login (Instagram user tokens): `graph.instagram.com`, the Instagram app.
    Instagram,
}

/// A user, Page, system-user or Instagram user access token. `Debug` never shows it. The token
/// knows its host, so the Graph client can never send it to the wrong one.
#[derive(Clone)]
pub struct AccessToken(SecretString, TokenHost);

impl AccessToken {
    /// A Facebook Login token.
    pub fn new(token: impl Into<String>) -> Self {
        AccessToken(SecretString::from(token.into()), TokenHost::Facebook)
    }

    /// An Instagram Login token (Instagram API with Instagram Login).
    pub fn instagram(token: impl Into<String>) -> Self {
        AccessToken(SecretString::from(token.into()), TokenHost::Instagram)
    }

    pub fn host(&self) -> TokenHost {
        self.1
    }

    /// The token itself, for the Authorization header and for encryption at rest only.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken([REDACTED])")
    }
}

/// `appsecret_proof`: lowercase hex HMAC-SHA256 of the token, keyed by the app secret.
pub fn appsecret_proof(app_secret: &str, token: &str) -> String {
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length, so this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_matches_a_known_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            appsecret_proof("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let t = AccessToken::new("EAAB-secret");
        assert!(!format!("{t:?}").contains("secret"));
    }
}
