//! Labels of a tenant and the labels on each conversation.

use diesel::prelude::*;

use crate::db::ids::{ConversationId, TenantId};
use crate::db::schema::{conversation_labels, labels};
use crate::models::sql::lower;

/// A label of the tenant.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = labels)]
pub struct Label {
    pub id: i64,
    pub name: String,
}

/// Every label of the tenant, by name.
pub fn all(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Label>> {
    labels::table
        .filter(labels::tenant_id.eq(tenant))
        .order(lower(labels::name))
        .select(Label::as_select())
        .load(conn)
}

/// The labels on one conversation, by name.
pub fn of_conversation(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<Vec<Label>> {
    conversation_labels::table
        .inner_join(labels::table)
        .filter(conversation_labels::tenant_id.eq(tenant))
        .filter(conversation_labels::conversation_id.eq(conversation))
        .order(lower(labels::name))
        .select(Label::as_select())
        .load(conn)
}

/// The label called `name` (case-insensitively), created when the tenant has none yet.
pub fn find_or_create(conn: &mut PgConnection, tenant: TenantId, name: &str) -> QueryResult<Label> {
    let find = |conn: &mut PgConnection| {
        labels::table
            .filter(labels::tenant_id.eq(tenant))
            .filter(lower(labels::name).eq(lower(name)))
            .select(Label::as_select())
            .first(conn)
            .optional()
    };
    if let Some(label) = find(conn)? {
        return Ok(label);
    }
    let made = diesel::insert_into(labels::table)
        .values((labels::tenant_id.eq(tenant), labels::name.eq(name)))
        .on_conflict_do_nothing()
        .returning(Label::as_returning())
        .get_result(conn)
        .optional()?;
    match made {
        Some(label) => Ok(label),
        // Another request created it between the two statements.
        None => find(conn)?.ok_or(diesel::result::Error::NotFound),
    }
}

/// Puts `label` on the conversation (nothing changes when it is there already).
pub fn attach(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    label: i64,
) -> QueryResult<()> {
    diesel::insert_into(conversation_labels::table)
        .values((
            conversation_labels::tenant_id.eq(tenant),
            conversation_labels::conversation_id.eq(conversation),
            conversation_labels::label_id.eq(label),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

/// Takes `label` off the conversation (the label stays for other conversations).
pub fn detach(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    label: i64,
) -> QueryResult<()> {
    diesel::delete(
        conversation_labels::table
            .filter(conversation_labels::tenant_id.eq(tenant))
            .filter(conversation_labels::conversation_id.eq(conversation))
            .filter(conversation_labels::label_id.eq(label)),
    )
    .execute(conn)
    .map(|_| ())
}
