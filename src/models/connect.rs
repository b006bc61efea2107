//! OAuth states and pending connect selections (the connect wizard's short-lived records).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{TenantId, UserId};
use crate::db::schema::{connect_sessions, oauth_states};

/// A stored OAuth state (only its hash is kept).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_states)]
pub struct OAuthState {
    pub state_hash: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub purpose: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Stores a new state.
pub fn insert_state(
    conn: &mut PgConnection,
    state_hash: &str,
    tenant: TenantId,
    user: UserId,
    purpose: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(oauth_states::table)
        .values((
            oauth_states::state_hash.eq(state_hash),
            oauth_states::tenant_id.eq(tenant),
            oauth_states::user_id.eq(user),
            oauth_states::purpose.eq(purpose),
            oauth_states::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Marks the state used, atomically: only the first caller gets the row back.
pub fn use_state(conn: &mut PgConnection, state_hash: &str) -> QueryResult<Option<OAuthState>> {
    diesel::update(
        oauth_states::table
            .filter(oauth_states::state_hash.eq(state_hash))
            .filter(oauth_states::used_at.is_null()),
    )
    .set(oauth_states::used_at.eq(diesel::dsl::now))
    .returning(OAuthState::as_returning())
    .get_result(conn)
    .optional()
}

/// A pending selection.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = connect_sessions)]
pub struct ConnectSession {
    pub id: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub purpose: String,
    pub payload: Vec<u8>,
    pub payload_key_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Stores a pending selection (payload already encrypted).
#[allow(clippy::too_many_arguments)]
pub fn insert_session(
    conn: &mut PgConnection,
    id: &str,
    tenant: TenantId,
    user: UserId,
    purpose: &str,
    payload: &[u8],
    payload_key_id: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(connect_sessions::table)
        .values((
            connect_sessions::id.eq(id),
            connect_sessions::tenant_id.eq(tenant),
            connect_sessions::user_id.eq(user),
            connect_sessions::purpose.eq(purpose),
            connect_sessions::payload.eq(payload),
            connect_sessions::payload_key_id.eq(payload_key_id),
            connect_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A tenant's unexpired pending selection.
pub fn get_session(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: &str,
) -> QueryResult<Option<ConnectSession>> {
    connect_sessions::table
        .filter(connect_sessions::tenant_id.eq(tenant))
        .filter(connect_sessions::id.eq(id))
        .filter(connect_sessions::expires_at.gt(diesel::dsl::now))
        .select(ConnectSession::as_select())
        .first(conn)
        .optional()
}

/// Removes a pending selection once used.
pub fn delete_session(conn: &mut PgConnection, tenant: TenantId, id: &str) -> QueryResult<()> {
    diesel::delete(
        connect_sessions::table
            .filter(connect_sessions::tenant_id.eq(tenant))
            .filter(connect_sessions::id.eq(id)),
    )
    .execute(conn)
    .map(|_| ())
}

/// Deletes expired states and selections (they hold encrypted tokens: do not keep them).
pub fn purge_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    let a = diesel::delete(
        connect_sessions::table.filter(connect_sessions::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)?;
    let b = diesel::delete(
        oauth_states::table
            .filter(oauth_states::expires_at.lt(Utc::now() - chrono::Duration::days(1))),
    )
    .execute(conn)?;
    Ok(a + b)
}
