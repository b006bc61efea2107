//! GET /insights/messaging: messaging analytics from Parley's own data (analysts and admins):
//! volumes, replies by messaging window, first response and resolution times per channel,
//! platform and agent, the weekly heatmap and comment figures; and its CSV with the same numbers.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::{AdminOnly, InsightRoles};
use crate::db::ids::TenantId;
use crate::error::AppError;
use crate::insights::chart;
use crate::insights::messaging::{self, Report};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::comments_audit::csv_cell;
use crate::web::pages::insights_filters::{Filters, InsightsQuery, Scope, zones_for};
use crate::web::render;

#[derive(Template)]
#[template(path = "insights/messaging.html")]
struct MessagingPage {
    layout: Layout,
    f: Filters,
    report: Report,
    volume_chart: String,
    heatmap_chart: String,
    weekdays: [&'static str; 7],
}

impl MessagingPage {
    /// The platform and channel tables: title, id and rows.
    fn breakdowns(&self) -> [(&'static str, &'static str, &[messaging::Row]); 2] {
        [
            ("By platform", "platforms", &self.report.platforms),
            ("By channel", "channels", &self.report.channels),
        ]
    }
}

async fn load(
    state: &AppState,
    tenant: TenantId,
    query: &InsightsQuery,
    admin: bool,
) -> Result<(Scope, Report, Option<Vec<String>>), AppError> {
    let query = query.clone();
    Ok(crate::db::run(&state.pool, move |conn| {
        let scope = Scope::read(conn, tenant, &query, 0, false)?;
        let agents: BTreeMap<i64, String> = crate::models::users::list(conn, tenant)?
            .into_iter()
            .map(|u| (u.id.0, u.display_name))
            .collect();
        let report = messaging::report(
            conn,
            tenant,
            scope.channel,
            &scope.zone,
            &scope.period,
            &scope.channels,
            &agents,
        )?;
        Ok((scope, report, zones_for(conn, admin)?))
    })
    .await?)
}

/// GET /insights/messaging
pub async fn page(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    query: web::Query<InsightsQuery>,
) -> Result<HttpResponse, AppError> {
    let admin = user.can::<AdminOnly>();
    let (scope, report, zones) = load(&state, user.tenant_id, &query, admin).await?;
    let inbound: Vec<_> = report.daily.iter().map(|(d, i, _)| (*d, *i)).collect();
    let outbound: Vec<_> = report.daily.iter().map(|(d, _, o)| (*d, *o)).collect();
    let note = format!(
        "Days and hours are cut in {}. Figures come from Parley's own records and are current.",
        scope.zone
    );
    render::html(&MessagingPage {
        layout: Layout::new(&user, "insights"),
        volume_chart: chart::lines(
            "Messages per day: in (solid) and out (dashed)",
            &[&inbound, &outbound],
        ),
        heatmap_chart: chart::heatmap(
            &format!("Incoming messages by weekday and hour ({})", scope.zone),
            &report.heatmap,
        ),
        f: Filters::new(
            "messaging",
            "/insights/messaging",
            Some("/insights/messaging.csv"),
            &scope,
            zones,
            note,
        ),
        report,
        weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    })
}

fn seconds(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.0}")).unwrap_or_default()
}

/// The report as CSV: one table after another, each row naming its table, in the page's order
/// and with the page's numbers (times in seconds).
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("table,name,metric,value\n");
    let mut row = |table: &str, name: &str, metric: &str, value: String| {
        out.push_str(&format!(
            "{},{},{},{}\n",
            csv_cell(table),
            csv_cell(name),
            csv_cell(metric),
            csv_cell(&value)
        ));
    };
    for k in &report.kpis {
        let value = match k.unit {
            messaging::Unit::Count => k.value.map(|v| format!("{v:.0}")).unwrap_or_default(),
            messaging::Unit::Seconds => seconds(k.value),
        };
        row("summary", "", k.key, value);
        let before = match k.unit {
            messaging::Unit::Count => k.previous.map(|v| format!("{v:.0}")).unwrap_or_default(),
            messaging::Unit::Seconds => seconds(k.previous),
        };
        row("summary_previous", "", k.key, before);
    }
    for (day, inbound, outbound) in &report.daily {
        row("daily", &day.to_string(), "inbound", inbound.to_string());
        row("daily", &day.to_string(), "outbound", outbound.to_string());
    }
    for (table, rows) in [
        ("platform", &report.platforms),
        ("channel", &report.channels),
    ] {
        for r in rows.iter() {
            for (metric, value) in [
                ("inbound", r.inbound.to_string()),
                ("outbound", r.outbound.to_string()),
                ("within_24h", r.within_window().to_string()),
                ("human_agent", r.human_agent.to_string()),
                ("template", r.template.to_string()),
                ("opened", r.timing.opened.to_string()),
                ("unanswered", r.unanswered().to_string()),
                ("first_response_median_s", seconds(r.timing.response_median)),
                ("first_response_p90_s", seconds(r.timing.response_p90)),
                ("resolved", r.timing.resolved.to_string()),
                ("resolution_median_s", seconds(r.timing.resolution_median)),
            ] {
                row(table, &r.name, metric, value);
            }
        }
    }
    for a in &report.agents {
        for (metric, value) in [
            ("replies", a.replies.to_string()),
            ("human_agent", a.human_agent.to_string()),
            ("first_responses", a.first_responses.to_string()),
            ("first_response_median_s", seconds(a.response_median)),
            ("first_response_p90_s", seconds(a.response_p90)),
            ("resolved", a.resolved.to_string()),
            ("resolution_median_s", seconds(a.resolution_median)),
        ] {
            row("agent", &a.name, metric, value);
        }
    }
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    for (d, hours) in report.heatmap.iter().enumerate() {
        for (h, n) in hours.iter().enumerate() {
            row("heatmap", DAYS[d], &format!("{h:02}:00"), n.to_string());
        }
    }
    let c = &report.comments;
    for (metric, value) in [
        ("received", c.received.to_string()),
        ("hidden", c.hidden.to_string()),
        ("deleted", c.deleted.to_string()),
        ("replied", c.replied.to_string()),
        ("first_reply_median_s", seconds(c.reply_median)),
    ] {
        row("comments", "", metric, value);
    }
    out
}

/// GET /insights/messaging.csv
pub async fn csv(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    query: web::Query<InsightsQuery>,
) -> Result<HttpResponse, AppError> {
    let (scope, report, _) = load(&state, user.tenant_id, &query, false).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"messaging-{}-{}.csv\"",
                scope.period.from, scope.period.to
            ),
        ))
        .body(to_csv(&report)))
}
