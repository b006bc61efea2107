//! The Channels page (admins): connected assets, their health, webhook settings, and actions.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::auth::session::{self, FlashLevel};
use crate::channels::health::{self, Health};
use crate::db::ids::ChannelId;
use crate::error::AppError;
use crate::models::channels::{self, Channel, Login, Platform};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::connect;
use crate::web::render;

/// A channel as the page shows it (never its token).
pub struct ChannelView {
    pub id: ChannelId,
    pub platform: Platform,
    pub name: String,
    pub picture_url: Option<String>,
    pub platform_id: String,
    pub connected: bool,
    pub needs_reconnect: bool,
    pub connected_at: DateTime<Utc>,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub disconnected_reason: Option<String>,
    /// How an Instagram account is reached, when it could be either way.
    pub via: Option<&'static str>,
    pub token_expires_at: Option<DateTime<Utc>>,
    /// The latest history import, as a line ("Imported 12 conversations, 85 messages").
    pub history: Option<String>,
}

impl From<Channel> for ChannelView {
    fn from(c: Channel) -> Self {
        ChannelView {
            via: (c.platform == Platform::Instagram).then_some(match c.login {
                Login::Facebook => "Through its Facebook Page",
                Login::Instagram => "Through Instagram Login (no Facebook Page)",
            }),
            token_expires_at: c.token_expires_at,
            history: None,
            id: c.id,
            platform: c.platform,
            name: c.display_name(),
            picture_url: c.picture_url.clone(),
            platform_id: c.platform_id.clone(),
            connected: c.is_connected(),
            needs_reconnect: c.needs_reconnect,
            connected_at: c.connected_at,
            last_verified_at: c.last_verified_at,
            disconnected_reason: c.disconnected_reason,
        }
    }
}

#[derive(Template)]
#[template(path = "channels/index.html")]
struct ChannelsPage {
    layout: Layout,
    channels: Vec<ChannelView>,
    webhook_url: String,
    verify_token: Option<String>,
    meta_configured: bool,
    whatsapp_signup: bool,
    /// What an admin must still set for Instagram Login (empty: configured).
    instagram_login_missing: Vec<&'static str>,
}

/// GET /channels
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let (rows, imports) = crate::db::run(&state.pool, move |conn| {
        Ok((
            channels::list(conn, tenant)?,
            crate::models::history_imports::latest_per_channel(conn, tenant)?,
        ))
    })
    .await?;
    let meta = &state.config.meta;
    let views = rows
        .into_iter()
        .map(|c| {
            let history = imports
                .iter()
                .find(|i| i.channel_id == c.id)
                .map(|i| i.progress_line());
            ChannelView {
                history,
                ..ChannelView::from(c)
            }
        })
        .collect();
    render::html(&ChannelsPage {
        layout: Layout::new(&user, "channels"),
        channels: views,
        webhook_url: format!("{}/webhooks/meta", state.config.public_url),
        verify_token: meta
            .verify_token
            .as_ref()
            .map(|t| secrecy::ExposeSecret::expose_secret(t).to_string()),
        meta_configured: meta.app_id.is_some() && meta.app_secret.is_some(),
        whatsapp_signup: state.config.whatsapp_signup_config_id.is_some(),
        instagram_login_missing: meta.instagram.missing(),
    })
}

async fn load(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    id: i64,
) -> Result<Channel, AppError> {
    let (tenant, id) = (user.tenant_id, ChannelId(id));
    crate::db::run(&state.pool, move |conn| {
        Ok(channels::get(conn, tenant, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "channels/disconnect.html")]
struct DisconnectPage {
    layout: Layout,
    channel: ChannelView,
}

/// GET /channels/{id}/disconnect: says what will happen and asks.
pub async fn confirm_disconnect(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let channel = load(&state, &user, path.into_inner()).await?;
    render::html(&DisconnectPage {
        layout: Layout::new(&user, "channels"),
        channel: channel.into(),
    })
}

/// POST /channels/{id}/disconnect
pub async fn disconnect(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let channel = load(&state, &user, path.into_inner()).await?;
    let done = crate::channels::disconnect::disconnect(
        &state,
        user.tenant_id,
        channel.id,
        &user.display_name,
    )
    .await
    .map_err(connect::channel_error)?;
    match done.unsubscribe_error {
        None => session::flash(
            &user.session,
            FlashLevel::Success,
            format!("{} is disconnected and its token deleted.", done.name),
        ),
        Some(why) => session::flash(
            &user.session,
            FlashLevel::Error,
            format!(
                "{} is disconnected and its token deleted, but Meta could not be told to stop sending its webhooks: {why}",
                done.name
            ),
        ),
    }
    Ok(render::see_other("/channels"))
}

/// POST /channels/{id}/check: runs the token health check now.
pub async fn check(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let channel = load(&state, &user, path.into_inner()).await?;
    if !channel.is_connected() {
        session::flash(
            &user.session,
            FlashLevel::Error,
            "This channel is disconnected; reconnect it first.",
        );
        return Ok(render::see_other("/channels"));
    }
    match health::check_channel(&state, &channel).await {
        Ok(Health::Verified) => session::flash(
            &user.session,
            FlashLevel::Success,
            format!(
                "{}: Meta confirms the connection works.",
                channel.display_name()
            ),
        ),
        Ok(Health::Disconnected(reason)) => session::flash(
            &user.session,
            FlashLevel::Error,
            format!("{} lost its connection: {reason}", channel.display_name()),
        ),
        Err(e) => session::flash(
            &user.session,
            FlashLevel::Error,
            format!("Could not check {}: {e}", channel.display_name()),
        ),
    }
    Ok(render::see_other("/channels"))
}

/// POST /channels/{id}/reconnect: the connect flow that fits the channel.
pub async fn reconnect(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let channel = load(&state, &user, path.into_inner()).await?;
    match channel.platform {
        Platform::Whatsapp if state.config.whatsapp_signup_config_id.is_none() => {
            Ok(render::see_other(&format!(
                "/channels/whatsapp/manual?waba_id={}&phone_number_id={}",
                channel.waba_id.unwrap_or_default(),
                channel.platform_id
            )))
        }
        Platform::Whatsapp => {
            connect::begin(&state, &user, crate::channels::connect::Purpose::Whatsapp).await
        }
        Platform::Instagram if channel.login == Login::Instagram => {
            connect::begin(&state, &user, crate::channels::connect::Purpose::Instagram).await
        }
        _ => connect::begin(&state, &user, crate::channels::connect::Purpose::Meta).await,
    }
}
