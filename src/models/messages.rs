//! Messages (the parts the services outside `webhooks::apply` need).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb};

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::messages;

/// A message's attachments and channel, scoped by tenant.
pub fn attachments(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
) -> QueryResult<Option<(ChannelId, serde_json::Value)>> {
    messages::table
        .filter(messages::tenant_id.eq(tenant))
        .filter(messages::id.eq(id))
        .select((messages::channel_id, messages::attachments))
        .first::<(i64, serde_json::Value)>(conn)
        .optional()
        .map(|r| r.map(|(c, a)| (ChannelId(c), a)))
}

/// Records where attachment `index` of a message was stored (or why it was not).
pub fn set_attachment_stored(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    index: i32,
    stored: &serde_json::Value,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE messages SET attachments = jsonb_set(attachments, ARRAY[$3::text, 'stored'], $4)
          WHERE tenant_id = $1 AND id = $2 AND jsonb_array_length(attachments) > $3",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(id)
    .bind::<Integer, _>(index)
    .bind::<Jsonb, _>(stored)
    .execute(conn)
    .map(|_| ())
}
