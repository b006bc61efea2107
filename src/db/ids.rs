//! Typed ids, so a tenant id can never be passed where a user id is expected.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            AsExpression, FromSqlRow, serde::Serialize, serde::Deserialize,
        )]
        #[diesel(sql_type = BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl ToSql<BigInt, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, &mut out.reborrow())
            }
        }

        impl FromSql<BigInt, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// A tenant: one business using Parley. Every tenant-owned query is scoped by it.
    TenantId
);
typed_id!(
    /// A person who signs in to Parley.
    UserId
);
typed_id!(
    /// One sign-in of a user (a row of `user_sessions`).
    SessionId
);
typed_id!(
    /// A background job.
    JobId
);
typed_id!(
    /// A connected Meta asset (Page, Instagram account or WhatsApp number).
    ChannelId
);
typed_id!(
    /// A conversation: one customer on one channel.
    ConversationId
);
typed_id!(
    /// A message of a conversation (inbound or outbound).
    MessageId
);
typed_id!(
    /// A customer as one channel knows them.
    ContactId
);
typed_id!(
    /// A comment on a Facebook or Instagram post.
    CommentId
);
typed_id!(
    /// A delivery from Meta in the webhook ledger.
    WebhookEventId
);
typed_id!(
    /// One routed part of a webhook delivery.
    WebhookItemId
);
