//! Reconciliation with Meta, for when a webhook is late or lost: a periodic poll of the
//! templates still under review (with backoff, a few per account per run, and never while the
//! account's call budget is half spent), and a daily sync of every account's library.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::message_templates::status::TemplateStatus;
use crate::models::message_templates as library;
use crate::models::template_events::Source;
use crate::models::template_reviews::{self, StatusReport};
use crate::state::AppState;

/// Templates asked about per account per run: at one run a minute, 120 calls an hour at most,
/// within the 200 an hour Meta allows an account that is not yet active.
pub const PER_ACCOUNT_PER_RUN: i64 = 2;
/// Above this share of an account's budget (Meta's usage headers), the poll waits.
pub const BUDGET_CEILING: f64 = 50.0;

/// Asks Meta for the status of templates whose review it has not announced.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PollTemplates {}

impl Job for PollTemplates {
    const KIND: &'static str = "poll_templates";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let wabas =
            crate::db::run(&state.pool, |conn| Ok(template_reviews::wabas_due(conn)?)).await?;
        let mut asked = 0;
        for waba in wabas {
            if state
                .graph
                .budget_used(&waba)
                .is_some_and(|used| used >= BUDGET_CEILING)
            {
                continue;
            }
            let w = waba.clone();
            let due = crate::db::run(&state.pool, move |conn| {
                Ok(template_reviews::due_for_poll(
                    conn,
                    &w,
                    PER_ACCOUNT_PER_RUN,
                )?)
            })
            .await?;
            for template in due {
                asked += 1;
                // One template's failure is logged and retried at its next poll; the others go on.
                if let Err(e) = poll_one(state, &template).await {
                    tracing::warn!(template = template.id, error = %e.describe(), "template poll failed");
                }
                let (tenant, id) = (template.tenant_id, template.id);
                crate::db::run(&state.pool, move |conn| {
                    Ok(template_reviews::polled(conn, tenant, id)?)
                })
                .await?;
            }
        }
        tracing::debug!(asked, "templates polled");
        Ok(())
    }
}

async fn poll_one(state: &AppState, t: &library::Template) -> Result<(), JobError> {
    let Some(platform_id) = t.platform_template_id.clone() else {
        return Ok(());
    };
    let (tenant, waba) = (t.tenant_id, t.waba_id.clone());
    let channel = crate::db::run(&state.pool, move |conn| {
        Ok(crate::message_templates::workflow::accounts(conn, tenant)?
            .into_iter()
            .find(|c| c.waba_id.as_deref() == Some(waba.as_str()))
            .map(|c| c.id))
    })
    .await?;
    let Some(channel) = channel else {
        return Ok(());
    };
    let Some((_, token)) = crate::channels::connected_for_job(state, tenant, channel).await? else {
        return Ok(());
    };
    let answer = state
        .graph
        .message_template_status(&platform_id, &token, &t.waba_id)
        .await
        .map_err(|e| JobError::retry("asking a template's status", e))?;
    let id = t.id;
    crate::db::run(&state.pool, move |conn| {
        let Some(copy) = library::lock(conn, tenant, id)? else {
            return Ok(());
        };
        let report = StatusReport {
            status: TemplateStatus::parse(&answer.status),
            reason: answer.rejected_reason.as_deref(),
            at: Utc::now(),
            source: Source::Poll,
        };
        template_reviews::apply_status(conn, tenant, &copy, &report)?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Re-reads every connected account's templates once a day (what webhooks and polls missed,
/// and templates made in WhatsApp Manager).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SyncAllTemplates {}

impl Job for SyncAllTemplates {
    const KIND: &'static str = "sync_all_templates";

    async fn run(self, state: &AppState, _: &JobContext) -> Result<(), JobError> {
        let queued = crate::db::run(&state.pool, |conn| {
            let mut queued = 0;
            for tenant in crate::models::channels::tenants_with_whatsapp(conn)? {
                queued += crate::message_templates::workflow::queue_sync(conn, tenant)?;
            }
            Ok(queued)
        })
        .await?;
        tracing::debug!(queued, "template syncs queued");
        Ok(())
    }
}
