//! The `Job` trait: each kind of background work is one type whose fields are its payload, so
//! what is enqueued and what is run cannot disagree (in the manner of crates.io's background
//! jobs). The registry in [`crate::jobs::kinds`] lists every type once.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::ids::TenantId;
use crate::jobs::JobError;
use crate::jobs::queue::{JobRow, NewJob};
use crate::state::AppState;

/// One kind of background work. The type's serde form is the job's payload.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Sized + 'static {
    /// The kind's name in the queue (stable: rows outlive releases).
    const KIND: &'static str;
    /// Attempts before the job is buried as `dead`.
    const MAX_ATTEMPTS: i32 = 8;

    /// Does the work once. `ctx` says for which tenant (tenant-owned kinds refuse to run
    /// without one) and which attempt this is.
    fn run(
        self,
        state: &AppState,
        ctx: &JobContext,
    ) -> impl Future<Output = Result<(), JobError>> + Send;

    /// This job as a row to enqueue, to run now.
    fn to_new_job(&self) -> NewJob {
        // A payload type that cannot be serialised is a programming error caught by the
        // registry test; it would be read back as the type's JSON null and refused.
        let payload = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        NewJob::new(Self::KIND, payload).max_attempts(Self::MAX_ATTEMPTS)
    }
}

/// What a running job knows about its row.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub tenant: Option<TenantId>,
    pub attempt: i32,
}

impl JobContext {
    /// The job's tenant, for kinds that only make sense for one.
    pub fn tenant(&self, kind: &str) -> Result<TenantId, JobError> {
        self.tenant
            .ok_or_else(|| JobError::Permanent(format!("{kind} needs a tenant")))
    }
}

/// Reads a row's payload as `J` and runs it. A payload that does not parse will never run: the
/// job is buried with the reason.
pub async fn dispatch<J: Job>(state: &AppState, row: &JobRow) -> Result<(), JobError> {
    let job: J = serde_json::from_value(row.payload.clone())
        .map_err(|e| JobError::Permanent(format!("the {} payload does not parse: {e}", J::KIND)))?;
    let ctx = JobContext {
        tenant: row.tenant_id,
        attempt: row.attempts,
    };
    job.run(state, &ctx).await
}
