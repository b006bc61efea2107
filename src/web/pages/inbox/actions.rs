//! What agents post about a conversation: replies (with an attachment), retries, notes,
//! assignment, status, read state and labels. htmx gets 204 with a `parley-refresh` trigger (the
//! thread, panel and list reload themselves) and a toast; forms without JavaScript get a redirect
//! back to the conversation with a flash.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::Connection;
use serde::Deserialize;

use crate::auth::roles::InboxRoles;
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ConversationId, MessageId, TenantId, UserId};
use crate::db::statuses::ConversationStatus;
use crate::error::AppError;
use crate::inbox::send::Reply;
use crate::inbox::{InboxError, actions, send, uploads};
use crate::state::AppState;
use crate::web::hx::Hx;
use crate::web::pages::inbox::conversation::{ComposerPartial, composer_view, conversation_view};
use crate::web::render;
use crate::web::uploads as web_uploads;

/// The answer to a successful action.
fn done(hx: Hx, user: &CurrentUser, conversation: ConversationId, message: &str) -> HttpResponse {
    if hx.is_htmx() {
        let trigger = serde_json::json!({
            "parley-refresh": conversation,
            "parley:toast": {"level": "success", "message": message},
        });
        return HttpResponse::NoContent()
            .insert_header(("HX-Trigger", trigger.to_string()))
            .finish();
    }
    session::flash(&user.session, FlashLevel::Success, message);
    render::see_other(&format!("/inbox/{conversation}"))
}

/// A refused action: htmx shows the reason in a toast; a plain form flashes it.
fn refused(
    hx: Hx,
    user: &CurrentUser,
    conversation: ConversationId,
    e: InboxError,
) -> Result<HttpResponse, AppError> {
    match e {
        InboxError::Invalid(_) | InboxError::Window(_) if !hx.is_htmx() => {
            session::flash(&user.session, FlashLevel::Error, e.to_string());
            Ok(render::see_other(&format!("/inbox/{conversation}")))
        }
        e => Err(e.into()),
    }
}

async fn act<F>(
    state: &AppState,
    hx: Hx,
    user: &CurrentUser,
    conversation: ConversationId,
    message: &str,
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut diesel::PgConnection, TenantId, UserId) -> Result<(), InboxError>
        + Send
        + 'static,
{
    let (tenant, me) = (user.tenant_id, user.id);
    match crate::db::run_as(&state.pool, move |conn| f(conn, tenant, me)).await {
        Ok(()) => Ok(done(hx, user, conversation, message)),
        Err(e) => refused(hx, user, conversation, e),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// `me`, `none`, or a user id.
    assignee: String,
}

/// POST /inbox/{id}/assign
pub async fn assign(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let who = match form.assignee.as_str() {
        "me" => Some(user.id),
        "none" | "" => None,
        other => Some(UserId(other.parse().map_err(|_| {
            AppError::BadRequest("Choose a teammate to assign.".into())
        })?)),
    };
    let message = if who.is_some() {
        "Conversation assigned."
    } else {
        "Conversation unassigned."
    };
    act(&state, hx, &user, id, message, move |conn, t, _| {
        actions::assign(conn, t, id, who)
    })
    .await
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    /// `datetime-local` value, in the browser's zone; `tz_offset` (minutes, JS `getTimezoneOffset`) converts it.
    #[serde(default)]
    snooze_until: String,
    #[serde(default)]
    tz_offset: Option<i64>,
}

/// The furthest real time zones are 14 hours from UTC; anything beyond is not a browser's offset.
const MAX_TZ_OFFSET_MINUTES: i64 = 14 * 60;

/// A `datetime-local` value in the browser's zone, as UTC. Out-of-range offsets or dates give
/// `None` (the snooze is refused with a message), never an overflow.
fn parse_local(value: &str, offset_minutes: i64) -> Option<DateTime<Utc>> {
    if offset_minutes.unsigned_abs() > MAX_TZ_OFFSET_MINUTES.unsigned_abs() {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").ok()?;
    naive
        .and_utc()
        .checked_add_signed(chrono::Duration::minutes(offset_minutes))
}

/// POST /inbox/{id}/status
pub async fn set_status(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let f = form.into_inner();
    let until = parse_local(&f.snooze_until, f.tz_offset.unwrap_or(0));
    let message = format!("Marked {}.", f.status);
    act(&state, hx, &user, id, &message, move |conn, t, _| {
        let status = ConversationStatus::parse(&f.status)
            .ok_or_else(|| InboxError::Invalid(format!("Unknown status {:?}.", f.status)))?;
        actions::set_status(conn, t, id, status, until, Utc::now())
    })
    .await
}

#[derive(Deserialize)]
pub struct ReadForm {
    read: String,
}

/// POST /inbox/{id}/read
pub async fn mark_read(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    form: web::Form<ReadForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let read = form.read != "0";
    let message = if read {
        "Marked read."
    } else {
        "Marked unread."
    };
    act(&state, hx, &user, id, message, move |conn, t, _| {
        actions::mark_read(conn, t, id, read)
    })
    .await
}

#[derive(Deserialize)]
pub struct NoteForm {
    body: String,
}

/// POST /inbox/{id}/notes
pub async fn add_note(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = form.into_inner().body;
    act(&state, hx, &user, id, "Note added.", move |conn, t, me| {
        actions::add_note(conn, t, id, me, &body)
    })
    .await
}

#[derive(Deserialize)]
pub struct LabelForm {
    name: String,
}

/// POST /inbox/{id}/labels
pub async fn add_label(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
    form: web::Form<LabelForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let name = form.into_inner().name;
    act(&state, hx, &user, id, "Label added.", move |conn, t, _| {
        actions::add_label(conn, t, id, &name)
    })
    .await
}

/// POST /inbox/{id}/labels/{label}/remove
pub async fn remove_label(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<(ConversationId, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, label) = path.into_inner();
    act(
        &state,
        hx,
        &user,
        id,
        "Label removed.",
        move |conn, t, _| actions::remove_label(conn, t, id, label),
    )
    .await
}

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
        Err(InboxError::Invalid(why)) => {
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
        Err(InboxError::Window(w)) => {
            rejected(
                &state,
                Hx::of(&req),
                &user,
                id,
                input.text,
                input.human_agent,
                w.to_string(),
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

#[cfg(test)]
mod tests {
    use super::parse_local;

    #[test]
    fn absurd_time_zone_offsets_and_dates_are_refused_not_panicking() {
        assert!(parse_local("2026-12-01T09:30", -60).is_some());
        assert!(parse_local("2026-12-01T09:30", i64::MAX).is_none());
        assert!(parse_local("2026-12-01T09:30", i64::MIN).is_none());
        assert!(parse_local("2026-12-01T09:30", 15 * 60).is_none());
        assert!(parse_local("+262143-12-31T23:59", 14 * 60).is_none());
    }
}
