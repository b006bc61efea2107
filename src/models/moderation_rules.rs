//! Auto-moderation rules, a tenant's list in order, and the once-per-comment claim that runs them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::comments::rules::Conditions;
use crate::db::ids::{ChannelId, CommentId, TenantId, UserId};
use crate::db::schema::{comments as c, moderation_rules as r};
use crate::db::statuses::RuleAction;
use crate::models::channels::Platform;

/// A rule as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = r)]
pub struct RuleRow {
    pub id: i64,
    pub name: String,
    pub position: i32,
    pub enabled: bool,
    pub match_all: bool,
    pub conditions: serde_json::Value,
    pub action: RuleAction,
    pub saved_reply_id: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl RuleRow {
    /// The typed conditions (a row written by an older Parley reads with defaults for what it
    /// lacks; one that cannot be read at all has none, and never matches).
    pub fn conditions(&self) -> Conditions {
        serde_json::from_value(self.conditions.clone()).unwrap_or_default()
    }
}

/// A rule to save.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub name: String,
    pub enabled: bool,
    pub match_all: bool,
    pub conditions: Conditions,
    pub action: RuleAction,
    pub saved_reply_id: Option<i64>,
}

/// The tenant's rules in the order they are tried.
pub fn list(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<RuleRow>> {
    r::table
        .filter(r::tenant_id.eq(tenant))
        .order((r::position, r::id))
        .select(RuleRow::as_select())
        .load(conn)
}

/// One rule of the tenant.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<RuleRow>> {
    r::table
        .filter(r::tenant_id.eq(tenant))
        .filter(r::id.eq(id))
        .select(RuleRow::as_select())
        .first(conn)
        .optional()
}

/// What tells a cached copy of the tenant's rules from the current ones: how many there are and
/// when the last one changed (any save or switch bumps `updated_at`; a delete lowers the count).
pub fn version(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    r::table
        .filter(r::tenant_id.eq(tenant))
        .select((diesel::dsl::count_star(), diesel::dsl::max(r::updated_at)))
        .first(conn)
}

/// Adds a rule at the end of the list; returns its id.
pub fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    rule: &RuleInput,
    by: UserId,
) -> QueryResult<i64> {
    let last: Option<i32> = r::table
        .filter(r::tenant_id.eq(tenant))
        .select(diesel::dsl::max(r::position))
        .first(conn)?;
    diesel::insert_into(r::table)
        .values((
            r::tenant_id.eq(tenant),
            r::name.eq(&rule.name),
            r::position.eq(last.map_or(0, |p| p + 1)),
            r::enabled.eq(rule.enabled),
            r::match_all.eq(rule.match_all),
            r::conditions.eq(serde_json::to_value(&rule.conditions).unwrap_or_default()),
            r::action.eq(rule.action),
            r::saved_reply_id.eq(rule.saved_reply_id),
            r::created_by.eq(Some(by)),
        ))
        .returning(r::id)
        .get_result(conn)
}

