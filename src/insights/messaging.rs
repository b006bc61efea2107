//! Messaging analytics from Parley's own data: volumes, replies by messaging window, first
//! response and resolution times per channel, platform and agent, the weekly heatmap of incoming
//! messages, and comment figures. One report serves the page and its CSV, so both show the
//! same numbers.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::PgConnection;
use diesel::QueryResult;

use crate::db::ids::{ChannelId, TenantId};
use crate::insights::period::Period;
use crate::models::analytics::{self, CommentFigures, Timing, TimingGroup};
use crate::models::channels::Channel;
use crate::models::messaging_counts::{self, ChannelVolume};

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

/// One headline figure with the previous period's.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: Unit,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// Lower is better (times, unanswered): a fall shows as good news.
    pub lower_is_better: bool,
}

impl Kpi {
    /// The value as the page shows it.
    pub fn shown(&self) -> String {
        show(self.unit, self.value)
    }

    /// The previous value as the page shows it.
    pub fn shown_previous(&self) -> String {
        show(self.unit, self.previous)
    }

    /// The change against the previous period, as a signed percentage.
    pub fn change(&self) -> Option<String> {
        let (now, before) = (self.value?, self.previous?);
        if before == 0.0 {
            return None;
        }
        let pct = (now - before) / before * 100.0;
        Some(format!("{}{pct:.0}%", if pct >= 0.0 { "+" } else { "" }))
    }

    /// Whether the change is good news.
    pub fn improved(&self) -> bool {
        match (self.value, self.previous) {
            (Some(a), Some(b)) => (a >= b) != self.lower_is_better || a == b,
            _ => true,
        }
    }
}

fn show(unit: Unit, value: Option<f64>) -> String {
    match (unit, value) {
        (_, None) => "no data".into(),
        (Unit::Count, Some(v)) => format!("{v:.0}"),
        (Unit::Seconds, Some(v)) => duration(v),
    }
}

/// Seconds as "45s", "12m 05s", "3h 20m" or "2d 4h".
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A duration, or "no data".
pub fn duration_or_none(seconds: &Option<f64>) -> String {
    show(Unit::Seconds, *seconds)
}

/// Volumes and timings of one channel, platform or agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub name: String,
    pub inbound: i64,
    pub outbound: i64,
    pub human_agent: i64,
    pub template: i64,
    pub timing: Timing,
}

impl Row {
    /// Replies sent inside the 24 h window.
    pub fn within_window(&self) -> i64 {
        self.outbound - self.human_agent - self.template
    }

    pub fn unanswered(&self) -> i64 {
        self.timing.opened - self.timing.answered
    }

    pub fn response_median(&self) -> String {
        show(Unit::Seconds, self.timing.response_median)
    }

    pub fn response_p90(&self) -> String {
        show(Unit::Seconds, self.timing.response_p90)
    }

    pub fn resolution_median(&self) -> String {
        show(Unit::Seconds, self.timing.resolution_median)
    }

    fn add(&mut self, v: &ChannelVolume) {
        self.inbound += v.inbound;
        self.outbound += v.outbound;
        self.human_agent += v.human_agent;
        self.template += v.template;
    }
}

/// An agent's replies, first responses and resolutions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentRow {
    pub name: String,
    pub replies: i64,
    pub human_agent: i64,
    pub first_responses: i64,
    pub response_median: Option<f64>,
    pub response_p90: Option<f64>,
    pub resolved: i64,
    pub resolution_median: Option<f64>,
}

/// Everything the messaging page shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub kpis: Vec<Kpi>,
    /// Every day of the period: (day, in, out).
    pub daily: Vec<(NaiveDate, i64, i64)>,
    /// Incoming messages by weekday (0 = Monday) and hour of the tenant's day.
    pub heatmap: [[i64; 24]; 7],
    pub channels: Vec<Row>,
    pub platforms: Vec<Row>,
    pub agents: Vec<AgentRow>,
    pub comments: CommentFigures,
    pub comments_previous: CommentFigures,
}

struct Totals {
    volume: Row,
    all: Timing,
}

fn all_of(timings: &[Timing]) -> Timing {
    timings
        .iter()
        .find(|t| t.group() == TimingGroup::All)
        .cloned()
        .unwrap_or_default()
}

fn kpis(now: &Totals, before: &Totals) -> Vec<Kpi> {
    let count = |key, label, f: &dyn Fn(&Totals) -> i64| Kpi {
        key,
        label,
        unit: Unit::Count,
        value: Some(f(now) as f64),
        previous: Some(f(before) as f64),
        lower_is_better: key == "unanswered",
    };
    let time = |key, label, f: &dyn Fn(&Totals) -> Option<f64>| Kpi {
        key,
        label,
        unit: Unit::Seconds,
        value: f(now),
        previous: f(before),
        lower_is_better: true,
    };
    vec![
        count("opened", "Conversations opened", &|t| t.all.opened),
        count("inbound", "Messages in", &|t| t.volume.inbound),
        count("outbound", "Messages out", &|t| t.volume.outbound),
        count("unanswered", "Unanswered", &|t| {
            t.all.opened - t.all.answered
        }),
        time("response_median", "First response (median)", &|t| {
            t.all.response_median
        }),
        time("response_p90", "First response (p90)", &|t| {
            t.all.response_p90
        }),
        time("resolution_median", "Resolution (median)", &|t| {
            t.all.resolution_median
        }),
    ]
}

