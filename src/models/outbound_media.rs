//! Files agents attach to replies, kept for Meta to fetch by an unguessable token.

use chrono::{Duration, Utc};
use diesel::prelude::*;

use crate::db::ids::TenantId;
use crate::db::schema::outbound_media;

/// How long Meta may fetch an upload by its token.
const FETCHABLE_FOR: Duration = Duration::days(7);

/// An uploaded attachment.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = outbound_media)]
pub struct OutboundMedia {
    pub id: i64,
    pub token: String,
    pub file: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// An upload to record.
pub struct NewOutboundMedia<'a> {
    pub tenant: TenantId,
    pub token: &'a str,
    pub file: &'a str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
}

/// Records an upload.
pub fn insert(conn: &mut PgConnection, new: &NewOutboundMedia<'_>) -> QueryResult<OutboundMedia> {
    diesel::insert_into(outbound_media::table)
        .values((
            outbound_media::tenant_id.eq(new.tenant),
            outbound_media::token.eq(new.token),
            outbound_media::file.eq(new.file),
            outbound_media::filename.eq(new.filename),
            outbound_media::content_type.eq(new.content_type),
            outbound_media::size_bytes.eq(new.size_bytes),
        ))
        .returning(OutboundMedia::as_returning())
        .get_result(conn)
}

/// An upload by its public token (for Meta's fetch), with its tenant, while it may be fetched.
pub fn by_token(
    conn: &mut PgConnection,
    token: &str,
) -> QueryResult<Option<(TenantId, OutboundMedia)>> {
    outbound_media::table
        .filter(outbound_media::token.eq(token))
        .filter(outbound_media::created_at.gt(Utc::now() - FETCHABLE_FOR))
        .select((outbound_media::tenant_id, OutboundMedia::as_select()))
        .first::<(i64, OutboundMedia)>(conn)
        .optional()
        .map(|r| r.map(|(tenant, media)| (TenantId(tenant), media)))
}