/// Saves a rule's new definition; returns the rows changed.
pub fn update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    rule: &RuleInput,
) -> QueryResult<usize> {
    diesel::update(
        r::table
            .filter(r::tenant_id.eq(tenant))
            .filter(r::id.eq(id)),
    )
    .set((
        r::name.eq(&rule.name),
        r::enabled.eq(rule.enabled),
        r::match_all.eq(rule.match_all),
        r::conditions.eq(serde_json::to_value(&rule.conditions).unwrap_or_default()),
        r::action.eq(rule.action),
        r::saved_reply_id.eq(rule.saved_reply_id),
        r::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Switches a rule on or off; returns the rows changed.
pub fn set_enabled(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: i64,
    enabled: bool,
) -> QueryResult<usize> {
    diesel::update(
        r::table
            .filter(r::tenant_id.eq(tenant))
            .filter(r::id.eq(id)),
    )
    .set((r::enabled.eq(enabled), r::updated_at.eq(diesel::dsl::now)))
    .execute(conn)
}

/// Deletes a rule (comments and log rows keep their history without its name); returns the rows
/// changed.
pub fn delete(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<usize> {
    diesel::delete(
        r::table
            .filter(r::tenant_id.eq(tenant))
            .filter(r::id.eq(id)),
    )
    .execute(conn)
}

/// Moves a rule one place up (`-1`) or down (`1`) by swapping positions with its neighbour.
pub fn shift(conn: &mut PgConnection, tenant: TenantId, id: i64, by: i32) -> QueryResult<()> {
    conn.transaction(|conn| {
        let mut rules = list(conn, tenant)?;
        let Some(at) = rules.iter().position(|x| x.id == id) else {
            return Ok(());
        };
        let to = at as i64 + i64::from(by);
        if to < 0 || to >= rules.len() as i64 {
            return Ok(());
        }
        rules.swap(at, to as usize);
        // Renumber the whole list: positions stay dense whatever history left behind.
        for (position, rule) in rules.iter().enumerate() {
            diesel::update(r::table.filter(r::id.eq(rule.id)))
                .set((
                    r::position.eq(position as i32),
                    r::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// A comment as the rules see it.
#[derive(Debug, Clone, Queryable)]
pub struct RuleSubject {
    pub id: CommentId,
    pub channel_id: ChannelId,
    pub platform: Platform,
    pub post_id: Option<String>,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub text: Option<String>,
    pub commented_at: DateTime<Utc>,
    pub hidden: bool,
}

/// Claims a newly seen comment of the channel for the rules: marks it checked and returns it as
/// rules see it, once. A redelivered comment, the business's own, or one already deleted is not
/// claimed.
pub fn claim(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    platform: Platform,
    platform_comment_id: &str,
) -> QueryResult<Option<RuleSubject>> {
    diesel::update(
        c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::channel_id.eq(channel))
            .filter(c::platform_comment_id.eq(platform_comment_id))
            .filter(c::rules_checked_at.is_null())
            .filter(c::from_business.eq(false))
            .filter(c::deleted_at.is_null()),
    )
    .set(c::rules_checked_at.eq(diesel::dsl::now))
    .returning((
        c::id,
        c::post_id,
        c::author_id,
        c::author_name,
        c::text,
        c::commented_at,
        c::hidden,
    ))
    .get_result::<(
        CommentId,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
        bool,
    )>(conn)
    .optional()
    .map(|row| {
        row.map(
            |(id, post_id, author_id, author_name, text, commented_at, hidden)| RuleSubject {
                id,
                channel_id: channel,
                platform,
                post_id,
                author_id,
                author_name,
                text,
                commented_at,
                hidden,
            },
        )
    })
}

/// The tenant's latest `limit` customers' comments as rules see them (for a dry run).
pub fn recent_subjects(
    conn: &mut PgConnection,
    tenant: TenantId,
    limit: i64,
) -> QueryResult<Vec<RuleSubject>> {
    use crate::db::schema::channels as ch;
    c::table
        .inner_join(ch::table)
        .filter(c::tenant_id.eq(tenant))
        .filter(c::from_business.eq(false))
        .order((c::commented_at.desc(), c::id.desc()))
        .limit(limit)
        .select((
            c::id,
            c::channel_id,
            ch::platform,
            c::post_id,
            c::author_id,
            c::author_name,
            c::text,
            c::commented_at,
            c::hidden,
        ))
        .load(conn)
}

/// Records which rule matched a comment.
pub fn set_matched(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    rule: i64,
) -> QueryResult<()> {
    diesel::update(
        c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::id.eq(comment)),
    )
    .set(c::rule_id.eq(Some(rule)))
    .execute(conn)
    .map(|_| ())
}

/// The names of the tenant's rules by id (for chips and the log).
pub fn names(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> QueryResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = r::table
        .filter(r::tenant_id.eq(tenant))
        .select((r::id, r::name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
