//! Moderation actions on comments: requested (pending, with the job that carries them out),
//! then done or failed with Meta's reason. The rows are also the moderation audit log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, CommentId, TenantId, UserId};
use crate::db::schema::{comment_actions as a, comments as c};
use crate::db::statuses::{ActionState, ModerationAction};

/// A requested action.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct ActionRow {
    pub id: i64,
    pub comment_id: CommentId,
    pub action: ModerationAction,
    pub state: ActionState,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A reply's text.
    pub message: Option<String>,
    /// The auto-moderation rule that asked for it (none: a moderator did).
    pub rule_id: Option<i64>,
    /// The moderator who asked for it.
    pub user_id: Option<UserId>,
}

/// What the job needs about the comment an action is for.
#[derive(Debug, Clone, Queryable)]
pub struct ActionTarget {
    pub channel_id: ChannelId,
    pub platform_comment_id: String,
    pub deleted_at: Option<DateTime<Utc>>,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    /// The post or media it is on (for a mention, someone else's media).
    pub post_id: Option<String>,
    pub extra: serde_json::Value,
}

/// Records a pending action, asked for by a moderator (`user`) or a rule; returns its id.
pub fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    action: ModerationAction,
    message: Option<&str>,
    actor: crate::comments::Actor,
) -> QueryResult<i64> {
    use crate::comments::Actor;
    let (user, rule, bulk): (Option<UserId>, Option<i64>, Option<i64>) = match actor {
        Actor::User(u) => (Some(u), None, None),
        Actor::Rule(r) => (None, Some(r), None),
        Actor::Bulk { user, run } => (Some(user), None, Some(run)),
    };
    diesel::insert_into(a::table)
        .values((
            a::tenant_id.eq(tenant),
            a::comment_id.eq(comment),
            a::action.eq(action),
            a::message.eq(message),
            a::user_id.eq(user),
            a::rule_id.eq(rule),
            a::bulk_run_id.eq(bulk),
        ))
        .returning(a::id)
        .get_result(conn)
}

/// A pending action of the tenant and its comment.
pub fn pending(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
) -> QueryResult<Option<(ActionRow, ActionTarget)>> {
    a::table
        .inner_join(c::table)
        .filter(a::tenant_id.eq(tenant))
        .filter(a::id.eq(id))
        .filter(a::state.eq(ActionState::Pending))
        .select((
            ActionRow::as_select(),
            (
                c::channel_id,
                c::platform_comment_id,
                c::deleted_at,
                c::author_id,
                c::author_name,
                c::post_id,
                c::extra,
            ),
        ))
        .first(conn)
        .optional()
}

/// Meta did what was asked: the action is done and the comment shows it.
pub fn succeed(conn: &mut PgConnection, tenant: TenantId, action: &ActionRow) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::update(
            a::table
                .filter(a::tenant_id.eq(tenant))
                .filter(a::id.eq(action.id)),
        )
        .set((
            a::state.eq(ActionState::Done),
            a::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
        let comment = c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::id.eq(action.comment_id));
        match action.action {
            // Meta's webhook brings the reply itself; the comment is marked answered.
            ModerationAction::Reply => diesel::update(comment)
                .set((
                    c::replied_publicly_at.eq(Some(Utc::now())),
                    c::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn),
            // The private reply's own bookkeeping (`comments::private_reply`) marks the comment.
            ModerationAction::PrivateReply => Ok(0),
            ModerationAction::Like => diesel::update(comment)
                .set((
                    c::liked_at.eq(Some(Utc::now())),
                    c::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn),
            ModerationAction::Delete => diesel::update(comment.filter(c::deleted_at.is_null()))
                .set((
                    c::deleted_at.eq(Some(Utc::now())),
                    c::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn),
            hide_or_unhide => diesel::update(comment)
                .set((
                    c::hidden.eq(hide_or_unhide == ModerationAction::Hide),
                    c::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn),
        }
        .map(|_| ())
    })
}

/// Meta no longer has the comment: it is marked deleted, and the action is done if it was a
/// delete, failed with the reason otherwise.
pub fn gone_at_meta(
    conn: &mut PgConnection,
    tenant: TenantId,
    action: &ActionRow,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::update(
            c::table
                .filter(c::tenant_id.eq(tenant))
                .filter(c::id.eq(action.comment_id))
                .filter(c::deleted_at.is_null()),
        )
        .set((
            c::deleted_at.eq(Some(Utc::now())),
            c::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
        if action.action == ModerationAction::Delete {
            succeed(conn, tenant, action)
        } else {
            fail(
                conn,
                tenant,
                action.id,
                "The comment no longer exists at Meta (deleted there); it is marked deleted.",
            )
        }
    })
}

/// Meta refused, or the action could not be tried: failed, with the reason for the moderator.
pub fn fail(conn: &mut PgConnection, tenant: TenantId, id: i64, error: &str) -> QueryResult<()> {
    diesel::update(
        a::table
            .filter(a::tenant_id.eq(tenant))
            .filter(a::id.eq(id)),
    )
    .set((
        a::state.eq(ActionState::Failed),
        a::error.eq(Some(error)),
        a::finished_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|_| ())
}

/// The latest action on each of the comments, for the queue's chips.
pub fn latest(
    conn: &mut PgConnection,
    tenant: TenantId,
    comments: &[CommentId],
) -> QueryResult<HashMap<CommentId, ActionRow>> {
    let rows: Vec<ActionRow> = a::table
        .filter(a::tenant_id.eq(tenant))
        .filter(a::comment_id.eq_any(comments))
        .order((a::comment_id, a::id.desc()))
        .distinct_on(a::comment_id)
        .select(ActionRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.comment_id, r)).collect())
}

/// One line of the moderation audit log.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEntry {
    pub id: i64,
    pub comment_id: CommentId,
    pub action: ModerationAction,
    pub state: ActionState,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The moderator who asked for it.
    pub who: Option<String>,
    /// The rule that asked for it (its name).
    pub rule: Option<String>,
    pub platform_comment_id: String,
    pub author_name: Option<String>,
    pub text: Option<String>,
    /// Whether the comment is hidden now (an undone hide shows it).
    pub hidden_now: bool,
}

