//! Comments on the business's Facebook and Instagram posts, as Meta's webhooks report them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz};
use serde_json::Value;

use crate::db::ids::{ChannelId, CommentId, TenantId};

/// What a comment change does beyond carrying the comment's fields (the verb of Meta's webhook).
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

/// Records a comment change, idempotent by comment id and ordered by the change's own time;
/// returns the comment's id.
/// Raw SQL: the upsert decides each column from the stored row and the change's verb and time
/// (`CASE` over the existing row), which diesel's `on_conflict` cannot say.
pub fn record_change(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    c: &CommentChange<'_>,
) -> QueryResult<CommentId> {
    #[derive(QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
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
           updated_at = now()
         RETURNING id",
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
    .get_result::<Recorded>(conn)
    .map(|r| CommentId(r.id))
}

/// Marks the channel's comment (by Meta's id) answered publicly: the business replied under it.
pub fn mark_replied_publicly(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    platform_comment_id: &str,
) -> QueryResult<()> {
    use crate::db::schema::comments as c;
    diesel::update(
        c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::channel_id.eq(channel))
            .filter(c::platform_comment_id.eq(platform_comment_id))
            .filter(c::replied_publicly_at.is_null()),
    )
    .set(c::replied_publicly_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(|_| ())
}

/// Marks the tenant's comment reviewed by `user`; returns the rows changed.
pub fn mark_reviewed(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CommentId,
    user: crate::db::ids::UserId,
) -> QueryResult<usize> {
    use crate::db::schema::comments as c;
    diesel::update(
        c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::id.eq(id)),
    )
    .set((
        c::reviewed_at.eq(diesel::dsl::now),
        c::reviewed_by.eq(Some(user)),
    ))
    .execute(conn)
}

/// How many of the tenant's comments need review, counted up to `cap` (the partial index keeps
/// this cheap, and a navigation badge needs no exact figure beyond it).
pub fn needs_review_count(conn: &mut PgConnection, tenant: TenantId, cap: i64) -> QueryResult<i64> {
    use crate::db::schema::comments as c;
    let ids: Vec<i64> = c::table
        .filter(c::tenant_id.eq(tenant))
        .filter(c::reviewed_at.is_null())
        .filter(c::deleted_at.is_null())
        .filter(c::from_business.eq(false))
        .select(c::id)
        .limit(cap)
        .load(conn)?;
    Ok(ids.len() as i64)
}

/// Marks the tenant's comment answered by a private reply, in `conversation` when known.
pub fn mark_replied_privately(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CommentId,
    conversation: Option<crate::db::ids::ConversationId>,
) -> QueryResult<()> {
    use crate::db::schema::comments as c;
    diesel::update(
        c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::id.eq(id)),
    )
    .set((
        c::replied_privately_at.eq(Some(Utc::now())),
        c::conversation_id.eq(conversation),
        c::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|_| ())
}

/// What Meta says about a mention that arrived with its id only (no text yet): its text,
/// author, time and media. Returns the comment's id when it was filled.
#[allow(clippy::too_many_arguments)]
pub fn fill_mention(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    platform_comment_id: &str,
    text: Option<&str>,
    author: Option<&str>,
    at: DateTime<Utc>,
    media: Option<&str>,
) -> QueryResult<Option<CommentId>> {
    use crate::db::schema::comments as c;
    diesel::update(
        c::table
            .filter(c::tenant_id.eq(tenant))
            .filter(c::channel_id.eq(channel))
            .filter(c::platform_comment_id.eq(platform_comment_id))
            .filter(c::text.is_null()),
    )
    .set((
        c::text.eq(text),
        c::author_name.eq(author),
        c::post_id.eq(media),
        c::commented_at.eq(at),
        c::updated_at.eq(diesel::dsl::now),
    ))
    .returning(c::id)
    .get_result(conn)
    .optional()
}
