//! The contact panel beside a conversation: who the customer is, and their other conversations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

use crate::db::statuses::ConversationStatus;

use crate::db::ids::{ConversationId, TenantId};
use crate::models::channels::Platform;

/// Another conversation that is probably the same person (same name or username on another
/// channel of the tenant; Meta gives no cross-app identity).
#[derive(Debug, Clone, QueryableByName)]
pub struct OtherConversation {
    #[diesel(sql_type = BigInt)]
    pub id: ConversationId,
    #[diesel(sql_type = Text)]
    pub platform: Platform,
    #[diesel(sql_type = Text)]
    pub channel_name: String,
    #[diesel(sql_type = Text)]
    pub status: ConversationStatus,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_message_at: Option<DateTime<Utc>>,
}

/// Conversations on other channels whose contact has the same name or username.
pub fn other_conversations(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<Vec<OtherConversation>> {
    diesel::sql_query(
        "SELECT o.id, ch.platform, ch.name AS channel_name, o.status, o.last_message_at
           FROM conversations c
           JOIN contacts me ON me.id = c.contact_id
           JOIN contacts oc ON oc.tenant_id = c.tenant_id AND oc.id <> me.id
                           AND ((me.name IS NOT NULL AND lower(oc.name) = lower(me.name))
                             OR (me.username IS NOT NULL AND lower(oc.username) = lower(me.username)))
           JOIN conversations o ON o.contact_id = oc.id
           JOIN channels ch ON ch.id = o.channel_id
          WHERE c.tenant_id = $1 AND c.id = $2
          ORDER BY o.last_message_at DESC NULLS LAST LIMIT 10",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .load(conn)
}
