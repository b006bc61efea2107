//! Tenants: the businesses that use Parley.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::TenantId;
use crate::db::schema::tenants;

/// A tenant row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Finds a tenant by name (case-insensitive).
pub fn find_by_name(conn: &mut PgConnection, name: &str) -> QueryResult<Option<Tenant>> {
    tenants::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(name) = lower(")
                .bind::<diesel::sql_types::Text, _>(name)
                .sql(")"),
        )
        .select(Tenant::as_select())
        .first(conn)
        .optional()
}

/// Returns the tenant called `name`, creating it if needed. Safe under concurrent callers.
pub fn find_or_create(conn: &mut PgConnection, name: &str) -> QueryResult<Tenant> {
    let name = name.trim();
    diesel::sql_query(
        "INSERT INTO tenants (name) VALUES ($1) ON CONFLICT ((lower(name))) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .execute(conn)?;
    find_by_name(conn, name)?.ok_or(diesel::result::Error::NotFound)
}

/// Loads one tenant by id.
pub fn get(conn: &mut PgConnection, id: TenantId) -> QueryResult<Tenant> {
    tenants::table
        .find(id)
        .select(Tenant::as_select())
        .first(conn)
}
