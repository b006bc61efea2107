//! GET /comments: the moderation queue (moderators and admins), newest first, grouped by post,
//! filtered in the URL; POST /comments/{id}/reviewed takes a comment out of "needs review".

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::auth::session::{self, FlashLevel};
use crate::comments::bulk::MAX_BULK;
use crate::comments::{Actor, CommentError};
use crate::db::ids::{ChannelId, CommentId};
use crate::db::statuses::ModerationAction;
use crate::error::AppError;
use crate::models::channels::Platform;
use crate::models::comment_actions::{self, ActionRow};
use crate::models::comment_posts::{self, PostRow};
use crate::models::comment_queue::{self, QueueFilter, QueueRow, QueueState};
use crate::models::comments;
use crate::state::AppState;
use crate::web::hx::Hx;
use crate::web::layout::Layout;
pub(super) use crate::web::pages::comments_query::back_to;
use crate::web::pages::comments_query::{QueueQuery, query_string};
use crate::web::pages::comments_sync::{self, SyncPanel};
use crate::web::render;

/// Comments per page of the queue.
const PAGE_SIZE: i64 = 50;

/// Comments of one post, as the queue groups them.
pub struct PostGroup {
    pub post_id: Option<String>,
    pub platform: Platform,
    pub channel_name: String,
    pub comments: Vec<QueueRow>,
    /// What Meta says about the post, once fetched.
    pub post: Option<PostRow>,
}

/// Consecutive comments on the same post form one group (the page stays newest first).
fn group_by_post(rows: Vec<QueueRow>) -> Vec<PostGroup> {
    let mut groups: Vec<PostGroup> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(g) if g.post_id == row.post_id && g.channel_name == row.channel_name => {
                g.comments.push(row)
            }
            _ => groups.push(PostGroup {
                post_id: row.post_id.clone(),
                platform: row.platform,
                channel_name: row.channel_name.clone(),
                post: None,
                comments: vec![row],
            }),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "comments/index.html")]
struct QueuePage {
    layout: Layout,
    groups: Vec<PostGroup>,
    filter: QueueFilter,
    states: [QueueState; 5],
    channels: Vec<(i64, String)>,
    qs: String,
    next: Option<String>,
    has_channels: bool,
    actions: HashMap<CommentId, ActionRow>,
    rule_names: HashMap<i64, String>,
    /// The sync panel, rendered on its own (htmx polls it alone).
    sync_panel: String,
    /// The most comments one bulk run takes.
    max_bulk: i64,
    /// When the page was rendered (ms), for the live stream.
    since: i64,
    /// This very page's URL, which the live refresh fetches again.
    self_url: String,
    /// A comment just hidden, with its text: the page offers to undo it.
    undo: Option<CommentId>,
}

impl QueuePage {
    fn is_state(&self, state: QueueState) -> bool {
        self.filter.state == state
    }

    fn state_url(&self, state: QueueState) -> String {
        let mut f = self.filter.clone();
        f.state = state;
        format!("/comments?{}", query_string(&f))
    }

    fn only_post(&self, post: &str) -> String {
        let mut f = self.filter.clone();
        f.post = Some(post.to_string());
        format!("/comments?{}", query_string(&f))
    }

    fn without_post(&self) -> String {
        let mut f = self.filter.clone();
        f.post = None;
        format!("/comments?{}", query_string(&f))
    }

    fn is_channel(&self, id: &i64) -> bool {
        self.filter.channel.map(|c| c.0) == Some(*id)
    }

    /// The latest moderation action on a comment, if any.
    fn action_of(&self, id: &CommentId) -> Option<&ActionRow> {
        self.actions.get(id)
    }

    /// A rule's name (a deleted rule's chip says so).
    fn rule_name(&self, id: &i64) -> &str {
        self.rule_names
            .get(id)
            .map_or("(deleted rule)", String::as_str)
    }

    fn is_platform(&self, name: &str) -> bool {
        self.filter.platform.map(Platform::as_str) == Some(name)
    }
}

