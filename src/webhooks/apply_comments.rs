//! Applying comment changes: add, edit, hide, unhide and remove, idempotent by comment id and
//! ordered by the change's own time.

use diesel::prelude::*;

use crate::models::channels::Channel;
use crate::models::comments::{self, CommentAction, CommentChange};
use crate::webhooks::normalize::{CommentEvent, CommentVerb};

/// Records one comment change.
pub(crate) fn comment(conn: &mut PgConnection, ch: &Channel, c: CommentEvent) -> QueryResult<()> {
    let action = match c.verb {
        CommentVerb::Add => CommentAction::Add,
        CommentVerb::Edit => CommentAction::Edit,
        CommentVerb::Remove => CommentAction::Remove,
        CommentVerb::Hide => CommentAction::Hide,
        CommentVerb::Unhide => CommentAction::Unhide,
    };
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
            action,
        },
    )
}
