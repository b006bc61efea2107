//! Starting Parley: keys, the database (embedded or configured), migrations, the web server and
//! the job workers, and stopping them all in order.

use secrecy::ExposeSecret;
use std::net::TcpListener;

use crate::config::{Config, ConfigError};
use crate::db::{self, DbError};
use crate::embedded_pg::{EmbeddedPgError, EmbeddedPostgres};
use crate::error::AppError;
use crate::jobs::worker::WorkerPool;
use crate::keyfiles::{self, KeyFileError, Missing};
use crate::state::AppState;

/// Why Parley could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Keys(#[from] KeyFileError),
    #[error("embedded database: {0}")]
    EmbeddedPg(#[from] EmbeddedPgError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {why}")]
    Listen { addr: String, why: String },
    #[error("{0}")]
    Other(String),
}

impl From<AppError> for StartError {
    fn from(e: AppError) -> Self {
        StartError::Other(e.to_string())
    }
}

/// An open database: the URL, and the embedded cluster when Parley runs its own.
pub struct Database {
    pub url: secrecy::SecretString,
    /// Kept alive for the life of the process; dropping it stops a cluster this process started.
    pub embedded: Option<EmbeddedPostgres>,
}

/// Opens the configured database, or starts the embedded one, and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, StartError> {
    let (url, embedded) = match &config.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let pg = EmbeddedPostgres::start(&config.data_dir.join("pg"))?;
            (pg.database_url(), Some(pg))
        }
    };
    let mut conn = db::connect(url.expose_secret())?;
    let applied = db::migrate(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    Ok(Database { url, embedded })
}

/// A process ready to serve or work: its state and the database it holds open.
pub struct Runtime {
    pub state: AppState,
    pub database: Database,
}

/// Loads keys (generating missing ones when allowed), opens the database and builds the state.
pub fn prepare(mut config: Config, missing_keys: Missing) -> Result<Runtime, StartError> {
    keyfiles::ensure_keys(&mut config, missing_keys)?;
    let database = open_database(&config)?;
    // Job workers, webhook processors, the ingest writer's commits, LISTEN and page requests.
    let pool_size = 16 + config.webhook_processors as u32;
    let pool = db::build_pool(database.url.expose_secret(), pool_size)?;
    let state = AppState::new(pool, config).map_err(|e| StartError::Other(e.to_string()))?;
    Ok(Runtime { state, database })
}

/// Number of concurrent job loops per process.
const WORKER_CONCURRENCY: usize = 4;

/// Serves HTTP (and runs the job workers unless `with_worker` is false) until SIGINT/SIGTERM.
pub async fn serve(runtime: Runtime, with_worker: bool) -> Result<(), StartError> {
    let addr = runtime.state.config.bind;
    let listener = TcpListener::bind(addr).map_err(|e| StartError::Listen {
        addr: addr.to_string(),
        why: e.to_string(),
    })?;
    tracing::info!(url = %runtime.state.config.public_url, %addr, "Parley is listening");
    let workers = with_worker.then(|| WorkerPool::start(runtime.state.clone(), WORKER_CONCURRENCY));
    // actix stops the server itself on SIGINT/SIGTERM and finishes in-flight requests.
    let served = crate::web::server::build(runtime.state.clone(), listener)?.await;
    if let Some(workers) = workers {
        workers.shutdown().await;
    }
    drop(runtime);
    served.map_err(|e| StartError::Other(format!("server error: {e}")))
}

/// Runs only the job workers until SIGINT/SIGTERM.
pub async fn work(runtime: Runtime) -> Result<(), StartError> {
    let workers = WorkerPool::start(runtime.state.clone(), WORKER_CONCURRENCY);
    tracing::info!("job worker running; stop with Ctrl-C");
    wait_for_stop_signal().await;
    workers.shutdown().await;
    drop(runtime);
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn wait_for_stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
