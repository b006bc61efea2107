//! Typed configuration read from the environment (and `.env`).
//!
//! Every value is validated up front so that a bad deployment fails at start with one line naming
//! the variable and what it expects, instead of failing later in the middle of a request.

mod instagram;
pub use instagram::InstagramLoginConfig;

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;

/// A configuration value that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What was expected (never echoes a secret's value).
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

/// Webhook processor loops per worker process unless `PARLEY_WEBHOOK_PROCESSORS` says otherwise.
pub const DEFAULT_WEBHOOK_PROCESSORS: usize = 4;

/// Live-update streams per process unless `PARLEY_LIVE_STREAMS_MAX` says otherwise.
pub const DEFAULT_LIVE_STREAMS_MAX: usize = 500;

/// Which past conversations a new channel imports: those active in the last `days`, at most
/// `max_conversations` (`PARLEY_HISTORY_IMPORT_DAYS`, `PARLEY_HISTORY_IMPORT_MAX`), asking
/// Meta's Conversations API at most `calls_per_second` times a second per channel
/// (`PARLEY_HISTORY_IMPORT_RATE`; Meta allows about 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryImportWindow {
    pub days: i64,
    pub max_conversations: i32,
    pub calls_per_second: u32,
}

impl Default for HistoryImportWindow {
    fn default() -> Self {
        HistoryImportWindow {
            days: 30,
            max_conversations: 1000,
            calls_per_second: 2,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings of Parley's one Meta app.
#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub app_id: Option<String>,
    pub app_secret: Option<SecretString>,
    pub verify_token: Option<SecretString>,
    pub graph_url: String,
    pub graph_version: String,
    pub dialog_url: String,
    /// The separate app behind "Instagram API with Instagram Login".
    pub instagram: InstagramLoginConfig,
}

/// The whole configuration of one Parley process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` means: run the embedded private PostgreSQL cluster under `data_dir/pg`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub public_url: String,
    /// 64 bytes used to sign and encrypt session cookies; `None` until generated or loaded.
    pub session_key: Option<SecretBytes>,
    /// 32 bytes (AES-256) used to encrypt stored Meta tokens.
    pub encryption_key: Option<SecretBytes>,
    /// Earlier encryption keys, still accepted for decryption while tokens are rotated.
    pub old_encryption_keys: Vec<SecretBytes>,
    /// Facebook Login for Business configuration id for WhatsApp Embedded Signup.
    pub whatsapp_signup_config_id: Option<String>,
    pub meta: MetaConfig,
    pub log_format: LogFormat,
    /// Webhook processor loops per worker process: several overlap their batches' commits.
    pub webhook_processors: usize,
    /// What a new Messenger or Instagram channel imports from Meta's Conversations API.
    pub history_import: HistoryImportWindow,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the client address for sign-in
    /// throttling and `/metrics`); empty: the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Client addresses that may read `/metrics` without a token (default: loopback only).
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// A bearer token that opens `/metrics` from anywhere.
    pub metrics_token: Option<SecretString>,
    /// Live-update streams this process serves at once, over all users.
    pub live_streams_max: usize,
    /// Days processed webhook deliveries and their items are kept (failed ones until handled).
    pub webhook_retention_days: u32,
}

/// Key material that never prints.
#[derive(Clone)]
pub struct SecretBytes(secrecy::SecretBox<[u8]>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(secrecy::SecretBox::new(bytes.into_boxed_slice()))
    }

    pub fn expose(&self) -> &[u8] {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes([REDACTED])")
    }
}

