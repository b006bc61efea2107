//! Background work: one PostgreSQL-backed queue (`queue`), the worker loop that runs it
//! (`worker`), and the job kinds it knows (`kinds`).

pub mod kinds;
pub mod purge;
pub mod queue;
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
}

impl From<crate::db::DbError> for JobError {
    fn from(e: crate::db::DbError) -> Self {
        JobError::Retryable(e.to_string())
    }
}
