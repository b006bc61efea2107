//! Template webhooks (status, quality, category), applied to the copy of every tenant with a
//! number on the WhatsApp Business Account.

use diesel::prelude::*;

use crate::db::ids::TenantId;
use crate::message_templates::status::TemplateStatus;
use crate::models::channels::Channel;
use crate::models::message_templates::Template;
use crate::models::template_events::Source;
use crate::models::template_reviews::{self, Known, StatusReport};
use crate::webhooks::normalize::Event;

/// Applies one template event (other events are left alone).
pub fn template_event(conn: &mut PgConnection, ch: &Channel, event: Event) -> QueryResult<()> {
    match event {
        Event::TemplateStatus {
            template_id,
            name,
            language,
            status,
            reason,
            category,
            at,
        } => {
            for (tenant, copy) in copies(conn, ch, &template_id, &name, &language)? {
                let report = StatusReport {
                    status: TemplateStatus::parse(&status),
                    reason: reason.as_deref(),
                    at,
                    source: Source::Webhook,
                };
                template_reviews::apply_status(conn, tenant, &copy, &report)?;
                if let Some(category) = &category {
                    template_reviews::apply_category(
                        conn,
                        tenant,
                        &copy,
                        category,
                        Source::Webhook,
                    )?;
                }
            }
        }
        Event::TemplateQuality {
            template_id,
            name,
            language,
            score,
        } => {
            for (tenant, copy) in copies(conn, ch, &template_id, &name, &language)? {
                template_reviews::apply_quality(conn, tenant, &copy, &score, Source::Webhook)?;
            }
        }
        Event::TemplateCategory {
            template_id,
            name,
            language,
            category,
        } => {
            for (tenant, copy) in copies(conn, ch, &template_id, &name, &language)? {
                template_reviews::apply_category(conn, tenant, &copy, &category, Source::Webhook)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Each concerned tenant's copy of the template (created when a tenant has none).
fn copies(
    conn: &mut PgConnection,
    ch: &Channel,
    template_id: &str,
    name: &str,
    language: &str,
) -> QueryResult<Vec<(TenantId, Template)>> {
    let known = Known {
        waba_id: ch.waba_id.as_deref().unwrap_or_default(),
        platform_id: template_id,
        name,
        language,
    };
    template_tenants(conn, ch)?
        .into_iter()
        .map(|tenant| Ok((tenant, template_reviews::copy_of(conn, tenant, &known)?)))
        .collect()
}

/// Every tenant a template event of `ch`'s WhatsApp Business Account concerns: templates belong
/// to the WABA, and each tenant with a connected number on it keeps its own copy.
fn template_tenants(conn: &mut PgConnection, ch: &Channel) -> QueryResult<Vec<TenantId>> {
    let mut tenants = match &ch.waba_id {
        Some(waba) => crate::models::channels::tenants_of_waba(conn, waba)?,
        None => Vec::new(),
    };
    if !tenants.contains(&ch.tenant_id) {
        tenants.push(ch.tenant_id);
    }
    Ok(tenants)
}