/// Byte length of `PARLEY_SESSION_KEY` (actix-session's cookie key needs at least 64).
pub const SESSION_KEY_LEN: usize = 64;
/// Byte length of `PARLEY_ENCRYPTION_KEY` (AES-256).
pub const ENCRYPTION_KEY_LEN: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can pass a map instead of the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = match get("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Some(SecretString::from(url))
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "expected a PostgreSQL URL like postgres://user:password@host:5432/parley \
                     (or leave it unset to use the embedded database)",
                ));
            }
            None => None,
        };
        let data_dir = PathBuf::from(get("PARLEY_DATA_DIR").unwrap_or_else(|| "./.parley".into()));
        let bind_text = get("PARLEY_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            ConfigError::new(
                "PARLEY_BIND",
                format!("expected an address and port like 127.0.0.1:8080, got {bind_text:?}"),
            )
        })?;
        let public_url = match get("PARLEY_PUBLIC_URL") {
            Some(url) => parse_base_url("PARLEY_PUBLIC_URL", &url)?,
            None => format!("http://{bind}"),
        };
        let session_key = get("PARLEY_SESSION_KEY")
            .map(|v| parse_hex_key("PARLEY_SESSION_KEY", &v, SESSION_KEY_LEN))
            .transpose()?;
        let encryption_key = get("PARLEY_ENCRYPTION_KEY")
            .map(|v| parse_hex_key("PARLEY_ENCRYPTION_KEY", &v, ENCRYPTION_KEY_LEN))
            .transpose()?;

        let old_encryption_keys = get("PARLEY_ENCRYPTION_KEYS_OLD")
            .map(|v| {
                v.split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| parse_hex_key("PARLEY_ENCRYPTION_KEYS_OLD", k, ENCRYPTION_KEY_LEN))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let whatsapp_signup_config_id = get("META_WHATSAPP_CONFIG_ID");

        let app_id = get("META_APP_ID");
        if let Some(id) = &app_id
            && !id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(ConfigError::new(
                "META_APP_ID",
                "expected the numeric app id from Meta's App Dashboard",
            ));
        }
        let graph_version = get("META_GRAPH_VERSION").unwrap_or_else(|| "v24.0".into());
        if !is_graph_version(&graph_version) {
            return Err(ConfigError::new(
                "META_GRAPH_VERSION",
                format!("expected a Graph API version like v24.0, got {graph_version:?}"),
            ));
        }
        let meta = MetaConfig {
            app_id,
            app_secret: get("META_APP_SECRET").map(SecretString::from),
            verify_token: get("META_VERIFY_TOKEN").map(SecretString::from),
            graph_url: parse_base_url(
                "META_GRAPH_URL",
                &get("META_GRAPH_URL").unwrap_or_else(|| "https://graph.facebook.com".into()),
            )?,
            graph_version,
            dialog_url: parse_base_url(
                "META_DIALOG_URL",
                &get("META_DIALOG_URL").unwrap_or_else(|| "https://www.facebook.com".into()),
            )?,
            instagram: InstagramLoginConfig::from_env(&get)?,
        };
        let log_format = match get("PARLEY_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "PARLEY_LOG_FORMAT",
                    format!("expected \"text\" or \"json\", got {other:?}"),
                ));
            }
        };
        let webhook_processors = match get("PARLEY_WEBHOOK_PROCESSORS") {
            None => DEFAULT_WEBHOOK_PROCESSORS,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PARLEY_WEBHOOK_PROCESSORS",
                        format!("expected a number from 1 to 64, got {v:?}"),
                    )
                })?,
        };

        let number = |var: &'static str, default: i64, max: i64| -> Result<i64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=max).contains(n))
                    .ok_or_else(|| {
                        ConfigError::new(
                            var,
                            format!("expected a number from 0 to {max}, got {v:?}"),
                        )
                    }),
            }
        };
        let defaults = HistoryImportWindow::default();
        let history_import = HistoryImportWindow {
            days: number("PARLEY_HISTORY_IMPORT_DAYS", defaults.days, 365)?,
            max_conversations: i32::try_from(number(
                "PARLEY_HISTORY_IMPORT_MAX",
                i64::from(defaults.max_conversations),
                100_000,
            )?)
            .unwrap_or(defaults.max_conversations),
            calls_per_second: u32::try_from(number(
                "PARLEY_HISTORY_IMPORT_RATE",
                i64::from(defaults.calls_per_second),
                1000,
            )?)
            .unwrap_or(defaults.calls_per_second)
            .max(1),
        };

        let trusted_proxies =
            parse_networks("PARLEY_TRUSTED_PROXIES", get("PARLEY_TRUSTED_PROXIES"))?;
        let metrics_allow = match get("PARLEY_METRICS_ALLOW") {
            Some(v) => parse_networks("PARLEY_METRICS_ALLOW", Some(v))?,
            None => parse_networks("PARLEY_METRICS_ALLOW", Some("127.0.0.0/8,::1/128".into()))?,
        };
        let metrics_token = get("PARLEY_METRICS_TOKEN").map(SecretString::from);
        let live_streams_max = match get("PARLEY_LIVE_STREAMS_MAX") {
            None => DEFAULT_LIVE_STREAMS_MAX,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PARLEY_LIVE_STREAMS_MAX",
                        format!("expected a number from 1 to 100000, got {v:?}"),
                    )
                })?,
        };

        let webhook_retention_days = match get("PARLEY_WEBHOOK_RETENTION_DAYS") {
            None => 30,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=3650).contains(n))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PARLEY_WEBHOOK_RETENTION_DAYS",
                        format!("expected a number of days from 1 to 3650, got {v:?}"),
                    )
                })?,
        };

        Ok(Self {
            database_url,
            data_dir,
            bind,
            public_url,
            session_key,
            encryption_key,
            old_encryption_keys,
            whatsapp_signup_config_id,
            meta,
            log_format,
            webhook_processors,
            history_import,
            trusted_proxies,
            metrics_allow,
            metrics_token,
            live_streams_max,
            webhook_retention_days,
        })
    }

    /// Whether cookies must carry the `Secure` flag.
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn is_graph_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(major), Some(minor), None)
            if !major.is_empty() && !minor.is_empty()
                && major.chars().all(|c| c.is_ascii_digit())
                && minor.chars().all(|c| c.is_ascii_digit())
    )
}

