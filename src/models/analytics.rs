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

/// The range's episodes of one channel, platform, first responder and resolver: how many were
/// opened, and the seconds to the first response and to resolution of those that have them.
#[derive(QueryableByName)]
struct EpisodeCell {
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
    #[diesel(sql_type = Text)]
    platform: String,
    #[diesel(sql_type = BigInt)]
    responder: i64,
    #[diesel(sql_type = BigInt)]
    resolver: i64,
    #[diesel(sql_type = BigInt)]
    opened: i64,
    #[diesel(sql_type = Nullable<Array<Double>>)]
    response: Option<Vec<f64>>,
    #[diesel(sql_type = Nullable<Array<Double>>)]
    resolution: Option<Vec<f64>>,
}

/// One group's episodes while the timings are gathered.
#[derive(Default)]
struct Gathered {
    opened: i64,
    response: Vec<f64>,
    resolution: Vec<f64>,
}

impl Gathered {
    fn add(&mut self, cell: &EpisodeCell) {
        self.opened += cell.opened;
        self.response.extend(cell.response.iter().flatten());
        self.resolution.extend(cell.resolution.iter().flatten());
    }

    fn timing(mut self, group: TimingGroup, key: String) -> Timing {
        Timing {
            group: Some(group),
            key,
            opened: self.opened,
            answered: self.response.len() as i64,
            resolved: self.resolution.len() as i64,
            response_median: percentile_cont(&mut self.response, 0.5),
            response_p90: percentile_cont(&mut self.response, 0.9),
            resolution_median: percentile_cont(&mut self.resolution, 0.5),
            resolution_p90: percentile_cont(&mut self.resolution, 0.9),
        }
    }
}

/// PostgreSQL's `percentile_cont`: the value at `p` of the way through the sorted values,
/// interpolated between the two nearest. Selection instead of a sort: linear time.
pub fn percentile_cont(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let pos = p.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let (_, at_lo, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let low = *at_lo;
    let frac = pos - lo as f64;
    if frac == 0.0 {
        return Some(low);
    }
    let high = above.iter().copied().fold(f64::INFINITY, f64::min);
    Some(low + (high - low) * frac)
}

/// Timings of the episodes opened in `[start, end)`: for all of them and by channel, platform,
/// first responder and resolver. PostgreSQL reads the range's episodes from the covering index
/// once and hands their seconds over as arrays per cell (channel, responder, resolver), which
/// decode in bulk; the medians and p90s are then selected here in linear time. In `parley bench
/// insights` that beat PostgreSQL sorting every group (90-day page p95 62.6 against 89.6 ms),
/// and beat parallel arrays per channel filled into the groups here one episode at a time
/// (94.9 ms).
/// Raw SQL: arrays of seconds between two times per cell, which the builder cannot say.
pub fn timings(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<Vec<Timing>> {
    let cells: Vec<EpisodeCell> = diesel::sql_query(
        "SELECT e.channel_id, ch.platform,
                COALESCE(e.first_responder_id, 0) AS responder,
                COALESCE(e.resolved_by, 0) AS resolver,
                count(*) AS opened,
                array_agg(extract(epoch FROM e.first_response_at - e.opened_at)::float8)
                    FILTER (WHERE e.first_response_at IS NOT NULL) AS response,
                array_agg(extract(epoch FROM e.resolved_at - e.opened_at)::float8)
                    FILTER (WHERE e.resolved_at IS NOT NULL) AS resolution
           FROM conversation_episodes e JOIN channels ch ON ch.id = e.channel_id
          WHERE e.tenant_id = $1 AND e.opened_at >= $2 AND e.opened_at < $3
            AND ($4::bigint IS NULL OR e.channel_id = $4)
          GROUP BY 1, 2, 3, 4",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .load(conn)?;
    use std::collections::BTreeMap;
    let mut all = Gathered::default();
    let mut by_channel: BTreeMap<i64, Gathered> = BTreeMap::new();
    let mut by_platform: BTreeMap<String, Gathered> = BTreeMap::new();
    let mut by_responder: BTreeMap<i64, Gathered> = BTreeMap::new();
    let mut by_resolver: BTreeMap<i64, Gathered> = BTreeMap::new();
    for cell in &cells {
        all.add(cell);
        by_channel.entry(cell.channel_id).or_default().add(cell);
        by_platform
            .entry(cell.platform.clone())
            .or_default()
            .add(cell);
        by_responder.entry(cell.responder).or_default().add(cell);
        by_resolver.entry(cell.resolver).or_default().add(cell);
    }
    // The "all" row first (an empty range still has it).
    let mut out = vec![all.timing(TimingGroup::All, String::new())];
    out.extend(
        by_channel
            .into_iter()
            .map(|(k, g)| g.timing(TimingGroup::Channel, k.to_string())),
    );
    out.extend(
        by_platform
            .into_iter()
            .map(|(k, g)| g.timing(TimingGroup::Platform, k)),
    );
    out.extend(
        by_responder
            .into_iter()
            .map(|(k, g)| g.timing(TimingGroup::Responder, k.to_string())),
    );
    out.extend(
        by_resolver
            .into_iter()
            .map(|(k, g)| g.timing(TimingGroup::Resolver, k.to_string())),
    );
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
mod percentile_tests {
    use super::percentile_cont;

    #[test]
    fn interpolates_like_postgresql() {
        // SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x)
        //   FROM unnest('{4,1,3,2}'::float8[]) x;  =>  {2.5, 3.7}
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile_cont(&mut v, 0.5), Some(2.5));
        let p90 = percentile_cont(&mut v, 0.9).unwrap();
        assert!((p90 - 3.7).abs() < 1e-9, "{p90}");
        assert_eq!(percentile_cont(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(percentile_cont(&mut [], 0.5), None);
        let mut many: Vec<f64> = (0..1001).rev().map(f64::from).collect();
        assert_eq!(percentile_cont(&mut many, 0.5), Some(500.0));
        assert_eq!(percentile_cont(&mut many, 0.9), Some(900.0));
    }
}
