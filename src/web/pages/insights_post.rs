//! GET /insights/posts/{id}: one post's lifetime figures, its breakdowns (reactions by type,
//! story navigation) as bars and its figures' series, and the same as CSV (analysts and admins).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::InsightRoles;
use crate::db::ids::TenantId;
use crate::error::AppError;
use crate::insights::chart;
use crate::models::post_insights::{self, RankedPost};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::comments_audit::csv_cell;
use crate::web::render;

/// A metric's lifetime total as it stood each day it was read.
struct Series {
    metric: String,
    svg: String,
    points: Vec<(chrono::NaiveDate, i64)>,
}

#[derive(Template)]
#[template(path = "insights/post.html")]
struct PostPage {
    layout: Layout,
    post: RankedPost,
    channel: String,
    /// (metric, value), breakdown entries apart.
    figures: Vec<(String, i64)>,
    /// (title, svg) of each breakdown.
    breakdowns: Vec<(String, String)>,
    /// Each snapshot series with more than one day.
    series: Vec<Series>,
}

/// One post of the tenant with its latest figures, every day's snapshot and its channel's name.
struct PostData {
    post: RankedPost,
    values: BTreeMap<String, i64>,
    snapshots: Vec<(String, chrono::NaiveDate, i64)>,
    channel: String,
}

async fn load_post(state: &AppState, tenant: TenantId, id: i64) -> Result<PostData, AppError> {
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(post) = post_insights::get(conn, tenant, id)? else {
            return Ok(None);
        };
        let key = (post.channel_id, post.platform_post_id.clone());
        let values = post_insights::values_of(conn, tenant, std::slice::from_ref(&key))?
            .remove(&key)
            .unwrap_or_default();
        let snapshots = crate::models::insights::object_series(
            conn,
            tenant,
            post.channel_id,
            &post.platform_post_id,
        )?;
        let channel = crate::models::channels::get(conn, tenant, post.channel_id)?
            .map(|c| format!("{} · {}", c.platform.network_label(), c.display_name()))
            .unwrap_or_default();
        Ok(Some(PostData {
            post,
            values,
            snapshots,
            channel,
        }))
    })
    .await?;
    found.ok_or(AppError::NotFound)
}

/// GET /insights/posts/{id}
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let PostData {
        post,
        values,
        snapshots,
        channel,
    } = load_post(&state, user.tenant_id, path.into_inner()).await?;
    let figures = values
        .iter()
        .filter(|(m, _)| !m.contains('.'))
        .map(|(m, v)| (m.clone(), *v))
        .collect();
    let mut by_breakdown: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (m, v) in &values {
        if let Some((metric, key)) = m.split_once('.') {
            by_breakdown
                .entry(metric.to_string())
                .or_default()
                .push((key.replace('_', " "), *v));
        }
    }
    let breakdowns = by_breakdown
        .into_iter()
        .map(|(metric, mut parts)| {
            parts.sort_by_key(|p| std::cmp::Reverse(p.1));
            let title = format!("{} by type", metric.replace('_', " "));
            let svg = chart::bars(&title, &parts);
            (title, svg)
        })
        .collect();
    let mut grouped: BTreeMap<String, Vec<(chrono::NaiveDate, i64)>> = BTreeMap::new();
    for (metric, day, value) in snapshots.into_iter().filter(|(m, _, _)| !m.contains('.')) {
        grouped.entry(metric).or_default().push((day, value));
    }
    let series = grouped
        .into_iter()
        .filter(|(_, pts)| pts.len() > 1)
        .map(|(metric, points)| Series {
            svg: chart::line(&format!("{metric}, lifetime total by day"), &points),
            metric,
            points,
        })
        .collect();
    render::html(&PostPage {
        layout: Layout::new(&user, "insights"),
        post,
        channel,
        figures,
        breakdowns,
        series,
    })
}

/// GET /insights/posts/{id}.csv: the post's latest figures (breakdowns included) and every
/// day's snapshot, as the page shows them.
pub async fn show_csv(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let PostData {
        post,
        values,
        snapshots,
        ..
    } = load_post(&state, user.tenant_id, path.into_inner()).await?;
    let mut out = String::from("table,metric,day,value\n");
    for (metric, value) in &values {
        out.push_str(&format!("\"latest\",{},,{value}\n", csv_cell(metric)));
    }
    for (metric, day, value) in &snapshots {
        out.push_str(&format!("\"series\",{},{day},{value}\n", csv_cell(metric)));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"post-{}.csv\"",
                post.platform_post_id
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            ),
        ))
        .body(out))
}
