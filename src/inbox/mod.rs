//! The shared inbox's domain services: the conversation list and threads, replies within Meta's
//! messaging windows, agents' actions, saved replies, contacts' profiles and attachments, and
//! live updates. Plain functions over a `&mut PgConnection`, each scoped by tenant.

pub mod actions;
pub mod attachments;
pub mod contact_panel;
pub mod list;
pub mod live;
pub mod profiles;
pub mod saved_replies;
pub mod search;
pub mod send;
pub mod send_job;
pub mod thread;
pub mod uploads;
pub mod window;

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::ids::TenantId;

/// Why an inbox action was refused.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("not found")]
    NotFound,
    /// Bad input or a state that forbids the action; the text is for the agent.
    #[error("{0}")]
    Invalid(String),
    /// Meta's messaging window forbids the reply as asked.
    #[error(transparent)]
    Window(#[from] window::WindowRefusal),
    #[error("{0}")]
    Storage(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Fails with `NotFound` unless `conversation` belongs to `tenant`.
pub fn exists(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
) -> Result<(), InboxError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    diesel::sql_query("SELECT id FROM conversations WHERE tenant_id = $1 AND id = $2")
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(conversation)
        .get_result::<Found>(conn)
        .optional()?
        .map(|_| ())
        .ok_or(InboxError::NotFound)
}
