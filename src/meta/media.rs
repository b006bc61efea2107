//! Downloading media that Meta links to: only from Meta's media hosts (or the configured Graph
//! host, e.g. the sandbox), following at most a few redirects that stay on those hosts, with a
//! size limit and a content-type check.

use futures_util::StreamExt;

use crate::meta::client::GraphClient;
use crate::meta::error::GraphError;
use crate::meta::token::AccessToken;

/// Hosts Meta serves message media from.
const MEDIA_HOST_SUFFIXES: &[&str] = &[
    ".fbcdn.net",
    ".fbsbx.com",
    ".facebook.com",
    ".cdninstagram.com",
    ".instagram.com",
    ".whatsapp.net",
];

/// Content types Parley stores; anything else is refused.
pub fn allowed_content_type(mime: &str) -> bool {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("image/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || matches!(
            mime.as_str(),
            "application/pdf"
                | "text/plain"
                | "application/msword"
                | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                | "application/vnd.ms-excel"
                | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                | "application/vnd.ms-powerpoint"
                | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
                | "application/zip"
                | "application/octet-stream"
        )
}

/// Whether `url` is on one of Meta's media hosts, or on `graph_host` (the configured Graph API).
pub fn allowed_url(url: &reqwest::Url, graph_host: Option<&str>) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let https = url.scheme() == "https";
    let on_meta = https
        && MEDIA_HOST_SUFFIXES
            .iter()
            .any(|s| host.ends_with(s) || host == &s[1..]);
    on_meta || graph_host.is_some_and(|g| g == host)
}

/// A downloaded file.
#[derive(Debug, Clone)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl GraphClient {
    fn graph_host(&self) -> Option<String> {
        reqwest::Url::parse(&self.inner.settings.graph_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
    }

    /// Fetches a media URL from a webhook (Messenger/Instagram CDN, or WhatsApp's with `token`).
    pub async fn fetch_media(
        &self,
        url: &str,
        token: Option<&AccessToken>,
        max_bytes: usize,
    ) -> Result<Media, GraphError> {
        let graph_host = self.graph_host();
        let mut current = reqwest::Url::parse(url)
            .map_err(|_| GraphError::unexpected("the media URL is not a URL"))?;
        for _ in 0..4 {
            if !allowed_url(&current, graph_host.as_deref()) {
                return Err(GraphError::unexpected(format!(
                    "refused to download media from {} (not one of Meta's media hosts)",
                    current.host_str().unwrap_or("?")
                )));
            }
            let mut req = self.inner.http.get(current.clone());
            if let Some(t) = token {
                req = req.bearer_auth(t.expose_secret());
            }
            let res = req.send().await.map_err(|e| {
                GraphError::network(
                    !e.is_connect(),
                    format!("media download failed: {}", e.without_url()),
                )
            })?;
            if res.status().is_redirection() {
                let next = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or_else(|| GraphError::unexpected("media redirect without a location"))?;
                current = next;
                continue;
            }
            let status = res.status().as_u16();
            if !(200..300).contains(&status) {
                let body = res.bytes().await.unwrap_or_default();
                return Err(GraphError::from_response(status, &body));
            }
            let content_type = res
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            if !allowed_content_type(&content_type) {
                return Err(GraphError::unexpected(format!(
                    "refused media of type {content_type}"
                )));
            }
            if res.content_length().is_some_and(|n| n as usize > max_bytes) {
                return Err(GraphError::unexpected(format!(
                    "media is larger than {max_bytes} bytes"
                )));
            }
            let mut stream = res.bytes_stream();
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk =
                    chunk.map_err(|_| GraphError::network(true, "media download interrupted"))?;
                if bytes.len() + chunk.len() > max_bytes {
                    return Err(GraphError::unexpected(format!(
                        "media is larger than {max_bytes} bytes"
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Media {
                bytes,
                content_type,
            });
        }
        Err(GraphError::unexpected(
            "too many redirects downloading media",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_meta_hosts_over_https_or_the_graph_host() {
        let ok = |u: &str, g: Option<&str>| allowed_url(&reqwest::Url::parse(u).unwrap(), g);
        assert!(ok("https://scontent.xx.fbcdn.net/v/t1/abc.jpg", None));
        assert!(ok(
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
            None
        ));
        assert!(ok("https://mmg.whatsapp.net/x", None));
        assert!(!ok("http://scontent.xx.fbcdn.net/x", None), "https only");
        assert!(!ok("https://evil.example/fbcdn.net", None));
        assert!(!ok("https://fbcdn.net.evil.example/x", None));
        assert!(ok("http://127.0.0.1:9000/_media/x.png", Some("127.0.0.1")));
    }

    #[test]
    fn content_types_are_checked() {
        assert!(allowed_content_type("image/jpeg"));
        assert!(allowed_content_type("audio/ogg; codecs=opus"));
        assert!(!allowed_content_type("text/html"));
        assert!(!allowed_content_type("application/x-msdownload"));
    }
}
