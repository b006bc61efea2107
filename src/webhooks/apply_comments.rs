//! Applying comment changes: add, edit, hide, unhide and remove, idempotent by comment id and
//! ordered by the change's own time.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz};

use crate::models::channels::Channel;
use crate::webhooks::normalize::{CommentEvent, CommentVerb};

/// Upserts one comment change.
pub(crate) fn comment(conn: &mut PgConnection, ch: &Channel, c: CommentEvent) -> QueryResult<()> {
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
    .bind::<BigInt, _>(ch.tenant_id.0)
    .bind::<BigInt, _>(ch.id.0)
    .bind::<Text, _>(&c.comment_id)
    .bind::<Nullable<Text>, _>(&c.post_id)
    .bind::<Nullable<Text>, _>(&c.parent_id)
    .bind::<Nullable<Text>, _>(&c.author_id)
    .bind::<Nullable<Text>, _>(&c.author_name)
    .bind::<Nullable<Text>, _>(&c.text)
    .bind::<Timestamptz, _>(c.at)
    .bind::<Bool, _>(c.from_business)
    .bind::<Jsonb, _>(&c.extra)
    .bind::<Bool, _>(c.verb == CommentVerb::Hide)
    .bind::<Nullable<Timestamptz>, _>((c.verb == CommentVerb::Remove).then_some(c.at))
    .bind::<Bool, _>(c.verb == CommentVerb::Edit)
    .bind::<Bool, _>(c.verb == CommentVerb::Hide)
    .bind::<Bool, _>(c.verb == CommentVerb::Unhide)
    .execute(conn)
    .map(|_| ())
}
