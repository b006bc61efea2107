//! The connect wizard: step 1 sends the admin to Meta, the callback checks the answer, step 2
//! lets them choose exactly what to connect, step 3 connects it. Plus WhatsApp manual connect.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::auth::session::{self, FlashLevel};
use crate::channels::ChannelError;
use crate::channels::connect::{self, ConnectOutcome, PendingAssets, Purpose};
use crate::channels::whatsapp;
use crate::error::AppError;
use crate::meta::oauth::{CONNECT_SCOPES, WHATSAPP_SCOPES};
use crate::models::channels as channel_rows;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

const STATE_KEY: &str = "oauth_state";

/// Maps service errors to the web boundary.
pub fn channel_error(e: ChannelError) -> AppError {
    match e {
        ChannelError::Db(e) => AppError::Db(e),
        other => AppError::BadRequest(other.to_string()),
    }
}

fn callback_url(state: &AppState) -> String {
    format!("{}/oauth/meta/callback", state.config.public_url)
}

/// Creates a state, keeps it in the session and sends the browser to Meta's dialog.
pub async fn begin(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    purpose: Purpose,
) -> Result<HttpResponse, AppError> {
    let (tenant, uid) = (user.tenant_id, user.id);
    let oauth_state = crate::db::run(&state.pool, move |conn| {
        Ok(connect::start(conn, tenant, uid, purpose))
    })
    .await?
    .map_err(channel_error)?;
    user.session
        .insert(STATE_KEY, &oauth_state)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let dialog = match purpose {
        Purpose::Meta => {
            state
                .graph
                .dialog_url(&callback_url(state), &oauth_state, CONNECT_SCOPES, None)
        }
        Purpose::Whatsapp => state.graph.dialog_url(
            &callback_url(state),
            &oauth_state,
            WHATSAPP_SCOPES,
            state.config.whatsapp_signup_config_id.as_deref(),
        ),
        Purpose::Instagram => state.graph.instagram_dialog_url(
            &crate::web::pages::connect_instagram::callback_url(state),
            &oauth_state,
            &crate::channels::instagram_login::scopes(),
        ),
    };
    match dialog {
        Ok(url) => Ok(render::see_other(&url)),
        Err(e) => {
            session::flash(
                &user.session,
                FlashLevel::Error,
                format!("Parley is not set up to connect to Meta: {e}"),
            );
            Ok(render::see_other("/channels"))
        }
    }
}

/// POST /channels/connect/meta
pub async fn start_meta(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    begin(&state, &user, Purpose::Meta).await
}

/// POST /channels/connect/whatsapp
pub async fn start_whatsapp(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    if state.config.whatsapp_signup_config_id.is_none() {
        session::flash(
            &user.session,
            FlashLevel::Error,
            "WhatsApp Embedded Signup needs META_WHATSAPP_CONFIG_ID. Use “Connect with a system-user token” instead.",
        );
        return Ok(render::see_other("/channels"));
    }
    begin(&state, &user, Purpose::Whatsapp).await
}

