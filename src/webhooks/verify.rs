//! Meta's webhook handshake and payload signatures.

use hmac::{Hmac, KeyInit, Mac};

use crate::crypto::constant_time_eq;

/// Why a POST is refused before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not of the form sha256=<hex>")]
    Malformed,
    #[error("signature does not match the body")]
    Mismatch,
    #[error("neither META_APP_SECRET nor META_INSTAGRAM_APP_SECRET is configured")]
    NoSecret,
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` as an HMAC-SHA256 of the raw body bytes, keyed
/// by the app secret, in constant time. The body must be exactly the bytes received.
pub fn verify_signature(
    app_secret: Option<&str>,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    verify_signed_by_any(&app_secret.into_iter().collect::<Vec<_>>(), body, header)
}

/// Like [`verify_signature`], for deliveries that either of Parley's Meta apps may sign (the
/// Facebook app, and the Instagram Login app): accepted when one of `secrets` signed the body,
/// and nothing else. Every secret is tried, so the time taken does not say which one matched.
pub fn verify_signed_by_any(
    secrets: &[&str],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let given = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut matched = false;
    for secret in secrets {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| SignatureError::NoSecret)?;
        mac.update(body);
        matched |= mac.verify_slice(&given).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Signs a body as Meta does (for the sandbox's simulator and tests).
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The subscription handshake: the challenge to echo when mode and token are right.
pub fn handshake<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    verify_token: Option<&str>,
) -> Option<&'a str> {
    let (Some("subscribe"), Some(given), Some(expected), Some(challenge)) =
        (mode, token, verify_token, challenge)
    else {
        return None;
    };
    constant_time_eq(given.as_bytes(), expected.as_bytes()).then_some(challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_apps_secret_may_sign_and_nothing_else() {
        let body = br#"{"object":"instagram","entry":[]}"#;
        let by_facebook = sign("facebook-secret", body);
        let by_instagram = sign("instagram-secret", body);
        let by_stranger = sign("someone-else", body);
        let both = ["facebook-secret", "instagram-secret"];
        assert_eq!(
            verify_signed_by_any(&both, body, Some(&by_facebook)),
            Ok(())
        );
        assert_eq!(
            verify_signed_by_any(&both, body, Some(&by_instagram)),
            Ok(())
        );
        assert_eq!(
            verify_signed_by_any(&both, body, Some(&by_stranger)),
            Err(SignatureError::Mismatch)
        );
        // Only the Facebook app configured: the Instagram app's signature is refused.
        assert_eq!(
            verify_signed_by_any(&["facebook-secret"], body, Some(&by_instagram)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signed_by_any(&[], body, Some(&by_facebook)),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn accepts_only_the_exact_bytes() {
        let body = br#"{"object":"page","entry":[{"id":"1","text":"caf\u00e9"}]}"#;
        let sig = sign("s3cret", body);
        assert!(verify_signature(Some("s3cret"), body, Some(&sig)).is_ok());
        assert_eq!(
            verify_signature(Some("other"), body, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        // Re-serialising (here: unescaping é) changes the bytes and breaks the signature.
        let reencoded =
            "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"text\":\"café\"}]}".as_bytes();
        assert_eq!(
            verify_signature(Some("s3cret"), reencoded, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(Some("s3cret"), body, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(Some("s3cret"), body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(None, body, Some(&sig)),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn handshake_needs_subscribe_and_the_token() {
        assert_eq!(
            handshake(Some("subscribe"), Some("tok"), Some("123"), Some("tok")),
            Some("123")
        );
        assert_eq!(
            handshake(Some("subscribe"), Some("bad"), Some("123"), Some("tok")),
            None
        );
        assert_eq!(
            handshake(Some("unsubscribe"), Some("tok"), Some("123"), Some("tok")),
            None
        );
        assert_eq!(
            handshake(Some("subscribe"), Some("tok"), Some("123"), None),
            None
        );
    }
}
