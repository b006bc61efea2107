//! WhatsApp message templates: the library (written in Parley or synced from Meta), one row per
//! WhatsApp Business Account, name and language. A template belongs to a WABA, and every tenant
//! with a number on that account keeps its own copy.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::db::ids::{TenantId, UserId};
use crate::db::schema::message_templates as t;
use crate::message_templates::content::{Category, ParameterFormat, TemplateContent};
use crate::message_templates::status::TemplateStatus;

/// A template as the library keeps it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Template {
    pub id: i64,
    pub tenant_id: TenantId,
    pub waba_id: String,
    pub platform_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub quality_score: Option<String>,
    pub parameter_format: String,
    pub content: serde_json::Value,
    pub created_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
    pub status_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Template {
    pub fn status(&self) -> TemplateStatus {
        TemplateStatus::parse(&self.status)
    }

    /// What it says; a row whose JSON cannot be read (written by hand) shows as empty.
    pub fn content(&self) -> TemplateContent {
        serde_json::from_value(self.content.clone()).unwrap_or_default()
    }

    pub fn category(&self) -> Option<Category> {
        self.category.as_deref().and_then(Category::parse)
    }

    pub fn format(&self) -> ParameterFormat {
        ParameterFormat::parse(&self.parameter_format).unwrap_or_default()
    }

    /// Meta's quality: green, yellow, red or unknown.
    pub fn quality(&self) -> &str {
        match self
            .quality_score
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("GREEN") => "green",
            Some("YELLOW") => "yellow",
            Some("RED") => "red",
            _ => "unknown",
        }
    }
}

/// The library's filters.
#[derive(Debug, Clone, Default)]
pub struct LibraryFilter {
    pub waba: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub language: Option<String>,
    /// Words of the name or the body.
    pub search: Option<String>,
}

