//! Parley's own figures for the insights pages: message volumes from the hourly counts the
//! database keeps (`messaging_hours`), response and resolution times from conversation episodes,
//! and comment figures. Days are cut in the tenant's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text, Timestamp, Timestamptz};

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

/// Messages of one channel and sender over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub channel_id: ChannelId,
    /// The agent who sent them; 0 for the customer and for the business outside Parley.
    pub agent_id: i64,
    pub inbound: i64,
    pub outbound: i64,
    pub human_agent: i64,
    pub template: i64,
}

#[derive(QueryableByName)]
struct HourSet {
    #[diesel(sql_type = Nullable<BigInt>)]
    channel_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    agent_id: Option<i64>,
    /// The hour in the tenant's zone (rows grouped by hour); none for the channel rows.
    #[diesel(sql_type = Nullable<Timestamp>)]
    local: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    inbound: i64,
    #[diesel(sql_type = BigInt)]
    outbound: i64,
    #[diesel(sql_type = BigInt)]
    human_agent: i64,
    #[diesel(sql_type = BigInt)]
    template: i64,
}

/// A range's message counts three ways, from one read of the hourly counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HourFigures {
    /// By channel and sender.
    pub volumes: Vec<Volume>,
    /// Messages in and out per day of the zone (days without messages left out).
    pub days: Vec<(NaiveDate, i64, i64)>,
    /// Incoming messages by ISO weekday (1 = Monday) and hour of the day in the zone.
    pub heat: Vec<(i32, i32, i64)>,
}

