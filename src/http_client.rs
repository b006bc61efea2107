//! The one place outbound HTTP clients are built (rustls with the ring provider).

use std::time::Duration;

/// Builds a reqwest client with the given connect and overall timeouts.
///
/// The ring crypto provider must be installed before any rustls client exists, so every client
/// in Parley is built here.
pub fn build(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// Like [`build`], keeping cookies between requests (the demo drives Parley like a browser).
pub fn build_with_cookies(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
