//! Server-side records of sign-ins, so that a session can be ended from the server: by signing
//! out, "sign out everywhere", a password change or a deactivation, and by its idle and absolute
//! limits. The cookie carries a random token; only its SHA-256 is stored.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::ids::{SessionId, TenantId, UserId};
use crate::db::schema::{user_sessions, users};

/// A session as the account page lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_sessions)]
pub struct SessionRow {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

/// How long a session may live, and how long it may sit unused.
#[derive(Debug, Clone, Copy)]
pub struct Lifetime {
    pub absolute: Duration,
    pub idle: Duration,
    /// `last_seen_at` is written at most this often (one write a minute, not one a request).
    pub touch_every: Duration,
}

/// What a request's session token turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Open: the request may go on as this session.
    Open(SessionId),
    /// Unknown, ended, or past one of its limits (and now ended).
    Closed,
}

/// Records a new sign-in.
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    token_hash: &[u8],
    user_agent: Option<&str>,
) -> QueryResult<SessionId> {
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::tenant_id.eq(tenant),
            user_sessions::user_id.eq(user),
            user_sessions::token_hash.eq(token_hash),
            user_sessions::user_agent.eq(user_agent),
        ))
        .returning(user_sessions::id)
        .get_result(conn)
}

/// Checks the session of a request and keeps its `last_seen_at` fresh; a session past its idle
/// or absolute limit is ended here.
pub fn check(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    token_hash: &[u8],
    now: DateTime<Utc>,
    lifetime: Lifetime,
) -> QueryResult<Checked> {
    let row: Option<(SessionId, DateTime<Utc>, DateTime<Utc>)> = user_sessions::table
        .filter(user_sessions::token_hash.eq(token_hash))
        .filter(user_sessions::tenant_id.eq(tenant))
        .filter(user_sessions::user_id.eq(user))
        .filter(user_sessions::ended_at.is_null())
        .select((
            user_sessions::id,
            user_sessions::created_at,
            user_sessions::last_seen_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, created, seen)) = row else {
        return Ok(Checked::Closed);
    };
    let expired = if created + lifetime.absolute <= now {
        Some("expired")
    } else if seen + lifetime.idle <= now {
        Some("idle")
    } else {
        None
    };
    if let Some(reason) = expired {
        end_one(conn, id, reason)?;
        return Ok(Checked::Closed);
    }
    if seen + lifetime.touch_every <= now {
        diesel::update(user_sessions::table.find(id))
            .set(user_sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(Checked::Open(id))
}

/// Whether a session is still open and its user still active (long-lived streams ask this).
pub fn is_open(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: SessionId,
    now: DateTime<Utc>,
    lifetime: Lifetime,
) -> QueryResult<bool> {
    let found: Option<(DateTime<Utc>, DateTime<Utc>)> = user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::id.eq(id))
        .filter(user_sessions::tenant_id.eq(tenant))
        .filter(user_sessions::ended_at.is_null())
        .filter(users::active.eq(true))
        .select((user_sessions::created_at, user_sessions::last_seen_at))
        .first(conn)
        .optional()?;
    Ok(found.is_some_and(|(created, seen)| {
        created + lifetime.absolute > now && seen + lifetime.idle > now
    }))
}

fn end_one(conn: &mut PgConnection, id: SessionId, reason: &str) -> QueryResult<usize> {
    diesel::update(
        user_sessions::table
            .find(id)
            .filter(user_sessions::ended_at.is_null()),
    )
    .set((
        user_sessions::ended_at.eq(diesel::dsl::now),
        user_sessions::end_reason.eq(reason),
    ))
    .execute(conn)
}

/// Ends the session holding this token (signing out).
pub fn end_by_token(
    conn: &mut PgConnection,
    tenant: TenantId,
    token_hash: &[u8],
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        user_sessions::table
            .filter(user_sessions::token_hash.eq(token_hash))
            .filter(user_sessions::tenant_id.eq(tenant))
            .filter(user_sessions::ended_at.is_null()),
    )
    .set((
        user_sessions::ended_at.eq(diesel::dsl::now),
        user_sessions::end_reason.eq(reason),
    ))
    .execute(conn)
}

/// Ends every open session of a user, except `keep` (the one changing its password).
pub fn end_all_for_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    keep: Option<SessionId>,
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        user_sessions::table
            .filter(user_sessions::tenant_id.eq(tenant))
            .filter(user_sessions::user_id.eq(user))
            .filter(user_sessions::ended_at.is_null())
            .filter(user_sessions::id.ne(keep.unwrap_or(SessionId(0)))),
    )
    .set((
        user_sessions::ended_at.eq(diesel::dsl::now),
        user_sessions::end_reason.eq(reason),
    ))
    .execute(conn)
}

/// A user's open sessions, newest first (the account page).
pub fn list_open(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    now: DateTime<Utc>,
    lifetime: Lifetime,
) -> QueryResult<Vec<SessionRow>> {
    user_sessions::table
        .filter(user_sessions::tenant_id.eq(tenant))
        .filter(user_sessions::user_id.eq(user))
        .filter(user_sessions::ended_at.is_null())
        .filter(user_sessions::created_at.gt(now - lifetime.absolute))
        .filter(user_sessions::last_seen_at.gt(now - lifetime.idle))
        .order(user_sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}
