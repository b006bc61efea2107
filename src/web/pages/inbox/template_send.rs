//! Sending an approved WhatsApp template in a conversation: choose one (the number's account's
//! approved templates), fill its parameters beside its preview, send. A page of its own, so it
//! works without JavaScript; a refused send keeps what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::roles::InboxRoles;
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ChannelId, ConversationId};
use crate::error::AppError;
use crate::inbox::InboxError;
use crate::message_templates::send::{self, Values};
use crate::models::message_templates::Template;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

#[derive(askama::Template)]
#[template(path = "inbox/template_send.html")]
struct SendPage {
    layout: Layout,
    conversation: ConversationId,
    choices: Vec<Template>,
    chosen: Option<Template>,
    fields: Vec<(String, String)>,
    values: Values,
    preview: String,
    error: Option<String>,
}

impl SendPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct Choose {
    template_id: Option<i64>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    conversation: ConversationId,
    chosen: Option<i64>,
    values: Values,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let choices = crate::db::run_as::<_, InboxError, _>(&state.pool, move |conn| {
        let target = crate::models::outbound::target(conn, tenant, conversation)?
            .ok_or(InboxError::NotFound)?;
        let language = send::last_language(conn, tenant, conversation)?;
        send::choices(
            conn,
            tenant,
            ChannelId(target.channel_id),
            language.as_deref(),
        )
    })
    .await
    .map_err(|e| match e {
        InboxError::NotFound => AppError::NotFound,
        other => AppError::Internal(other.to_string()),
    })?;
    let chosen = chosen.and_then(|id| choices.iter().find(|t| t.id == id).cloned());
    let fields = chosen.as_ref().map(send::fields_of).unwrap_or_default();
    // The preview shows the examples until the agent types values.
    let preview = chosen
        .as_ref()
        .map(|t| {
            let c = t.content();
            let mut shown = values.clone();
            for (k, _) in &fields {
                if shown.get(k).is_none_or(|v| v.trim().is_empty()) {
                    let example = k
                        .strip_prefix("body_")
                        .and_then(|p| c.body_example(p))
                        .unwrap_or(if k == "header" {
                            c.header_example.as_str()
                        } else {
                            ""
                        });
                    shown.insert(k.clone(), example.to_string());
                }
            }
            send::filled_text(&c, &shown)
        })
        .unwrap_or_default();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render::html_with_status(
        status,
        &SendPage {
            layout: Layout::new(user, "inbox"),
            conversation,
            choices,
            chosen,
            fields,
            values,
            preview,
            error,
        },
    )
}

/// GET /inbox/{id}/template
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    q: web::Query<Choose>,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &user,
        path.into_inner(),
        q.template_id,
        Values::new(),
        None,
    )
    .await
}

/// POST /inbox/{id}/template
pub async fn send_template(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let conversation = path.into_inner();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let template_id = pairs
        .iter()
        .find(|(k, _)| k == "template_id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let values: Values = pairs
        .into_iter()
        .filter(|(k, _)| {
            k.starts_with("header") || k.starts_with("body_") || k.starts_with("button_")
        })
        .collect();
    let Some(template_id) = template_id else {
        let why = Some("Choose a template.".to_string());
        return page(&state, &user, conversation, None, values, why).await;
    };
    let (tenant, me, typed) = (user.tenant_id, user.id, values.clone());
    let sent = crate::db::run(&state.pool, move |conn| {
        Ok(send::compose(
            conn,
            tenant,
            conversation,
            me,
            template_id,
            &typed,
            Utc::now(),
        ))
    })
    .await?;
    match sent {
        Ok(_) => {
            session::flash(&user.session, FlashLevel::Success, "Template sending.");
            Ok(render::see_other(&format!("/inbox/{conversation}")))
        }
        Err(InboxError::NotFound) => Err(AppError::NotFound),
        Err(InboxError::Invalid(why)) => {
            page(
                &state,
                &user,
                conversation,
                Some(template_id),
                values,
                Some(why),
            )
            .await
        }
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}

/// POST /inbox/{id}/template/preview (htmx): the filled message for what is typed.
pub async fn preview(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let conversation = path.into_inner();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let template_id = pairs
        .iter()
        .find(|(k, _)| k == "template_id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let values: Values = pairs
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter(|(k, _)| {
            k.starts_with("header") || k.starts_with("body_") || k.starts_with("button_")
        })
        .collect();
    let tenant = user.tenant_id;
    let template = crate::db::run_as::<_, InboxError, _>(&state.pool, move |conn| {
        let target = crate::models::outbound::target(conn, tenant, conversation)?
            .ok_or(InboxError::NotFound)?;
        match template_id {
            Some(id) => send::sendable(conn, tenant, ChannelId(target.channel_id), id),
            None => Ok(None),
        }
    })
    .await
    .map_err(|_| AppError::NotFound)?
    .ok_or(AppError::NotFound)?;
    let text = send::filled_text(&template.content(), &values);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            askama::filters::escape(&text, askama::filters::Html)
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ))
}