/// What an OAuth dialog (Facebook's or Instagram's) sends back.
#[derive(Deserialize)]
pub struct CallbackQuery {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

#[derive(Template)]
#[template(path = "channels/connect_problem.html")]
struct ProblemPage {
    layout: Layout,
    heading: String,
    message: String,
}

pub(crate) fn problem(
    user: &Authorized<AdminOnly>,
    status: StatusCode,
    heading: &str,
    message: String,
) -> Result<HttpResponse, AppError> {
    render::html_with_status(
        status,
        &ProblemPage {
            layout: Layout::new(user, "channels"),
            heading: heading.into(),
            message,
        },
    )
}

/// Uses up the `state` a callback returned against the one in this session (whatever the
/// answer, the session's state is gone: a callback is tried once).
pub(crate) async fn take_state(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    returned: Option<&str>,
) -> Result<Result<Purpose, ChannelError>, AppError> {
    let in_session = user
        .session
        .remove_as::<String>(STATE_KEY)
        .and_then(Result::ok);
    let returned = returned.unwrap_or_default().to_string();
    let (tenant, uid) = (user.tenant_id, user.id);
    Ok(crate::db::run(&state.pool, move |conn| {
        Ok(connect::consume_state(
            conn,
            tenant,
            uid,
            &returned,
            in_session.as_deref(),
        ))
    })
    .await?)
}

/// GET /oauth/meta/callback: Meta's answer. Nothing is stored unless the state checks out.
pub async fn callback(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let purpose = take_state(&state, &user, q.state.as_deref()).await?;
    let (tenant, uid) = (user.tenant_id, user.id);
    let purpose = match purpose {
        Ok(p) => p,
        Err(e) => {
            return problem(
                &user,
                StatusCode::BAD_REQUEST,
                "This link cannot be used",
                e.to_string(),
            );
        }
    };
    if let Some(error) = q.error {
        let message = if error == "access_denied" {
            "You cancelled on Facebook, so nothing was connected. You can start again whenever you are ready.".to_string()
        } else {
            format!(
                "Meta answered “{}”. Nothing was connected.",
                q.error_description.unwrap_or(error)
            )
        };
        return problem(&user, StatusCode::OK, "Connection cancelled", message);
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return problem(
            &user,
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            "Meta's answer had no authorization code. Start again.".into(),
        );
    };
    let redirect = callback_url(&state);
    let fetched = match purpose {
        Purpose::Meta => connect::fetch_meta_assets(&state.graph, &code, &redirect).await,
        Purpose::Whatsapp => whatsapp::fetch_signup_assets(&state.graph, &code, &redirect).await,
        // Its own callback; a state of this wizard is never valid here.
        Purpose::Instagram => Err(ChannelError::StateInvalid),
    };
    let assets = match fetched {
        Ok(a) => a,
        Err(ChannelError::Db(e)) => return Err(e.into()),
        Err(e) => {
            return problem(
                &user,
                StatusCode::BAD_GATEWAY,
                "Meta did not complete the connection",
                e.to_string(),
            );
        }
    };
    let cipher = state.cipher.clone();
    let id = crate::db::run(&state.pool, move |conn| {
        Ok(connect::save_pending(
            conn, &cipher, tenant, uid, purpose, &assets,
        ))
    })
    .await?
    .map_err(channel_error)?;
    Ok(render::see_other(&format!("/channels/connect/select/{id}")))
}

/// One selectable asset on the selection page.
pub struct Choice {
    pub id: String,
    pub label: String,
    pub detail: String,
    pub picture_url: Option<String>,
    pub already_connected: bool,
}

#[derive(Template)]
#[template(path = "channels/connect_select.html")]
struct SelectPage {
    layout: Layout,
    id: String,
    purpose: Purpose,
    pages: Vec<(Choice, Option<Choice>)>,
    numbers: Vec<Choice>,
    error: Option<String>,
}

async fn load_selection(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    id: &str,
) -> Result<Result<(Purpose, PendingAssets), ChannelError>, AppError> {
    let (cipher, tenant, id) = (state.cipher.clone(), user.tenant_id, id.to_string());
    Ok(crate::db::run(&state.pool, move |conn| {
        Ok(connect::load_pending(conn, &cipher, tenant, &id))
    })
    .await?)
}

async fn render_selection(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    id: &str,
    purpose: Purpose,
    assets: &PendingAssets,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let mut ids: Vec<String> = assets.pages.iter().map(|p| p.id.clone()).collect();
    ids.extend(
        assets
            .pages
            .iter()
            .filter_map(|p| p.instagram.as_ref().map(|i| i.id.clone())),
    );
    ids.extend(assets.numbers.iter().map(|n| n.phone_number_id.clone()));
    let tenant = user.tenant_id;
    let existing = crate::db::run(&state.pool, move |conn| {
        Ok(channel_rows::find_for_assets(conn, tenant, &ids)?)
    })
    .await?;
    let connected = |pid: &str| {
        existing
            .iter()
            .any(|c| c.platform_id == pid && c.is_connected())
    };
    let pages = assets
        .pages
        .iter()
        .map(|p| {
            let page = Choice {
                id: p.id.clone(),
                label: p.name.clone(),
                detail: "Facebook Page: Messenger conversations and post comments".into(),
                picture_url: p.picture_url.clone(),
                already_connected: connected(&p.id),
            };
            let ig = p.instagram.as_ref().map(|ig| Choice {
                id: ig.id.clone(),
                label: ig
                    .username
                    .as_ref()
                    .map(|u| format!("@{u}"))
                    .unwrap_or_else(|| ig.id.clone()),
                detail: "Instagram professional account: direct messages and comments".into(),
                picture_url: ig.picture_url.clone(),
                already_connected: connected(&ig.id),
            });
            (page, ig)
        })
        .collect();
    let numbers = assets
        .numbers
        .iter()
        .map(|n| Choice {
            id: n.phone_number_id.clone(),
            label: n
                .display_phone_number
                .clone()
                .unwrap_or_else(|| n.phone_number_id.clone()),
            detail: format!(
                "{} · WhatsApp Business Account {}",
                n.verified_name.clone().unwrap_or_default(),
                n.waba_id
            ),
            picture_url: None,
            already_connected: connected(&n.phone_number_id),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render::html_with_status(
        status,
        &SelectPage {
            layout: Layout::new(user, "channels"),
            id: id.into(),
            purpose,
            pages,
            numbers,
            error,
        },
    )
}

/// GET /channels/connect/select/{id}: step 2, choose what to connect.
pub async fn select(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    match load_selection(&state, &user, &id).await? {
        Ok((purpose, assets)) => render_selection(&state, &user, &id, purpose, &assets, None).await,
        Err(e) => problem(
            &user,
            StatusCode::NOT_FOUND,
            "Selection expired",
            e.to_string(),
        ),
    }
}

/// POST /channels/connect/select/{id}: step 3, connect the chosen assets.
pub async fn confirm(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (purpose, assets) = match load_selection(&state, &user, &id).await? {
        Ok(found) => found,
        Err(e) => {
            return problem(
                &user,
                StatusCode::NOT_FOUND,
                "Selection expired",
                e.to_string(),
            );
        }
    };
    let values = |key: &str| {
        form.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let (pages, instagram, numbers) = (values("page"), values("instagram"), values("number"));
    if pages.is_empty() && instagram.is_empty() && numbers.is_empty() {
        return render_selection(
            &state,
            &user,
            &id,
            purpose,
            &assets,
            Some("Choose at least one account to connect.".into()),
        )
        .await;
    }
    let outcome = match purpose {
        Purpose::Meta => {
            connect::connect_pages(&state, user.tenant_id, user.id, &assets, &pages, &instagram)
                .await
        }
        Purpose::Instagram => Err(ChannelError::SelectionExpired),
        Purpose::Whatsapp => {
            let pin = values("pin").into_iter().next().unwrap_or_default();
            match whatsapp::connect_signup_numbers(
                &state,
                user.tenant_id,
                user.id,
                &assets,
                &numbers,
                pin.trim(),
            )
            .await
            {
                Err(ChannelError::Invalid(why)) => {
                    return render_selection(&state, &user, &id, purpose, &assets, Some(why)).await;
                }
                other => other,
            }
        }
    }
    .map_err(channel_error)?;
    let (tenant, sid) = (user.tenant_id, id.clone());
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::connect::delete_session(conn, tenant, &sid)?)
    })
    .await?;
    report(&user, &outcome);
    Ok(render::see_other("/channels"))
}

fn report(user: &Authorized<AdminOnly>, outcome: &ConnectOutcome) {
    if !outcome.connected.is_empty() {
        let names: Vec<String> = outcome
            .connected
            .iter()
            .map(|c| format!("{} {}", c.platform.label(), c.display_name()))
            .collect();
        session::flash(
            &user.session,
            FlashLevel::Success,
            format!("Connected: {}.", names.join(", ")),
        );
    }
    for (name, why) in &outcome.failed {
        session::flash(
            &user.session,
            FlashLevel::Error,
            format!("{name} was not connected: {why}"),
        );
    }
}
