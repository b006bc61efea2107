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

/// The time zones PostgreSQL knows, by name (the choices of the setting).
pub fn time_zones(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Zone {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    // Raw SQL: `pg_timezone_names` is a system view outside the schema.
    diesel::sql_query(
        "SELECT name FROM pg_timezone_names
          WHERE name !~ '^(posix|Etc/GMT.|SystemV)' ORDER BY name",
    )
    .load::<Zone>(conn)
    .map(|zones| zones.into_iter().map(|z| z.name).collect())
}

/// Sets the tenant's time zone if PostgreSQL knows it; returns whether it was set.
pub fn set_time_zone(conn: &mut PgConnection, id: TenantId, zone: &str) -> QueryResult<bool> {
    let zone = zone.trim();
    if !time_zones(conn)?.iter().any(|z| z == zone) {
        return Ok(false);
    }
    diesel::update(tenants::table.find(id))
        .set(tenants::time_zone.eq(zone))
        .execute(conn)
        .map(|n| n == 1)
}

/// The tenant's time zone and today's date in it, in one visit.
pub fn zone_and_today(
    conn: &mut PgConnection,
    id: TenantId,
) -> QueryResult<(String, chrono::NaiveDate)> {
    tenants::table
        .find(id)
        .select((
            tenants::time_zone,
            diesel::dsl::sql::<diesel::sql_types::Date>("(now() AT TIME ZONE time_zone)::date"),
        ))
        .first(conn)
}
