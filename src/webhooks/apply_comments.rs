//! Applying comment changes: add, edit, hide, unhide and remove, idempotent by comment id and
//! ordered by the change's own time.

use diesel::prelude::*;

use crate::models::channels::Channel;
use crate::models::comments::{self, CommentChange};
use crate::webhooks::normalize::CommentEvent;

/// Records one comment change.
pub(crate) fn comment(conn: &mut PgConnection, ch: &Channel, c: CommentEvent) -> QueryResult<()> {
    comments::record_change(
        conn,
        ch.tenant_id,
        ch.id,
        &CommentChange {
            comment_id: &c.comment_id,
            post_id: c.post_id.as_deref(),
            parent_id: c.parent_id.as_deref(),
            author_id: c.author_id.as_deref(),
            author_name: c.author_name.as_deref(),
            text: c.text.as_deref(),
            at: c.at,
            from_business: c.from_business,
            extra: &c.extra,
            action: c.verb,
        },
    )
}
