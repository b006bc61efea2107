//! What agents do to a conversation besides replying: assignment, status and snooze, read state,
//! private notes and labels. Every change notifies live pages at commit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::auth::roles::{InboxRoles, allows};
use crate::db::ids::{ConversationId, TenantId, UserId};
use crate::db::statuses::ConversationStatus;
use crate::inbox::InboxError;
pub use crate::models::labels::Label;
use crate::models::{conversations, labels};

/// Tells every Parley process's live pages that `conversation` changed (delivered at commit).
pub fn notify(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<()> {
    crate::inbox::live::publish(
        conn,
        &[crate::inbox::live::LiveEvent::Conversation {
            tenant,
            id: conversation,
        }],
    )
}

fn changed(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    rows: usize,
) -> Result<(), InboxError> {
    if rows == 0 {
        return Err(InboxError::NotFound);
    }
    notify(conn, tenant, conversation)?;
    Ok(())
}

/// Assigns `conversation` to `assignee` (an active user of the tenant who may use the inbox), or
/// unassigns it with `None`.
pub fn assign(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    assignee: Option<UserId>,
) -> Result<(), InboxError> {
    if let Some(user) = assignee {
        let may_work_the_inbox = crate::models::users::get(conn, tenant, user)?
            .is_some_and(|u| u.active && allows::<InboxRoles>(u.role));
        if !may_work_the_inbox {
            return Err(InboxError::Invalid(
                "That teammate cannot be assigned: they are inactive or their role has no inbox access.".into(),
            ));
        }
    }
    let n = conversations::set_assignee(conn, tenant, conversation, assignee)?;
    changed(conn, tenant, conversation, n)
}

/// Sets the status; `snoozed` needs a time in the future, when the conversation reopens.
pub fn set_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    status: ConversationStatus,
    snooze_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), InboxError> {
    let until = if status == ConversationStatus::Snoozed {
        match snooze_until {
            Some(t) if t > now => Some(t),
            Some(_) => {
                return Err(InboxError::Invalid(
                    "Choose a snooze time in the future.".into(),
                ));
            }
            None => {
                return Err(InboxError::Invalid(
                    "Choose until when to snooze the conversation.".into(),
                ));
            }
        }
    } else {
        None
    };
    let n = conversations::set_status(conn, tenant, conversation, status, until)?;
    changed(conn, tenant, conversation, n)
}

/// Reopens snoozed conversations whose time has come; returns how many.
pub fn wake_snoozed(conn: &mut PgConnection) -> QueryResult<usize> {
    let woken = conversations::wake_snoozed(conn)?;
    for &(tenant, id) in &woken {
        notify(conn, tenant, id)?;
    }
    Ok(woken.len())
}

/// Marks the conversation read (`unread_count` 0) or unread (at least 1) for the team.
pub fn mark_read(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    read: bool,
) -> Result<(), InboxError> {
    let n = conversations::set_read(conn, tenant, conversation, read)?;
    changed(conn, tenant, conversation, n)
}

/// Opening a conversation reads it: only writes (and notifies) when it had unread messages.
pub fn read_on_open(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<()> {
    if conversations::read_if_unread(conn, tenant, conversation)? {
        notify(conn, tenant, conversation)?;
        // The customer sees that the team read them (Messenger and Instagram).
        crate::inbox::signals::queue_seen(conn, tenant, conversation)?;
    }
    Ok(())
}

/// Adds a private note (never sent to Meta).
pub fn add_note(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    author: UserId,
    body: &str,
) -> Result<(), InboxError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(InboxError::Invalid("Write something in the note.".into()));
    }
    if body.chars().count() > 10_000 {
        return Err(InboxError::Invalid(
            "Notes are limited to 10,000 characters.".into(),
        ));
    }
    let n = crate::models::notes::add(conn, tenant, conversation, author, body)?;
    changed(conn, tenant, conversation, n)
}

/// Every label of the tenant, by name.
pub fn labels(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Label>> {
    labels::all(conn, tenant)
}

/// The labels on one conversation.
pub fn labels_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<Vec<Label>> {
    labels::of_conversation(conn, tenant, conversation)
}

/// Puts the label named `name` on the conversation, creating the label when it is new.
pub fn add_label(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    name: &str,
) -> Result<(), InboxError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(InboxError::Invalid(
            "Label names are 1 to 40 characters.".into(),
        ));
    }
    crate::inbox::exists(conn, tenant, conversation)?;
    let label = labels::find_or_create(conn, tenant, name)?;
    labels::attach(conn, tenant, conversation, label.id)?;
    changed(conn, tenant, conversation, 1)
}

/// Takes a label off the conversation (the label itself stays for other conversations).
pub fn remove_label(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    label: i64,
) -> Result<(), InboxError> {
    crate::inbox::exists(conn, tenant, conversation)?;
    labels::detach(conn, tenant, conversation, label)?;
    changed(conn, tenant, conversation, 1)
}
