//! GET /insights: the overview (analysts and admins): for all channels or one, and a range of
//! 7, 28 or 90 days, a card per metric with its value, the previous period's and the change,
//! and a server-drawn chart with the daily values in a table. Read from what the refresh kept:
//! the page never calls Meta.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::auth::Authorized;
use crate::auth::roles::InsightRoles;
use crate::error::AppError;
use crate::insights::overview::{self, Audience, Card};
use crate::insights::refresh::RefreshInsights;
use crate::jobs::job::Job;
use crate::models::insight_backfills::{self, Backfill};
use crate::models::insights;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::insights_filters::{Filters, InsightsQuery, Scope, zones_for};
use crate::web::render;

#[derive(Template)]
#[template(path = "insights/index.html")]
struct InsightsPage {
    layout: Layout,
    f: Filters,
    has_channels: bool,
    cards: Vec<Card>,
    audience: Audience,
    refusals: Vec<(String, String)>,
    last_refresh: Option<DateTime<Utc>>,
    /// Channels whose refresh is waiting or running.
    refreshing: i64,
    backfills: Vec<BackfillLine>,
    can_refresh: bool,
}

/// A history read as the page shows it.
pub struct BackfillLine {
    pub channel: String,
    pub backfill: Backfill,
}

/// What the page shows: the scope and the cards.
struct Overview {
    scope: Scope,
    cards: Vec<Card>,
    audience: Audience,
    backfills: Vec<BackfillLine>,
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
        let cards = overview::cards(conn, tenant, channel, period)?;
        let audience = overview::audience(conn, tenant, channel, &scope.channels)?;
        let backfills = insight_backfills::recent(conn, tenant)?
            .into_iter()
            .map(|backfill| BackfillLine {
                channel: scope
                    .channels
                    .iter()
                    .find(|c| c.id == backfill.channel_id)
                    .map(|c| c.display_name())
                    .unwrap_or_default(),
                backfill,
            })
            .collect();
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
            audience,
            backfills,
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
        audience: o.audience,
        backfills: o.backfills,
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
    // Every table the page shows: the daily series, each card's totals, the audience.
    let mut out = String::from("table,metric,label,key,value\n");
    let mut row = |table: &str, metric: &str, label: &str, key: &str, value: Option<i64>| {
        let value = value.map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{value}\n",
            csv_cell(table),
            csv_cell(metric),
            csv_cell(label),
            csv_cell(key)
        ));
    };
    for card in &o.cards {
        for (day, value) in &card.points {
            row(
                "series",
                card.metric,
                card.label,
                &day.to_string(),
                Some(*value),
            );
        }
        row("total", card.metric, card.label, "this_period", card.value);
        row(
            "total",
            card.metric,
            card.label,
            "previous_period",
            card.previous,
        );
    }
    for a in &o.audience.charts {
        for (key, value) in &a.rows {
            row("audience", &a.id, &a.title, key, Some(*value));
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
        Ok(crate::insights::refresh::queue_for_tenant(
            conn,
            tenant,
            None,
            crate::insights::refresh::DAILY_DAYS,
        )?)
    })
    .await?;
    crate::auth::session::flash(
        &user.session,
        crate::auth::session::FlashLevel::Success,
        "Refreshing insights from Meta…",
    );
    Ok(render::see_other("/insights"))
}

#[derive(Debug, serde::Deserialize)]
pub struct BackfillForm {
    channel: Option<String>,
}

/// POST /insights/backfill (admins): reads up to two years of history of one channel (or every
/// Page and Instagram account); the page shows each read's progress.
pub async fn backfill(
    state: web::Data<AppState>,
    user: Authorized<crate::auth::roles::AdminOnly>,
    form: web::Form<BackfillForm>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let wanted = form.channel.as_deref().and_then(|c| c.parse::<i64>().ok());
    let queued = crate::db::run(&state.pool, move |conn| {
        Ok(crate::insights::refresh::queue_for_tenant(
            conn,
            tenant,
            wanted.map(crate::db::ids::ChannelId),
            crate::insights::refresh::MAX_HISTORY_DAYS,
        )?)
    })
    .await?;
    let (level, text) = if queued == 0 {
        (
            crate::auth::session::FlashLevel::Error,
            "No connected Page or Instagram account to read history for.".to_string(),
        )
    } else {
        (
            crate::auth::session::FlashLevel::Success,
            format!("Reading two years of history for {queued} channel(s); progress shows below."),
        )
    };
    crate::auth::session::flash(&user.session, level, &text);
    let back = match wanted {
        Some(c) => format!("/insights?channel={c}"),
        None => "/insights".into(),
    };
    Ok(render::see_other(&back))
}
