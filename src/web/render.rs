//! The one way handlers turn a template into a response.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use askama::Template;

use crate::error::AppError;

/// Renders `page` with `status`.
pub fn html_with_status(
    status: StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// Renders `page` with 200 OK.
pub fn html(page: &impl Template) -> Result<HttpResponse, AppError> {
    html_with_status(StatusCode::OK, page)
}

/// A 303 redirect (after a successful form post).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}