/// The tenant's templates matching `filter`, most recently changed first (`limit` from
/// `offset`), and how many match.
pub fn library(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &LibraryFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Template>, i64)> {
    let query = || {
        let mut q = t::table.filter(t::tenant_id.eq(tenant)).into_boxed();
        if let Some(waba) = &filter.waba {
            q = q.filter(t::waba_id.eq(waba.clone()));
        }
        if let Some(status) = &filter.status {
            q = q.filter(t::status.eq(status.clone()));
        }
        if let Some(category) = &filter.category {
            q = q.filter(t::category.eq(category.clone()));
        }
        if let Some(language) = &filter.language {
            q = q.filter(t::language.eq(language.clone()));
        }
        if let Some(ts) = filter
            .search
            .as_deref()
            .and_then(crate::models::conversation_list::tsquery)
        {
            // Full-text match on the generated `search` column (no builder operator for `@@`).
            q = q.filter(
                diesel::dsl::sql::<Bool>("message_templates.search @@ to_tsquery('simple', ")
                    .bind::<Text, _>(ts)
                    .sql(")"),
            );
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order((t::updated_at.desc(), t::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Template::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[derive(QueryableByName)]
struct Language {
    #[diesel(sql_type = Text)]
    language: String,
}

/// The languages the tenant's templates use (for the filter).
/// Raw SQL: a recursive walk that jumps from one language to the next in the index (a loose
/// index scan), which the builder cannot say; `DISTINCT` would read every template.
pub fn languages(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<String>> {
    let rows: Vec<Language> = diesel::sql_query(
        "WITH RECURSIVE langs(language) AS (
             (SELECT language FROM message_templates WHERE tenant_id = $1
               ORDER BY language LIMIT 1)
             UNION ALL
             SELECT (SELECT m.language FROM message_templates m
                      WHERE m.tenant_id = $1 AND m.language > l.language
                      ORDER BY m.language LIMIT 1)
               FROM langs l WHERE l.language IS NOT NULL)
         SELECT language FROM langs WHERE language IS NOT NULL",
    )
    .bind::<diesel::sql_types::BigInt, _>(tenant.0)
    .load(conn)?;
    Ok(rows.into_iter().map(|l| l.language).collect())
}

/// One of the tenant's templates.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<Template>> {
    t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::id.eq(id))
        .select(Template::as_select())
        .first(conn)
        .optional()
}

/// Locks one of the tenant's templates for a change of status.
pub fn lock(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<Template>> {
    t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::id.eq(id))
        .select(Template::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Why `name` + `language` cannot be used on `waba` (another template has it, or one was
/// deleted less than 30 days ago); `None` when it is free. `except` is the template being
/// edited.
pub fn name_taken(
    conn: &mut PgConnection,
    tenant: TenantId,
    waba: &str,
    name: &str,
    language: &str,
    except: Option<i64>,
) -> QueryResult<Option<String>> {
    let other: Option<(i64, Option<DateTime<Utc>>)> = t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::waba_id.eq(waba))
        .filter(t::name.eq(name))
        .filter(t::language.eq(language))
        .select((t::id, t::deleted_at))
        .first(conn)
        .optional()?;
    Ok(match other {
        Some((id, _)) if Some(id) == except => None,
        Some((_, Some(deleted))) if deleted + chrono::Duration::days(30) > Utc::now() => {
            Some(format!(
                "{name} ({language}) was deleted on {}; Meta lets the name be used again from {}.",
                deleted.format("%Y-%m-%d"),
                (deleted + chrono::Duration::days(30)).format("%Y-%m-%d")
            ))
        }
        // Deleted long enough ago: the row is reused.
        Some((_, Some(_))) => None,
        Some(_) => Some(format!(
            "A template named {name} in {language} already exists on this WhatsApp account."
        )),
        None => None,
    })
}

/// A template written in Parley, as the editor saves it.
#[derive(Debug, Clone)]
pub struct DraftFields<'a> {
    pub waba_id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
    pub category: Category,
    pub format: ParameterFormat,
    pub content: &'a TemplateContent,
}

fn content_json(content: &TemplateContent) -> serde_json::Value {
    serde_json::to_value(content).unwrap_or_default()
}

/// Saves a new draft (or reuses the row of a name deleted more than 30 days ago); returns its
/// id.
pub fn create_draft(
    conn: &mut PgConnection,
    tenant: TenantId,
    author: UserId,
    d: &DraftFields<'_>,
) -> QueryResult<i64> {
    diesel::insert_into(t::table)
        .values((
            t::tenant_id.eq(tenant),
            t::waba_id.eq(d.waba_id),
            t::name.eq(d.name),
            t::language.eq(d.language),
            t::category.eq(d.category.meta()),
            t::status.eq(TemplateStatus::Draft.as_str()),
            t::parameter_format.eq(d.format.as_str()),
            t::content.eq(content_json(d.content)),
            t::created_by.eq(author),
        ))
        .on_conflict((t::tenant_id, t::waba_id, t::name, t::language))
        .do_update()
        .set((
            t::platform_template_id.eq(None::<String>),
            t::category.eq(d.category.meta()),
            t::status.eq(TemplateStatus::Draft.as_str()),
            t::status_reason.eq(None::<String>),
            t::quality_score.eq(None::<String>),
            t::parameter_format.eq(d.format.as_str()),
            t::content.eq(content_json(d.content)),
            t::created_by.eq(author),
            t::updated_at.eq(diesel::dsl::now),
            t::status_at.eq(None::<DateTime<Utc>>),
            t::submitted_at.eq(None::<DateTime<Utc>>),
            t::deleted_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(t::id)
        .get_result(conn)
}

/// Replaces what a template says (and, while it is Parley's only, its name and account).
pub fn update_fields(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    d: &DraftFields<'_>,
) -> QueryResult<usize> {
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(id)),
    )
    .set((
        t::waba_id.eq(d.waba_id),
        t::name.eq(d.name),
        t::language.eq(d.language),
        t::category.eq(d.category.meta()),
        t::parameter_format.eq(d.format.as_str()),
        t::content.eq(content_json(d.content)),
        t::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Sets a template's status (and reason), as Parley's own step or Meta's answer.
pub fn set_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    status: &TemplateStatus,
    reason: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(id)),
    )
    .set((
        t::status.eq(status.as_str()),
        t::status_reason.eq(reason),
        t::status_updated_at.eq(diesel::dsl::now),
        t::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Records Meta's answer to a submission: its id and first status.
pub fn record_submitted(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    platform_id: &str,
    status: &TemplateStatus,
    category: &str,
) -> QueryResult<usize> {
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(id)),
    )
    .set((
        t::platform_template_id.eq(platform_id),
        t::status.eq(status.as_str()),
        t::status_reason.eq(None::<String>),
        t::status_at.eq(diesel::dsl::now),
        t::status_updated_at.eq(diesel::dsl::now),
        t::submitted_at.eq(diesel::dsl::now),
        t::updated_at.eq(diesel::dsl::now),
        t::category.eq(category),
        // Meta answers by webhook; the poll looks in after a minute in case none comes.
        t::poll_after.eq(Some(Utc::now() + chrono::Duration::minutes(1))),
    ))
    .execute(conn)
}

/// Stores what a template synced from Meta says.
pub fn store_meta_content(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    content: &TemplateContent,
    format: ParameterFormat,
) -> QueryResult<usize> {
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(id)),
    )
    .set((
        t::content.eq(content_json(content)),
        t::parameter_format.eq(format.as_str()),
    ))
    .execute(conn)
}

/// Asks the poll to look at a template resubmitted to Meta (an edit) from now on.
pub fn schedule_poll(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<usize> {
    diesel::update(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(id)),
    )
    .set((
        t::submitted_at.eq(diesel::dsl::now),
        t::poll_after.eq(Some(Utc::now() + chrono::Duration::minutes(1))),
    ))
    .execute(conn)
}

/// Removes a draft that never reached Meta.
pub fn delete_local(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<usize> {
    diesel::delete(
        t::table
            .filter(t::tenant_id.eq(tenant))
            .filter(t::id.eq(id))
            .filter(t::platform_template_id.is_null()),
    )
    .execute(conn)
}

/// Every language of a template name on an account, locked.
pub fn same_name(
    conn: &mut PgConnection,
    tenant: TenantId,
    waba: &str,
    name: &str,
) -> QueryResult<Vec<Template>> {
    t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::waba_id.eq(waba))
        .filter(t::name.eq(name))
        .order(t::id)
        .select(Template::as_select())
        .for_update()
        .load(conn)
}
