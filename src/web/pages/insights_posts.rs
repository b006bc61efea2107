//! GET /insights/posts: the posts, reels and stories published in the range with their lifetime
//! figures, sortable by each column and paged, and the list's CSV (analysts and admins). One
//! post's page is in `insights_post`.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::{AdminOnly, InsightRoles};
use crate::db::ids::{ChannelId, TenantId};
use crate::error::AppError;
use crate::models::analytics;
use crate::models::post_insights::{self, RankedPost};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::comments_audit::csv_cell;
use crate::web::pages::insights_filters::{Filters, InsightsQuery, Scope, zones_for};
use crate::web::render;

/// A column of the posts table: its key (the `sort` value), label and the metric names that
/// fill it (Facebook's and Instagram's names for the same idea).
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub metrics: &'static [&'static str],
}

/// The columns, in order; the first is the default sort.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "views",
        label: "Views",
        metrics: &["views", "post_media_view"],
    },
    Column {
        key: "reach",
        label: "Reach",
        metrics: &["reach", "post_total_media_view_unique"],
    },
    Column {
        key: "reactions",
        label: "Likes / reactions",
        metrics: &["likes", "post_reactions_by_type_total"],
    },
    Column {
        key: "comments",
        label: "Comments",
        metrics: &["comments"],
    },
    Column {
        key: "shares",
        label: "Shares",
        metrics: &["shares"],
    },
    Column {
        key: "saved",
        label: "Saves",
        metrics: &["saved"],
    },
    Column {
        key: "replies",
        label: "Replies",
        metrics: &["replies"],
    },
    Column {
        key: "clicks",
        label: "Clicks",
        metrics: &["post_clicks"],
    },
    Column {
        key: "interactions",
        label: "Interactions",
        metrics: &["total_interactions"],
    },
];

const PER_PAGE: i64 = 50;
/// The most rows the CSV carries.
const CSV_ROWS: i64 = 10_000;

/// A post and its figures by column.
pub struct PostLine {
    pub post: RankedPost,
    pub channel: String,
    pub cells: Vec<Option<i64>>,
    pub values: BTreeMap<String, i64>,
}

impl PostLine {
    /// The caption, shortened for the table.
    pub fn short_caption(&self) -> String {
        let c = self.post.caption.as_deref().unwrap_or("").trim();
        if c.chars().count() > 80 {
            format!("{}…", c.chars().take(79).collect::<String>())
        } else if c.is_empty() {
            "(no caption)".into()
        } else {
            c.to_string()
        }
    }

    pub fn kind(&self) -> &str {
        self.post.media_type.as_deref().unwrap_or("post")
    }
}

fn cells(values: &BTreeMap<String, i64>) -> Vec<Option<i64>> {
    COLUMNS
        .iter()
        .map(|c| c.metrics.iter().find_map(|m| values.get(*m).copied()))
        .collect()
}

struct Listing {
    scope: Scope,
    lines: Vec<PostLine>,
    total: i64,
    sort: &'static str,
    page: i64,
    zones: Option<Vec<String>>,
}

