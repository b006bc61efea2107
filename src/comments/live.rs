//! Live updates of the moderation queue: a changed comment is announced to every Parley process
//! at commit, through the inbox's notification pipeline.

use diesel::prelude::*;

use crate::db::ids::{CommentId, TenantId};
use crate::inbox::live::{LiveEvent, publish};

/// Tells open moderation pages that the tenant's comment changed (delivered at commit).
pub fn notify(conn: &mut PgConnection, tenant: TenantId, comment: CommentId) -> QueryResult<()> {
    publish(
        conn,
        &[LiveEvent::Comment {
            tenant,
            id: comment,
        }],
    )
}
