//! The web boundary's one error type, mapped to HTTP in one place.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db::DbError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Not signed in: redirect to the sign-in page, then back to `next`.
    #[error("sign-in required")]
    LoginRequired { next: String, htmx: bool },
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// A body of a type this route does not take (e.g. multipart where no upload is expected).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A per-user or per-process limit was reached; the message says which.
    #[error("too many requests: {0}")]
    TooManyRequests(&'static str),
    /// Work that is bounded on purpose (password checks) is saturated: try again shortly.
    #[error("busy: {0}")]
    Busy(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("template rendering failed: {0}")]
    Render(#[from] askama::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Db(DbError::Query(e))
    }
}

impl From<crate::inbox::InboxError> for AppError {
    fn from(e: crate::inbox::InboxError) -> Self {
        use crate::inbox::InboxError;
        match e {
            InboxError::NotFound => AppError::NotFound,
            InboxError::Invalid(why) => AppError::BadRequest(why),
            InboxError::Window(w) => AppError::BadRequest(w.to_string()),
            InboxError::Storage(why) => AppError::Internal(why),
            InboxError::Db(e) => AppError::Db(e),
        }
    }
}

#[derive(Template)]
#[template(path = "layout/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    fn describe(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Not found",
                "There is nothing here. It may have been removed, or the link is wrong.".into(),
            ),
            AppError::Forbidden => (
                "Not allowed",
                "Your role does not give access to this page. Ask an admin of your team if you need it."
                    .into(),
            ),
            AppError::LoginRequired { .. } => ("Sign in", "Please sign in.".into()),
            AppError::Csrf => (
                "Form expired",
                "This form has expired or did not come from Parley. Go back, reload the page and try again."
                    .into(),
            ),
            AppError::BadRequest(why) => ("Bad request", why.clone()),
            AppError::PayloadTooLarge => ("Too large", "The request body is too large.".into()),
            AppError::UnsupportedMediaType => (
                "Unsupported form",
                "This address does not take that kind of form. Reload the page and try again.".into(),
            ),
            AppError::TooManyRequests(why) => ("Too many requests", (*why).to_string()),
            AppError::Busy(why) => ("Busy", (*why).to_string()),
            AppError::Db(e) if e.is_unavailable() => (
                "Temporarily unavailable",
                "Parley cannot reach its database right now. Try again in a moment.".into(),
            ),
            AppError::Db(_) | AppError::Render(_) | AppError::Internal(_) => (
                "Something went wrong",
                "Parley hit an unexpected error. It has been logged; try again, and tell your administrator if it persists."
                    .into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Db(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Db(_) | AppError::Render(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %chain(self), "request failed");
        }
        if let AppError::LoginRequired { next, htmx } = self {
            let location = format!(
                "/login?next={}",
                serde_urlencoded::to_string([("", next.as_str())])
                    .map(|s| s.trim_start_matches('=').to_string())
                    .unwrap_or_default()
            );
            // htmx follows redirects inside the swap; HX-Redirect makes it load the page instead.
            return if *htmx {
                HttpResponse::Ok()
                    .insert_header(("HX-Redirect", location))
                    .finish()
            } else {
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish()
            };
        }
        let (title, message) = self.describe();
        let body = ErrorPage {
            status: status.as_u16(),
            title,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| format!("{title}: {message}"));
        let mut builder = HttpResponse::build(status);
        builder.content_type("text/html; charset=utf-8");
        if matches!(self, AppError::Busy(_) | AppError::TooManyRequests(_)) {
            builder.insert_header((header::RETRY_AFTER, "5"));
        }
        let mut response = builder.body(body);
        // For htmx requests app.js shows this line in a toast.
        if let Ok(value) = HeaderValue::from_str(&ascii_only(&message)) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static("x-parley-error"), value);
        }
        response
    }
}

fn ascii_only(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// An error and its causes, outermost first (`database unavailable: timed out …`), for logs and
/// the records operators read; `Display` alone shows only the outermost.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let next = e.to_string();
        // `#[error(transparent)]` layers repeat their source's text.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    #[test]
    fn a_chain_names_every_cause_once() {
        let pool = DbError::Query(diesel::result::Error::NotFound);
        let app = AppError::Db(pool);
        let text = chain(&app);
        assert!(text.contains("Record not found"), "{text}");
        assert_eq!(text.matches("Record not found").count(), 1, "{text}");
        let job = crate::jobs::JobError::retry(
            "token health sweep",
            std::io::Error::other("connection reset"),
        );
        assert_eq!(job.describe(), "token health sweep: connection reset");
    }
}
