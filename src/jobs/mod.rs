//! Background work: one PostgreSQL-backed queue (`queue`), the worker loop that runs it
//! (`worker`), the [`job::Job`] trait each kind implements, and the registry of kinds (`kinds`).

pub mod job;
pub mod kinds;
pub mod purge;
/// The queue's rows and statements live with the other queries in `models`.
pub use crate::models::jobs as queue;
pub mod scheduler;
pub mod worker;

/// Why a job attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (backoff applies).
    #[error("{0}")]
    Retryable(String),
    /// Will never succeed: the job goes straight to `dead`.
    #[error("{0}")]
    Permanent(String),
    /// Not a failure: run again after `after` (a budget is spent); the attempt is not counted.
    #[error("{reason}")]
    Later {
        after: std::time::Duration,
        reason: String,
    },
    /// The database failed or was unreachable: retried with backoff.
    #[error("database")]
    Database(#[from] crate::db::DbError),
    /// Another attempt may succeed; the cause is kept for the job row and the logs.
    #[error("{context}")]
    Failed {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl JobError {
    /// A retryable failure of `context` caused by `source`.
    pub fn retry(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        JobError::Failed {
            context,
            source: Box::new(source),
        }
    }

    /// Whether another attempt may succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, JobError::Permanent(_))
    }

    /// The error and its causes, as recorded on the job row (`database: pool timed out: …`).
    pub fn describe(&self) -> String {
        crate::error::chain(self)
    }
}
