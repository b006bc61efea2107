//! Users of a tenant, with their role.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::auth::roles::Role;
use crate::db::ids::{TenantId, UserId};
use crate::db::schema::{tenants, users};

/// A user row (the password hash included: never render it).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A user to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub tenant_id: TenantId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

/// A user with the name of their tenant, for the operator CLI.
#[derive(Debug, Clone)]
pub struct UserWithTenant {
    pub user: User,
    pub tenant_name: String,
}

/// Inserts a user. A duplicate email surfaces as a unique violation for the caller to explain.
pub fn create(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
}

/// Finds the account for a sign-in attempt. Emails are unique across tenants, so this is the one
/// lookup not scoped by tenant: the tenant is not known until the user is.
pub fn find_for_login(conn: &mut PgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Loads a user of `tenant`; another tenant's user is as absent as a missing one.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// All users of a tenant, active first, then by name.
pub fn list(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::tenant_id.eq(tenant))
        .order((
            users::active.desc(),
            users::display_name.asc(),
            users::id.asc(),
        ))
        .select(User::as_select())
        .load(conn)
}

/// Number of active admins in a tenant (a tenant must keep at least one).
pub fn count_active_admins(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<i64> {
    users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::role.eq(Role::Admin))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}

/// Changes a user's role; returns false when the user is not in `tenant`.
pub fn set_role(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    role: Role,
) -> QueryResult<bool> {
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant))
            .filter(users::id.eq(id)),
    )
    .set((users::role.eq(role), users::updated_at.eq(diesel::dsl::now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Activates or deactivates a user; returns false when the user is not in `tenant`.
pub fn set_active(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    active: bool,
) -> QueryResult<bool> {
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant))
            .filter(users::id.eq(id)),
    )
    .set((
        users::active.eq(active),
        users::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Replaces a user's password hash and nothing else (a password change or an operator's reset:
/// a deactivated user stays deactivated).
pub fn replace_password_hash(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    password_hash: &str,
) -> QueryResult<bool> {
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant))
            .filter(users::id.eq(id)),
    )
    .set((
        users::password_hash.eq(password_hash),
        users::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records a successful sign-in.
pub fn touch_last_login(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> QueryResult<()> {
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant))
            .filter(users::id.eq(id)),
    )
    .set(users::last_login_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(|_| ())
}

/// Every user of every tenant: for operators at the command line only, never for a web route.
pub fn list_all_for_operator(conn: &mut PgConnection) -> QueryResult<Vec<UserWithTenant>> {
    let rows: Vec<(User, String)> = users::table
        .inner_join(tenants::table)
        .order((tenants::name.asc(), users::email.asc()))
        .select((User::as_select(), tenants::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user, tenant_name)| UserWithTenant { user, tenant_name })
        .collect())
}

/// A signed-in user with their tenant's name, as loaded on every request.
pub fn get_with_tenant(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
) -> QueryResult<Option<UserWithTenant>> {
    users::table
        .inner_join(tenants::table)
        .filter(users::tenant_id.eq(tenant))
        .filter(users::id.eq(id))
        .select((User::as_select(), tenants::name))
        .first::<(User, String)>(conn)
        .optional()
        .map(|row| row.map(|(user, tenant_name)| UserWithTenant { user, tenant_name }))
}
