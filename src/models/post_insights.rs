//! Lifetime figures of posts, reels and stories (the latest value per metric), why a post has
//! none, and the ranked list the posts page shows.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::{comment_posts as p, post_insights as i, post_ranks as r};
use crate::models::insights::{self, Point};

/// Stores a post's figures as read today (the latest values, and today's snapshot for its
/// series) and clears any note.
pub fn record(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    post_id: &str,
    values: &[(String, i64)],
    today: NaiveDate,
) -> QueryResult<()> {
    crate::models::comment_posts::note(conn, tenant, channel, post_id)?;
    let rows: Vec<_> = values
        .iter()
        .map(|(metric, value)| {
            (
                i::tenant_id.eq(tenant),
                i::channel_id.eq(channel),
                i::post_id.eq(post_id),
                i::metric.eq(metric),
                i::value.eq(*value),
            )
        })
        .collect();
    diesel::insert_into(i::table)
        .values(rows)
        .on_conflict((i::channel_id, i::post_id, i::metric))
        .do_update()
        .set((
            i::value.eq(excluded(i::value)),
            i::fetched_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    let points: Vec<Point> = values
        .iter()
        .map(|(metric, value)| Point {
            object_id: post_id.to_string(),
            metric: metric.clone(),
            day: today,
            value: *value,
        })
        .collect();
    insights::upsert(conn, tenant, channel, &points)?;
    set_note(conn, tenant, channel, post_id, None)
}

/// Notes why a post has no figures (`None` clears it), and that Meta was asked now.
pub fn set_note(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    post_id: &str,
    note: Option<&str>,
) -> QueryResult<()> {
    diesel::update(
        p::table
            .filter(p::tenant_id.eq(tenant))
            .filter(p::channel_id.eq(channel))
            .filter(p::platform_post_id.eq(post_id)),
    )
    .set((
        p::insights_note.eq(note),
        p::insights_at.eq(Some(Utc::now())),
    ))
    .execute(conn)
    .map(|_| ())
}

/// The channel's posts published since `since`, newest first (at most `limit`): id and type.
pub fn recent(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    since: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<(String, Option<String>)>> {
    p::table
        .filter(p::tenant_id.eq(tenant))
        .filter(p::channel_id.eq(channel))
        .filter(p::posted_at.ge(since))
        .order(p::posted_at.desc())
        .limit(limit)
        .select((p::platform_post_id, p::media_type))
        .load(conn)
}

/// A post with its figures, as the posts page lists it.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = p)]
pub struct RankedPost {
    pub id: i64,
    pub channel_id: ChannelId,
    pub platform_post_id: String,
    pub caption: Option<String>,
    pub media_type: Option<String>,
    pub thumbnail_url: Option<String>,
    pub permalink: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    pub insights_note: Option<String>,
    pub insights_at: Option<DateTime<Utc>>,
}

/// The tenant's posts published in `[start, end)`, ranked by their figure in `column` (a key
/// of `post_columns`; highest first, posts without it last), `limit` from `offset`; and how
/// many there are.
#[allow(clippy::too_many_arguments)]
pub fn ranked(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    column: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<RankedPost>, i64)> {
    use diesel::sql_types::{BigInt, Text, Timestamptz};
    let in_range = || {
        let mut q = p::table
            .filter(p::tenant_id.eq(tenant))
            .filter(p::posted_at.ge(start))
            .filter(p::posted_at.lt(end))
            .into_boxed();
        if let Some(channel) = channel {
            q = q.filter(p::channel_id.eq(channel));
        }
        q
    };
    let total: i64 = in_range().count().get_result(conn)?;
    // The tenant's index, or the channel's, walked in the column's order: about as many rows
    // as the page shows are read, however many posts there are.
    let (scope, key) = match channel {
        Some(c) => ("r.channel_id = $1", c.0),
        None => ("r.tenant_id = $1", tenant.0),
    };
    // Raw SQL: a join on a sub-select with its own order and limit, which the builder cannot
    // say.
    let mut posts: Vec<RankedPost> = diesel::sql_query(format!(
        "SELECT p.id, p.channel_id, p.platform_post_id, p.caption, p.media_type, p.thumbnail_url,
                p.permalink, p.posted_at, p.insights_note, p.insights_at
           FROM (SELECT r.post_ref, r.value, r.posted_at FROM post_ranks r
                  WHERE {scope} AND r.column_key = $2 AND r.posted_at >= $3 AND r.posted_at < $4
                  ORDER BY r.value DESC, r.posted_at DESC, r.post_ref DESC
                 OFFSET $5 LIMIT $6) r
           JOIN comment_posts p ON p.id = r.post_ref AND p.tenant_id = $7
          ORDER BY r.value DESC, r.posted_at DESC, r.post_ref DESC"
    ))
    .bind::<BigInt, _>(key)
    .bind::<Text, _>(column)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<BigInt, _>(offset)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(tenant.0)
    .load(conn)?;
    if posts.len() as i64 >= limit {
        return Ok((posts, total));
    }
    // The page reaches past the ranked posts: the rest are those without the figure, newest
    // first.
    let ranked: i64 = {
        let mut q = r::table
            .filter(r::tenant_id.eq(tenant))
            .filter(r::column_key.eq(column))
            .filter(r::posted_at.ge(start))
            .filter(r::posted_at.lt(end))
            .into_boxed();
        if let Some(channel) = channel {
            q = q.filter(r::channel_id.eq(channel));
        }
        q.count().get_result(conn)?
    };
    let unranked = in_range()
        .filter(diesel::dsl::not(diesel::dsl::exists(
            r::table
                .filter(r::post_ref.eq(p::id))
                .filter(r::column_key.eq(column)),
        )))
        .order((p::posted_at.desc(), p::id.desc()))
        .offset((offset - ranked).max(0))
        .limit(limit - posts.len() as i64)
        .select(RankedPost::as_select())
        .load(conn)?;
    posts.extend(unranked);
    Ok((posts, total))
}

/// The figures of the given posts: (channel, post) → metric → value.
pub fn values_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    posts: &[(ChannelId, String)],
) -> QueryResult<BTreeMap<(ChannelId, String), BTreeMap<String, i64>>> {
    let ids: Vec<&str> = posts.iter().map(|(_, id)| id.as_str()).collect();
    let mut channels: Vec<ChannelId> = posts.iter().map(|(c, _)| *c).collect();
    channels.sort_unstable();
    channels.dedup();
    // By channel and post: the primary key's order, so each post is a short index read.
    let rows: Vec<(ChannelId, String, String, i64)> = i::table
        .filter(i::tenant_id.eq(tenant))
        .filter(i::channel_id.eq_any(channels))
        .filter(i::post_id.eq_any(ids))
        .select((i::channel_id, i::post_id, i::metric, i::value))
        .load(conn)?;
    let mut out: BTreeMap<(ChannelId, String), BTreeMap<String, i64>> = BTreeMap::new();
    for (channel, post, metric, value) in rows {
        if posts.iter().any(|(c, id)| *c == channel && *id == post) {
            out.entry((channel, post))
                .or_default()
                .insert(metric, value);
        }
    }
    Ok(out)
}

/// One of the tenant's posts by its Parley id.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: i64) -> QueryResult<Option<RankedPost>> {
    p::table
        .filter(p::tenant_id.eq(tenant))
        .filter(p::id.eq(id))
        .select(RankedPost::as_select())
        .first(conn)
        .optional()
}