async fn load(
    state: &AppState,
    tenant: TenantId,
    query: &InsightsQuery,
    page: i64,
    per_page: i64,
    admin: bool,
) -> Result<Listing, AppError> {
    let query = query.clone();
    let column = COLUMNS
        .iter()
        .find(|c| Some(c.key) == query.sort.as_deref())
        .unwrap_or(&COLUMNS[0]);
    Ok(crate::db::run(&state.pool, move |conn| {
        let scope = Scope::read(conn, tenant, &query, 0, true)?;
        let (start, end) =
            analytics::bounds(conn, &scope.zone, scope.period.from, scope.period.to)?;
        let (posts, total) = post_insights::ranked(
            conn,
            tenant,
            scope.channel,
            start,
            end,
            column.key,
            (page - 1) * per_page,
            per_page,
        )?;
        let keys: Vec<(ChannelId, String)> = posts
            .iter()
            .map(|p| (p.channel_id, p.platform_post_id.clone()))
            .collect();
        let mut values = post_insights::values_of(conn, tenant, &keys)?;
        let lines = posts
            .into_iter()
            .map(|post| {
                let values = values
                    .remove(&(post.channel_id, post.platform_post_id.clone()))
                    .unwrap_or_default();
                let channel = scope
                    .channels
                    .iter()
                    .find(|c| c.id == post.channel_id)
                    .map(|c| format!("{} · {}", c.platform.network_label(), c.display_name()))
                    .unwrap_or_default();
                PostLine {
                    cells: cells(&values),
                    channel,
                    values,
                    post,
                }
            })
            .collect();
        Ok(Listing {
            zones: zones_for(conn, admin)?,
            scope,
            lines,
            total,
            sort: column.key,
            page,
        })
    })
    .await?)
}

#[derive(Template)]
#[template(path = "insights/posts.html")]
struct PostsPage {
    layout: Layout,
    f: Filters,
    lines: Vec<PostLine>,
    columns: &'static [Column],
    sort: &'static str,
    total: i64,
    page: i64,
    pages: i64,
}

impl PostsPage {
    /// The link that sorts by `key` (first page).
    fn sort_link(&self, key: &str) -> String {
        format!("/insights/posts?{}&sort={key}", self.f.qs)
    }

    fn page_link(&self, page: i64) -> String {
        format!(
            "/insights/posts?{}&sort={}&page={page}",
            self.f.qs, self.sort
        )
    }
}

fn page_number(query: &InsightsQuery) -> i64 {
    query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000)
}

/// GET /insights/posts
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    query: web::Query<InsightsQuery>,
) -> Result<HttpResponse, AppError> {
    let admin = user.can::<AdminOnly>();
    let l = load(
        &state,
        user.tenant_id,
        &query,
        page_number(&query),
        PER_PAGE,
        admin,
    )
    .await?;
    let note = format!(
        "Posts published in the range, with their lifetime figures as Meta last reported them (refreshed daily for 28 days; stories hourly while they live). Days are cut in {}.",
        l.scope.zone
    );
    render::html(&PostsPage {
        layout: Layout::new(&user, "insights"),
        f: Filters::new(
            "posts",
            "/insights/posts",
            (l.total > 0).then_some("/insights/posts.csv"),
            &l.scope,
            l.zones,
            note,
        ),
        lines: l.lines,
        columns: COLUMNS,
        sort: l.sort,
        pages: ((l.total + PER_PAGE - 1) / PER_PAGE).max(1),
        total: l.total,
        page: l.page,
    })
}

/// GET /insights/posts.csv: every post of the range (up to 10,000) in the page's order.
pub async fn csv(
    state: web::Data<AppState>,
    user: Authorized<InsightRoles>,
    query: web::Query<InsightsQuery>,
) -> Result<HttpResponse, AppError> {
    let l = load(&state, user.tenant_id, &query, 1, CSV_ROWS, false).await?;
    let mut out = String::from("post_id,channel,type,posted_at,caption,permalink,note");
    for c in COLUMNS {
        out.push(',');
        out.push_str(c.key);
    }
    out.push('\n');
    for line in &l.lines {
        let p = &line.post;
        let fields = [
            p.platform_post_id.clone(),
            line.channel.clone(),
            line.kind().to_string(),
            p.posted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            p.caption.clone().unwrap_or_default(),
            p.permalink.clone().unwrap_or_default(),
            p.insights_note.clone().unwrap_or_default(),
        ];
        let cells = line
            .cells
            .iter()
            .map(|c| c.map(|v| v.to_string()).unwrap_or_default());
        let row: Vec<String> = fields
            .into_iter()
            .chain(cells)
            .map(|f| csv_cell(&f))
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"posts-{}-{}.csv\"",
                l.scope.period.from, l.scope.period.to
            ),
        ))
        .body(out))
}
