//! What agents send: a reply (text, an attachment, the human-agent tag) and the retry of a
//! failed one. A refused reply comes back with what was typed and the reason, status 422.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use diesel::Connection;

use crate::auth::roles::InboxRoles;
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ConversationId, MessageId};
use crate::error::AppError;
use crate::inbox::send::Reply;
use crate::inbox::{InboxError, send, uploads};
use crate::state::AppState;
use crate::web::hx::Hx;
use crate::web::pages::inbox::conversation::{ComposerPartial, composer_view, conversation_view};
use crate::web::render;
use crate::web::uploads as web_uploads;

use super::actions::done;

/// POST /inbox/messages/{id}/retry
pub async fn retry(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let message = path.into_inner();
    let tenant = user.tenant_id;
    let conversation = crate::db::run_as::<_, InboxError, _>(&state.pool, move |conn| {
        send::retry(conn, tenant, message, Utc::now())
    })
    .await?;
    Ok(done(hx, &user, conversation, "Sending again."))
}

/// The composer's fields, from a multipart or urlencoded body.
struct ReplyInput {
    text: String,
    human_agent: bool,
    file: Option<(String, String, Bytes)>,
}

/// What the composer may send: its text, the HUMAN_AGENT tick and one attachment (25 MB).
const COMPOSER_LIMITS: web_uploads::Limits = web_uploads::Limits {
    max_fields: 8,
    max_text: 64 * 1024,
    max_file: 25 * 1024 * 1024,
    max_total: 26 * 1024 * 1024,
};

/// Reads the composer's form: multipart when it carries a file, urlencoded otherwise.
async fn read_reply(req: &HttpRequest, payload: web::Payload) -> Result<ReplyInput, AppError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut input = ReplyInput {
        text: String::new(),
        human_agent: false,
        file: None,
    };
    if web_uploads::is_multipart(content_type) {
        let fields = web_uploads::read(
            req,
            payload,
            &["text", "human_agent", "attachment"],
            COMPOSER_LIMITS,
        )
        .await?;
        for field in fields {
            match field {
                web_uploads::FormField::File {
                    name,
                    filename,
                    content_type,
                    data,
                } if name == "attachment" && !data.is_empty() => {
                    let ct = content_type.unwrap_or_else(|| "application/octet-stream".into());
                    input.file = Some((filename, ct, data));
                }
                web_uploads::FormField::Text { name, value } => match name.as_str() {
                    "text" => input.text = value,
                    "human_agent" => input.human_agent = !value.is_empty(),
                    _ => {}
                },
                web_uploads::FormField::File { .. } => {}
            }
        }
    } else {
        let body = payload
            .to_bytes_limited(COMPOSER_LIMITS.max_text * 2)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?
            .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}.")))?;
        if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
            for (k, v) in pairs {
                match k.as_str() {
                    "text" => input.text = v,
                    "human_agent" => input.human_agent = !v.is_empty(),
                    _ => {}
                }
            }
        }
    }
    // Browsers send CRLF in textareas.
    input.text = input.text.replace("\r\n", "\n");
    Ok(input)
}

/// POST /inbox/{id}/messages: stores the reply as "sending" and queues it.
pub async fn send_reply(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = read_reply(&req, payload).await?;
    let (tenant, me) = (user.tenant_id, user.id);
    let dir = crate::inbox::attachments::media_dir(&state, tenant);
    let (text, human_agent, file) = (input.text.clone(), input.human_agent, input.file);
    let result = crate::db::run(&state.pool, move |conn| {
        // The upload and the reply are one: a refused reply keeps no file and no row.
        let mut written = None;
        let outcome = conn.transaction(|conn| {
            let platform = crate::inbox::list::row(conn, tenant, id)?
                .ok_or(InboxError::NotFound)?
                .platform;
            let attachment = match &file {
                Some((name, ct, bytes)) => {
                    uploads::check(platform, ct, bytes)?;
                    let media = uploads::store(conn, &dir, tenant, name, ct, bytes)?;
                    written = Some(dir.join(&media.file));
                    Some(media)
                }
                None => None,
            };
            let reply = Reply {
                text,
                human_agent,
                attachment,
            };
            send::compose(conn, tenant, id, me, &reply, Utc::now())
        });
        if let (Err(_), Some(path)) = (&outcome, written) {
            let _ = std::fs::remove_file(path);
        }
        Ok(outcome)
    })
    .await?;
    match result {
        Ok(_) => {
            if Hx::of(&req).is_htmx() {
                let composer = composer_view(&state, &user, id).await?;
                let trigger = serde_json::json!({"parley-refresh": id});
                let mut resp = render::html(&ComposerPartial { composer })?;
                if let Ok(value) = trigger.to_string().parse() {
                    resp.headers_mut().insert(
                        actix_web::http::header::HeaderName::from_static("hx-trigger"),
                        value,
                    );
                }
                Ok(resp)
            } else {
                Ok(render::see_other(&format!("/inbox/{id}")))
            }
        }
        // The agent's own text and the reason come back; nothing is lost.
        Err(e @ (InboxError::Invalid(_) | InboxError::Window(_))) => {
            let why = e.to_string();
            rejected(
                &state,
                Hx::of(&req),
                &user,
                id,
                input.text,
                input.human_agent,
                why,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A refused reply keeps what was typed: the composer (htmx) or the whole page comes back with
/// the reason, status 422.
async fn rejected(
    state: &AppState,
    hx: Hx,
    user: &CurrentUser,
    id: ConversationId,
    text: String,
    human_agent: bool,
    why: String,
) -> Result<HttpResponse, AppError> {
    if hx.is_htmx() {
        let mut composer = composer_view(state, user, id).await?;
        composer.text = text;
        composer.human_agent = human_agent;
        composer.error = Some(why);
        return render::html_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ComposerPartial { composer },
        );
    }
    let mut v = conversation_view(state, user, id, None, false).await?;
    v.composer.text = text;
    v.composer.human_agent = human_agent;
    v.composer.error = Some(why);
    super::page_with(state, user, v, StatusCode::UNPROCESSABLE_ENTITY).await
}
