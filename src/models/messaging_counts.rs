//! Message counts for the messaging page: the hourly counts the database keeps per channel and
//! agent (`messaging_hours`, plus the deltas not folded in yet), and rollups of them whose size
//! does not grow with the tenant's volume (the tenant's hours; UTC days per channel and per
//! agent). Over all channels the page reads the rollups; for one channel, its hourly rows.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp, Timestamptz};

use crate::db::ids::{ChannelId, TenantId};

/// Messages of one channel over a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct ChannelVolume {
    #[diesel(sql_type = BigInt)]
    pub channel_id: i64,
    #[diesel(sql_type = BigInt)]
    pub inbound: i64,
    #[diesel(sql_type = BigInt)]
    pub outbound: i64,
    /// Outbound sent with the HUMAN_AGENT tag.
    #[diesel(sql_type = BigInt)]
    pub human_agent: i64,
    /// Outbound sent as templates.
    #[diesel(sql_type = BigInt)]
    pub template: i64,
}

/// Messages an agent sent over a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct AgentVolume {
    #[diesel(sql_type = BigInt)]
    pub agent_id: i64,
    #[diesel(sql_type = BigInt)]
    pub outbound: i64,
    #[diesel(sql_type = BigInt)]
    pub human_agent: i64,
}

/// A range's message counts by channel, by agent, by day and by weekday and hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeFigures {
    pub channels: Vec<ChannelVolume>,
    /// Agents of Parley only (messages sent from other Meta tools have no agent).
    pub agents: Vec<AgentVolume>,
    /// Messages in and out per day of the zone (days without messages left out).
    pub days: Vec<(NaiveDate, i64, i64)>,
    /// Incoming messages by ISO weekday (1 = Monday) and hour of the day in the zone.
    pub heat: Vec<(i32, i32, i64)>,
}

#[derive(QueryableByName)]
struct LocalHour {
    /// The hour in the tenant's zone.
    #[diesel(sql_type = Timestamp)]
    local: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    inbound: i64,
    #[diesel(sql_type = BigInt)]
    outbound: i64,
}

#[derive(QueryableByName)]
struct HourSet {
    #[diesel(sql_type = Nullable<BigInt>)]
    channel_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    agent_id: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    local: Option<NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    inbound: i64,
    #[diesel(sql_type = BigInt)]
    outbound: i64,
    #[diesel(sql_type = BigInt)]
    human_agent: i64,
    #[diesel(sql_type = BigInt)]
    template: i64,
}

