//! WhatsApp message templates as Meta reports them. A template belongs to a WhatsApp Business
//! Account, and every tenant with a number on that account keeps its own copy.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};

use crate::db::ids::TenantId;
use crate::db::schema::message_templates;

/// A template's review outcome, as Meta announced it.
pub struct ReviewedTemplate<'a> {
    pub waba_id: &'a str,
    pub template_id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
    pub category: Option<&'a str>,
    pub status: &'a str,
    pub reason: Option<&'a str>,
}

/// Records a review for each of `tenants` in one statement. Raw SQL: an upsert over `unnest`
/// that keeps a known category when Meta sends none.
pub fn record_review(
    conn: &mut PgConnection,
    tenants: &[TenantId],
    t: &ReviewedTemplate<'_>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO message_templates (tenant_id, waba_id, platform_template_id, name, language, category, status, status_reason)
         SELECT tenant, $2, $3, $4, $5, $6, $7, $8 FROM unnest($1::bigint[]) AS tenant
         ON CONFLICT (tenant_id, platform_template_id) DO UPDATE SET status = EXCLUDED.status,
           status_reason = EXCLUDED.status_reason, category = COALESCE(EXCLUDED.category, message_templates.category),
           status_updated_at = now()",
    )
    .bind::<Array<BigInt>, _>(tenants.iter().map(|t| t.0).collect::<Vec<_>>())
    .bind::<Text, _>(t.waba_id)
    .bind::<Text, _>(t.template_id)
    .bind::<Text, _>(t.name)
    .bind::<Text, _>(t.language)
    .bind::<Nullable<Text>, _>(t.category)
    .bind::<Text, _>(t.status)
    .bind::<Nullable<Text>, _>(t.reason)
    .execute(conn)
}

/// Records a template's new quality score for each of `tenants`.
pub fn record_quality(
    conn: &mut PgConnection,
    tenants: &[TenantId],
    template_id: &str,
    score: &str,
) -> QueryResult<usize> {
    diesel::update(
        message_templates::table
            .filter(message_templates::tenant_id.eq_any(tenants))
            .filter(message_templates::platform_template_id.eq(template_id)),
    )
    .set(message_templates::quality_score.eq(score))
    .execute(conn)
}
