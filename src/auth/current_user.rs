//! Extractors for the signed-in user: [`CurrentUser`] and the role-checked [`Authorized`].

use std::marker::PhantomData;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::auth::roles::{Policy, Role, allows};
use crate::auth::session;
use crate::db::ids::{SessionId, TenantId, UserId};
use crate::error::AppError;
use crate::models::sessions::{self, Checked};
use crate::models::users;
use crate::state::AppState;

/// The signed-in, active user of this request, re-read from the database.
#[derive(Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// The sign-in this request belongs to (its `user_sessions` record).
    pub session_id: SessionId,
    /// The session, for flashes and the CSRF token of the rendered page.
    pub session: Session,
    /// For admins: channels that lost their connection (shown as a banner on every page).
    pub channel_alerts: Vec<ChannelAlert>,
}

/// A channel an admin must reconnect.
#[derive(Debug, Clone)]
pub struct ChannelAlert {
    pub channel_id: crate::db::ids::ChannelId,
    pub platform: crate::models::channels::Platform,
    pub name: String,
    pub reason: String,
}

impl CurrentUser {
    /// Initials for the avatar in the top bar.
    pub fn initials(&self) -> String {
        self.display_name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }

    /// Whether this user may use routes guarded by `P` (used to hide navigation they cannot use).
    pub fn can<P: Policy>(&self) -> bool {
        allows::<P>(self.role)
    }
}

/// Where to send someone after they sign in: the page they asked for, if it was a local GET.
fn return_path(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".into())
    } else {
        "/".into()
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let login_required = || AppError::LoginRequired {
                next: return_path(&req),
                htmx: crate::web::hx::Hx::of(&req).is_htmx(),
            };
            let identity = session::identity(&session).ok_or_else(login_required)?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::Internal("application state missing".into()))?;
            let (tenant, user) = (identity.tenant_id, identity.user_id);
            let found = crate::db::run(&state.pool, move |conn| {
                let open = sessions::check(
                    conn,
                    tenant,
                    user,
                    &identity.token_hash,
                    chrono::Utc::now(),
                    session::LIFETIME,
                )?;
                let Checked::Open(session_id) = open else {
                    return Ok(None);
                };
                let row = users::get_with_tenant(conn, tenant, user)?;
                let alerts = match &row {
                    Some(r) if r.user.role == Role::Admin => {
                        crate::models::channels::needing_reconnect(conn, tenant)?
                    }
                    _ => Vec::new(),
                };
                Ok(row.map(|row| (row, alerts, session_id)))
            })
            .await?;
            match found {
                Some((row, alerts, session_id)) if row.user.active => Ok(CurrentUser {
                    channel_alerts: alerts
                        .into_iter()
                        .map(|c| ChannelAlert {
                            channel_id: c.id,
                            platform: c.platform,
                            name: c.display_name(),
                            reason: c.disconnected_reason.unwrap_or_default(),
                        })
                        .collect(),
                    id: row.user.id,
                    tenant_id: row.user.tenant_id,
                    tenant_name: row.tenant_name,
                    email: row.user.email,
                    display_name: row.user.display_name,
                    role: row.user.role,
                    session_id,
                    session,
                }),
                // Signed out elsewhere, expired, deactivated or deleted: the session ends here.
                _ => {
                    session::sign_out(&session);
                    Err(login_required())
                }
            }
        })
    }
}

/// A signed-in user whose role is allowed by policy `P`; anyone else gets the 403 page.
pub struct Authorized<P: Policy> {
    pub user: CurrentUser,
    _policy: PhantomData<P>,
}

impl<P: Policy> std::ops::Deref for Authorized<P> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.user
    }
}

impl<P: Policy + 'static> FromRequest for Authorized<P> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            if allows::<P>(user.role) {
                Ok(Authorized {
                    user,
                    _policy: PhantomData,
                })
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}
