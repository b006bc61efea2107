//! What every request handler and job can reach.

use std::sync::Arc;

use crate::config::Config;
use crate::crypto::TokenCipher;
use crate::db::PgPool;
use crate::meta::GraphClient;
use crate::web::metrics::Metrics;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The one client for Meta's Graph API.
    pub graph: GraphClient,
    /// Encrypts and decrypts stored Meta tokens.
    pub cipher: Arc<TokenCipher>,
    /// Signalled when this process has stored webhook deliveries, so its processors start at
    /// once instead of at their next poll (deliveries stored by other processes wait for that).
    pub deliveries_stored: Arc<tokio::sync::Notify>,
}

/// Why the state could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("PARLEY_ENCRYPTION_KEY is not set")]
    NoEncryptionKey,
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Graph(#[from] crate::meta::GraphError),
}

impl AppState {
    /// Builds the state for `config` on `pool`.
    pub fn new(pool: PgPool, config: Config) -> Result<AppState, StateError> {
        let key = config
            .encryption_key
            .as_ref()
            .ok_or(StateError::NoEncryptionKey)?;
        let old: Vec<&[u8]> = config
            .old_encryption_keys
            .iter()
            .map(|k| k.expose())
            .collect();
        let cipher = TokenCipher::new(key.expose(), &old)?;
        let graph = GraphClient::new(crate::meta::GraphSettings::from_config(&config.meta))?;
        Ok(AppState {
            pool,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            graph,
            cipher: Arc::new(cipher),
            deliveries_stored: Arc::new(tokio::sync::Notify::new()),
        })
    }
}