/// The tenant's message counts in `[start, end)`: by channel and sender, by day and by
/// weekday and hour of `zone`.
/// The hourly counts and the counts not folded into them yet are read together.
/// Raw SQL: grouping sets over a union, and the zone's local time, which the builder cannot
/// say. The rows are summed by hour first, so only a few hundred hours are converted to the zone, not every
/// row.
pub fn hour_figures(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    zone: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<HourFigures> {
    use chrono::{Datelike, Timelike};
    let rows: Vec<HourSet> = diesel::sql_query(
        "SELECT channel_id, agent_id,
                CASE WHEN GROUPING(hour) = 0 THEN hour AT TIME ZONE $2 END AS local,
                sum(inbound)::bigint AS inbound, sum(outbound)::bigint AS outbound,
                sum(human_agent)::bigint AS human_agent, sum(template)::bigint AS template
           FROM (SELECT channel_id, agent_id, hour, inbound, outbound, human_agent, template
                   FROM messaging_hours
                  WHERE tenant_id = $1 AND hour >= $3 AND hour < $4
                    AND ($5::bigint IS NULL OR channel_id = $5)
                 UNION ALL
                 SELECT channel_id, agent_id, hour, inbound, outbound, human_agent, template
                   FROM messaging_hour_deltas
                  WHERE tenant_id = $1 AND hour >= $3 AND hour < $4
                    AND ($5::bigint IS NULL OR channel_id = $5)) counts
          GROUP BY GROUPING SETS ((channel_id, agent_id), (hour))",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Text, _>(zone)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .load(conn)?;
    let mut out = HourFigures::default();
    let mut days: std::collections::BTreeMap<NaiveDate, (i64, i64)> = Default::default();
    let mut heat: std::collections::BTreeMap<(i32, i32), i64> = Default::default();
    for r in rows {
        match (r.channel_id, r.local) {
            (Some(channel), None) => out.volumes.push(Volume {
                channel_id: ChannelId(channel),
                agent_id: r.agent_id.unwrap_or(0),
                inbound: r.inbound,
                outbound: r.outbound,
                human_agent: r.human_agent,
                template: r.template,
            }),
            (None, Some(local)) => {
                let day = days.entry(local.date()).or_default();
                day.0 += r.inbound;
                day.1 += r.outbound;
                if r.inbound > 0 {
                    let weekday = local.weekday().number_from_monday() as i32;
                    *heat.entry((weekday, local.hour() as i32)).or_default() += r.inbound;
                }
            }
            _ => {}
        }
    }
    out.days = days.into_iter().map(|(d, (i, o))| (d, i, o)).collect();
    out.heat = heat.into_iter().map(|((w, h), n)| (w, h, n)).collect();
    Ok(out)
}

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    inbound: i64,
    #[diesel(sql_type = BigInt)]
    outbound: i64,
}

/// The tenant's message totals in `[start, end)` (the previous period's cards), folded or not.
/// Raw SQL: sums over a union of two tables, which the builder cannot say.
pub fn volume_totals(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<(i64, i64)> {
    let t: Totals = diesel::sql_query(
        "SELECT COALESCE(sum(inbound), 0)::bigint AS inbound,
                COALESCE(sum(outbound), 0)::bigint AS outbound
           FROM (SELECT inbound, outbound FROM messaging_hours
                  WHERE tenant_id = $1 AND hour >= $2 AND hour < $3
                    AND ($4::bigint IS NULL OR channel_id = $4)
                 UNION ALL
                 SELECT inbound, outbound FROM messaging_hour_deltas
                  WHERE tenant_id = $1 AND hour >= $2 AND hour < $3
                    AND ($4::bigint IS NULL OR channel_id = $4)) counts",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .get_result(conn)?;
    Ok((t.inbound, t.outbound))
}

/// Folds the counts messages appended (`messaging_hour_deltas`) into the hourly counts;
/// returns how many were folded. Only the deltas visible when it starts are moved, so messages
/// written meanwhile wait for the next fold.
/// Raw SQL: a DELETE … RETURNING feeding an upsert, which the builder cannot say.
pub fn fold_deltas(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "WITH moved AS (DELETE FROM messaging_hour_deltas
                        RETURNING tenant_id, channel_id, hour, agent_id,
                                  inbound, outbound, human_agent, template)
         INSERT INTO messaging_hours AS h
                (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
         SELECT tenant_id, channel_id, hour, agent_id,
                sum(inbound), sum(outbound), sum(human_agent), sum(template)
           FROM moved
          GROUP BY 1, 2, 3, 4
          ORDER BY 2, 3, 4
         ON CONFLICT (channel_id, hour, agent_id) DO UPDATE
            SET inbound = h.inbound + excluded.inbound,
                outbound = h.outbound + excluded.outbound,
                human_agent = h.human_agent + excluded.human_agent,
                template = h.template + excluded.template",
    )
    .execute(conn)
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

/// Timings of the episodes opened in `[start, end)`: for all of them and (with `breakdowns`)
/// by channel, platform, first responder and resolver. The range's episodes are read once (from
/// the covering index) and their medians and p90s taken here, as `percentile_cont` would.
pub fn timings(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    breakdowns: bool,
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
    if !breakdowns {
        return Ok(out);
    }
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

/// Recounts the tenant's hourly message counts and conversation episodes from its messages
/// (after history was written around the counting, or attributed afterwards). A resolved
/// conversation's episode is taken as resolved at its last message.
/// Raw SQL: set-based rebuilds from `messages`, which the builder cannot express.
pub fn rebuild(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<()> {
    conn.transaction(|conn| {
        for statement in [
            "DELETE FROM messaging_hour_deltas WHERE tenant_id = $1",
            "DELETE FROM messaging_hours WHERE tenant_id = $1",
            "INSERT INTO messaging_hours
                    (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
             SELECT tenant_id, channel_id, messaging_hour(sent_at), COALESCE(sender_user_id, 0),
                    count(*) FILTER (WHERE direction = 'inbound'),
                    count(*) FILTER (WHERE direction = 'outbound'),
                    count(*) FILTER (WHERE direction = 'outbound' AND extra ->> 'send_mode' = 'human_agent'),
                    count(*) FILTER (WHERE direction = 'outbound'
                                       AND (kind = 'template' OR extra ->> 'send_mode' = 'template'))
               FROM messages WHERE tenant_id = $1
              GROUP BY 1, 2, 3, 4",
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
