//! Applying comment changes: add, edit, hide, unhide and remove, idempotent by comment id and
//! ordered by the change's own time.

use diesel::prelude::*;

use crate::models::channels::Channel;
use crate::models::comments::{self, CommentAction, CommentChange};
use crate::webhooks::normalize::CommentEvent;

/// Records one comment change; a comment seen for the first time meets the tenant's
/// auto-moderation rules (once: a redelivery finds it claimed), and open moderation pages hear of
/// every change.
pub(crate) fn comment(conn: &mut PgConnection, ch: &Channel, c: CommentEvent) -> QueryResult<()> {
    let id = comments::record_change(
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
    )?;
    // A mention is on someone else's media, which the account cannot read as a post; the
    // mention itself arrives with its id only.
    let mention = crate::comments::mentions::is_mention(&c.extra);
    if let Some(post) = c.post_id.as_deref().filter(|_| !mention) {
        crate::comments::posts::note(conn, ch.tenant_id, ch.id, post)?;
    }
    if mention && c.text.is_none() {
        crate::comments::mentions::queue_fetch(conn, ch.tenant_id, ch.id, &c.comment_id)?;
    }
    // A reply from the business answers its parent comment.
    if c.from_business
        && let Some(parent) = c.parent_id.as_deref()
    {
        comments::mark_replied_publicly(conn, ch.tenant_id, ch.id, parent)?;
    }
    if c.verb == CommentAction::Add
        && crate::comments::auto::on_new_comment(conn, ch, &c.comment_id)?.is_some()
    {
        return Ok(()); // the rule's run announced the comment
    }
    crate::comments::live::notify(conn, ch.tenant_id, id)
}
