//! Auto-moderation: the tenant's rules tried once on each new customer comment, as webhook
//! processing records it (in the same transaction, so a redelivery finds the comment claimed and
//! a failed event leaves no half-run rule behind). The first enabled rule that matches acts
//! through the same request path as a moderator, and the job queue carries it to Meta.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::comments::rules::{CommentFacts, CompiledRule, RuleError, RuleSpec, first_match};
use crate::comments::{Actor, CommentError, record_refusal, request};
use crate::db::DbError;
use crate::db::ids::{CommentId, TenantId};
use crate::db::statuses::{ModerationAction, RuleAction};
use crate::models::channels::Channel;
use crate::models::moderation_rules::{self, RuleInput, RuleRow, RuleSubject};
use crate::models::saved_replies;

type Version = (i64, Option<DateTime<Utc>>);
type Cache = HashMap<TenantId, (Version, Arc<Vec<CompiledRule>>)>;

/// Compiled rules per tenant, with the version they were compiled from: a rule saved in any
/// Parley process changes the version, and the next comment recompiles.
static COMPILED: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Compiles one stored rule.
pub fn compile(row: &RuleRow) -> Result<CompiledRule, RuleError> {
    let conditions = row.conditions();
    CompiledRule::compile(&RuleSpec {
        id: row.id,
        name: &row.name,
        match_all: row.match_all,
        conditions: &conditions,
        action: row.action,
        saved_reply_id: row.saved_reply_id,
    })
}

/// Compiles a rule as typed (not saved yet): what saving checks, and what a dry run runs.
pub fn compile_input(rule: &RuleInput) -> Result<CompiledRule, RuleError> {
    CompiledRule::compile(&RuleSpec {
        id: 0,
        name: &rule.name,
        match_all: rule.match_all,
        conditions: &rule.conditions,
        action: rule.action,
        saved_reply_id: rule.saved_reply_id,
    })
}

/// The tenant's enabled rules, compiled, in order.
pub fn compiled(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Arc<Vec<CompiledRule>>> {
    let version = moderation_rules::version(conn, tenant)?;
    if let Ok(cache) = COMPILED.lock()
        && let Some((v, rules)) = cache.get(&tenant)
        && *v == version
    {
        return Ok(rules.clone());
    }
    let rules: Vec<CompiledRule> = moderation_rules::list(conn, tenant)?
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|r| match compile(r) {
            Ok(rule) => Some(rule),
            Err(e) => {
                // Saving checks every rule, so only a rule written by another version gets here.
                tracing::warn!(rule = r.id, error = %e, "a moderation rule does not compile; skipped");
                None
            }
        })
        .collect();
    let rules = Arc::new(rules);
    if let Ok(mut cache) = COMPILED.lock() {
        cache.insert(tenant, (version, rules.clone()));
    }
    Ok(rules)
}

/// Facts of a stored comment for matching.
fn facts(s: &RuleSubject) -> CommentFacts<'_> {
    CommentFacts {
        text: s.text.as_deref().unwrap_or(""),
        author_id: s.author_id.as_deref(),
        author_name: s.author_name.as_deref(),
        channel: s.channel_id,
        platform: s.platform,
        post_id: s.post_id.as_deref(),
    }
}

/// Tries the tenant's rules on a comment just recorded, once in its life: returns the rule that
/// matched. Called by webhook processing inside the event's transaction.
pub fn on_new_comment(
    conn: &mut PgConnection,
    channel: &Channel,
    platform_comment_id: &str,
) -> QueryResult<Option<i64>> {
    let tenant = channel.tenant_id;
    let Some(subject) = moderation_rules::claim(
        conn,
        tenant,
        channel.id,
        channel.platform,
        platform_comment_id,
    )?
    else {
        return Ok(None);
    };
    let comment = subject.id;
    let rules = compiled(conn, tenant)?;
    let Some(rule) = first_match(&rules, &facts(&subject)) else {
        return Ok(None);
    };
    moderation_rules::set_matched(conn, tenant, comment, rule.id)?;
    // Hidden already (at Meta, as the backfill found it): the rule has nothing to do.
    if !(rule.action == RuleAction::Hide && subject.hidden) {
        act(conn, tenant, comment, rule)?;
    }
    crate::comments::live::notify(conn, tenant, comment)?;
    Ok(Some(rule.id))
}

/// Asks for the rule's action on the comment; a refusal (the comment's state or Meta's rules)
/// is recorded as a failed action so moderators see it in the queue and the log.
fn act(
    conn: &mut PgConnection,
    tenant: TenantId,
    comment: CommentId,
    rule: &CompiledRule,
) -> QueryResult<()> {
    let action = match rule.action {
        RuleAction::Review => return Ok(()),
        RuleAction::Hide => ModerationAction::Hide,
        RuleAction::Delete => ModerationAction::Delete,
        RuleAction::Reply => ModerationAction::Reply,
        RuleAction::PrivateReply => ModerationAction::PrivateReply,
    };
    let text = match rule.saved_reply_id {
        Some(id) if action.needs_text() => saved_replies::body(conn, tenant, id)?,
        _ => None,
    };
    let actor = Actor::Rule(rule.id);
    if action.needs_text() && text.is_none() {
        return record_refusal(
            conn,
            tenant,
            comment,
            action,
            actor,
            "The rule's saved reply was deleted.",
        );
    }
    match request(conn, tenant, comment, action, text.as_deref(), actor) {
        Ok(_) => Ok(()),
        Err(CommentError::Refused(why)) => {
            record_refusal(conn, tenant, comment, action, actor, &why)
        }
        Err(CommentError::NotFound) => Ok(()),
        Err(CommentError::Db(DbError::Query(e))) => Err(e),
        // `request` only runs queries on the connection it was given.
        Err(CommentError::Db(other)) => Err(diesel::result::Error::QueryBuilderError(
            other.to_string().into(),
        )),
    }
}

/// What a rule would have matched among the tenant's latest customer comments.
#[derive(Debug)]
pub struct DryRun {
    pub examined: usize,
    pub matches: Vec<RuleSubject>,
}

/// How many recent comments a dry run looks at.
pub const DRY_RUN_COMMENTS: i64 = 500;

/// Tries a rule (not saved) on the tenant's latest comments.
pub fn dry_run(
    conn: &mut PgConnection,
    tenant: TenantId,
    rule: &RuleInput,
) -> Result<DryRun, DryRunError> {
    let compiled = compile_input(rule)?;
    let subjects = moderation_rules::recent_subjects(conn, tenant, DRY_RUN_COMMENTS)?;
    let examined = subjects.len();
    let matches = subjects
        .into_iter()
        .filter(|s| compiled.matches(&facts(s)))
        .collect();
    Ok(DryRun { examined, matches })
}

/// Why a dry run could not run.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}
