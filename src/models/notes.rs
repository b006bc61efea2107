//! Private notes on conversations (never sent to Meta).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::ids::{ConversationId, TenantId, UserId};
use crate::db::schema::{conversation_notes, conversations};

/// Adds a note to the tenant's conversation; returns 0 when the tenant has no such conversation.
pub fn add(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    author: UserId,
    body: &str,
) -> QueryResult<usize> {
    // INSERT … SELECT: the note is only written for a conversation of this tenant.
    let source = conversations::table
        .filter(conversations::tenant_id.eq(tenant))
        .filter(conversations::id.eq(conversation))
        .select((
            conversations::tenant_id,
            conversations::id,
            Some(author.0).into_sql::<Nullable<BigInt>>(),
            body.into_sql::<Text>(),
        ));
    diesel::insert_into(conversation_notes::table)
        .values(source)
        .into_columns((
            conversation_notes::tenant_id,
            conversation_notes::conversation_id,
            conversation_notes::author_id,
            conversation_notes::body,
        ))
        .execute(conn)
}
