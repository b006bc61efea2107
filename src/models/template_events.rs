//! The history of a template: who did what and when, and where each status came from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{TenantId, UserId};
use crate::db::schema::{template_events as e, users};

/// Where a step came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Someone in the team.
    Team,
    Webhook,
    Poll,
    Sync,
    /// Meta's answer to a call Parley made (a submission, an edit, a deletion).
    Meta,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Team => "team",
            Source::Webhook => "webhook",
            Source::Poll => "poll",
            Source::Sync => "sync",
            Source::Meta => "meta",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Created,
    Edited,
    ApprovalRequested,
    SentBack,
    Approved,
    Submitted,
    SubmitFailed,
    Status,
    Quality,
    Category,
    Deleted,
    Duplicated,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Created => "created",
            Kind::Edited => "edited",
            Kind::ApprovalRequested => "approval_requested",
            Kind::SentBack => "sent_back",
            Kind::Approved => "approved",
            Kind::Submitted => "submitted",
            Kind::SubmitFailed => "submit_failed",
            Kind::Status => "status",
            Kind::Quality => "quality",
            Kind::Category => "category",
            Kind::Deleted => "deleted",
            Kind::Duplicated => "duplicated",
        }
    }
}

/// One step to record.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub template_id: i64,
    pub actor: Option<UserId>,
    pub source: Source,
    pub kind: Kind,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub comment: Option<&'a str>,
}

/// Records a step of one of the tenant's templates.
pub fn record(conn: &mut PgConnection, tenant: TenantId, s: &Step<'_>) -> QueryResult<()> {
    diesel::insert_into(e::table)
        .values((
            e::tenant_id.eq(tenant),
            e::template_id.eq(s.template_id),
            e::actor_id.eq(s.actor),
            e::source.eq(s.source.as_str()),
            e::kind.eq(s.kind.as_str()),
            e::from_value.eq(s.from),
            e::to_value.eq(s.to),
            e::comment.eq(s.comment.filter(|c| !c.trim().is_empty())),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A recorded step, with the name of who took it.
#[derive(Debug, Clone, Queryable)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub source: String,
    pub kind: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub comment: Option<String>,
}

/// A template's steps, newest first.
pub fn history(
    conn: &mut PgConnection,
    tenant: TenantId,
    template_id: i64,
) -> QueryResult<Vec<Event>> {
    e::table
        .left_join(users::table.on(users::id.nullable().eq(e::actor_id)))
        .filter(e::tenant_id.eq(tenant))
        .filter(e::template_id.eq(template_id))
        .order((e::at.desc(), e::id.desc()))
        .select((
            e::at,
            users::display_name.nullable(),
            e::source,
            e::kind,
            e::from_value,
            e::to_value,
            e::comment,
        ))
        .limit(200)
        .load(conn)
}

/// Edits submitted to Meta for an approved template since `since` (Meta allows one a day and
/// ten in 30 days).
pub fn approved_edits_since(
    conn: &mut PgConnection,
    tenant: TenantId,
    template_id: i64,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    e::table
        .filter(e::tenant_id.eq(tenant))
        .filter(e::template_id.eq(template_id))
        .filter(e::kind.eq(Kind::Submitted.as_str()))
        .filter(e::from_value.eq("APPROVED"))
        .filter(e::at.ge(since))
        .count()
        .get_result(conn)
}
