//! Meta's word on templates, from webhooks, the reconciliation poll and the library sync: the
//! status (never moved back by an older event), the quality and the category, each change
//! recorded in the template's history with its source.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::ids::TenantId;
use crate::db::schema::message_templates as t;
use crate::message_templates::status::TemplateStatus;
use crate::models::message_templates::Template;
use crate::models::template_events::{self, Kind, Source, Step};

/// A status Meta gave a template, and when.
#[derive(Debug, Clone)]
pub struct StatusReport<'a> {
    pub status: TemplateStatus,
    pub reason: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub source: Source,
}

/// When the poll should look at a template next: soon after a submission, then less often
/// (a quarter of the time it has been waiting, from one minute to one hour); never when Meta
/// has decided.
pub fn next_poll(
    status: &TemplateStatus,
    waiting_since: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if !status.under_review() {
        return None;
    }
    let waited = Utc::now() - waiting_since.unwrap_or_else(Utc::now);
    let wait = (waited / 4).clamp(Duration::minutes(1), Duration::hours(1));
    Some(Utc::now() + wait)
}

/// Applies a status report to one of the tenant's templates. A report older than the status
/// the template has is ignored (a late or repeated webhook never moves a template back);
/// returns whether the status changed.
pub fn apply_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    template: &Template,
    report: &StatusReport<'_>,
) -> QueryResult<bool> {
    // Meta's times are whole seconds: only news from an earlier second is stale (within one
    // second, the later arrival wins).
    if template
        .status_at
        .is_some_and(|seen| report.at.timestamp() < seen.timestamp())
    {
        return Ok(false);
    }
    let before = template.status();
    let changed = before != report.status;
    let reason = report
        .reason
        .filter(|r| !r.trim().is_empty() && *r != "NONE");
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(template.id)),
    )
    .set((
        t::status.eq(report.status.as_str()),
        t::status_reason.eq(if changed {
            reason
        } else {
            reason.or(template.status_reason.as_deref())
        }),
        t::status_at.eq(Some(report.at)),
        t::status_updated_at.eq(diesel::dsl::now),
        t::poll_after.eq(next_poll(&report.status, template.submitted_at)),
        t::deleted_at.eq(if report.status == TemplateStatus::Deleted {
            template.deleted_at.or(Some(report.at))
        } else {
            None
        }),
        // The library's "last change" moves only when the status does.
        t::updated_at.eq(if changed {
            Utc::now()
        } else {
            template.updated_at
        }),
    ))
    .execute(conn)?;
    if changed {
        template_events::record(
            conn,
            tenant,
            &Step {
                template_id: template.id,
                actor: None,
                source: report.source,
                kind: Kind::Status,
                from: Some(before.as_str()),
                to: Some(report.status.as_str()),
                comment: reason,
            },
        )?;
    }
    Ok(changed)
}

/// Records a new quality score; returns whether it changed.
pub fn apply_quality(
    conn: &mut PgConnection,
    tenant: TenantId,
    template: &Template,
    score: &str,
    source: Source,
) -> QueryResult<bool> {
    apply_label(conn, tenant, template, Kind::Quality, score, source)
}

/// Records a category Meta gave (it re-categorises templates); returns whether it changed.
pub fn apply_category(
    conn: &mut PgConnection,
    tenant: TenantId,
    template: &Template,
    category: &str,
    source: Source,
) -> QueryResult<bool> {
    apply_label(conn, tenant, template, Kind::Category, category, source)
}

/// Sets the quality or the category Meta names (upper case) and records the change.
fn apply_label(
    conn: &mut PgConnection,
    tenant: TenantId,
    template: &Template,
    kind: Kind,
    value: &str,
    source: Source,
) -> QueryResult<bool> {
    let value = value.trim().to_ascii_uppercase();
    let current = match kind {
        Kind::Quality => template.quality_score.as_deref(),
        _ => template.category.as_deref(),
    };
    if current == Some(value.as_str()) || value.is_empty() {
        return Ok(false);
    }
    let row = t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::id.eq(template.id));
    match kind {
        Kind::Quality => diesel::update(row)
            .set(t::quality_score.eq(&value))
            .execute(conn)?,
        _ => diesel::update(row)
            .set(t::category.eq(&value))
            .execute(conn)?,
    };
    template_events::record(
        conn,
        tenant,
        &Step {
            template_id: template.id,
            actor: None,
            source,
            kind,
            from: current,
            to: Some(&value),
            comment: None,
        },
    )?;
    Ok(true)
}

/// A template Meta knows, as named in a webhook or a listing.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    pub waba_id: &'a str,
    pub platform_id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
}

/// The tenant's copy of a template Meta knows, by Meta's id or by name and language, locked;
/// one is created (status unknown until applied) when the tenant has none.
pub fn copy_of(conn: &mut PgConnection, tenant: TenantId, k: &Known<'_>) -> QueryResult<Template> {
    let found = t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::waba_id.eq(k.waba_id))
        .filter(
            t::platform_template_id
                .eq(k.platform_id)
                .or(t::name.eq(k.name).and(t::language.eq(k.language))),
        )
        .order(t::platform_template_id.eq(k.platform_id).desc())
        .select(Template::as_select())
        .for_update()
        .first(conn)
        .optional()?;
    if let Some(found) = found {
        if found.platform_template_id.as_deref() != Some(k.platform_id) {
            diesel::update(t::table.filter(t::id.eq(found.id)))
                .set(t::platform_template_id.eq(k.platform_id))
                .execute(conn)?;
        }
        return Ok(found);
    }
    diesel::insert_into(t::table)
        .values((
            t::tenant_id.eq(tenant),
            t::waba_id.eq(k.waba_id),
            t::platform_template_id.eq(k.platform_id),
            t::name.eq(k.name),
            t::language.eq(k.language),
            // Replaced by the first status applied.
            t::status.eq(TemplateStatus::Pending.as_str()),
        ))
        .returning(Template::as_returning())
        .get_result(conn)
}

/// The tenant's templates the poll should look at now, on `waba`, oldest first (at most
/// `limit`).
pub fn due_for_poll(conn: &mut PgConnection, waba: &str, limit: i64) -> QueryResult<Vec<Template>> {
    t::table
        .filter(t::waba_id.eq(waba))
        .filter(t::poll_after.le(Utc::now()))
        .filter(t::platform_template_id.is_not_null())
        .order(t::poll_after.asc())
        .limit(limit)
        .select(Template::as_select())
        .load(conn)
}

/// The WhatsApp accounts with templates due for a poll.
pub fn wabas_due(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    t::table
        .filter(t::poll_after.le(Utc::now()))
        .select(t::waba_id)
        .distinct()
        .load(conn)
}

/// Notes that the poll asked Meta about a template, and when to ask next (from the status it
/// has now).
pub fn polled(conn: &mut PgConnection, tenant: TenantId, template_id: i64) -> QueryResult<()> {
    // Deleted meanwhile: nothing to note.
    let Some((status, submitted_at)): Option<(String, Option<DateTime<Utc>>)> = t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::id.eq(template_id))
        .select((t::status, t::submitted_at))
        .first(conn)
        .optional()?
    else {
        return Ok(());
    };
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(template_id)),
    )
    .set((
        t::polled_at.eq(diesel::dsl::now),
        t::poll_after.eq(next_poll(&TemplateStatus::parse(&status), submitted_at)),
    ))
    .execute(conn)
    .map(|_| ())
}
