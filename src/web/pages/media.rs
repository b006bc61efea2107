//! `/media/{message}/{index}` (a stored attachment) and `/contacts/{id}/picture` (Parley's copy of
//! a customer's picture), only for signed-in users of their tenant.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::auth::Authorized;
use crate::auth::roles::InboxRoles;
use crate::db::ids::{ContactId, MessageId};
use crate::error::AppError;
use crate::inbox::attachments::media_dir;
use crate::state::AppState;

/// GET /media/{message_id}/{index}
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<(MessageId, usize)>,
) -> Result<HttpResponse, AppError> {
    let (message, index) = path.into_inner();
    let tenant = user.tenant_id;
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::messages::attachments(conn, tenant, message)?)
    })
    .await?;
    let (_, atts) = found.ok_or(AppError::NotFound)?;
    let (file, content_type) = atts
        .get(index)
        .and_then(|a| a.stored_file())
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .ok_or(AppError::NotFound)?;
    // The name is ours ("<message>-<index>"), but never trust it to stay inside the folder.
    if file.contains('/') || file.contains("..") {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(media_dir(&state, tenant).join(&file))
        .await
        .map_err(|_| AppError::NotFound)?;
    let inline = ["image/", "audio/", "video/"]
        .iter()
        .any(|p| content_type.starts_with(p))
        && content_type != "image/svg+xml";
    let disposition = if inline {
        "inline".to_string()
    } else {
        format!("attachment; filename=\"{file}\"")
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type.to_string())
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .body(bytes))
}

/// GET /contacts/{id}/picture
pub async fn contact_picture(
    state: web::Data<AppState>,
    user: Authorized<InboxRoles>,
    path: web::Path<ContactId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, contact) = (user.tenant_id, path.into_inner());
    let (file, content_type) = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::contacts::picture_file(
            conn, tenant, contact,
        )?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if file.contains('/') || file.contains("..") || !content_type.starts_with("image/") {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(media_dir(&state, tenant).join(&file))
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .body(bytes))
}
