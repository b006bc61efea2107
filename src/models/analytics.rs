//! Parley's own figures for the insights pages: response and resolution times from
//! conversation episodes, and comment figures (message volumes are in
//! [`messaging_counts`](crate::models::messaging_counts)). Days are cut in the tenant's time
//! zone.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Double, Nullable, Text, Timestamptz};

use crate::db::ids::{ChannelId, TenantId};

/// `[start, end)`: the instants that begin the day `from` and end the day `to` in `zone`.
pub fn bounds(
    conn: &mut PgConnection,
    zone: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<(DateTime<Utc>, DateTime<Utc>)> {
    let at = |day: NaiveDate| {
        diesel::dsl::sql::<Timestamptz>("(")
            .bind::<Date, _>(day)
            .sql("::timestamp AT TIME ZONE ")
            .bind::<Text, _>(zone.to_string())
            .sql(")")
    };
    diesel::select((at(from), at(to + chrono::Duration::days(1)))).get_result(conn)
}

/// How episodes are grouped for their timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingGroup {
    All,
    Channel,
    Platform,
    /// The agent who answered first (none: answered from another Meta tool).
    Responder,
    /// The assignee when the conversation was resolved.
    Resolver,
}

/// Response and resolution times of the conversations opened in a range (seconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    group: Option<TimingGroup>,
    /// The group: a channel id, a platform or a user id (0: none), as text; empty for all.
    pub key: String,
    pub opened: i64,
    pub answered: i64,
    pub response_median: Option<f64>,
    pub response_p90: Option<f64>,
    pub resolved: i64,
    pub resolution_median: Option<f64>,
    pub resolution_p90: Option<f64>,
}

impl Timing {
    /// Which grouping the row belongs to.
    pub fn group(&self) -> TimingGroup {
        self.group.unwrap_or(TimingGroup::All)
    }
}

#[derive(QueryableByName)]
struct EpisodeRow {
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
    #[diesel(sql_type = Text)]
    platform: String,
    #[diesel(sql_type = BigInt)]
    responder: i64,
    #[diesel(sql_type = BigInt)]
    resolver: i64,
    #[diesel(sql_type = Nullable<Double>)]
    response: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    resolution: Option<f64>,
}

/// How an episode's group key is read.
type KeyOf = fn(&EpisodeRow) -> String;

/// PostgreSQL's `percentile_cont`: linear interpolation at `p × (n − 1)` of sorted values.
pub fn percentile_cont(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p.clamp(0.0, 1.0) * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (rank - lo as f64))
}

