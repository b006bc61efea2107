//! Channel tokens that expire: which login a channel uses, when its token ends, and which
//! tokens are due for a refresh.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::channels;
use crate::models::channels::{Channel, Login, Platform};

/// Records how a just-stored channel is reached and its token's lifetime (the connect flows
/// call it right after `upsert_connected`, in the same transaction).
pub fn set_login(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ChannelId,
    login: Login,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    diesel::update(
        channels::table
            .filter(channels::tenant_id.eq(tenant))
            .filter(channels::id.eq(id)),
    )
    .set((
        channels::login.eq(login),
        channels::token_expires_at.eq(expires_at),
        channels::token_refreshed_at.eq(expires_at.map(|_| Utc::now())),
    ))
    .execute(conn)
}

/// Stores a refreshed token: only while the channel is still connected, so a refresh racing a
/// disconnect never brings a wiped token back.
pub fn store_refreshed(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ChannelId,
    ciphertext: &[u8],
    key_id: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        channels::table
            .filter(channels::tenant_id.eq(tenant))
            .filter(channels::id.eq(id))
            .filter(channels::status.eq("connected")),
    )
    .set((
        channels::token_ciphertext.eq(ciphertext),
        channels::token_key_id.eq(key_id),
        channels::token_expires_at.eq(expires_at),
        channels::token_refreshed_at.eq(diesel::dsl::now),
        channels::last_verified_at.eq(diesel::dsl::now),
        channels::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Connected Instagram Login channels, of every tenant, whose token ends before `before` and
/// was issued before `issued_before` (Meta refuses to refresh a token younger than 24 hours).
pub fn due_for_refresh(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    issued_before: DateTime<Utc>,
) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::status.eq("connected"))
        .filter(channels::login.eq(Login::Instagram))
        .filter(channels::token_expires_at.lt(before))
        .filter(
            channels::token_refreshed_at
                .is_null()
                .or(channels::token_refreshed_at.lt(issued_before)),
        )
        .order(channels::token_expires_at.asc())
        .select(Channel::as_select())
        .load(conn)
}

/// The connected Instagram channel of this account in any tenant, whichever login it uses:
/// the same account must never be connected twice (every message would arrive twice).
pub fn connected_instagram(conn: &mut PgConnection, ig_id: &str) -> QueryResult<Option<Channel>> {
    channels::table
        .filter(channels::platform.eq(Platform::Instagram))
        .filter(channels::platform_id.eq(ig_id))
        .filter(channels::status.eq("connected"))
        .select(Channel::as_select())
        .first(conn)
        .optional()
}
