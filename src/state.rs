//! What every request handler and job can reach.

use std::sync::Arc;

use crate::config::Config;
use crate::crypto::TokenCipher;
use crate::db::PgPool;
use crate::meta::GraphClient;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    /// Renders the process's figures at `/metrics` (`None`: another recorder was installed).
    pub figures: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The one client for Meta's Graph API.
    pub graph: GraphClient,
    /// Encrypts and decrypts stored Meta tokens.
    pub cipher: Arc<TokenCipher>,
    /// Signalled when this process has stored webhook deliveries, so its processors start at
    /// once instead of at their next poll (deliveries stored by other processes wait for that).
    pub deliveries_stored: Arc<tokio::sync::Notify>,
    /// Password hashing and checking (argon2, tens of milliseconds of CPU each) run at most this
    /// many at a time, so that a flood of sign-ins cannot take every core from other requests.
    pub password_work: Arc<tokio::sync::Semaphore>,
}

/// Concurrent argon2 computations per process: all cores but one, and at least one.
fn password_slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

impl AppState {
    /// Runs CPU-heavy password work (hashing, checking) on the blocking pool, at most
    /// [`password_slots`] at once; waits up to 10 s for a slot, then gives up as busy.
    pub async fn password_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::error::AppError> {
        use crate::error::AppError;
        let busy = "Parley is checking many passwords right now. Try again in a moment.";
        let permit = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.password_work.clone().acquire_owned(),
        )
        .await
        .map_err(|_| AppError::Busy(busy))?
        .map_err(|_| AppError::Busy(busy))?;
        let result = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(format!("password task failed: {e}")))?;
        Ok(result)
    }
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
            figures: crate::telemetry::figures::install(),
            graph,
            cipher: Arc::new(cipher),
            deliveries_stored: Arc::new(tokio::sync::Notify::new()),
            password_work: Arc::new(tokio::sync::Semaphore::new(password_slots())),
        })
    }
}