/// The tenant's messaging report over `period` (days of `zone`) for all channels or one.
/// `channels` are the tenant's, for names and platforms; `agents` maps user ids to names.
pub fn report(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: Option<ChannelId>,
    zone: &str,
    period: &Period,
    channels: &[Channel],
    agents: &BTreeMap<i64, String>,
) -> QueryResult<Report> {
    let (start, end) = analytics::bounds(conn, zone, period.from, period.to)?;
    let before = period.previous();
    let (prev_start, prev_end) = analytics::bounds(conn, zone, before.from, before.to)?;
    // The range's counts and its episodes' timings; the previous period needs only totals.
    let hours = messaging_counts::figures(conn, tenant, channel, zone, start, end)?;
    let timings = analytics::timings(conn, tenant, channel, start, end)?;
    let (prev_in, prev_out) =
        messaging_counts::totals(conn, tenant, channel, prev_start, prev_end)?;
    let prev_all = analytics::overall_timing(conn, tenant, channel, prev_start, prev_end)?;
    let volumes = &hours.channels;
    let mut volume = Row::default();
    volumes.iter().for_each(|v| volume.add(v));
    let now = Totals {
        volume,
        all: all_of(&timings),
    };
    let before = Totals {
        volume: Row {
            inbound: prev_in,
            outbound: prev_out,
            ..Row::default()
        },
        all: prev_all,
    };

    let by_day: BTreeMap<NaiveDate, (i64, i64)> = hours
        .days
        .into_iter()
        .map(|(d, i, o)| (d, (i, o)))
        .collect();
    let daily = period
        .each_day()
        .map(|d| {
            let (i, o) = by_day.get(&d).copied().unwrap_or_default();
            (d, i, o)
        })
        .collect();

    let mut heatmap = [[0i64; 24]; 7];
    for (weekday, hour, n) in hours.heat {
        if let (Some(row), Ok(h)) = (
            heatmap.get_mut((weekday - 1).max(0) as usize),
            usize::try_from(hour),
        ) && let Some(cell) = row.get_mut(h)
        {
            *cell += n;
        }
    }

    let channel_name = |id: i64| {
        channels
            .iter()
            .find(|c| c.id.0 == id)
            .map(|c| c.display_name())
            .unwrap_or_else(|| format!("Channel {id}"))
    };
    let platform_of = |id: ChannelId| {
        channels
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.platform.label().to_string())
            .unwrap_or_default()
    };

    let of = |group: TimingGroup| timings.iter().filter(move |t| t.group() == group).cloned();
    let mut channel_rows: BTreeMap<i64, Row> = BTreeMap::new();
    for v in volumes {
        channel_rows.entry(v.channel_id).or_default().add(v);
    }
    for t in of(TimingGroup::Channel) {
        if let Ok(id) = t.key.parse::<i64>() {
            channel_rows.entry(id).or_default().timing = t;
        }
    }
    let mut platform_rows: BTreeMap<String, Row> = BTreeMap::new();
    for v in volumes {
        platform_rows
            .entry(platform_of(ChannelId(v.channel_id)))
            .or_default()
            .add(v);
    }
    for t in of(TimingGroup::Platform) {
        let name = crate::models::channels::Platform::parse(&t.key)
            .map(|p| p.label().to_string())
            .unwrap_or_else(|| t.key.clone());
        platform_rows.entry(name).or_default().timing = t;
    }

    let mut agent_rows: BTreeMap<i64, AgentRow> = BTreeMap::new();
    for v in &hours.agents {
        let row = agent_rows.entry(v.agent_id).or_default();
        row.replies += v.outbound;
        row.human_agent += v.human_agent;
    }
    for t in of(TimingGroup::Responder) {
        let id = t.key.parse::<i64>().unwrap_or(0);
        if id != 0 {
            let row = agent_rows.entry(id).or_default();
            row.first_responses = t.answered;
            row.response_median = t.response_median;
            row.response_p90 = t.response_p90;
        }
    }
    for t in of(TimingGroup::Resolver) {
        let id = t.key.parse::<i64>().unwrap_or(0);
        if id != 0 && t.resolved > 0 {
            let row = agent_rows.entry(id).or_default();
            row.resolved = t.resolved;
            row.resolution_median = t.resolution_median;
        }
    }

    Ok(Report {
        kpis: kpis(&now, &before),
        daily,
        heatmap,
        channels: channel_rows
            .into_iter()
            .map(|(id, row)| Row {
                name: channel_name(id),
                ..row
            })
            .collect(),
        platforms: platform_rows
            .into_iter()
            .map(|(name, row)| Row { name, ..row })
            .collect(),
        agents: agent_rows
            .into_iter()
            .map(|(id, row)| AgentRow {
                name: agents
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("User {id}")),
                ..row
            })
            .collect(),
        comments: analytics::comment_figures(conn, tenant, channel, start, end)?,
        comments_previous: analytics::comment_figures(conn, tenant, channel, prev_start, prev_end)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(42.4), "42s");
        assert_eq!(duration(725.0), "12m 05s");
        assert_eq!(duration(12_000.0), "3h 20m");
        assert_eq!(duration(187_200.0), "2d 4h");
    }

    #[test]
    fn a_shorter_time_is_good_news() {
        let k = Kpi {
            key: "response_median",
            label: "",
            unit: Unit::Seconds,
            value: Some(60.0),
            previous: Some(120.0),
            lower_is_better: true,
        };
        assert!(k.improved());
        assert_eq!(k.change().as_deref(), Some("-50%"));
        assert_eq!(k.shown(), "1m 00s");
    }
}
