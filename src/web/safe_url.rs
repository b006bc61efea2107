//! Links and pictures that came from Meta (shared links, story URLs, profile pictures) are
//! rendered only as [`SafeUrl`]s: absolute `https`/`http` URLs with a host, or Parley's own
//! paths. A `javascript:`, `data:` or otherwise odd URL in a payload never reaches an `href` or
//! `src`; templates take this type, so the compiler sees to it.

use std::fmt;

/// A URL that may be rendered in `href` or `src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeUrl(String);

impl SafeUrl {
    /// An outside address: `https://` or `http://` with a host, no whitespace or control
    /// characters, at most 4,096 bytes.
    pub fn external(raw: &str) -> Option<SafeUrl> {
        if raw.len() > 4096 || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return None;
        }
        let lower = raw
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let rest = if lower.starts_with("https://") {
            &raw[8..]
        } else if lower.starts_with("http://") {
            &raw[7..]
        } else {
            return None;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        (!host.is_empty() && !host.contains('\\') && !rest.contains('\\'))
            .then(|| SafeUrl(raw.to_string()))
    }

    /// One of Parley's own paths (`/media/...`); never a `//host` or `/\host`.
    pub fn local(path: String) -> Option<SafeUrl> {
        let ok = path.starts_with('/')
            && !path[1..].starts_with(['/', '\\'])
            && !path
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
        ok.then_some(SafeUrl(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_pass() {
        for good in [
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x",
            "http://example.com",
            "HTTPS://Example.com/a",
        ] {
            assert!(SafeUrl::external(good).is_some(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.example/x",
            "https://",
            "https:///path",
            "https://ex ample.com",
            "https://example.com/\u{0}",
            "https:\\\\evil.example",
            "https://evil.example\\@good.example",
            "/relative",
            "",
        ] {
            assert!(SafeUrl::external(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn local_paths_stay_local() {
        assert!(SafeUrl::local("/media/1/0".into()).is_some());
        assert!(SafeUrl::local("//evil.example".into()).is_none());
        assert!(SafeUrl::local("/\\evil.example".into()).is_none());
        assert!(SafeUrl::local("https://evil.example".into()).is_none());
    }
}
