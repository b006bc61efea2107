//! Insight values kept from Meta: daily points per channel, object and metric, and the metrics
//! Meta refused for a channel.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::{insight_points as p, insight_refusals as r};

/// One day's value of a metric of an object (Page, IG account, media).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub object_id: String,
    pub metric: String,
    pub day: NaiveDate,
    pub value: i64,
}

/// Stores points, replacing the values already kept for the same days (Meta revises recent
/// days); returns the rows written. A post's snapshots come here; an account's own series go
/// through [`upsert_account`], which keeps the all-channel totals in step.
pub fn upsert(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    points: &[Point],
) -> QueryResult<usize> {
    let mut written = 0;
    // PostgreSQL takes at most 65,535 parameters per statement: 6 per row.
    for chunk in points.chunks(5000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|pt| {
                (
                    p::tenant_id.eq(tenant),
                    p::channel_id.eq(channel),
                    p::object_id.eq(&pt.object_id),
                    p::metric.eq(&pt.metric),
                    p::day.eq(pt.day),
                    p::value.eq(pt.value),
                )
            })
            .collect();
        written += diesel::insert_into(p::table)
            .values(rows)
            .on_conflict((p::channel_id, p::object_id, p::metric, p::day))
            .do_update()
            .set((
                p::value.eq(excluded(p::value)),
                p::fetched_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    Ok(written)
}

/// Stores an account's points (a Page's or Instagram account's own series, not a post's
/// snapshots) and keeps the tenant's all-channel totals of those days in step.
pub fn upsert_account(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    points: &[Point],
) -> QueryResult<usize> {
    let written = upsert(conn, tenant, channel, points)?;
    let mut metrics: Vec<&str> = points.iter().map(|pt| pt.metric.as_str()).collect();
    metrics.sort_unstable();
    metrics.dedup();
    if let (Some(from), Some(to)) = (
        points.iter().map(|pt| pt.day).min(),
        points.iter().map(|pt| pt.day).max(),
    ) {
        retotal(conn, tenant, &metrics, from, to)?;
    }
    Ok(written)
}

/// Recomputes the tenant's all-channel daily totals of `metrics` on `from..=to` from its
/// channels' own points. A per-tenant lock (held to the end of the transaction) makes a
/// concurrent refresh of another channel wait and then sum these points too, so no total misses
/// a committed point.
/// Raw SQL: an advisory lock and a set-based upsert from a join, which the builder cannot say.
pub fn retotal(
    conn: &mut PgConnection,
    tenant: TenantId,
    metrics: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<()> {
    use diesel::sql_types::{Array, BigInt, Date, Text};
    // Points only ever change value, never disappear: the days they have are the days to redo.
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtext('insight_totals'), hashtext($1::text))",
    )
    .bind::<BigInt, _>(tenant.0)
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO insight_totals (tenant_id, metric, day, value)
         SELECT p.tenant_id, p.metric, p.day, LEAST(sum(p.value), 9223372036854775807)::bigint
           FROM insight_points p
           JOIN channels c ON c.id = p.channel_id AND c.platform_id = p.object_id
          WHERE p.tenant_id = $1 AND p.metric = ANY($2) AND p.day BETWEEN $3 AND $4
          GROUP BY 1, 2, 3
         ON CONFLICT (tenant_id, metric, day)
         DO UPDATE SET value = excluded.value, updated_at = now()",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Array<Text>, _>(metrics)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .execute(conn)
    .map(|_| ())
}

/// Recomputes every all-channel total of the tenant (after points were written around
/// [`upsert`], as the benchmark's seeding does).
pub fn retotal_all(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<()> {
    let span: (Option<NaiveDate>, Option<NaiveDate>) = p::table
        .filter(p::tenant_id.eq(tenant))
        .select((diesel::dsl::min(p::day), diesel::dsl::max(p::day)))
        .first(conn)?;
    let metrics: Vec<String> = p::table
        .filter(p::tenant_id.eq(tenant))
        .select(p::metric)
        .distinct()
        .load(conn)?;
    let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
    match span {
        (Some(from), Some(to)) => retotal(conn, tenant, &metrics, from, to),
        _ => Ok(()),
    }
}

/// Records that Meta refused `metric` for the channel, with its reason.
pub fn refused(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    metric: &str,
    reason: &str,
) -> QueryResult<()> {
    diesel::insert_into(r::table)
        .values((
            r::tenant_id.eq(tenant),
            r::channel_id.eq(channel),
            r::metric.eq(metric),
            r::reason.eq(reason),
        ))
        .on_conflict((r::channel_id, r::metric))
        .do_update()
        .set((r::reason.eq(reason), r::noticed_at.eq(diesel::dsl::now)))
        .execute(conn)
        .map(|_| ())
}

/// Forgets a refusal: Meta served the metric again.
pub fn served(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    metric: &str,
) -> QueryResult<()> {
    diesel::delete(
        r::table
            .filter(r::tenant_id.eq(tenant))
            .filter(r::channel_id.eq(channel))
            .filter(r::metric.eq(metric)),
    )
    .execute(conn)
    .map(|_| ())
}

/// The metrics Meta refused for the tenant's channel, with the reasons.
pub fn refusals(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
) -> QueryResult<Vec<(String, String)>> {
    r::table
        .filter(r::tenant_id.eq(tenant))
        .filter(r::channel_id.eq(channel))
        .order(r::metric)
        .select((r::metric, r::reason))
        .load(conn)
}

/// The tenant's daily totals of each of `metrics` over its channels' own accounts (or one
/// channel's), by metric and day, oldest first. Posts' snapshots, kept under the same metric
/// names, are not counted. One query for every card of the page.
pub fn daily_totals(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    metrics: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, NaiveDate, i64)>> {
    use crate::db::schema::channels as ch;
    let accounts = ch::table
        .filter(ch::tenant_id.eq(tenant))
        .select(ch::platform_id);
    let base = p::table
        .filter(p::tenant_id.eq(tenant))
        .filter(p::metric.eq_any(metrics))
        .filter(p::object_id.eq_any(accounts))
        .filter(p::day.between(from, to));
    // `sum(bigint)` is numeric in PostgreSQL; cast back (daily totals fit in a bigint).
    let total = || diesel::dsl::sql::<diesel::sql_types::BigInt>("sum(value)::bigint");
    match channel {
        Some(channel) => base
            .filter(p::channel_id.eq(channel))
            .group_by((p::metric, p::day))
            .order((p::metric, p::day))
            .select((p::metric, p::day, total()))
            .load(conn),
        // All channels: the totals kept in step with the points.
        None => {
            use crate::db::schema::insight_totals as t;
            t::table
                .filter(t::tenant_id.eq(tenant))
                .filter(t::metric.eq_any(metrics))
                .filter(t::day.between(from, to))
                .order((t::metric, t::day))
                .select((t::metric, t::day, t::value))
                .load(conn)
        }
    }
}

/// The latest kept value of `metric` on each of the tenant's channels' own accounts.
pub fn latest_by_channel(
    conn: &mut PgConnection,
    tenant: TenantId,
    metric: &str,
) -> QueryResult<Vec<(ChannelId, i64)>> {
    use crate::db::schema::channels as ch;
    // The last month is enough for a figure refreshed daily, and keeps the read short.
    let since = chrono::Utc::now().date_naive() - chrono::Duration::days(31);
    p::table
        .inner_join(
            ch::table.on(ch::id
                .eq(p::channel_id)
                .and(ch::platform_id.eq(p::object_id))),
        )
        .filter(p::tenant_id.eq(tenant))
        .filter(p::metric.eq(metric))
        .filter(p::day.ge(since))
        .distinct_on(p::channel_id)
        .order((p::channel_id, p::day.desc()))
        .select((p::channel_id, p::value))
        .load(conn)
}

/// The latest time the tenant's insights were refreshed (for "last refresh" on the page).
pub fn last_refresh(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> QueryResult<Option<chrono::DateTime<chrono::Utc>>> {
    use crate::db::schema::insight_totals as t;
    t::table
        .filter(t::tenant_id.eq(tenant))
        .select(diesel::dsl::max(t::updated_at))
        .first(conn)
}

/// Every kept day of every metric of one object (a post's snapshots), oldest first.
pub fn object_series(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    object_id: &str,
) -> QueryResult<Vec<(String, NaiveDate, i64)>> {
    p::table
        .filter(p::tenant_id.eq(tenant))
        .filter(p::channel_id.eq(channel))
        .filter(p::object_id.eq(object_id))
        .order((p::metric, p::day))
        .select((p::metric, p::day, p::value))
        .load(conn)
}

/// Replaces the object's breakdown of `metric` by `dimension` with `rows` (key, value).
#[allow(clippy::too_many_arguments)]
pub fn replace_breakdown(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    object_id: &str,
    metric: &str,
    dimension: &str,
    rows: &[(String, i64)],
) -> QueryResult<()> {
    use crate::db::schema::insight_breakdowns as b;
    diesel::delete(
        b::table
            .filter(b::tenant_id.eq(tenant))
            .filter(b::channel_id.eq(channel))
            .filter(b::object_id.eq(object_id))
            .filter(b::metric.eq(metric))
            .filter(b::dimension.eq(dimension)),
    )
    .execute(conn)?;
    let values: Vec<_> = rows
        .iter()
        .map(|(key, value)| {
            (
                b::tenant_id.eq(tenant),
                b::channel_id.eq(channel),
                b::object_id.eq(object_id),
                b::metric.eq(metric),
                b::dimension.eq(dimension),
                b::key.eq(key),
                b::value.eq(*value),
            )
        })
        .collect();
    diesel::insert_into(b::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

/// The tenant's breakdown of `metric` by `dimension` summed over its channels (or one),
/// largest first.
pub fn breakdown(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    metric: &str,
    dimension: &str,
) -> QueryResult<Vec<(String, i64)>> {
    use crate::db::schema::insight_breakdowns as b;
    let total = || diesel::dsl::sql::<diesel::sql_types::BigInt>("sum(value)::bigint");
    let base = b::table
        .filter(b::tenant_id.eq(tenant))
        .filter(b::metric.eq(metric))
        .filter(b::dimension.eq(dimension));
    match channel {
        Some(channel) => base
            .filter(b::channel_id.eq(channel))
            .group_by(b::key)
            .order(total().desc())
            .select((b::key, total()))
            .load(conn),
        None => base
            .group_by(b::key)
            .order(total().desc())
            .select((b::key, total()))
            .load(conn),
    }
}
