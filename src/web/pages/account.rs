//! The account page, for every signed-in user: change the password, see where one is signed in,
//! sign out everywhere.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;

use crate::auth::CurrentUser;
use crate::auth::session::{self, FlashLevel};
use crate::db::ids::SessionId;
use crate::error::AppError;
use crate::models::sessions::{self, SessionRow};
use crate::models::{login_throttle, users};
use crate::state::AppState;
use crate::team::FieldError;
use crate::team::account::{self, PasswordChange};
use crate::web::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    role: &'static str,
    sessions: Vec<SessionRow>,
    current: SessionId,
    errors: Vec<FieldError>,
}

impl AccountPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

async fn render_account(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (tenant, me) = (user.tenant_id, user.id);
    let open = crate::db::run(&state.pool, move |conn| {
        Ok(sessions::list_open(
            conn,
            tenant,
            me,
            Utc::now(),
            session::LIFETIME,
        )?)
    })
    .await?;
    render::html_with_status(
        status,
        &AccountPage {
            layout: Layout::new(user, "account"),
            email: user.email.clone(),
            role: user.role.label(),
            sessions: open,
            current: user.session_id,
            errors,
        },
    )
}

/// GET /account
pub async fn show(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    render_account(&state, &user, Vec::new(), StatusCode::OK).await
}

/// POST /account/password: checks the current password, stores the new one and ends every
/// other session of this user. Passwords are never echoed back into the form.
pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    let (tenant, me, keep) = (user.tenant_id, user.id, user.session_id);
    // Guesses at the current password count like sign-in failures: a stolen session cookie
    // must not give unlimited tries (and then the account).
    let account = crate::auth::login::account_key(&user.email);
    let throttle_key = account.clone();
    let (stored, attempt) = crate::db::run(&state.pool, move |conn| {
        let attempt =
            login_throttle::record_attempt(conn, &throttle_key, crate::auth::login::ACCOUNT_LIMIT)?;
        Ok((users::get(conn, tenant, me)?, attempt))
    })
    .await?;
    if !attempt.admitted {
        let errors = vec![FieldError {
            field: "current_password",
            message: "Too many wrong passwords. Try again in a quarter of an hour.".into(),
        }];
        return render_account(&state, &user, errors, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let stored = stored.ok_or(AppError::NotFound)?.password_hash;
    let change = form.into_inner();
    let checked = state.password_work(move || change.check(&stored)).await?;
    let new_hash = match checked {
        Ok(hash) => hash,
        Err(errors) => {
            if !errors.iter().any(|e| e.field == "current_password") {
                // The current password was right: only the new one was refused.
                let key = account.clone();
                crate::db::run(&state.pool, move |conn| {
                    Ok(login_throttle::clear(conn, &key)?)
                })
                .await?;
            }
            return render_account(&state, &user, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    crate::db::run(&state.pool, move |conn| {
        Ok(login_throttle::clear(conn, &account)?)
    })
    .await?;
    let ended = crate::db::run(&state.pool, move |conn| {
        Ok(account::store_new_password(
            conn,
            tenant,
            me,
            &new_hash,
            Some(keep),
        )?)
    })
    .await?;
    tracing::info!(user_id = %me, tenant_id = %tenant, ended, "password changed");
    let message = match ended {
        0 => "Password changed.".to_string(),
        1 => "Password changed. Your other session was signed out.".to_string(),
        n => format!("Password changed. Your {n} other sessions were signed out."),
    };
    session::flash(&user.session, FlashLevel::Success, message);
    Ok(render::see_other("/account"))
}

/// POST /account/sign-out-everywhere: ends every session of this user, this one included.
pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (tenant, me) = (user.tenant_id, user.id);
    let ended = crate::db::run(&state.pool, move |conn| {
        Ok(account::sign_out_everywhere(conn, tenant, me)?)
    })
    .await?;
    tracing::info!(user_id = %me, tenant_id = %tenant, ended, "signed out everywhere");
    session::sign_out(&user.session);
    Ok(render::see_other("/login"))
}
