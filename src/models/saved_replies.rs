//! Saved replies of a tenant (canned responses for the composer).

use diesel::prelude::*;

use crate::db::ids::{TenantId, UserId};
use crate::db::schema::saved_replies;

/// A canned response.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = saved_replies)]
pub struct SavedReply {
    pub id: i64,
    pub shortcut: String,
    pub body: String,
}

/// Every saved reply of the tenant, by shortcut.
pub fn all(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<SavedReply>> {
    saved_replies::table
        .filter(saved_replies::tenant_id.eq(tenant))
        .order(saved_replies::shortcut)
        .select(SavedReply::as_select())
        .load(conn)
}

/// The text of one of the tenant's saved replies.
pub fn body(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<String>> {
    saved_replies::table
        .filter(saved_replies::tenant_id.eq(tenant))
        .filter(saved_replies::id.eq(id))
        .select(saved_replies::body)
        .first(conn)
        .optional()
}

/// Adds a saved reply; `None` when the tenant already uses the shortcut.
pub fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    author: UserId,
    shortcut: &str,
    body: &str,
) -> QueryResult<Option<SavedReply>> {
    diesel::insert_into(saved_replies::table)
        .values((
            saved_replies::tenant_id.eq(tenant),
            saved_replies::shortcut.eq(shortcut),
            saved_replies::body.eq(body),
            saved_replies::created_by.eq(author),
        ))
        .on_conflict((saved_replies::tenant_id, saved_replies::shortcut))
        .do_nothing()
        .returning(SavedReply::as_returning())
        .get_result(conn)
        .optional()
}

/// Deletes the tenant's saved reply; returns how many rows went.
pub fn delete(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<usize> {
    diesel::delete(
        saved_replies::table
            .filter(saved_replies::tenant_id.eq(tenant))
            .filter(saved_replies::id.eq(id)),
    )
    .execute(conn)
}
