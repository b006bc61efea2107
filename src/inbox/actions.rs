//! What agents do to a conversation besides replying: assignment, status and snooze, read state,
//! private notes and labels. Every change notifies live pages at commit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

use crate::db::ids::{TenantId, UserId};
use crate::inbox::InboxError;
use crate::inbox::list::STATUSES;

/// Tells every Parley process's live pages that `conversation` changed (delivered at commit).
pub fn notify(conn: &mut PgConnection, tenant: TenantId, conversation: i64) -> QueryResult<()> {
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
    conversation: i64,
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
    conversation: i64,
    assignee: Option<UserId>,
) -> Result<(), InboxError> {
    if let Some(user) = assignee {
        let ok: Option<i64> = crate::db::schema::users::table
            .filter(crate::db::schema::users::tenant_id.eq(tenant))
            .filter(crate::db::schema::users::id.eq(user))
            .filter(crate::db::schema::users::active.eq(true))
            .filter(crate::db::schema::users::role.eq_any(["admin", "agent"]))
            .select(crate::db::schema::users::id)
            .first(conn)
            .optional()?;
        if ok.is_none() {
            return Err(InboxError::Invalid(
                "That teammate cannot be assigned: they are inactive or their role has no inbox access.".into(),
            ));
        }
    }
    let n = diesel::sql_query(
        "UPDATE conversations SET assignee_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .bind::<Nullable<BigInt>, _>(assignee.map(|u| u.0))
    .execute(conn)?;
    changed(conn, tenant, conversation, n)
}

/// Sets the status; `snoozed` needs a time in the future, when the conversation reopens.
pub fn set_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
    status: &str,
    snooze_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), InboxError> {
    if !STATUSES.contains(&status) {
        return Err(InboxError::Invalid(format!("Unknown status {status:?}.")));
    }
    let until = if status == "snoozed" {
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
    let n = diesel::sql_query(
        "UPDATE conversations SET status = $3, snoozed_until = $4, updated_at = now()
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .bind::<Text, _>(status)
    .bind::<Nullable<Timestamptz>, _>(until)
    .execute(conn)?;
    changed(conn, tenant, conversation, n)
}

/// Reopens snoozed conversations whose time has come; returns how many.
pub fn wake_snoozed(conn: &mut PgConnection) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Woken {
        #[diesel(sql_type = BigInt)]
        tenant_id: i64,
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let woken: Vec<Woken> = diesel::sql_query(
        "UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_at = now()
          WHERE status = 'snoozed' AND snoozed_until <= now() RETURNING tenant_id, id",
    )
    .load(conn)?;
    for w in &woken {
        notify(conn, TenantId(w.tenant_id), w.id)?;
    }
    Ok(woken.len())
}

/// Marks the conversation read (`unread_count` 0) or unread (at least 1) for the team.
pub fn mark_read(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
    read: bool,
) -> Result<(), InboxError> {
    let sql = if read {
        "UPDATE conversations SET unread_count = 0 WHERE tenant_id = $1 AND id = $2"
    } else {
        "UPDATE conversations SET unread_count = GREATEST(unread_count, 1) WHERE tenant_id = $1 AND id = $2"
    };
    let n = diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(conversation)
        .execute(conn)?;
    changed(conn, tenant, conversation, n)
}

/// Opening a conversation reads it: only writes (and notifies) when it had unread messages.
pub fn read_on_open(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        // A read marker is worth no wait for the disk: after a crash the conversation would
        // only show as unread again. Without this, opening a conversation during a burst of
        // webhooks queues behind the burst's commits.
        diesel::sql_query("SET LOCAL synchronous_commit = off").execute(conn)?;
        let n = diesel::sql_query(
            "UPDATE conversations SET unread_count = 0 WHERE tenant_id = $1 AND id = $2 AND unread_count > 0",
        )
        .bind::<BigInt, _>(tenant.0)
        .bind::<BigInt, _>(conversation)
        .execute(conn)?;
        if n > 0 {
            notify(conn, tenant, conversation)?;
        }
        Ok(())
    })
}

/// Adds a private note (never sent to Meta).
pub fn add_note(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
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
    let n = diesel::sql_query(
        "INSERT INTO conversation_notes (tenant_id, conversation_id, author_id, body)
         SELECT $1, id, $3, $4 FROM conversations WHERE tenant_id = $1 AND id = $2",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .bind::<BigInt, _>(author.0)
    .bind::<Text, _>(body)
    .execute(conn)?;
    changed(conn, tenant, conversation, n)
}

/// A label of the tenant.
#[derive(Debug, Clone, QueryableByName, PartialEq, Eq)]
pub struct Label {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// Every label of the tenant, by name.
pub fn labels(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Label>> {
    diesel::sql_query("SELECT id, name FROM labels WHERE tenant_id = $1 ORDER BY lower(name)")
        .bind::<BigInt, _>(tenant.0)
        .load(conn)
}

/// The labels on one conversation.
pub fn labels_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
) -> QueryResult<Vec<Label>> {
    diesel::sql_query(
        "SELECT l.id, l.name FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
          WHERE cl.tenant_id = $1 AND cl.conversation_id = $2 ORDER BY lower(l.name)",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .load(conn)
}

/// Puts the label named `name` on the conversation, creating the label when it is new.
pub fn add_label(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
    name: &str,
) -> Result<(), InboxError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(InboxError::Invalid(
            "Label names are 1 to 40 characters.".into(),
        ));
    }
    crate::inbox::exists(conn, tenant, conversation)?;
    let label: Label = diesel::sql_query(
        "WITH found AS (SELECT id, name FROM labels WHERE tenant_id = $1 AND lower(name) = lower($2)),
              made AS (INSERT INTO labels (tenant_id, name) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM found)
                       ON CONFLICT DO NOTHING RETURNING id, name)
         SELECT id, name FROM found UNION ALL SELECT id, name FROM made",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Text, _>(name)
    .get_result(conn)?;
    diesel::sql_query(
        "INSERT INTO conversation_labels (tenant_id, conversation_id, label_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .bind::<BigInt, _>(label.id)
    .execute(conn)?;
    changed(conn, tenant, conversation, 1)
}

/// Takes a label off the conversation (the label itself stays for other conversations).
pub fn remove_label(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: i64,
    label: i64,
) -> Result<(), InboxError> {
    crate::inbox::exists(conn, tenant, conversation)?;
    diesel::sql_query(
        "DELETE FROM conversation_labels WHERE tenant_id = $1 AND conversation_id = $2 AND label_id = $3",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(conversation)
    .bind::<BigInt, _>(label)
    .execute(conn)?;
    changed(conn, tenant, conversation, 1)
}
