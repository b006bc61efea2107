//! Parley's own figures for the insights pages: message volumes from the hourly counts the
//! database keeps (`messaging_hours`), response and resolution times from conversation episodes,
//! and comment figures. Days are cut in the tenant's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text, Timestamp, Timestamptz};

use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::messaging_hours as h;

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
/// Raw SQL: grouping sets, and the zone's local time, which the builder cannot say. The rows
/// are summed by hour first, so only a few hundred hours are converted to the zone, not every
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
           FROM messaging_hours
          WHERE tenant_id = $1 AND hour >= $3 AND hour < $4
            AND ($5::bigint IS NULL OR channel_id = $5)
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

/// The tenant's message totals in `[start, end)` (the previous period's cards).
pub fn volume_totals(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<(i64, i64)> {
    let total = |c: &'static str| diesel::dsl::sql::<BigInt>(c);
    let base = h::table
        .filter(h::tenant_id.eq(tenant))
        .filter(h::hour.ge(start))
        .filter(h::hour.lt(end));
    let columns = (
        total("COALESCE(sum(inbound), 0)::bigint"),
        total("COALESCE(sum(outbound), 0)::bigint"),
    );
    match channel {
        Some(channel) => base
            .filter(h::channel_id.eq(channel))
            .select(columns)
            .get_result(conn),
        None => base.select(columns).get_result(conn),
    }
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

impl TimingGroup {
    fn parse(s: &str) -> TimingGroup {
        match s {
            "channel" => TimingGroup::Channel,
            "platform" => TimingGroup::Platform,
            "responder" => TimingGroup::Responder,
            "resolver" => TimingGroup::Resolver,
            _ => TimingGroup::All,
        }
    }
}

/// Response and resolution times of the conversations opened in a range (seconds).
#[derive(Debug, Clone, Default, PartialEq, QueryableByName)]
pub struct Timing {
    #[diesel(sql_type = Text)]
    grouping: String,
    /// The group: a channel id, a platform or a user id (0: none), as text; empty for all.
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub response_median: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub response_p90: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub resolved: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub resolution_median: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub resolution_p90: Option<f64>,
}

impl Timing {
    /// Which grouping the row belongs to.
    pub fn group(&self) -> TimingGroup {
        TimingGroup::parse(&self.grouping)
    }
}

/// Timings of the episodes opened in `[start, end)`: for all of them and (with `breakdowns`)
/// by channel, platform, first responder and resolver, in one pass.
/// Raw SQL: percentiles (`percentile_cont … WITHIN GROUP`) over grouping sets, which the
/// builder cannot say.
pub fn timings(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    breakdowns: bool,
) -> QueryResult<Vec<Timing>> {
    let (head, sets) = if breakdowns {
        (
            "CASE WHEN GROUPING(channel_id) = 0 THEN 'channel'
                  WHEN GROUPING(platform) = 0 THEN 'platform'
                  WHEN GROUPING(responder) = 0 THEN 'responder'
                  WHEN GROUPING(resolver) = 0 THEN 'resolver' ELSE 'all' END AS grouping,
             COALESCE(channel_id::text, platform, responder::text, resolver::text, '') AS key",
            "(), (channel_id), (platform), (responder), (resolver)",
        )
    } else {
        ("'all' AS grouping, '' AS key", "()")
    };
    // The grouping sets are one of two fixed strings, never input.
    let sql = format!(
        "WITH e AS (
           SELECT e.channel_id, ch.platform,
                  COALESCE(e.first_responder_id, 0) AS responder,
                  COALESCE(e.resolved_by, 0) AS resolver,
                  extract(epoch FROM e.first_response_at - e.opened_at) AS response,
                  extract(epoch FROM e.resolved_at - e.opened_at) AS resolution
             FROM conversation_episodes e JOIN channels ch ON ch.id = e.channel_id
            WHERE e.tenant_id = $1 AND e.opened_at >= $2 AND e.opened_at < $3
              AND ($4::bigint IS NULL OR e.channel_id = $4))
         SELECT {head},
                count(*) AS opened, count(response) AS answered,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY response) AS response_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY response) AS response_p90,
                count(resolution) AS resolved,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution) AS resolution_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution) AS resolution_p90
           FROM e
          GROUP BY GROUPING SETS ({sets})"
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant.0)
        .bind::<Timestamptz, _>(start)
        .bind::<Timestamptz, _>(end)
        .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
        .load(conn)
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