/// The tenant's message counts in `[start, end)`, over all channels or one, days and hours
/// cut in `zone`.
pub fn figures(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    zone: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<VolumeFigures> {
    match channel {
        Some(channel) => channel_figures(conn, tenant, channel, zone, start, end),
        None => tenant_figures(conn, tenant, zone, start, end),
    }
}

fn day_and_heat(
    out: &mut VolumeFigures,
    hours: impl IntoIterator<Item = (NaiveDateTime, i64, i64)>,
) {
    let mut days: std::collections::BTreeMap<NaiveDate, (i64, i64)> = Default::default();
    let mut heat: std::collections::BTreeMap<(i32, i32), i64> = Default::default();
    for (local, inbound, outbound) in hours {
        let day = days.entry(local.date()).or_default();
        day.0 += inbound;
        day.1 += outbound;
        if inbound > 0 {
            let weekday = local.weekday().number_from_monday() as i32;
            *heat.entry((weekday, local.hour() as i32)).or_default() += inbound;
        }
    }
    out.days = days.into_iter().map(|(d, (i, o))| (d, i, o)).collect();
    out.heat = heat.into_iter().map(|((w, h), n)| (w, h, n)).collect();
}

/// One channel: its hourly rows (a few per hour, whatever the tenant's size), three ways in
/// one read.
/// Raw SQL: grouping sets over a union, and the zone's local time, which the builder cannot
/// say.
fn channel_figures(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    zone: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<VolumeFigures> {
    let rows: Vec<HourSet> = diesel::sql_query(
        "SELECT channel_id, agent_id,
                CASE WHEN GROUPING(hour) = 0 THEN hour AT TIME ZONE $2 END AS local,
                sum(inbound)::bigint AS inbound, sum(outbound)::bigint AS outbound,
                sum(human_agent)::bigint AS human_agent, sum(template)::bigint AS template
           FROM (SELECT channel_id, agent_id, hour, inbound, outbound, human_agent, template
                   FROM messaging_hours
                  WHERE tenant_id = $1 AND channel_id = $5 AND hour >= $3 AND hour < $4
                 UNION ALL
                 SELECT channel_id, agent_id, hour, inbound, outbound, human_agent, template
                   FROM messaging_hour_deltas
                  WHERE tenant_id = $1 AND channel_id = $5 AND hour >= $3 AND hour < $4) counts
          GROUP BY GROUPING SETS ((channel_id), (agent_id), (hour))",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Text, _>(zone)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<BigInt, _>(channel.0)
    .load(conn)?;
    let mut out = VolumeFigures::default();
    let mut hours = Vec::new();
    for r in rows {
        match (r.channel_id, r.agent_id, r.local) {
            (Some(channel_id), _, _) => out.channels.push(ChannelVolume {
                channel_id,
                inbound: r.inbound,
                outbound: r.outbound,
                human_agent: r.human_agent,
                template: r.template,
            }),
            (None, Some(agent_id), _) if agent_id != 0 => out.agents.push(AgentVolume {
                agent_id,
                outbound: r.outbound,
                human_agent: r.human_agent,
            }),
            (None, None, Some(local)) => hours.push((local, r.inbound, r.outbound)),
            _ => {}
        }
    }
    out.agents.sort_by_key(|a| a.agent_id);
    day_and_heat(&mut out, hours);
    Ok(out)
}

/// The UTC days wholly inside `[start, end)`, as `[first, last)`, and the instants that bound
/// them; `None` when there is no whole day.
fn whole_days(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<(NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let first = if start.num_seconds_from_midnight() == 0 && start.nanosecond() == 0 {
        start.date_naive()
    } else {
        start.date_naive().succ_opt()?
    };
    let last = end.date_naive();
    (first < last).then_some(())?;
    Some((first, last, midnight(first)?, midnight(last)?))
}

/// All channels: the tenant's hours, and per channel and agent its whole UTC days plus the
/// hourly rows of the partial days at the range's edges (when the zone is not UTC).
/// Raw SQL: unions of rollups and hourly rows, and the zone's local time, which the builder
/// cannot say.
fn tenant_figures(
    conn: &mut PgConnection,
    tenant: TenantId,
    zone: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<VolumeFigures> {
    let hours: Vec<LocalHour> = diesel::sql_query(
        "SELECT hour AT TIME ZONE $2 AS local, sum(inbound)::bigint AS inbound,
                sum(outbound)::bigint AS outbound
           FROM (SELECT hour, inbound, outbound FROM messaging_tenant_hours
                  WHERE tenant_id = $1 AND hour >= $3 AND hour < $4
                 UNION ALL
                 SELECT hour, inbound, outbound FROM messaging_hour_deltas
                  WHERE tenant_id = $1 AND hour >= $3 AND hour < $4) counts
          GROUP BY hour",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<Text, _>(zone)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .load(conn)?;
    let mut out = VolumeFigures::default();
    day_and_heat(
        &mut out,
        hours.into_iter().map(|h| (h.local, h.inbound, h.outbound)),
    );
    // Without a whole day, everything is read from the hourly rows.
    let (first, last, first_at, last_at) =
        whole_days(start, end).unwrap_or((start.date_naive(), start.date_naive(), end, end));
    let by_days = |sql: &str| {
        diesel::sql_query(sql.to_string())
            .bind::<BigInt, _>(tenant.0)
            .bind::<Date, _>(first)
            .bind::<Date, _>(last)
            .bind::<Timestamptz, _>(start)
            .bind::<Timestamptz, _>(first_at)
            .bind::<Timestamptz, _>(last_at)
            .bind::<Timestamptz, _>(end)
    };
    out.channels = by_days(
        "SELECT channel_id, sum(inbound)::bigint AS inbound, sum(outbound)::bigint AS outbound,
                sum(human_agent)::bigint AS human_agent, sum(template)::bigint AS template
           FROM (SELECT channel_id, inbound, outbound, human_agent, template
                   FROM messaging_channel_days WHERE tenant_id = $1 AND day >= $2 AND day < $3
                 UNION ALL
                 SELECT channel_id, inbound, outbound, human_agent, template
                   FROM messaging_hours WHERE tenant_id = $1 AND hour >= $4 AND hour < $5
                 UNION ALL
                 SELECT channel_id, inbound, outbound, human_agent, template
                   FROM messaging_hours WHERE tenant_id = $1 AND hour >= $6 AND hour < $7
                 UNION ALL
                 SELECT channel_id, inbound, outbound, human_agent, template
                   FROM messaging_hour_deltas WHERE tenant_id = $1 AND hour >= $4 AND hour < $7
                ) counts
          GROUP BY channel_id ORDER BY channel_id",
    )
    .load(conn)?;
    out.agents = by_days(
        "SELECT agent_id, sum(outbound)::bigint AS outbound,
                sum(human_agent)::bigint AS human_agent
           FROM (SELECT agent_id, outbound, human_agent
                   FROM messaging_agent_days WHERE tenant_id = $1 AND day >= $2 AND day < $3
                 UNION ALL
                 SELECT agent_id, outbound, human_agent
                   FROM messaging_hours WHERE tenant_id = $1 AND hour >= $4 AND hour < $5
                 UNION ALL
                 SELECT agent_id, outbound, human_agent
                   FROM messaging_hours WHERE tenant_id = $1 AND hour >= $6 AND hour < $7
                 UNION ALL
                 SELECT agent_id, outbound, human_agent
                   FROM messaging_hour_deltas WHERE tenant_id = $1 AND hour >= $4 AND hour < $7
                ) counts
          WHERE agent_id <> 0
          GROUP BY agent_id ORDER BY agent_id",
    )
    .load(conn)?;
    Ok(out)
}

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    inbound: i64,
    #[diesel(sql_type = BigInt)]
    outbound: i64,
}

/// The tenant's message totals in `[start, end)` (the previous period's cards), folded or not:
/// from the tenant's hours, or one channel's hourly rows.
/// Raw SQL: sums over a union of two tables, which the builder cannot say.
pub fn totals(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<(i64, i64)> {
    let counted = match channel {
        None => {
            "SELECT inbound, outbound FROM messaging_tenant_hours
                  WHERE tenant_id = $1 AND hour >= $2 AND hour < $3"
        }
        Some(_) => {
            "SELECT inbound, outbound FROM messaging_hours
                     WHERE tenant_id = $1 AND hour >= $2 AND hour < $3 AND channel_id = $4"
        }
    };
    let t: Totals = diesel::sql_query(format!(
        "SELECT COALESCE(sum(inbound), 0)::bigint AS inbound,
                COALESCE(sum(outbound), 0)::bigint AS outbound
           FROM ({counted}
                 UNION ALL
                 SELECT inbound, outbound FROM messaging_hour_deltas
                  WHERE tenant_id = $1 AND hour >= $2 AND hour < $3
                    AND ($4::bigint IS NULL OR channel_id = $4)) counts"
    ))
    .bind::<BigInt, _>(tenant.0)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Nullable<BigInt>, _>(channel.map(|c| c.0))
    .get_result(conn)?;
    Ok((t.inbound, t.outbound))
}

/// Folds the counts messages appended (`messaging_hour_deltas`) into the hourly counts and
/// their rollups; returns how many hourly rows changed. Only the deltas visible when it starts
/// are moved, so messages written meanwhile wait for the next fold.
/// Raw SQL: a DELETE … RETURNING feeding four upserts in one statement, which the builder
/// cannot say. Each upsert takes its rows in key order, one lock order for concurrent folds.
pub fn fold_deltas(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "WITH moved AS (DELETE FROM messaging_hour_deltas
                        RETURNING tenant_id, channel_id, hour, agent_id,
                                  inbound, outbound, human_agent, template),
              tenant_hours AS (
                INSERT INTO messaging_tenant_hours AS t (tenant_id, hour, inbound, outbound)
                SELECT tenant_id, hour, sum(inbound), sum(outbound) FROM moved
                 GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT (tenant_id, hour) DO UPDATE
                   SET inbound = t.inbound + excluded.inbound,
                       outbound = t.outbound + excluded.outbound),
              channel_days AS (
                INSERT INTO messaging_channel_days AS d
                       (tenant_id, channel_id, day, inbound, outbound, human_agent, template)
                SELECT tenant_id, channel_id, (hour AT TIME ZONE 'UTC')::date,
                       sum(inbound), sum(outbound), sum(human_agent), sum(template)
                  FROM moved GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
                ON CONFLICT (tenant_id, day, channel_id) DO UPDATE
                   SET inbound = d.inbound + excluded.inbound,
                       outbound = d.outbound + excluded.outbound,
                       human_agent = d.human_agent + excluded.human_agent,
                       template = d.template + excluded.template),
              agent_days AS (
                INSERT INTO messaging_agent_days AS a (tenant_id, agent_id, day, outbound, human_agent)
                SELECT tenant_id, agent_id, (hour AT TIME ZONE 'UTC')::date,
                       sum(outbound), sum(human_agent)
                  FROM moved WHERE agent_id <> 0 GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
                ON CONFLICT (tenant_id, day, agent_id) DO UPDATE
                   SET outbound = a.outbound + excluded.outbound,
                       human_agent = a.human_agent + excluded.human_agent)
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

/// Recounts the tenant's hourly counts and their rollups from its messages.
/// Raw SQL: set-based rebuilds, which the builder cannot express.
pub fn recount(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<()> {
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
        "DELETE FROM messaging_tenant_hours WHERE tenant_id = $1",
        "INSERT INTO messaging_tenant_hours (tenant_id, hour, inbound, outbound)
         SELECT tenant_id, hour, sum(inbound), sum(outbound) FROM messaging_hours
          WHERE tenant_id = $1 GROUP BY 1, 2",
        "DELETE FROM messaging_channel_days WHERE tenant_id = $1",
        "INSERT INTO messaging_channel_days
                (tenant_id, channel_id, day, inbound, outbound, human_agent, template)
         SELECT tenant_id, channel_id, (hour AT TIME ZONE 'UTC')::date,
                sum(inbound), sum(outbound), sum(human_agent), sum(template)
           FROM messaging_hours WHERE tenant_id = $1 GROUP BY 1, 2, 3",
        "DELETE FROM messaging_agent_days WHERE tenant_id = $1",
        "INSERT INTO messaging_agent_days (tenant_id, agent_id, day, outbound, human_agent)
         SELECT tenant_id, agent_id, (hour AT TIME ZONE 'UTC')::date, sum(outbound), sum(human_agent)
           FROM messaging_hours WHERE tenant_id = $1 AND agent_id <> 0 GROUP BY 1, 2, 3",
    ] {
        diesel::sql_query(statement)
            .bind::<BigInt, _>(tenant.0)
            .execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "messaging_counts_tests.rs"]
mod tests;
