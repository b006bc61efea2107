//! Changes to templates Meta already has: edit (all components replaced, within Meta's limits
//! for approved templates), delete one language or every language of a name, and duplicate as
//! a new draft. Each runs as a job; its outcome is recorded in the template's history.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::ids::{ChannelId, TenantId, UserId};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::message_templates::form::TemplateFields;
use crate::message_templates::lint::Finding;
use crate::message_templates::status::TemplateStatus;
use crate::message_templates::workflow::{self, TemplateError};
use crate::models::message_templates::{self as library, DraftFields};
use crate::models::template_events::{self, Kind, Source, Step};
use crate::state::AppState;

/// Meta's limits on editing an approved template.
pub const EDITS_PER_DAY: i64 = 1;
pub const EDITS_PER_30_DAYS: i64 = 10;

/// How many edits an approved template has left, and why not when none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditAllowance {
    pub last_day: i64,
    pub last_30_days: i64,
    /// Why an edit cannot be submitted now.
    pub blocked: Option<String>,
}

/// The edits left for template `id` (only approved templates are limited).
pub fn allowance(
    conn: &mut PgConnection,
    tenant: TenantId,
    t: &library::Template,
) -> QueryResult<EditAllowance> {
    let now = Utc::now();
    let day = template_events::approved_edits_since(conn, tenant, t.id, now - Duration::days(1))?;
    let month =
        template_events::approved_edits_since(conn, tenant, t.id, now - Duration::days(30))?;
    let blocked = if t.status() != TemplateStatus::Approved {
        None
    } else if day >= EDITS_PER_DAY {
        Some("Meta allows one edit a day to an approved template; this one was edited in the last 24 hours.".into())
    } else if month >= EDITS_PER_30_DAYS {
        Some(
            "Meta allows ten edits in 30 days to an approved template; this one has used them."
                .into(),
        )
    } else {
        None
    };
    Ok(EditAllowance {
        last_day: day,
        last_30_days: month,
        blocked,
    })
}

