//! `parley jobs list | retry ID | enqueue KIND`.

use clap::Subcommand;

use crate::app::StartError;
use crate::config::Config;
use crate::db::ids::JobId;
use crate::db::statuses::JobState;
use crate::jobs::queue;
use crate::jobs::scheduler::{PERIODIC, Periodic};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List recent jobs across all tenants.
    List {
        /// Only jobs in this state: queued, running or dead.
        #[arg(long, value_parser = job_state)]
        state: Option<JobState>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put a dead job back in the queue with a fresh attempt budget.
    Retry { id: i64 },
    /// Enqueue a job of KIND to run now.
    Enqueue { kind: String },
}

/// `--state`: one of the job states, named in the error otherwise.
fn job_state(text: &str) -> Result<JobState, String> {
    JobState::parse(text).ok_or_else(|| "--state must be queued, running or dead".to_string())
}

pub async fn run(command: JobsCommand, config: &Config) -> Result<(), StartError> {
    match command {
        JobsCommand::List { state, limit } => {
            let jobs = super::with_connection(config, move |conn| {
                queue::list(conn, None, state, limit).map_err(|e| StartError::Db(e.into()))
            })
            .await?;
            if jobs.is_empty() {
                println!("no jobs");
            }
            for job in jobs {
                println!(
                    "{:>8} {:<8} {:<28} tenant={:<6} attempts={}/{} run_at={} {}",
                    job.id,
                    job.state,
                    job.kind,
                    job.tenant_id
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "-".into()),
                    job.attempts,
                    job.max_attempts,
                    job.run_at.format("%Y-%m-%d %H:%M:%S"),
                    job.last_error.unwrap_or_default()
                );
            }
            Ok(())
        }
        JobsCommand::Retry { id } => {
            let retried = super::with_connection(config, move |conn| {
                queue::retry(conn, JobId(id), None).map_err(|e| StartError::Db(e.into()))
            })
            .await?;
            if retried {
                println!("job {id} is queued again");
                Ok(())
            } else {
                Err(StartError::Other(format!(
                    "job {id} does not exist or is not dead"
                )))
            }
        }
        JobsCommand::Enqueue { kind } => {
            let Some(periodic) = Periodic::named(&kind) else {
                let known: Vec<&str> = PERIODIC.iter().map(|p| p.kind).collect();
                return Err(StartError::Other(format!(
                    "unknown job kind {kind:?}; known kinds: {}",
                    known.join(", ")
                )));
            };
            let job = (periodic.make)();
            let id = super::with_connection(config, move |conn| {
                queue::enqueue(conn, &job).map_err(|e| StartError::Db(e.into()))
            })
            .await?;
            match id {
                Some(id) => println!("enqueued job {id}"),
                None => println!("an identical job is already queued"),
            }
            Ok(())
        }
    }
}
