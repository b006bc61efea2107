//! The team's steps with a template: save a draft, ask for approval, approve (which queues the
//! submission to Meta) or send back with a comment, and sync the library from Meta. Each step
//! checks where the template stands and is recorded in its history.

use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId, UserId};
use crate::jobs::job::Job;
use crate::message_templates::form::TemplateFields;
use crate::message_templates::jobs::SubmitTemplate;
use crate::message_templates::lint::Finding;
use crate::message_templates::status::TemplateStatus;
use crate::models::channels::{Channel, Platform};
use crate::models::message_templates::{self as library, DraftFields};
use crate::models::template_events::{self, Kind, Source, Step};

/// Why a step was refused.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no such template")]
    NotFound,
    /// The form has errors: shown beside their fields, nothing saved.
    #[error("the template has errors")]
    Invalid(Vec<Finding>),
    /// The step does not apply where the template stands.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The tenant's connected WhatsApp numbers, one per business account (their token speaks for
/// the account's templates).
pub fn accounts(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Channel>> {
    let mut channels: Vec<Channel> = crate::models::channels::list(conn, tenant)?
        .into_iter()
        .filter(|c| c.platform == Platform::Whatsapp && c.waba_id.is_some() && c.is_connected())
        .collect();
    channels.sort_by(|a, b| a.waba_id.cmp(&b.waba_id));
    channels.dedup_by(|a, b| a.waba_id == b.waba_id);
    Ok(channels)
}

pub(crate) fn account_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    waba: &str,
) -> Result<ChannelId, TemplateError> {
    accounts(conn, tenant)?
        .into_iter()
        .find(|c| c.waba_id.as_deref() == Some(waba))
        .map(|c| c.id)
        .ok_or_else(|| {
            TemplateError::Refused("Choose a connected WhatsApp Business Account.".into())
        })
}

/// Saves a new draft or changes one (`id`); returns its id. Drafts may keep lint errors, but
/// they need an account, a name and a language that are free.
pub fn save(
    conn: &mut PgConnection,
    tenant: TenantId,
    author: UserId,
    id: Option<i64>,
    f: &TemplateFields,
) -> Result<i64, TemplateError> {
    conn.transaction(|conn| {
        account_of(conn, tenant, &f.waba_id)?;
        let taken = library::name_taken(conn, tenant, &f.waba_id, &f.name, &f.language, id)?;
        let blocking: Vec<Finding> = f
            .lint(taken)
            .into_iter()
            .filter(|x| {
                x.is_error()
                    && matches!(
                        x.field,
                        crate::message_templates::lint::Field::Name
                            | crate::message_templates::lint::Field::Language
                    )
            })
            .collect();
        if !blocking.is_empty() {
            return Err(TemplateError::Invalid(blocking));
        }
        let fields = DraftFields {
            waba_id: &f.waba_id,
            name: &f.name,
            language: &f.language,
            category: f.category(),
            format: f.format(),
            content: &f.content,
        };
        let (id, kind) = match id {
            None => (
                library::create_draft(conn, tenant, author, &fields)?,
                Kind::Created,
            ),
            Some(id) => {
                let current = library::lock(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
                let status = current.status();
                if !status.is_local() {
                    return Err(TemplateError::Refused(
                        "Meta has this template: changes are submitted to Meta by an admin.".into(),
                    ));
                }
                library::update_fields(conn, tenant, id, &fields)?;
                if status == TemplateStatus::AwaitingApproval
                    || status == TemplateStatus::SubmitFailed
                {
                    // A change goes back through the team's approval.
                    library::set_status(conn, tenant, id, &TemplateStatus::Draft, None)?;
                }
                (id, Kind::Edited)
            }
        };
        template_events::record(
            conn,
            tenant,
            &Step {
                template_id: id,
                actor: Some(author),
                source: Source::Team,
                kind,
                from: None,
                to: None,
                comment: None,
            },
        )?;
        Ok(id)
    })
}

/// The lint of a stored template, as it would be submitted.
pub fn findings(
    conn: &mut PgConnection,
    tenant: TenantId,
    t: &library::Template,
) -> QueryResult<Vec<Finding>> {
    let taken = library::name_taken(conn, tenant, &t.waba_id, &t.name, &t.language, Some(t.id))?;
    Ok(TemplateFields::of(t).lint(taken))
}

fn step(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: UserId,
    id: i64,
    (kind, from, to): (Kind, &TemplateStatus, &TemplateStatus),
    comment: Option<&str>,
) -> Result<(), TemplateError> {
    library::set_status(conn, tenant, id, to, None)?;
    template_events::record(
        conn,
        tenant,
        &Step {
            template_id: id,
            actor: Some(actor),
            source: Source::Team,
            kind,
            from: Some(from.as_str()),
            to: Some(to.as_str()),
            comment,
        },
    )?;
    Ok(())
}

fn ready(
    conn: &mut PgConnection,
    tenant: TenantId,
    t: &library::Template,
) -> Result<(), TemplateError> {
    let errors: Vec<Finding> = findings(conn, tenant, t)?
        .into_iter()
        .filter(Finding::is_error)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(TemplateError::Invalid(errors))
    }
}

