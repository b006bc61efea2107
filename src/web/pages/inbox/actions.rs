//! What agents post about a conversation besides replies (`reply`): notes, assignment,
//! status, read state and labels. htmx gets 204 with a `parley-refresh` trigger (the
//! thread, panel and list reload themselves) and a toast; forms without JavaScript get a redirect
//! back to the conversation with a flash.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::auth::roles::InboxRoles;
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::{ConversationId, TenantId, UserId};
use crate::db::statuses::ConversationStatus;
use crate::error::AppError;
use crate::inbox::{InboxError, actions};
use crate::state::AppState;
use crate::web::hx::Hx;
use crate::web::render;

/// The answer to a successful action.
pub(super) fn done(
    hx: Hx,
    user: &CurrentUser,
    conversation: ConversationId,
    message: &str,
) -> HttpResponse {
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

/// POST /inbox/{id}/typing: an agent is writing; the customer sees "typing…" (at most every
/// 15 seconds, on Messenger and Instagram, inside the window). Answers 204.
pub async fn typing(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let known = crate::db::run(&state.pool, move |conn| {
        let Some(row) = crate::models::conversation_list::row(conn, tenant, id)? else {
            return Ok(false);
        };
        // WhatsApp has no typing indicator to send.
        if row.platform != crate::models::channels::Platform::Whatsapp {
            crate::inbox::signals::queue(
                conn,
                tenant,
                id,
                crate::inbox::signals::Signal::TypingOn,
            )?;
        }
        Ok(true)
    })
    .await?;
    if !known {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct ReactForm {
    /// `1` to react, `0` to take the reaction back.
    on: String,
}

/// POST /inbox/{id}/messages/{message}/react
pub async fn react(
    state: web::Data<AppState>,
    hx: Hx,
    user: Authorized<InboxRoles>,
    path: web::Path<(ConversationId, crate::db::ids::MessageId)>,
    form: web::Form<ReactForm>,
) -> Result<HttpResponse, AppError> {
    let (id, message) = path.into_inner();
    let on = form.on == "1";
    let done_text = if on {
        "Reaction sent."
    } else {
        "Reaction removed."
    };
    act(&state, hx, &user, id, done_text, move |conn, t, _| {
        crate::inbox::reactions::react(conn, t, id, message, on)
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
