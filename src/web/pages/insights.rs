//! GET /insights: the overview (analysts and admins): for all channels or one, and a range of
//! 7, 28 or 90 days, a card per metric with its value, the previous period's and the change,
//! and a server-drawn chart with the daily values in a table. Read from what the refresh kept:
//! the page never calls Meta.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::Authorized;
use crate::auth::roles::InsightRoles;
use crate::error::AppError;
use crate::insights::refresh::RefreshInsights;
use crate::insights::{catalog, chart};
use crate::jobs::job::Job;
use crate::models::insights;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::insights_filters::{Filters, InsightsQuery, Scope, zones_for};
use crate::web::render;

/// Metrics whose value is a level (a running total), not a daily count: the card shows the
/// latest value instead of a sum. (Instagram's `follower_count` is new followers per day.)
const LEVELS: [&str; 1] = ["page_follows"];

/// How the page names a metric.
pub fn label(metric: &str) -> &'static str {
    match metric {
        "page_follows" => "Followers (Page)",
        "page_media_view" => "Media views",
        "page_total_media_view_unique" => "Unique media viewers",
        "page_post_engagements" => "Post engagements",
        "page_views_total" => "Page views",
        "page_video_views" => "Video views",
        "reach" => "Accounts reached (Instagram)",
        "follower_count" => "New followers (Instagram)",
        _ => "Other metric",
    }
}

/// One metric's card.
pub struct Card {
    pub metric: &'static str,
    pub label: &'static str,
    pub value: Option<i64>,
    pub previous: Option<i64>,
    pub chart: String,
    pub points: Vec<(NaiveDate, i64)>,
}

impl Card {
    /// The change against the previous period, as a signed percentage.
    pub fn change(&self) -> Option<String> {
        let (now, before) = (self.value?, self.previous?);
        if before == 0 {
            return None;
        }
        let pct = (now - before) as f64 / before as f64 * 100.0;
        Some(format!("{}{pct:.0}%", if pct >= 0.0 { "+" } else { "" }))
    }

    pub fn up(&self) -> bool {
        matches!((self.value, self.previous), (Some(a), Some(b)) if a >= b)
    }
}

#[derive(Template)]
#[template(path = "insights/index.html")]
struct InsightsPage {
    layout: Layout,
    f: Filters,
    has_channels: bool,
    cards: Vec<Card>,
    refusals: Vec<(String, String)>,
    last_refresh: Option<DateTime<Utc>>,
    /// Channels whose refresh is waiting or running.
    refreshing: i64,
    can_refresh: bool,
}

fn value_of(metric: &str, points: &[(NaiveDate, i64)]) -> Option<i64> {
    if points.is_empty() {
        return None; // no data is not zero
    }
    if LEVELS.contains(&metric) {
        return points.last().map(|p| p.1);
    }
    Some(points.iter().map(|p| p.1).sum())
}

/// What the page shows: the scope and the cards.
struct Overview {
    scope: Scope,
    cards: Vec<Card>,
    refusals: Vec<(String, String)>,
    last_refresh: Option<DateTime<Utc>>,
    refreshing: i64,
    zones: Option<Vec<String>>,
}

/// Meta's figures lag up to 48 h: the range ends with yesterday.
const META_LAG_DAYS: i64 = 1;

async fn load(
    state: &AppState,
    tenant: crate::db::ids::TenantId,
    query: &InsightsQuery,
    admin: bool,
) -> Result<Overview, AppError> {
    let query = query.clone();
    Ok(crate::db::run(&state.pool, move |conn| {
        let scope = Scope::read(conn, tenant, &query, META_LAG_DAYS, true)?;
        let (period, channel) = (&scope.period, scope.channel);
        let before = period.previous();
        let mut cards = Vec::new();
        for metric in catalog::PAGE_DAILY.iter().chain(catalog::INSTAGRAM_DAILY) {
            let points =
                insights::daily_totals(conn, tenant, channel, metric, period.from, period.to)?;
            let prior =
                insights::daily_totals(conn, tenant, channel, metric, before.from, before.to)?;
            if points.is_empty() && prior.is_empty() {
                continue;
            }
            cards.push(Card {
                metric,
                label: label(metric),
                value: value_of(metric, &points),
                previous: value_of(metric, &prior),
                chart: chart::line(label(metric), &points),
                points,
            });
        }
        let refusals = match channel {
            Some(c) => insights::refusals(conn, tenant, c)?,
            None => Vec::new(),
        };
        Ok(Overview {
            refusals,
            refreshing: crate::jobs::queue::outstanding(conn, tenant, RefreshInsights::KIND)?,
            last_refresh: insights::last_refresh(conn, tenant)?,
            zones: zones_for(conn, admin)?,
            cards,
            scope,
        })
    })
    .await?)
}

/// GET /insights
pub async fn overview(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    query: web::Query<InsightsQuery>,
) -> Result<HttpResponse, AppError> {
    let admin = user.can::<crate::auth::roles::AdminOnly>();
    let o = load(&state, user.tenant_id, &query, admin).await?;
    let note =
        "Meta's figures lag up to 48 hours and come in Meta's days; the range ends yesterday."
            .to_string();
    render::html(&InsightsPage {
        layout: Layout::new(&user, "insights"),
        f: Filters::new(
            "overview",
            "/insights",
            (!o.cards.is_empty()).then_some("/insights.csv"),
            &o.scope,
            o.zones,
            note,
        ),
        has_channels: !o.scope.channels.is_empty(),
        cards: o.cards,
        refusals: o.refusals,
        last_refresh: o.last_refresh,
        refreshing: o.refreshing,
        can_refresh: admin,
    })
}

/// GET /insights.csv: the series the page shows, with the same filters and numbers.
pub async fn csv(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    query: web::Query<InsightsQuery>,
) -> Result<HttpResponse, AppError> {
    use super::comments_audit::csv_cell;
    let o = load(&state, user.tenant_id, &query, false).await?;
    let mut out = String::from("metric,label,day,value\n");
    for card in &o.cards {
        for (day, value) in &card.points {
            out.push_str(&format!(
                "{},{},{day},{value}\n",
                csv_cell(card.metric),
                csv_cell(card.label)
            ));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"insights-{}-{}.csv\"",
                o.scope.period.from, o.scope.period.to
            ),
        ))
        .body(out))
}

/// POST /insights/refresh (admins): queues a refresh of the last days of every Page and
/// Instagram account; the page shows how many are still on their way.
pub async fn refresh_now(
    state: web::Data<AppState>,
    user: Authorized<crate::auth::roles::AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    crate::db::run(&state.pool, move |conn| {
        for channel in crate::models::channels::list(conn, tenant)? {
            if channel.platform != crate::models::channels::Platform::Whatsapp
                && channel.is_connected()
            {
                crate::insights::refresh::queue(
                    conn,
                    tenant,
                    channel.id,
                    crate::insights::refresh::DAILY_DAYS,
                )?;
            }
        }
        Ok(())
    })
    .await?;
    crate::auth::session::flash(
        &user.session,
        crate::auth::session::FlashLevel::Success,
        "Refreshing insights from Meta…",
    );
    Ok(render::see_other("/insights"))
}
