//! Sign-in and sign-out.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::login::{self, LoginError};
use crate::auth::session;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// GET /login
pub async fn show(
    session: Session,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if session::identity(&session).is_some() {
        return Ok(render::see_other("/"));
    }
    render::html(&LoginPage {
        csrf: session::csrf_token(&session),
        email: String::new(),
        next: safe_next(query.next.as_deref().unwrap_or("/")),
        error: None,
    })
}

/// POST /login
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    // The peer address, not X-Forwarded-For: a client must not be able to pick its own throttle key.
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let (email, password) = (form.email.clone(), form.password.clone());
    let outcome = crate::db::run(&state.pool, move |conn| {
        Ok(login::authenticate(conn, &email, &password, &address))
    })
    .await?;
    match outcome {
        Ok(user) => {
            session::sign_in(&session, user.id, user.tenant_id).map_err(AppError::Internal)?;
            tracing::info!(user_id = %user.id, tenant_id = %user.tenant_id, "signed in");
            Ok(render::see_other(&safe_next(&form.next)))
        }
        Err(LoginError::Db(e)) => Err(e.into()),
        Err(err) => {
            let status = match err {
                LoginError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            render::html_with_status(
                status,
                &LoginPage {
                    csrf: session::csrf_token(&session),
                    email: form.email,
                    next: safe_next(&form.next),
                    error: Some(err.to_string()),
                },
            )
        }
    }
}

/// POST /logout
pub async fn logout(session: Session) -> HttpResponse {
    session::sign_out(&session);
    render::see_other("/login")
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/team"), "/team");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
    }
}
