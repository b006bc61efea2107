//! The Team page (admins only): list teammates, add one, change a role, deactivate or reactivate.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::auth::roles::{AdminOnly, Role};
use crate::auth::session::{self, FlashLevel};
use crate::auth::{Authorized, CurrentUser};
use crate::db::ids::UserId;
use crate::error::AppError;
use crate::models::users::{self, User};
use crate::state::AppState;
use crate::team::{self, FieldError, NewMemberInput, TeamError};
use crate::web::layout::Layout;
use crate::web::render;

/// A teammate as the Team page shows them.
pub struct MemberView {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub is_self: bool,
    pub last_login: Option<DateTime<Utc>>,
}

impl MemberView {
    fn from_user(user: User, viewer: UserId) -> Self {
        MemberView {
            is_self: user.id == viewer,
            id: user.id,
            display_name: user.display_name,
            email: user.email,
            role: user.role,
            active: user.active,
            last_login: user.last_login_at,
        }
    }
}

#[derive(Template)]
#[template(path = "team/index.html")]
struct TeamPage {
    layout: Layout,
    members: Vec<MemberView>,
    form: NewMemberInput,
    errors: Vec<FieldError>,
    roles: [Role; 4],
}

impl TeamPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "team/deactivate.html")]
struct DeactivatePage {
    layout: Layout,
    member: MemberView,
}

async fn render_team(
    state: &AppState,
    user: &CurrentUser,
    form: NewMemberInput,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let rows = crate::db::run(&state.pool, move |conn| Ok(users::list(conn, tenant)?)).await?;
    let page = TeamPage {
        layout: Layout::new(user, "team"),
        members: rows
            .into_iter()
            .map(|u| MemberView::from_user(u, user.id))
            .collect(),
        form,
        errors,
        roles: Role::ALL,
    };
    render::html_with_status(status, &page)
}

/// GET /team
pub async fn show(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let form = NewMemberInput {
        role: Role::Agent.as_str().into(),
        ..Default::default()
    };
    render_team(&state, &user, form, Vec::new(), StatusCode::OK).await
}

/// POST /team/users
pub async fn add(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    form: web::Form<NewMemberInput>,
) -> Result<HttpResponse, AppError> {
    let input = form.into_inner();
    let tenant = user.tenant_id;
    let attempt = input.clone();
    let result = match team::validate_new_member(&input) {
        Err(errors) => Err(TeamError::Invalid(errors)),
        Ok(_) => {
            let password = input.password.clone();
            let hash = state
                .password_work(move || crate::auth::password::hash(&password))
                .await?
                .map_err(|e| AppError::Internal(e.to_string()))?;
            crate::db::run(&state.pool, move |conn| {
                Ok(team::add_member_hashed(conn, tenant, &attempt, &hash))
            })
            .await?
        }
    };
    match result {
        Ok(added) => {
            session::flash(
                &user.session,
                FlashLevel::Success,
                format!(
                    "{} can now sign in as {}.",
                    added.display_name,
                    added.role.label()
                ),
            );
            Ok(render::see_other("/team"))
        }
        Err(TeamError::Invalid(errors)) => {
            // Keep what was typed, except the password.
            let kept = NewMemberInput {
                password: String::new(),
                ..input
            };
            render_team(
                &state,
                &user,
                kept,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(team_error(other)),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// POST /team/users/{id}/role
pub async fn change_role(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let role = Role::parse(&form.role)
        .ok_or_else(|| AppError::BadRequest(format!("{:?} is not a role.", form.role)))?;
    let (tenant, id) = (user.tenant_id, UserId(path.into_inner()));
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(team::change_role(conn, tenant, id, role))
    })
    .await?;
    outcome(&user, result, |u| {
        format!("{} is now {}.", u.display_name, u.role.label())
    })
}

/// GET /team/users/{id}/deactivate: asks for confirmation and says what will happen.
pub async fn confirm_deactivate(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, UserId(path.into_inner()));
    let member = crate::db::run(&state.pool, move |conn| Ok(users::get(conn, tenant, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    render::html(&DeactivatePage {
        layout: Layout::new(&user, "team"),
        member: MemberView::from_user(member, user.id),
    })
}

/// POST /team/users/{id}/deactivate
pub async fn deactivate(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, acting, id) = (user.tenant_id, user.id, UserId(path.into_inner()));
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(team::deactivate(conn, tenant, acting, id))
    })
    .await?;
    outcome(&user, result, |u| {
        format!(
            "{} was deactivated and can no longer sign in.",
            u.display_name
        )
    })
}

/// POST /team/users/{id}/reactivate
pub async fn reactivate(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, UserId(path.into_inner()));
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(team::reactivate(conn, tenant, id))
    })
    .await?;
    outcome(&user, result, |u| {
        format!("{} can sign in again.", u.display_name)
    })
}

/// Flashes the result of a team change and returns to the Team page.
fn outcome(
    user: &CurrentUser,
    result: Result<User, TeamError>,
    success: impl FnOnce(&User) -> String,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(changed) => session::flash(&user.session, FlashLevel::Success, success(&changed)),
        Err(refused @ (TeamError::LastAdmin | TeamError::SelfDeactivation)) => {
            session::flash(&user.session, FlashLevel::Error, refused.to_string())
        }
        Err(other) => return Err(team_error(other)),
    }
    Ok(render::see_other("/team"))
}

fn team_error(e: TeamError) -> AppError {
    match e {
        TeamError::NotFound => AppError::NotFound,
        TeamError::Db(e) => e.into(),
        other => AppError::Internal(other.to_string()),
    }
}
