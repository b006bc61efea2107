//! The team's steps on a template (request approval, approve, send back), duplicate, delete,
//! and the live status chip. Each answers with the template's page: the outcome flashed, or
//! its refusal on the page.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::roles::{AdminOnly, TemplateRoles};
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::error::AppError;
use crate::message_templates::status::TemplateStatus;
use crate::message_templates::workflow::{self, TemplateError};
use crate::models::message_templates as library;
use crate::state::AppState;
use crate::web::pages::message_templates::show_page;
use crate::web::render;

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    comment: String,
}

/// Runs a step and shows the template again: its outcome flashed, or its refusal on the page.
async fn step(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    done: &'static str,
    work: impl FnOnce(&mut diesel::PgConnection) -> Result<(), TemplateError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    match crate::db::run(&state.pool, move |conn| Ok(work(conn))).await? {
        Ok(()) => {
            session::flash(&user.session, FlashLevel::Success, done);
            Ok(render::see_other(&format!("/message-templates/{id}")))
        }
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Invalid(_)) => {
            let why = "Fix the errors the check lists before it goes further.".to_string();
            show_page(state, user, id, Some(why)).await
        }
        Err(TemplateError::Refused(why)) => show_page(state, user, id, Some(why)).await,
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

/// POST /message-templates/{id}/request-approval
pub async fn request_approval(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, comment) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner().comment,
    );
    step(
        &state,
        &user,
        id,
        "Sent to the admins for approval.",
        move |conn| workflow::request_approval(conn, tenant, me, id, &comment),
    )
    .await
}

/// POST /message-templates/{id}/approve (admins): approves and queues the submission to Meta.
pub async fn approve(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, comment) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner().comment,
    );
    step(
        &state,
        &user,
        id,
        "Approved: submitting it to Meta for review.",
        move |conn| workflow::approve(conn, tenant, me, id, &comment),
    )
    .await
}

/// POST /message-templates/{id}/send-back (admins)
pub async fn send_back(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, comment) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner().comment,
    );
    step(
        &state,
        &user,
        id,
        "Sent back to a draft with your comment.",
        move |conn| workflow::send_back(conn, tenant, me, id, &comment),
    )
    .await
}

#[derive(Deserialize)]
pub struct DuplicateForm {
    name: String,
    language: String,
}

/// POST /message-templates/{id}/duplicate: a copy as a new draft.
pub async fn duplicate(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    form: web::Form<DuplicateForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id, f) = (
        user.tenant_id,
        user.id,
        path.into_inner(),
        form.into_inner(),
    );
    let made = crate::db::run(&state.pool, move |conn| {
        Ok(crate::message_templates::at_meta::duplicate(
            conn,
            tenant,
            me,
            id,
            &f.name,
            &f.language,
        ))
    })
    .await?;
    match made {
        Ok(new) => {
            session::flash(&user.session, FlashLevel::Success, "Copied as a new draft.");
            Ok(render::see_other(&format!("/message-templates/{new}/edit")))
        }
        Err(TemplateError::Invalid(findings)) => {
            let why = findings
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" ");
            show_page(&state, &user, id, Some(why)).await
        }
        Err(TemplateError::Refused(why)) => show_page(&state, &user, id, Some(why)).await,
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    all_languages: Option<String>,
}

