//! The shared inbox's domain services: the conversation list and threads, replies within Meta's
//! messaging windows, agents' actions, saved replies, contacts' profiles and attachments, and
//! live updates. Plain functions over a `&mut PgConnection`, each scoped by tenant.

pub mod actions;
pub mod attachments;
pub mod live;
pub mod profiles;
pub mod reactions;
pub mod saved_replies;
pub mod send;
pub mod send_job;
pub mod signals;
pub mod uploads;
pub mod window;

// The inbox's read models are queries, so they live in `models`; these names keep the inbox's
// vocabulary for the code that reads them.
pub use crate::models::contact_panel;
pub use crate::models::conversation_list as list;
pub use crate::models::conversation_search as search;
pub use crate::models::thread;

use diesel::prelude::*;

use crate::db::ids::{ConversationId, TenantId};

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
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for InboxError {
    fn from(e: diesel::result::Error) -> Self {
        InboxError::Db(crate::db::DbError::Query(e))
    }
}

/// Fails with `NotFound` unless `conversation` belongs to `tenant`.
pub fn exists(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<(), InboxError> {
    if crate::models::conversations::exists(conn, tenant, conversation)? {
        Ok(())
    } else {
        Err(InboxError::NotFound)
    }
}
