//! The template jobs: the library's sync from Meta (every page of a WABA's templates), the
//! submission of a template the team approved, and the reconciliation poll for templates whose
//! review Meta has not announced.

use chrono::Utc;
use diesel::Connection;
use serde::{Deserialize, Serialize};

use crate::db::ids::{ChannelId, TenantId};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::message_templates::content::{ParameterFormat, TemplateContent};
use crate::message_templates::status::TemplateStatus;
use crate::meta::GraphError;
use crate::meta::message_templates::{MessageTemplate, NewMessageTemplate};
use crate::models::message_templates as library;
use crate::models::template_events::{self, Kind, Source, Step};
use crate::models::template_reviews::{self, Known, StatusReport};
use crate::state::AppState;

/// Pages of 100 read per sync at most (Meta allows up to 6,000 templates per WABA).
const MAX_PAGES: usize = 80;

/// Reads every template of the channel's WhatsApp Business Account into the tenant's library.
#[derive(Debug, Serialize, Deserialize)]
pub struct SyncTemplates {
    pub channel_id: ChannelId,
}

/// Queues a sync of the templates of `channel`'s business account (once at a time).
pub fn queue_sync(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    channel: ChannelId,
) -> diesel::QueryResult<()> {
    let job = SyncTemplates {
        channel_id: channel,
    }
    .to_new_job()
    .for_tenant(tenant)
    .dedupe(format!("template-sync:{channel}"));
    crate::jobs::queue::enqueue(conn, &job).map(|_| ())
}

fn graph_failure(context: &'static str, e: GraphError) -> JobError {
    if e.is_retryable() {
        JobError::retry(context, e)
    } else {
        JobError::Permanent(format!("{context}: {}", e.describe()))
    }
}

impl Job for SyncTemplates {
    const KIND: &'static str = "sync_templates";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let Some((channel, token)) =
            crate::channels::connected_for_job(state, tenant, self.channel_id).await?
        else {
            return Ok(());
        };
        let Some(waba) = channel.waba_id.clone() else {
            return Ok(());
        };
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let page = state
                .graph
                .message_templates(&waba, &token, None, after)
                .await
                .map_err(|e| graph_failure("listing templates", e))?;
            let next = page.next_cursor();
            let (waba_id, templates) = (waba.clone(), page.data);
            // Each page is stored as it comes, so a failure later keeps what was read.
            crate::db::run(&state.pool, move |conn| {
                conn.transaction(|conn| {
                    for t in &templates {
                        store_synced(conn, tenant, &waba_id, t)?;
                    }
                    Ok(())
                })
            })
            .await?;
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok(())
    }
}

/// Stores one template as Meta lists it: what it says, its status, quality and category.
/// Parley's own drafts of the same name are left alone (Meta will refuse their submission).
pub fn store_synced(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    waba: &str,
    t: &MessageTemplate,
) -> diesel::QueryResult<()> {
    let known = Known {
        waba_id: waba,
        platform_id: &t.id,
        name: &t.name,
        language: t.language.as_deref().unwrap_or(""),
    };
    let copy = template_reviews::copy_of(conn, tenant, &known)?;
    if copy.status().is_local() && copy.platform_template_id.is_none() {
        return Ok(());
    }
    let content = TemplateContent::from_components(&t.components);
    let format = if t
        .components
        .iter()
        .any(|c| c.pointer("/example/body_text_named_params").is_some())
    {
        ParameterFormat::Named
    } else {
        ParameterFormat::Positional
    };
    library::store_meta_content(conn, tenant, copy.id, &content, format)?;
    let report = StatusReport {
        status: TemplateStatus::parse(&t.status),
        reason: t.rejected_reason.as_deref(),
        at: Utc::now(),
        source: Source::Sync,
    };
    template_reviews::apply_status(conn, tenant, &copy, &report)?;
    if let Some(category) = &t.category {
        template_reviews::apply_category(conn, tenant, &copy, category, Source::Sync)?;
    }
    let score = t
        .quality_score
        .as_ref()
        .and_then(|q| q.get("score").and_then(|s| s.as_str()).or(q.as_str()));
    if let Some(score) = score {
        template_reviews::apply_quality(conn, tenant, &copy, score, Source::Sync)?;
    }
    Ok(())
}

/// Submits a template the team approved to Meta: its id and first status are stored; Meta's
/// refusal is kept as the reason and the template waits to be fixed and submitted again.
#[derive(Debug, Serialize, Deserialize)]
pub struct SubmitTemplate {
    pub template_id: i64,
    /// The WhatsApp channel whose token speaks for the WABA.
    pub channel_id: ChannelId,
}

impl Job for SubmitTemplate {
    const KIND: &'static str = "submit_template";
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.template_id;
        let Some(template) =
            crate::db::run(&state.pool, move |conn| Ok(library::get(conn, tenant, id)?)).await?
        else {
            return Ok(());
        };
        if template.status() != TemplateStatus::Submitting {
            return Ok(());
        }
        let Some((_, token)) =
            crate::channels::connected_for_job(state, tenant, self.channel_id).await?
        else {
            return failed(
                state,
                tenant,
                id,
                "The WhatsApp number is no longer connected.",
            )
            .await;
        };
        let category = template.category().unwrap_or_default();
        let format = template.format();
        let new = NewMessageTemplate {
            name: template.name.clone(),
            category: category.meta().to_string(),
            language: template.language.clone(),
            parameter_format: Some(format.as_str().to_ascii_uppercase()),
            components: template.content().components(format),
        };
        match state
            .graph
            .create_message_template(&template.waba_id, &token, &new)
            .await
        {
            Ok(created) => {
                let status = TemplateStatus::parse(&created.status);
                let category = created.category.unwrap_or_else(|| category.meta().into());
                crate::db::run(&state.pool, move |conn| {
                    conn.transaction(|conn| {
                        library::record_submitted(
                            conn,
                            tenant,
                            id,
                            &created.id,
                            &status,
                            &category,
                        )?;
                        template_events::record(
                            conn,
                            tenant,
                            &Step {
                                template_id: id,
                                actor: None,
                                source: Source::Meta,
                                kind: Kind::Submitted,
                                from: Some(TemplateStatus::Submitting.as_str()),
                                to: Some(status.as_str()),
                                comment: None,
                            },
                        )
                    })?;
                    Ok(())
                })
                .await?;
                Ok(())
            }
            Err(e) if e.is_retryable() && ctx.attempt < Self::MAX_ATTEMPTS => {
                Err(JobError::retry("submitting a template", e))
            }
            Err(e) => failed(state, tenant, id, &e.describe()).await,
        }
    }
}

/// Marks a submission refused, with Meta's reason, for the team to fix and submit again.
async fn failed(state: &AppState, tenant: TenantId, id: i64, reason: &str) -> Result<(), JobError> {
    let reason = reason.to_string();
    crate::db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            library::set_status(
                conn,
                tenant,
                id,
                &TemplateStatus::SubmitFailed,
                Some(&reason),
            )?;
            template_events::record(
                conn,
                tenant,
                &Step {
                    template_id: id,
                    actor: None,
                    source: Source::Meta,
                    kind: Kind::SubmitFailed,
                    from: Some(TemplateStatus::Submitting.as_str()),
                    to: Some(TemplateStatus::SubmitFailed.as_str()),
                    comment: Some(&reason),
                },
            )
        })?;
        Ok(())
    })
    .await?;
    Ok(())
}