/// GET /comments
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let (filter, after, tenant) = (query.filter(), query.after(), user.tenant_id);
    let f = filter.clone();
    let ((rows, next), channels, actions, rule_names, posts, lines) =
        crate::db::run(&state.pool, move |conn| {
            let page = comment_queue::queue(conn, tenant, &f, after, PAGE_SIZE)?;
            let keys: Vec<(ChannelId, String)> = page
                .0
                .iter()
                .filter_map(|r| r.post_id.clone().map(|p| (r.channel_id, p)))
                .collect();
            let posts = comment_posts::of(conn, tenant, &keys)?;
            let rule_names = crate::models::moderation_rules::names(conn, tenant)?;
            let ids: Vec<CommentId> = page.0.iter().map(|r| r.id).collect();
            let actions = comment_actions::latest(conn, tenant, &ids)?;
            let all = crate::models::channels::list(conn, tenant)?;
            let lines = comments_sync::lines(conn, tenant, &all)?;
            let channels = crate::models::channels::choices(&all);
            Ok((page, channels, actions, rule_names, posts, lines))
        })
        .await?;
    let mut groups = group_by_post(rows);
    for g in &mut groups {
        let channel = g.comments[0].channel_id;
        g.post = g
            .post_id
            .as_ref()
            .and_then(|p| posts.get(&(channel, p.clone())))
            // A post known by id only (its details are on their way) shows its id.
            .filter(|p| p.fetched_at.is_some())
            .cloned();
    }
    let sync_panel = SyncPanel {
        lines,
        csrf: session::csrf_token(&user.session),
    }
    .render()
    .map_err(|e| AppError::Internal(e.to_string()))?;
    render::html(&QueuePage {
        layout: Layout::new(&user, "comments"),
        groups,
        qs: query_string(&filter),
        next: next.map(|c| format!("{}_{}", c.at.timestamp_micros(), c.id)),
        has_channels: !channels.is_empty(),
        channels,
        states: QueueState::ALL,
        actions,
        rule_names,
        sync_panel,
        max_bulk: MAX_BULK,
        since: chrono::Utc::now().timestamp_millis(),
        self_url: match query.after_raw() {
            Some(after) => format!(
                "/comments?{}&after={}",
                query_string(&filter),
                urlencode(after)
            ),
            None => format!("/comments?{}", query_string(&filter)),
        },
        undo: query.undo(),
        filter,
    })
}

/// The filters a form posts back, so the moderator returns to the same view.
#[derive(Debug, Deserialize)]
pub struct ReviewedForm {
    #[serde(default)]
    back: String,
    /// `audit`: return to the moderation log (an undo made there).
    #[serde(default)]
    to: String,
}

/// POST /comments/{id}/reviewed: htmx removes the row; a plain form returns to the queue.
pub async fn reviewed(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    form: web::Form<ReviewedForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let changed = crate::db::run(&state.pool, move |conn| {
        Ok(comments::mark_reviewed(conn, tenant, id, me)?)
    })
    .await?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    if hx.is_htmx() {
        return Ok(HttpResponse::Ok().body(""));
    }
    Ok(render::see_other(&format!(
        "/comments?{}",
        back_to(&form.back)
    )))
}

/// POST /comments/{id}/hide and /comments/{id}/unhide: the action goes to Meta through the job
/// queue; the queue shows it pending, then done, or failed with Meta's reason and a retry.
pub async fn moderate(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<(CommentId, String)>,
    form: web::Form<ReviewedForm>,
) -> Result<HttpResponse, AppError> {
    let (id, verb) = path.into_inner();
    // Replies carry their text and have their own pages (`comments_ask`).
    let action = ModerationAction::parse(&verb)
        .filter(|a| !a.needs_text())
        .ok_or(AppError::NotFound)?;
    let (tenant, me) = (user.tenant_id, user.id);
    let result = crate::db::run_as(&state.pool, move |conn| {
        crate::comments::request(conn, tenant, id, action, None, Actor::User(me))
    })
    .await;
    match result {
        // A hide offers its undo on the page it returns to.
        Ok(_) if action == ModerationAction::Hide && form.to != "audit" => {
            session::flash(&user.session, FlashLevel::Success, action.queued_message());
            return Ok(render::see_other(&format!(
                "/comments?{}&undo={id}",
                back_to(&form.back)
            )));
        }
        Ok(_) => session::flash(&user.session, FlashLevel::Success, action.queued_message()),
        Err(CommentError::NotFound) => return Err(AppError::NotFound),
        Err(CommentError::Refused(why)) => session::flash(&user.session, FlashLevel::Error, why),
        Err(CommentError::Db(e)) => return Err(e.into()),
    }
    if form.to == "audit" {
        return Ok(render::see_other("/comments/audit"));
    }
    Ok(render::see_other(&format!(
        "/comments?{}",
        back_to(&form.back)
    )))
}

/// The navigation badge's cap: beyond it the badge says "999+".
const BADGE_CAP: i64 = 1000;

/// GET /comments/count: the navigation badge (loaded by htmx; empty when nothing waits).
pub async fn count(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let n = crate::db::run(&state.pool, move |conn| {
        Ok(comments::needs_review_count(conn, tenant, BADGE_CAP)?)
    })
    .await?;
    let text = match n {
        0 => String::new(),
        n if n >= BADGE_CAP => format!("{}+", BADGE_CAP - 1),
        n => n.to_string(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(text))
}

/// POST /comments/{id}/undo: undoes a hide. One still waiting for the queue is cancelled before
/// Meta is asked; one Meta has done is reversed with an unhide.
pub async fn undo(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    path: web::Path<CommentId>,
    form: web::Form<ReviewedForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let result = crate::db::run_as(&state.pool, move |conn| {
        crate::comments::undo_hide(conn, tenant, id, me)
    })
    .await;
    match result {
        Ok(()) => session::flash(&user.session, FlashLevel::Success, "Hide undone."),
        Err(CommentError::NotFound) => return Err(AppError::NotFound),
        Err(CommentError::Refused(why)) => session::flash(&user.session, FlashLevel::Error, why),
        Err(CommentError::Db(e)) => return Err(e.into()),
    }
    Ok(render::see_other(&format!(
        "/comments?{}",
        back_to(&form.back)
    )))
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}
