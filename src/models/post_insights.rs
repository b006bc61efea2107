//! Lifetime figures of posts, reels and stories (the latest value per metric), why a post has
//! none, and the ranked list the posts page shows.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::{comment_posts as p, post_insights as i};
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

/// The tenant's posts published in `[start, end)`, ranked by the first of `sort` they have
/// (highest first; posts without it last), `limit` from `offset`; and how many there are.
#[allow(clippy::too_many_arguments)]
pub fn ranked(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    sort: &[&str],
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<RankedPost>, i64)> {
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
    // Raw SQL: a LATERAL join, which the builder cannot say. Each post of the range looks up
    // its sort figure by primary key; a plain join would scan every post's figures.
    let posts = diesel::sql_query(
        "SELECT p.id, p.channel_id, p.platform_post_id, p.caption, p.media_type, p.thumbnail_url,
                p.permalink, p.posted_at, p.insights_note, p.insights_at
           FROM comment_posts p
           LEFT JOIN LATERAL (SELECT max(i.value) AS value FROM post_insights i
                               WHERE i.channel_id = p.channel_id
                                 AND i.post_id = p.platform_post_id
                                 AND i.metric = ANY($5)) s ON TRUE
          WHERE p.tenant_id = $1 AND p.posted_at >= $2 AND p.posted_at < $3
            AND ($4::bigint IS NULL OR p.channel_id = $4)
          ORDER BY s.value DESC NULLS LAST, p.posted_at DESC, p.id DESC
          OFFSET $6 LIMIT $7",
    )
    .bind::<diesel::sql_types::BigInt, _>(tenant.0)
    .bind::<diesel::sql_types::Timestamptz, _>(start)
    .bind::<diesel::sql_types::Timestamptz, _>(end)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(channel.map(|c| c.0))
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(sort)
    .bind::<diesel::sql_types::BigInt, _>(offset)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)?;
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