/// A draft (or a template Meta refused) goes to the admins for approval; it must pass the lint.
pub fn request_approval(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: UserId,
    id: i64,
    comment: &str,
) -> Result<(), TemplateError> {
    conn.transaction(|conn| {
        let t = library::lock(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
        let from = t.status();
        if !matches!(from, TemplateStatus::Draft | TemplateStatus::SubmitFailed) {
            return Err(TemplateError::Refused(format!(
                "Only drafts go for approval; this one is {}.",
                from.label().to_lowercase()
            )));
        }
        ready(conn, tenant, &t)?;
        step(
            conn,
            tenant,
            actor,
            id,
            (
                Kind::ApprovalRequested,
                &from,
                &TemplateStatus::AwaitingApproval,
            ),
            Some(comment),
        )
    })
}

/// An admin approves: the submission to Meta is queued in the same transaction.
pub fn approve(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: UserId,
    id: i64,
    comment: &str,
) -> Result<(), TemplateError> {
    conn.transaction(|conn| {
        let t = library::lock(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
        let from = t.status();
        if from != TemplateStatus::AwaitingApproval {
            return Err(TemplateError::Refused(format!(
                "Only templates awaiting approval can be approved; this one is {}.",
                from.label().to_lowercase()
            )));
        }
        ready(conn, tenant, &t)?;
        let channel = account_of(conn, tenant, &t.waba_id)?;
        step(
            conn,
            tenant,
            admin,
            id,
            (Kind::Approved, &from, &TemplateStatus::Submitting),
            Some(comment),
        )?;
        let job = SubmitTemplate {
            template_id: id,
            channel_id: channel,
        }
        .to_new_job()
        .for_tenant(tenant)
        .dedupe(format!("template-submit:{id}"));
        crate::jobs::queue::enqueue(conn, &job)?;
        Ok(())
    })
}

/// An admin sends a template back to its author with a comment: it is a draft again.
pub fn send_back(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: UserId,
    id: i64,
    comment: &str,
) -> Result<(), TemplateError> {
    if comment.trim().is_empty() {
        return Err(TemplateError::Refused(
            "Say what should change before sending it back.".into(),
        ));
    }
    conn.transaction(|conn| {
        let t = library::lock(conn, tenant, id)?.ok_or(TemplateError::NotFound)?;
        let from = t.status();
        if from != TemplateStatus::AwaitingApproval {
            return Err(TemplateError::Refused(
                "Only templates awaiting approval can be sent back.".into(),
            ));
        }
        step(
            conn,
            tenant,
            admin,
            id,
            (Kind::SentBack, &from, &TemplateStatus::Draft),
            Some(comment),
        )
    })
}

/// Queues a sync of every connected business account's templates; returns how many accounts.
pub fn queue_sync(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<usize> {
    let accounts = accounts(conn, tenant)?;
    for channel in &accounts {
        crate::message_templates::jobs::queue_sync(conn, tenant, channel.id)?;
    }
    Ok(accounts.len())
}

/// Keeps the handle of an uploaded header example on a template Parley still holds.
pub fn set_header_example(
    conn: &mut PgConnection,
    tenant: TenantId,
    author: UserId,
    id: i64,
    handle: &str,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        // Only a template Parley still holds; one sent to Meta changes through an edit.
        let Some(t) = library::lock(conn, tenant, id)?.filter(|t| t.status().is_local()) else {
            return Ok(());
        };
        let mut content = t.content();
        content.header_example = handle.to_string();
        library::update_fields(
            conn,
            tenant,
            id,
            &DraftFields {
                waba_id: &t.waba_id,
                name: &t.name,
                language: &t.language,
                category: t.category().unwrap_or_default(),
                format: t.format(),
                content: &content,
            },
        )?;
        template_events::record(
            conn,
            tenant,
            &Step {
                template_id: id,
                actor: Some(author),
                source: Source::Team,
                kind: Kind::Edited,
                from: None,
                to: None,
                comment: Some("header example uploaded to Meta"),
            },
        )
    })
}