/// Accepts `http(s)://host[:port][/path]` and returns it without a trailing slash.
pub(crate) fn parse_base_url(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let trimmed = value.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(trimmed.to_string())
        }
        _ => Err(ConfigError::new(
            var,
            format!("expected an http:// or https:// URL, got {value:?}"),
        )),
    }
}

/// A comma-separated list of addresses or networks (`10.0.0.1`, `10.0.0.0/8`, `::1`).
fn parse_networks(
    var: &'static str,
    value: Option<String>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        var,
                        format!("expected addresses or networks like 10.0.0.1 or 10.0.0.0/8, got {item:?}"),
                    )
                })
        })
        .collect()
}

fn parse_hex_key(var: &'static str, value: &str, len: usize) -> Result<SecretBytes, ConfigError> {
    let expected = || {
        ConfigError::new(
            var,
            format!(
                "expected {} hexadecimal characters ({len} random bytes, e.g. from `openssl rand -hex {len}`)",
                len * 2
            ),
        )
    };
    let bytes = hex::decode(value.trim()).map_err(|_| expected())?;
    if bytes.len() != len {
        return Err(expected());
    }
    Ok(SecretBytes::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert!(c.database_url.is_none());
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.meta.graph_version, "v24.0");
        assert_eq!(c.meta.graph_url, "https://graph.facebook.com");
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.webhook_processors, DEFAULT_WEBHOOK_PROCESSORS);
        assert!(c.trusted_proxies.is_empty());
        let loopback: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        assert!(c.metrics_allow.iter().any(|n| n.contains(&loopback)));
        let elsewhere: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        assert!(!c.metrics_allow.iter().any(|n| n.contains(&elsewhere)));
    }

    #[test]
    fn networks_accept_single_addresses_and_prefixes() {
        let c = config(&[("PARLEY_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12,::1")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
    }

    #[test]
    fn each_malformed_value_names_its_variable() {
        let cases = [
            ("PARLEY_BIND", "nonsense"),
            ("DATABASE_URL", "mysql://x"),
            ("PARLEY_SESSION_KEY", "abcd"),
            ("PARLEY_ENCRYPTION_KEY", "zz"),
            ("META_GRAPH_VERSION", "24"),
            ("META_GRAPH_URL", "graph.facebook.com"),
            ("PARLEY_PUBLIC_URL", "ftp://x"),
            ("PARLEY_LOG_FORMAT", "xml"),
            ("META_APP_ID", "abc"),
            ("PARLEY_WEBHOOK_PROCESSORS", "0"),
            ("PARLEY_WEBHOOK_PROCESSORS", "many"),
            ("PARLEY_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("PARLEY_METRICS_ALLOW", "localhost"),
            ("PARLEY_LIVE_STREAMS_MAX", "0"),
            ("PARLEY_WEBHOOK_RETENTION_DAYS", "0"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn secret_values_are_not_echoed_in_errors() {
        let err = config(&[("PARLEY_SESSION_KEY", "my-secret-value")]).unwrap_err();
        assert!(!err.to_string().contains("my-secret-value"));
    }
}