fn timing_of(group: TimingGroup, key: String, rows: &[&EpisodeRow]) -> Timing {
    let sorted = |f: &dyn Fn(&EpisodeRow) -> Option<f64>| {
        let mut v: Vec<f64> = rows.iter().filter_map(|r| f(r)).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let response = sorted(&|r| r.response);
    let resolution = sorted(&|r| r.resolution);
    Timing {
        group: Some(group),
        key,
        opened: rows.len() as i64,
        answered: response.len() as i64,
        response_median: percentile_cont(&response, 0.5),
        response_p90: percentile_cont(&response, 0.9),
        resolved: resolution.len() as i64,
        resolution_median: percentile_cont(&resolution, 0.5),
        resolution_p90: percentile_cont(&resolution, 0.9),
    }
}

/// Timings of the episodes opened in `[start, end)`: for all of them and by channel, platform,
/// first responder and resolver. The range's episodes are read once (from the covering index)
/// and their medians and p90s taken here, as `percentile_cont` would: measured, that is half
/// the time of PostgreSQL's ordered-set aggregates over five grouping sets.
pub fn timings(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<Vec<Timing>> {
    // Raw SQL: seconds between two times (`extract(epoch …)`), which the builder cannot say.
    let rows: Vec<EpisodeRow> = diesel::sql_query(
        "SELECT e.channel_id, ch.platform,
                COALESCE(e.first_responder_id, 0) AS responder,
                COALESCE(e.resolved_by, 0) AS resolver,
                extract(epoch FROM e.first_response_at - e.opened_at)::float8 AS response,
                extract(epoch FROM e.resolved_at - e.opened_at)::float8 AS resolution
           FROM conversation_episodes e JOIN channels ch ON ch.id = e.channel_id
          WHERE e.tenant_id = $1 AND e.opened_at >= $2 AND e.opened_at < $3
            AND ($4::bigint IS NULL OR e.channel_id = $4)",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .load(conn)?;
    let all: Vec<&EpisodeRow> = rows.iter().collect();
    let mut out = vec![timing_of(TimingGroup::All, String::new(), &all)];
    let keyed: [(TimingGroup, KeyOf); 4] = [
        (TimingGroup::Channel, |r| r.channel_id.to_string()),
        (TimingGroup::Platform, |r| r.platform.clone()),
        (TimingGroup::Responder, |r| r.responder.to_string()),
        (TimingGroup::Resolver, |r| r.resolver.to_string()),
    ];
    for (group, key) in keyed {
        let mut by: std::collections::BTreeMap<String, Vec<&EpisodeRow>> = Default::default();
        for r in &rows {
            by.entry(key(r)).or_default().push(r);
        }
        out.extend(by.into_iter().map(|(k, rs)| timing_of(group, k, &rs)));
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct OverallRow {
    #[diesel(sql_type = BigInt)]
    opened: i64,
    #[diesel(sql_type = BigInt)]
    answered: i64,
    #[diesel(sql_type = BigInt)]
    resolved: i64,
    /// Median and p90.
    #[diesel(sql_type = Nullable<Array<Double>>)]
    response: Option<Vec<f64>>,
    #[diesel(sql_type = Nullable<Array<Double>>)]
    resolution: Option<Vec<f64>>,
}

/// The timings of all the episodes opened in `[start, end)` (the previous period's cards):
/// one group, so PostgreSQL takes the percentiles without sending the episodes.
/// Raw SQL: ordered-set aggregates over seconds between two times, which the builder cannot
/// say.
pub fn overall_timing(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<Timing> {
    let r: OverallRow = diesel::sql_query(
        "SELECT count(*) AS opened, count(first_response_at) AS answered,
                count(resolved_at) AS resolved,
                percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP
                    (ORDER BY extract(epoch FROM first_response_at - opened_at)::float8) AS response,
                percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP
                    (ORDER BY extract(epoch FROM resolved_at - opened_at)::float8) AS resolution
           FROM conversation_episodes
          WHERE tenant_id = $1 AND opened_at >= $2 AND opened_at < $3
            AND ($4::bigint IS NULL OR channel_id = $4)",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .get_result(conn)?;
    let at = |v: &Option<Vec<f64>>, i: usize| v.as_ref().and_then(|v| v.get(i).copied());
    Ok(Timing {
        group: Some(TimingGroup::All),
        key: String::new(),
        opened: r.opened,
        answered: r.answered,
        resolved: r.resolved,
        response_median: at(&r.response, 0),
        response_p90: at(&r.response, 1),
        resolution_median: at(&r.resolution, 0),
        resolution_p90: at(&r.resolution, 1),
    })
}

/// Comment figures over a range: comments from people (not the business) received.
#[derive(Debug, Clone, Default, PartialEq, QueryableByName)]
pub struct CommentFigures {
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    /// Of those, hidden now.
    #[diesel(sql_type = BigInt)]
    pub hidden: i64,
    #[diesel(sql_type = BigInt)]
    pub deleted: i64,
    /// Answered publicly or privately.
    #[diesel(sql_type = BigInt)]
    pub replied: i64,
    /// Median seconds to the first reply, public or private.
    #[diesel(sql_type = Nullable<Double>)]
    pub reply_median: Option<f64>,
}

/// The comments received in `[start, end)`.
/// Raw SQL: a percentile over LEAST of two times, which the builder cannot say.
pub fn comment_figures(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<CommentFigures> {
    diesel::sql_query(
        "SELECT count(*) AS received,
                count(*) FILTER (WHERE hidden) AS hidden,
                count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
                count(*) FILTER (WHERE replied_publicly_at IS NOT NULL
                                    OR replied_privately_at IS NOT NULL) AS replied,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                    LEAST(replied_publicly_at, replied_privately_at) - commented_at)) AS reply_median
           FROM comments
          WHERE tenant_id = $1 AND commented_at >= $2 AND commented_at < $3 AND NOT from_business
            AND ($4::bigint IS NULL OR channel_id = $4)",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .get_result(conn)
}

/// Recounts the tenant's message counts (with their rollups) and conversation episodes from
/// its messages (after history was written around the counting, or attributed afterwards). A
/// resolved conversation's episode is taken as resolved at its last message.
/// Raw SQL: set-based rebuilds from `messages`, which the builder cannot express.
pub fn rebuild(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<()> {
    conn.transaction(|conn| {
        crate::models::messaging_counts::recount(conn, tenant)?;
        for statement in [
            "DELETE FROM conversation_episodes WHERE tenant_id = $1",
            "INSERT INTO conversation_episodes
                    (tenant_id, channel_id, conversation_id, opened_at, first_response_at,
                     first_responder_id, resolved_at, resolved_by)
             SELECT c.tenant_id, c.channel_id, c.id, f.opened_at, r.sent_at, r.sender_user_id,
                    CASE WHEN c.status = 'resolved' THEN GREATEST(f.last_at, f.opened_at) END,
                    CASE WHEN c.status = 'resolved' THEN c.assignee_id END
               FROM conversations c
               JOIN LATERAL (SELECT min(sent_at) FILTER (WHERE direction = 'inbound') AS opened_at,
                                    max(sent_at) AS last_at
                               FROM messages WHERE conversation_id = c.id) f
                 ON f.opened_at IS NOT NULL
               LEFT JOIN LATERAL (SELECT sent_at, sender_user_id FROM messages
                                   WHERE conversation_id = c.id AND direction = 'outbound'
                                     AND sent_at >= f.opened_at
                                   ORDER BY sent_at LIMIT 1) r ON TRUE
              WHERE c.tenant_id = $1",
        ] {
            diesel::sql_query(statement)
                .bind::<BigInt, _>(tenant.0)
                .execute(conn)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::percentile_cont;

    #[test]
    fn percentiles_interpolate_as_postgresql_does() {
        assert_eq!(percentile_cont(&[600.0, 1800.0], 0.5), Some(1200.0));
        assert_eq!(percentile_cont(&[600.0, 1800.0], 0.9), Some(1680.0));
        assert_eq!(percentile_cont(&[5.0], 0.9), Some(5.0));
        assert_eq!(percentile_cont(&[], 0.5), None);
        assert_eq!(percentile_cont(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
    }
}
