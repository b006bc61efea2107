//! Comments on the business's Facebook and Instagram posts, as Meta's webhooks report them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz};
use serde_json::Value;

use crate::db::ids::{ChannelId, TenantId};

/// What a comment change does beyond carrying the comment's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    /// Added (or an unknown verb: only its fields are kept).
    Add,
    /// New text, applied when newer than the last edit seen.
    Edit,
    Hide,
    Unhide,
    Remove,
}

/// One comment change on a channel.
#[derive(Debug)]
pub struct CommentChange<'a> {
    pub comment_id: &'a str,
    pub post_id: Option<&'a str>,
    pub parent_id: Option<&'a str>,
    pub author_id: Option<&'a str>,
    pub author_name: Option<&'a str>,
    pub text: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub from_business: bool,
    pub extra: &'a Value,
    pub action: CommentAction,
}

/// Records a comment change, idempotent by comment id and ordered by the change's own time.
/// Raw SQL: the upsert decides each column from the stored row and the change's verb and time
/// (`CASE` over the existing row), which diesel's `on_conflict` cannot say.
pub fn record_change(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    c: &CommentChange<'_>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO comments (tenant_id, channel_id, platform_comment_id, post_id, parent_comment_id, author_id, author_name,
                               text, commented_at, from_business, extra, hidden, deleted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (channel_id, platform_comment_id) DO UPDATE SET
           post_id = COALESCE(comments.post_id, EXCLUDED.post_id),
           author_name = COALESCE(EXCLUDED.author_name, comments.author_name),
           text = CASE WHEN $14 AND (comments.edited_at IS NULL OR comments.edited_at <= $9) THEN COALESCE(EXCLUDED.text, comments.text)
                       ELSE COALESCE(comments.text, EXCLUDED.text) END,
           edited_at = CASE WHEN $14 THEN GREATEST(comments.edited_at, $9) ELSE comments.edited_at END,
           hidden = CASE WHEN $15 THEN TRUE WHEN $16 THEN FALSE ELSE comments.hidden END,
           deleted_at = COALESCE(comments.deleted_at, EXCLUDED.deleted_at),
           updated_at = now()",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(channel.0)
    .bind::<Text, _>(c.comment_id)
    .bind::<Nullable<Text>, _>(c.post_id)
    .bind::<Nullable<Text>, _>(c.parent_id)
    .bind::<Nullable<Text>, _>(c.author_id)
    .bind::<Nullable<Text>, _>(c.author_name)
    .bind::<Nullable<Text>, _>(c.text)
    .bind::<Timestamptz, _>(c.at)
    .bind::<Bool, _>(c.from_business)
    .bind::<Jsonb, _>(c.extra)
    .bind::<Bool, _>(c.action == CommentAction::Hide)
    .bind::<Nullable<Timestamptz>, _>((c.action == CommentAction::Remove).then_some(c.at))
    .bind::<Bool, _>(c.action == CommentAction::Edit)
    .bind::<Bool, _>(c.action == CommentAction::Hide)
    .bind::<Bool, _>(c.action == CommentAction::Unhide)
    .execute(conn)
    .map(|_| ())
}
