//! Connecting an Instagram account without a Facebook Page (Instagram Login): one account per
//! authorization, so the callback connects it at once (no selection step).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::auth::session::{self, FlashLevel};
use crate::channels::ChannelError;
use crate::channels::connect::Purpose;
use crate::channels::instagram_login;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::pages::connect::{CallbackQuery, begin, problem, take_state};
use crate::web::render;

/// Where Instagram sends the browser back (register it in the Instagram app's settings).
pub fn callback_url(state: &AppState) -> String {
    format!("{}/oauth/instagram/callback", state.config.public_url)
}

/// POST /channels/connect/instagram
pub async fn start(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let missing = state.config.meta.instagram.missing();
    if !missing.is_empty() {
        session::flash(
            &user.session,
            FlashLevel::Error,
            format!(
                "Connecting Instagram without a Facebook Page needs {} (from the Instagram app in Meta's App Dashboard).",
                missing.join(" and ")
            ),
        );
        return Ok(render::see_other("/channels"));
    }
    begin(&state, &user, Purpose::Instagram).await
}

/// GET /oauth/instagram/callback: Instagram's answer. Nothing is stored unless the state checks
/// out and belongs to this wizard.
pub async fn callback(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let purpose = take_state(&state, &user, q.state.as_deref()).await?;
    let (tenant, uid) = (user.tenant_id, user.id);
    if !matches!(purpose, Ok(Purpose::Instagram)) {
        let why = match purpose {
            Err(e) => e.to_string(),
            Ok(_) => ChannelError::StateInvalid.to_string(),
        };
        return problem(
            &user,
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            why,
        );
    }
    if let Some(error) = q.error {
        let message = if error == "access_denied" {
            "You cancelled on Instagram, so nothing was connected. You can start again whenever you are ready.".to_string()
        } else {
            format!(
                "Instagram answered “{}”. Nothing was connected.",
                q.error_description.unwrap_or(error)
            )
        };
        return problem(&user, StatusCode::OK, "Connection cancelled", message);
    }
    // Instagram appends `#_` to the redirect; a browser keeps it out of the query, but a code
    // pasted by hand may carry it.
    let Some(code) = q
        .code
        .map(|c| c.trim_end_matches("#_").to_string())
        .filter(|c| !c.is_empty())
    else {
        return problem(
            &user,
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            "Instagram's answer had no authorization code. Start again.".into(),
        );
    };
    let redirect = callback_url(&state);
    match instagram_login::connect_account(&state, tenant, uid, &code, &redirect).await {
        Ok(channel) => {
            session::flash(
                &user.session,
                FlashLevel::Success,
                format!(
                    "Connected: Instagram {} (through Instagram Login). Its recent conversations are being imported.",
                    channel.display_name()
                ),
            );
            Ok(render::see_other("/channels"))
        }
        Err(ChannelError::Db(e)) => Err(e.into()),
        Err(e @ (ChannelError::ConnectedOtherWay { .. } | ChannelError::OwnedElsewhere(_))) => {
            problem(
                &user,
                StatusCode::CONFLICT,
                "This account is already connected",
                e.to_string(),
            )
        }
        Err(e) => problem(
            &user,
            StatusCode::BAD_GATEWAY,
            "Instagram did not complete the connection",
            e.to_string(),
        ),
    }
}
