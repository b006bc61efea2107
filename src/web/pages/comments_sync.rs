//! Backfill from the moderation page: each Facebook and Instagram channel's latest sync as a
//! progress line (polled by htmx while one runs), and the "Sync" button that starts one.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::auth::session::{self, FlashLevel};
use crate::db::ids::ChannelId;
use crate::db::statuses::RunState;
use crate::error::AppError;
use crate::models::channels::Platform;
use crate::models::comment_syncs::{self, SyncRow};
use crate::state::AppState;
use crate::web::render;

/// One channel's line.
pub struct SyncLine {
    pub channel_id: ChannelId,
    pub channel: String,
    pub sync: Option<SyncRow>,
}

impl SyncLine {
    pub fn running(&self) -> bool {
        self.sync
            .as_ref()
            .is_some_and(|s| s.state == RunState::Running)
    }

    /// The progress line.
    pub fn progress(&self) -> String {
        let Some(s) = &self.sync else {
            return "Not synced yet.".into();
        };
        let posts = if s.listed_all {
            format!("{} of {} posts", s.posts_done, s.posts_listed)
        } else {
            format!("{} of {}+ posts", s.posts_done, s.posts_listed)
        };
        match s.state {
            RunState::Running => format!("Syncing: {posts}, {} comments found…", s.comments_found),
            RunState::Done => format!(
                "Synced {}: {} posts, {} comments.",
                s.finished_at
                    .unwrap_or(s.updated_at)
                    .format("%Y-%m-%d %H:%M UTC"),
                s.posts_done,
                s.comments_found
            ),
            RunState::Failed => format!(
                "Sync stopped after {posts}: {}",
                s.error.as_deref().unwrap_or("unknown reason")
            ),
        }
    }
}

/// Every connected Facebook and Instagram channel among `channels` with its latest sync.
pub fn lines(
    conn: &mut diesel::PgConnection,
    tenant: crate::db::ids::TenantId,
    channels: &[crate::models::channels::Channel],
) -> diesel::QueryResult<Vec<SyncLine>> {
    let mut syncs = comment_syncs::latest(conn, tenant)?;
    Ok(channels
        .iter()
        .filter(|c| c.platform != Platform::Whatsapp && c.is_connected())
        .map(|c| SyncLine {
            channel_id: c.id,
            channel: format!("{} · {}", c.platform.network_label(), c.display_name()),
            sync: syncs
                .iter()
                .position(|s| s.channel_id == c.id)
                .map(|i| syncs.swap_remove(i)),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "comments/_sync.html")]
pub struct SyncPanel {
    pub lines: Vec<SyncLine>,
    pub csrf: String,
}

impl SyncPanel {
    pub fn any_running(&self) -> bool {
        self.lines.iter().any(SyncLine::running)
    }
}

/// GET /comments/sync: the panel alone (htmx polls it while a sync runs).
pub async fn status(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let lines = crate::db::run(&state.pool, move |conn| {
        let channels = crate::models::channels::list(conn, tenant)?;
        Ok(lines(conn, tenant, &channels)?)
    })
    .await?;
    render::html(&SyncPanel {
        lines,
        csrf: session::csrf_token(&user.session),
    })
}

/// POST /comments/sync/{channel}: reads the channel's last 30 days of posts and comments.
pub async fn start(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<ChannelId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, channel) = (user.tenant_id, user.id, path.into_inner());
    let started = crate::db::run(&state.pool, move |conn| {
        let Some(c) = crate::models::channels::get(conn, tenant, channel)?
            .filter(|c| c.platform != Platform::Whatsapp && c.is_connected())
        else {
            return Ok(None);
        };
        let since =
            chrono::Utc::now() - chrono::Duration::days(crate::comments::sync::BACKFILL_DAYS);
        Ok(Some(crate::comments::sync::start(
            conn,
            tenant,
            c.id,
            since,
            Some(me),
        )?))
    })
    .await?;
    match started {
        None => return Err(AppError::NotFound),
        Some(Some(_)) => session::flash(
            &user.session,
            FlashLevel::Success,
            "Syncing comments from Meta…",
        ),
        Some(None) => session::flash(
            &user.session,
            FlashLevel::Error,
            "A sync of this channel is already running.",
        ),
    }
    Ok(render::see_other("/comments"))
}
