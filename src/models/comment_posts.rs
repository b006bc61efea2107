//! The posts and media that comments belong to, with what Meta says about them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::comment_posts as p;

/// What Meta says about a post or media item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostDetails {
    pub platform_post_id: String,
    pub caption: Option<String>,
    pub media_type: Option<String>,
    pub thumbnail_url: Option<String>,
    pub permalink: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
}

/// A post as the queue shows it above its comments.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = p)]
pub struct PostRow {
    pub channel_id: ChannelId,
    pub platform_post_id: String,
    pub caption: Option<String>,
    pub media_type: Option<String>,
    pub thumbnail_url: Option<String>,
    pub permalink: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    /// When Meta's details were read (none: only the id is known so far).
    pub fetched_at: Option<DateTime<Utc>>,
}

/// Notes a post a comment named; true when it is new to Parley (its details are to be fetched).
pub fn note(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    platform_post_id: &str,
) -> QueryResult<bool> {
    diesel::insert_into(p::table)
        .values((
            p::tenant_id.eq(tenant),
            p::channel_id.eq(channel),
            p::platform_post_id.eq(platform_post_id),
        ))
        .on_conflict((p::channel_id, p::platform_post_id))
        .do_nothing()
        .execute(conn)
        .map(|n| n > 0)
}

/// Saves what Meta says about a post.
pub fn save(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    d: &PostDetails,
) -> QueryResult<()> {
    let values = (
        p::caption.eq(&d.caption),
        p::media_type.eq(&d.media_type),
        p::thumbnail_url.eq(&d.thumbnail_url),
        p::permalink.eq(&d.permalink),
        p::posted_at.eq(d.posted_at),
        p::fetched_at.eq(Some(Utc::now())),
    );
    diesel::insert_into(p::table)
        .values((
            p::tenant_id.eq(tenant),
            p::channel_id.eq(channel),
            p::platform_post_id.eq(&d.platform_post_id),
            values,
        ))
        .on_conflict((p::channel_id, p::platform_post_id))
        .do_update()
        .set(values)
        .execute(conn)
        .map(|_| ())
}

/// The tenant's posts among `keys` (channel, Meta id), by key.
pub fn of(
    conn: &mut PgConnection,
    tenant: TenantId,
    keys: &[(ChannelId, String)],
) -> QueryResult<HashMap<(ChannelId, String), PostRow>> {
    let ids: Vec<&str> = keys.iter().map(|(_, id)| id.as_str()).collect();
    let rows: Vec<PostRow> = p::table
        .filter(p::tenant_id.eq(tenant))
        .filter(p::platform_post_id.eq_any(ids))
        .select(PostRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.channel_id, r.platform_post_id.clone()), r))
        .collect())
}
