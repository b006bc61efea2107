//! Keeps credentials out of logs: query parameters that carry tokens or secrets are masked.

const SENSITIVE: &[&str] = &[
    "access_token",
    "input_token",
    "appsecret_proof",
    "client_secret",
    "fb_exchange_token",
    "code",
];

/// The URL with every sensitive query value replaced by `[REDACTED]`.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SENSITIVE.contains(&k) => format!("{k}=[REDACTED]"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_tokens_but_keeps_the_rest() {
        let url = "https://graph.example/v24.0/me/accounts?fields=id&access_token=EAAB&appsecret_proof=ab&after=XYZ";
        let r = redact_url(url);
        assert!(!r.contains("EAAB"));
        assert!(r.contains("fields=id") && r.contains("after=XYZ"));
        assert_eq!(redact_url("https://x/y"), "https://x/y");
    }
}
