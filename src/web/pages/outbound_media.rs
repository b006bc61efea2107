//! `/outbound-media/{token}/{name}`: files agents attached, fetched by Meta when it delivers a
//! Messenger or Instagram attachment. Public by necessity, so only reachable by a 192-bit random
//! token, for 7 days, and never rendered inline as HTML.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::inbox::attachments::media_dir;
use crate::inbox::uploads;
use crate::state::AppState;

/// GET /outbound-media/{token}/{name}
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (token, _name) = path.into_inner();
    if token.len() != 48 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(uploads::by_token(conn, &token)?)
    })
    .await?;
    let (tenant, media) = found.ok_or(AppError::NotFound)?;
    let bytes = tokio::fs::read(media_dir(&state, tenant).join(&media.file))
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(media.content_type.clone())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}\"", media.filename),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .body(bytes))
}