/// Which moderation actions the log shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter {
    pub action: Option<ModerationAction>,
    pub state: Option<ActionState>,
    /// `Some(true)`: only rules' actions; `Some(false)`: only moderators'.
    pub by_rule: Option<bool>,
}

/// The tenant's moderation actions, newest first, before `before` (an action id).
pub fn audit(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let action = filter.action;
    use crate::db::schema::{moderation_rules as r, users as u};
    let mut q = a::table
        .inner_join(c::table)
        .left_join(u::table.on(a::user_id.eq(u::id.nullable())))
        .left_join(r::table.on(a::rule_id.eq(r::id.nullable())))
        .filter(a::tenant_id.eq(tenant))
        .into_boxed();
    if let Some(action) = action {
        q = q.filter(a::action.eq(action));
    }
    if let Some(state) = filter.state {
        q = q.filter(a::state.eq(state));
    }
    match filter.by_rule {
        Some(true) => q = q.filter(a::rule_id.is_not_null()),
        Some(false) => q = q.filter(a::rule_id.is_null()),
        None => {}
    }
    if let Some(before) = before {
        q = q.filter(a::id.lt(before));
    }
    q.order(a::id.desc())
        .limit(limit)
        .select((
            a::id,
            a::comment_id,
            a::action,
            a::state,
            a::error,
            a::created_at,
            a::finished_at,
            u::display_name.nullable(),
            r::name.nullable(),
            c::platform_comment_id,
            c::author_name,
            c::text,
            c::hidden,
        ))
        .load(conn)
}

/// How a bulk run's actions stand: (pending, done, failed).
pub fn bulk_tally(
    conn: &mut PgConnection,
    tenant: TenantId,
    run: i64,
) -> QueryResult<(i64, i64, i64)> {
    let rows: Vec<(ActionState, i64)> = a::table
        .filter(a::tenant_id.eq(tenant))
        .filter(a::bulk_run_id.eq(run))
        .group_by(a::state)
        .select((a::state, diesel::dsl::count_star()))
        .load(conn)?;
    let of = |s: ActionState| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
    Ok((
        of(ActionState::Pending),
        of(ActionState::Done),
        of(ActionState::Failed),
    ))
}

/// A failed action of a bulk run, with its comment.
#[derive(Debug, Clone, Queryable)]
pub struct BulkFailure {
    pub comment_id: CommentId,
    pub author_name: Option<String>,
    pub text: Option<String>,
    pub error: Option<String>,
}

/// A bulk run's failed actions with their comments, newest first.
pub fn bulk_failures(
    conn: &mut PgConnection,
    tenant: TenantId,
    run: i64,
    limit: i64,
) -> QueryResult<Vec<BulkFailure>> {
    a::table
        .inner_join(c::table)
        .filter(a::tenant_id.eq(tenant))
        .filter(a::bulk_run_id.eq(run))
        .filter(a::state.eq(ActionState::Failed))
        .order(a::id.desc())
        .limit(limit)
        .select((a::comment_id, c::author_name, c::text, a::error))
        .load(conn)
}