/// An admin submits changes to a template Meta has (approved, rejected or paused): the new
/// content is kept and the edit is queued.
pub fn submit_edit(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: UserId,
    id: i64,
    f: &TemplateFields,
) -> Result<(), TemplateError> {
    conn.transaction(|conn| {
        let t = library::lock(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
        let was = t.status();
        if !was.editable_at_meta() || t.platform_template_id.is_none() {
            return Err(TemplateError::Refused(
                "Meta lets only approved, rejected or paused templates be edited.".into(),
            ));
        }
        if was == TemplateStatus::Approved && t.category() != Some(f.category()) {
            return Err(TemplateError::Refused(
                "The category of an approved template cannot change; duplicate it instead.".into(),
            ));
        }
        if let Some(why) = allowance(conn, tenant, &t)?.blocked {
            return Err(TemplateError::Refused(why));
        }
        let errors: Vec<Finding> = f.lint(None).into_iter().filter(Finding::is_error).collect();
        if !errors.is_empty() {
            return Err(TemplateError::Invalid(errors));
        }
        let channel = workflow::account_of(conn, tenant, &t.waba_id)?;
        library::update_fields(
            conn,
            tenant,
            id,
            &DraftFields {
                waba_id: &t.waba_id,
                name: &t.name,
                language: &t.language,
                category: f.category(),
                format: f.format(),
                content: &f.content,
            },
        )?;
        library::set_status(conn, tenant, id, &TemplateStatus::Submitting, None)?;
        template_events::record(
            conn,
            tenant,
            &Step {
                template_id: id,
                actor: Some(admin),
                source: Source::Team,
                kind: Kind::Edited,
                from: Some(was.as_str()),
                to: Some(TemplateStatus::Submitting.as_str()),
                comment: None,
            },
        )?;
        let job = EditTemplate {
            template_id: id,
            channel_id: channel,
            was: was.as_str().to_string(),
        }
        .to_new_job()
        .for_tenant(tenant)
        .dedupe(format!("template-edit:{id}"));
        crate::jobs::queue::enqueue(conn, &job)?;
        Ok(())
    })
}

/// Sends an edit to Meta.
#[derive(Debug, Serialize, Deserialize)]
pub struct EditTemplate {
    pub template_id: i64,
    pub channel_id: ChannelId,
    /// The status before the edit (an approved template's edits are counted).
    pub was: String,
}

impl Job for EditTemplate {
    const KIND: &'static str = "edit_template";
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.template_id;
        let Some(t) =
            crate::db::run(&state.pool, move |conn| Ok(library::get(conn, tenant, id)?)).await?
        else {
            return Ok(());
        };
        let (Some(platform_id), TemplateStatus::Submitting) =
            (t.platform_template_id.clone(), t.status())
        else {
            return Ok(());
        };
        let was = TemplateStatus::parse(&self.was);
        let outcome =
            match crate::channels::connected_for_job(state, tenant, self.channel_id).await? {
                None => Err("The WhatsApp number is no longer connected.".to_string()),
                Some((_, token)) => {
                    let category = (was != TemplateStatus::Approved)
                        .then(|| t.category().unwrap_or_default().meta());
                    match state
                        .graph
                        .edit_message_template(
                            &platform_id,
                            &token,
                            &t.waba_id,
                            &t.content().components(t.format()),
                            category,
                        )
                        .await
                    {
                        Ok(()) => Ok(()),
                        Err(e) if e.is_retryable() && ctx.attempt < Self::MAX_ATTEMPTS => {
                            return Err(JobError::retry("editing a template", e));
                        }
                        Err(e) => Err(e.describe()),
                    }
                }
            };
        crate::db::run(&state.pool, move |conn| {
            conn.transaction(|conn| {
                let (status, kind, reason) = match &outcome {
                    // Meta reviews an edited template again.
                    Ok(()) => (TemplateStatus::Pending, Kind::Submitted, None),
                    // Refused: it stays as Meta has it, with the reason.
                    Err(why) => (was.clone(), Kind::SubmitFailed, Some(why.as_str())),
                };
                library::set_status(conn, tenant, id, &status, reason)?;
                if outcome.is_ok() {
                    library::schedule_poll(conn, tenant, id)?;
                }
                template_events::record(
                    conn,
                    tenant,
                    &Step {
                        template_id: id,
                        actor: None,
                        source: Source::Meta,
                        kind,
                        from: Some(was.as_str()),
                        to: Some(status.as_str()),
                        comment: reason,
                    },
                )
            })?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

/// A template the team no longer wants: a draft is simply removed; one Meta has is deleted
/// there (one language, or every language of its name) by a job.
pub fn request_delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: UserId,
    id: i64,
    all_languages: bool,
) -> Result<Option<String>, TemplateError> {
    conn.transaction(|conn| {
        let t = library::lock(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
        let status = t.status();
        if t.platform_template_id.is_none() && status.is_local() {
            library::delete_local(conn, tenant, id)?;
            return Ok(Some(format!("Draft {} deleted.", t.name)));
        }
        match status {
            TemplateStatus::Disabled => {
                return Err(TemplateError::Refused(
                    "Meta does not let disabled templates be deleted.".into(),
                ));
            }
            TemplateStatus::Deleted | TemplateStatus::PendingDeletion => {
                return Err(TemplateError::Refused(
                    "This template is already deleted.".into(),
                ));
            }
            _ => {}
        }
        let channel = workflow::account_of(conn, tenant, &t.waba_id)?;
        template_events::record(
            conn,
            tenant,
            &Step {
                template_id: id,
                actor: Some(admin),
                source: Source::Team,
                kind: Kind::Deleted,
                from: Some(status.as_str()),
                to: None,
                comment: Some(if all_languages {
                    "every language"
                } else {
                    "this language"
                }),
            },
        )?;
        let job = DeleteTemplates {
            template_id: id,
            channel_id: channel,
            all_languages,
        }
        .to_new_job()
        .for_tenant(tenant)
        .dedupe(format!("template-delete:{id}"));
        crate::jobs::queue::enqueue(conn, &job)?;
        Ok(None)
    })
}

/// Deletes a template at Meta: one language (`hsm_id`), or every language of its name.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeleteTemplates {
    pub template_id: i64,
    pub channel_id: ChannelId,
    pub all_languages: bool,
}

impl Job for DeleteTemplates {
    const KIND: &'static str = "delete_templates";
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.template_id;
        let Some(t) =
            crate::db::run(&state.pool, move |conn| Ok(library::get(conn, tenant, id)?)).await?
        else {
            return Ok(());
        };
        let Some((_, token)) =
            crate::channels::connected_for_job(state, tenant, self.channel_id).await?
        else {
            return Err(JobError::Permanent(
                "the WhatsApp number is no longer connected".into(),
            ));
        };
        let one = (!self.all_languages)
            .then_some(t.platform_template_id.as_deref())
            .flatten();
        if let Err(e) = state
            .graph
            .delete_message_template(&t.waba_id, &token, &t.name, one)
            .await
        {
            if e.is_retryable() && ctx.attempt < Self::MAX_ATTEMPTS {
                return Err(JobError::retry("deleting a template", e));
            }
            let why = e.describe();
            crate::db::run(&state.pool, move |conn| {
                template_events::record(
                    conn,
                    tenant,
                    &Step {
                        template_id: id,
                        actor: None,
                        source: Source::Meta,
                        kind: Kind::SubmitFailed,
                        from: None,
                        to: None,
                        comment: Some(&format!("Meta refused the deletion: {why}")),
                    },
                )?;
                Ok(())
            })
            .await?;
            return Ok(());
        }
        let all = self.all_languages;
        crate::db::run(&state.pool, move |conn| {
            conn.transaction(|conn| {
                for row in library::same_name(conn, tenant, &t.waba_id, &t.name)? {
                    if all || row.id == id {
                        let report = crate::models::template_reviews::StatusReport {
                            status: TemplateStatus::Deleted,
                            reason: None,
                            at: Utc::now(),
                            source: Source::Meta,
                        };
                        crate::models::template_reviews::apply_status(conn, tenant, &row, &report)?;
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

/// A copy of template `id` as a new draft under another name or language; returns its id.
pub fn duplicate(
    conn: &mut PgConnection,
    tenant: TenantId,
    author: UserId,
    id: i64,
    name: &str,
    language: &str,
) -> Result<i64, TemplateError> {
    let t = library::get(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
    let mut f = TemplateFields::of(&t);
    f.name = name.trim().to_string();
    f.language = language.trim().to_string();
    f.editing = None;
    let new = workflow::save(conn, tenant, author, None, &f)?;
    template_events::record(
        conn,
        tenant,
        &Step {
            template_id: id,
            actor: Some(author),
            source: Source::Team,
            kind: Kind::Duplicated,
            from: None,
            to: Some(&format!("{} ({})", f.name, f.language)),
            comment: None,
        },
    )?;
    Ok(new)
}
