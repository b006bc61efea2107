//! Sign-in and sign-out.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::login::{self, LoginError};
use crate::auth::session;
use crate::error::AppError;
use crate::models::sessions;
use crate::state::AppState;
use crate::web::client_address::client_ip;
use crate::web::render;

#[derive(Template)]
#[template(path = "auth/login.html")]
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

/// Only local paths are followed after sign-in (no open redirect): one leading `/`, then no
/// second `/` or `\\`, and no control characters or backslashes anywhere (browsers drop tabs
/// and newlines from URLs, so `/\t/evil.example` would become `//evil.example`).
fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next[1..].starts_with(['/', '\\'])
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if local {
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
///
/// The attempt is counted before the password is checked, the connection is released while
/// argon2 runs (at most a few at a time, on the blocking pool), and the outcome is then recorded.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let address = client_ip(&req, &state.config.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(200).collect::<String>());
    let email = form.email.clone();
    let admitted = crate::db::run(&state.pool, move |conn| {
        Ok(login::admit(conn, &email, &address))
    })
    .await?;
    let outcome = match admitted {
        Ok(admitted) => {
            let password = form.password.clone();
            let (admitted, verified) = state
                .password_work(move || {
                    let verified = login::verify(&admitted, &password);
                    (admitted, verified)
                })
                .await?;
            let token = session::new_token();
            let hash = token.hash.clone();
            let outcome = crate::db::run(&state.pool, move |conn| {
                let user = match login::conclude(conn, admitted, verified) {
                    Ok(user) => user,
                    Err(e) => return Ok(Err(e)),
                };
                sessions::start(conn, user.tenant_id, user.id, &hash, user_agent.as_deref())?;
                Ok(Ok(user))
            })
            .await?;
            outcome.map(|user| (user, token))
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok((user, token)) => {
            session::sign_in(&session, user.id, user.tenant_id, &token)
                .map_err(AppError::Internal)?;
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

/// POST /logout: ends this session's record too, so a copy of the cookie stops working.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    if let Some(identity) = session::identity(&session) {
        crate::db::run(&state.pool, move |conn| {
            sessions::end_by_token(conn, identity.tenant_id, &identity.token_hash, "signed out")?;
            crate::inbox::live::notify_sessions_ended(conn, identity.tenant_id, identity.user_id)?;
            Ok(())
        })
        .await?;
    }
    session::sign_out(&session);
    Ok(render::see_other("/login"))
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
        assert_eq!(safe_next("/\t/evil.example"), "/");
        assert_eq!(safe_next("/\n/evil.example"), "/");
        assert_eq!(safe_next("/a\\b"), "/");
        assert_eq!(safe_next("evil.example"), "/");
        assert_eq!(safe_next("/inbox?status=open"), "/inbox?status=open");
    }
}