/// POST /message-templates/{id}/delete (admins; the page asks for confirmation first)
pub async fn delete(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let all = form.all_languages.is_some();
    let done = crate::db::run(&state.pool, move |conn| {
        Ok(crate::message_templates::at_meta::request_delete(
            conn, tenant, me, id, all,
        ))
    })
    .await?;
    match done {
        Ok(Some(removed)) => {
            session::flash(&user.session, FlashLevel::Success, removed);
            Ok(render::see_other("/message-templates"))
        }
        Ok(None) => {
            session::flash(&user.session, FlashLevel::Success, "Deleting it at Meta.");
            Ok(render::see_other(&format!("/message-templates/{id}")))
        }
        Err(TemplateError::Refused(why)) => show_page(&state, &user, id, Some(why)).await,
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Invalid(_)) => show_page(&state, &user, id, None).await,
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

#[derive(Template)]
#[template(path = "message_templates/_status.html")]
struct StatusChip {
    id: i64,
    status: TemplateStatus,
}

#[derive(Deserialize)]
pub struct WasQuery {
    was: Option<String>,
}

/// GET /message-templates/{id}/status (htmx): the status chip, polled while Meta decides;
/// when the status has changed since the page was drawn, the page reloads (its next step and
/// history change with it).
pub async fn status_chip(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    q: web::Query<WasQuery>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let t = crate::db::run(&state.pool, move |conn| Ok(library::get(conn, tenant, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let status = t.status();
    let mut response = render::html(&StatusChip {
        id,
        status: status.clone(),
    })?;
    if q.was.as_deref().is_some_and(|was| was != status.as_str()) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("hx-refresh"),
            actix_web::http::header::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// The most a header example may weigh (Meta's limit for video headers).
const HEADER_MEDIA_MAX: usize = 16 * 1024 * 1024;

/// What a file's first bytes say it is, among the types Meta takes for headers.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"%PDF") {
        Some("application/pdf")
    } else if bytes.get(4..8) == Some(b"ftyp") {
        Some("video/mp4")
    } else {
        None
    }
}

/// POST /message-templates/{id}/header-media (multipart): uploads the header's example file to
/// Meta (Resumable Upload API) and keeps the handle Meta gives as the example.
pub async fn header_media(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    use crate::message_templates::content::HeaderKind;
    use crate::web::uploads::{self as web_uploads, FormField, Limits};
    let (tenant, me, id) = (user.tenant_id, user.id, path.into_inner());
    let limits = Limits {
        max_fields: 4,
        max_text: 256,
        max_file: HEADER_MEDIA_MAX,
        max_total: HEADER_MEDIA_MAX + 4096,
    };
    let fields = web_uploads::read(&req, payload, &["file"], limits).await?;
    let file = fields.into_iter().find_map(|f| match f {
        FormField::File { filename, data, .. } if !data.is_empty() => Some((filename, data)),
        _ => None,
    });
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(t) = library::get(conn, tenant, id)? else {
            return Ok(None);
        };
        let channel = workflow::accounts(conn, tenant)?
            .into_iter()
            .find(|c| c.waba_id.as_deref() == Some(t.waba_id.as_str()));
        Ok(Some((t, channel)))
    })
    .await?;
    let Some((t, channel)) = found else {
        return Err(AppError::NotFound);
    };
    let kind = t.content().header_kind;
    let wanted: &[&str] = match kind {
        HeaderKind::Image => &["image/jpeg", "image/png"],
        HeaderKind::Video => &["video/mp4"],
        HeaderKind::Document => &["application/pdf"],
        _ => &[],
    };
    let refuse = |why: String| show_page(&state, &user, id, Some(why));
    if !t.status().is_local() {
        return refuse("Meta has this template: change its header by editing it.".into()).await;
    }
    if wanted.is_empty() {
        return refuse("This template's header is not an image, a video or a document.".into())
            .await;
    }
    let Some((filename, data)) = file else {
        return refuse("Choose a file to upload.".into()).await;
    };
    let Some(file_type) = sniff(&data).filter(|t| wanted.contains(t)) else {
        return refuse(format!(
            "A {} header takes {} files; this file is not one.",
            kind.as_str(),
            wanted.join(" or ")
        ))
        .await;
    };
    let Some(channel) = channel else {
        return refuse("Connect this template's WhatsApp account first.".into()).await;
    };
    let token = crate::channels::open_token(&state.cipher, &channel)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let handle = match state
        .graph
        .upload_file(&token, &filename, file_type, data.to_vec())
        .await
    {
        Ok(handle) => handle,
        Err(e) => return refuse(format!("Meta refused the upload: {}", e.describe())).await,
    };
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::message_templates::workflow::set_header_example(
            conn, tenant, me, id, &handle,
        )?)
    })
    .await?;
    session::flash(
        &user.session,
        FlashLevel::Success,
        "Header example uploaded to Meta.",
    );
    Ok(render::see_other(&format!("/message-templates/{id}")))
}
