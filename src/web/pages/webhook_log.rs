//! The Webhook log (admins): this tenant's webhook items, their state and errors, the raw JSON,
//! and replay after a fix.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::auth::session::{self, FlashLevel};
use crate::db::ids::WebhookItemId;
use crate::db::statuses::ItemState;
use crate::error::AppError;
use crate::models::webhooks::{self, WebhookItem};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

const PAGE_SIZE: i64 = 50;
const STATES: [ItemState; 5] = [
    ItemState::Processed,
    ItemState::Ignored,
    ItemState::Failed,
    ItemState::Dead,
    ItemState::Pending,
];

#[derive(Template)]
#[template(path = "ops/webhook_log.html")]
struct LogPage {
    layout: Layout,
    items: Vec<WebhookItem>,
    state_filter: Option<ItemState>,
    states: [ItemState; 5],
    next_before: Option<WebhookItemId>,
}

#[derive(serde::Deserialize)]
pub struct LogQuery {
    state: Option<String>,
    before: Option<i64>,
}

impl LogPage {
    /// Whether the list is filtered to `state`.
    fn is_filter(&self, state: ItemState) -> bool {
        self.state_filter == Some(state)
    }
}

/// GET /webhooks
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let filter = q
        .state
        .as_deref()
        .and_then(ItemState::parse)
        .filter(|s| STATES.contains(s));
    let (tenant, f, before) = (user.tenant_id, filter, q.before.map(WebhookItemId));
    let items = crate::db::run(&state.pool, move |conn| {
        Ok(webhooks::list_for_tenant(
            conn,
            tenant,
            f,
            before,
            PAGE_SIZE + 1,
        )?)
    })
    .await?;
    let mut items = items;
    let next_before = (items.len() as i64 > PAGE_SIZE)
        .then(|| {
            items.truncate(PAGE_SIZE as usize);
            items.last().map(|i| i.id)
        })
        .flatten();
    render::html(&LogPage {
        layout: Layout::new(&user, "webhooks"),
        items,
        state_filter: filter,
        states: STATES,
        next_before,
    })
}

#[derive(Template)]
#[template(path = "ops/webhook_item.html")]
struct ItemPage {
    layout: Layout,
    item: WebhookItem,
    pretty: String,
}

/// GET /webhooks/{id}: the raw JSON of one item.
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, WebhookItemId(path.into_inner()));
    let item = crate::db::run(&state.pool, move |conn| {
        Ok(webhooks::get_for_tenant(conn, tenant, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let pretty = match &item.body {
        Some(body) => serde_json::to_string_pretty(body).unwrap_or_default(),
        None => "(its part of the delivery is no longer in the ledger)".into(),
    };
    render::html(&ItemPage {
        layout: Layout::new(&user, "webhooks"),
        item,
        pretty,
    })
}

/// POST /webhooks/{id}/replay
pub async fn replay_one(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, WebhookItemId(path.into_inner()));
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(item) = webhooks::get_for_tenant(conn, tenant, id)? else {
            return Ok(None);
        };
        Ok(Some(
            webhooks::replay(conn, Some(tenant), Some(&[id]), None)? > 0
                || item.state == ItemState::Pending,
        ))
    })
    .await?;
    match outcome {
        None => Err(AppError::NotFound),
        Some(true) => {
            session::flash(
                &user.session,
                FlashLevel::Success,
                format!("Event {id} will be processed again."),
            );
            Ok(render::see_other(&format!("/webhooks/{id}")))
        }
        Some(false) => {
            session::flash(
                &user.session,
                FlashLevel::Success,
                format!("Event {id} was processed already; replaying it would change nothing."),
            );
            Ok(render::see_other(&format!("/webhooks/{id}")))
        }
    }
}

/// POST /webhooks/replay-dead
pub async fn replay_dead(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let n = crate::db::run(&state.pool, move |conn| {
        Ok(webhooks::replay(
            conn,
            Some(tenant),
            None,
            Some(ItemState::Dead),
        )?)
    })
    .await?;
    session::flash(
        &user.session,
        FlashLevel::Success,
        format!("{n} dead event(s) will be processed again."),
    );
    Ok(render::see_other("/webhooks"))
}
