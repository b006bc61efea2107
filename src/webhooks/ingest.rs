//! Storing deliveries before acknowledging them, with group commit: deliveries arriving
//! together are written by one multi-row INSERT in one transaction, and each request is answered
//! only after that commit. Under light load a batch is one delivery (no added latency); under
//! heavy load commits are shared, so throughput follows the HTTP layer rather than fsync.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

use crate::db::{PgPool, PgPooled};

/// Most deliveries written by one statement.
const MAX_BATCH: usize = 256;
/// Batches being committed at once (overlapping fsyncs).
const IN_FLIGHT: usize = 4;
/// How long a request waits for its commit before answering 503 (Meta then retries).
const COMMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a delivery was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the webhook writer is not running")]
    Stopped,
    #[error("storing the delivery timed out")]
    Timeout,
    #[error("storing the delivery failed: {0}")]
    Database(String),
}

struct Pending {
    body: Bytes,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle request handlers use to store deliveries.
#[derive(Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Pending>,
}

impl Ingest {
    /// Starts the writer on the current Tokio runtime; `stored` is signalled after each commit.
    pub fn start(pool: PgPool, stored: Arc<Notify>) -> Ingest {
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(writer(pool, rx, stored));
        Ingest { tx }
    }

    /// Stores one delivery durably; returns once it is committed.
    pub async fn store(&self, body: Bytes) -> Result<(), IngestError> {
        let (done, committed) = oneshot::channel();
        self.tx
            .send(Pending { body, done })
            .await
            .map_err(|_| IngestError::Stopped)?;
        match tokio::time::timeout(COMMIT_TIMEOUT, committed).await {
            Err(_) => Err(IngestError::Timeout),
            Ok(Err(_)) => Err(IngestError::Stopped),
            Ok(Ok(result)) => result.map_err(IngestError::Database),
        }
    }
}

/// Connections the writer keeps between its commits. A batch then costs one round trip (its
/// INSERT) instead of two (the pool's liveness check first), and on a small machine a round trip
/// costs about as much as the insert. A connection whose batch failed is not kept: a restarted
/// database costs one failed batch (answered 503, which Meta retries), and the pool checks that
/// connection before anyone uses it again.
#[derive(Clone, Default)]
struct Kept(Arc<std::sync::Mutex<Vec<PgPooled>>>);

impl Kept {
    fn take(&self, pool: &PgPool) -> Result<PgPooled, String> {
        let kept = self.0.lock().ok().and_then(|mut kept| kept.pop());
        match kept {
            Some(conn) => Ok(conn),
            None => pool.get().map_err(|e| e.to_string()),
        }
    }

    fn keep(&self, conn: PgPooled) {
        if let Ok(mut kept) = self.0.lock() {
            kept.push(conn);
        }
    }
}

/// Stores one batch on a kept (or new) connection, in one statement.
async fn store_batch(pool: PgPool, kept: Kept, bodies: Vec<Bytes>) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let mut conn = kept.take(&pool)?;
        crate::models::webhooks::insert_events(&mut conn, &bodies).map_err(|e| e.to_string())?;
        kept.keep(conn);
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn writer(pool: PgPool, mut rx: mpsc::Receiver<Pending>, stored: Arc<Notify>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let kept = Kept::default();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let (pool, kept, stored) = (pool.clone(), kept.clone(), stored.clone());
        tokio::spawn(async move {
            let bodies: Vec<Bytes> = batch.iter().map(|p| p.body.clone()).collect();
            let result = store_batch(pool, kept, bodies).await;
            if result.is_ok() {
                stored.notify_one();
            }
            for p in batch {
                let _ = p.done.send(result.clone());
            }
            drop(permit);
        });
    }
}
