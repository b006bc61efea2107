//! The OAuth connect wizard: state, consent results kept while the admin chooses, and
//! connecting the chosen Pages and Instagram accounts.

use chrono::{Duration, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::channels::{ChannelError, seal_token};
use crate::crypto::{constant_time_eq, random_hex};
use crate::db::ids::{TenantId, UserId};
use crate::meta::pages::PAGE_WEBHOOK_FIELDS;
use crate::meta::{AccessToken, GraphClient};
use crate::models::channel_tokens;
use crate::models::channels::{self, Channel, Login, NewChannel, Platform};
use crate::models::connect;
use crate::state::AppState;

pub use crate::channels::pending::{
    PendingAssets, PendingInstagram, PendingNumber, PendingPage, load_pending, save_pending,
};

/// How long an OAuth `state` stays valid.
pub const STATE_TTL: Duration = Duration::minutes(10);
/// How long the consent result waits for the admin's choice.
pub const SELECTION_TTL: Duration = Duration::minutes(15);

/// Which wizard a state belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Facebook Pages and their Instagram accounts.
    Meta,
    /// WhatsApp Embedded Signup.
    Whatsapp,
    /// An Instagram account through Instagram Login.
    Instagram,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Meta => "meta",
            Purpose::Whatsapp => "whatsapp",
            Purpose::Instagram => "instagram",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Purpose> {
        match s {
            "meta" => Some(Purpose::Meta),
            "whatsapp" => Some(Purpose::Whatsapp),
            "instagram" => Some(Purpose::Instagram),
            _ => None,
        }
    }
}

fn hash_state(state: &str) -> String {
    hex::encode(sha2::Sha256::digest(state.as_bytes()))
}

/// Creates a random state for `user` (returned to put in the session and the dialog URL).
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    purpose: Purpose,
) -> Result<String, ChannelError> {
    let state = random_hex(32);
    connect::insert_state(
        conn,
        &hash_state(&state),
        tenant,
        user,
        purpose.as_str(),
        Utc::now() + STATE_TTL,
    )?;
    Ok(state)
}

/// Checks and uses up a returned state: it must be this session's, unused, unexpired, and
/// belong to this tenant and user. Anything else stores nothing.
pub fn consume_state(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    returned: &str,
    in_session: Option<&str>,
) -> Result<Purpose, ChannelError> {
    match in_session {
        Some(expected) if constant_time_eq(expected.as_bytes(), returned.as_bytes()) => {}
        _ => return Err(ChannelError::StateInvalid),
    }
    let row = connect::use_state(conn, &hash_state(returned))?.ok_or(ChannelError::StateInvalid)?;
    if row.tenant_id != tenant || row.user_id != user || row.expires_at < Utc::now() {
        return Err(ChannelError::StateInvalid);
    }
    Purpose::parse(&row.purpose).ok_or(ChannelError::StateInvalid)
}

/// Exchanges the code and lists the Pages (with paging) and their Instagram accounts.
pub async fn fetch_meta_assets(
    graph: &GraphClient,
    code: &str,
    redirect_uri: &str,
) -> Result<PendingAssets, ChannelError> {
    let short = graph.exchange_code(code, Some(redirect_uri)).await?;
    let long = graph.exchange_long_lived(&short.access_token).await?;
    let accounts = graph.all_me_accounts(&long.access_token).await?;
    let pages = accounts
        .into_iter()
        .filter_map(|p| {
            let token = p.access_token.as_ref()?.expose_secret().to_string();
            Some(PendingPage {
                picture_url: p.picture_url().map(str::to_string),
                instagram: p.instagram_business_account.map(|ig| PendingInstagram {
                    id: ig.id,
                    username: ig.username,
                    picture_url: ig.profile_picture_url,
                }),
                id: p.id,
                name: p.name,
                tasks: p.tasks,
                token,
            })
        })
        .collect();
    Ok(PendingAssets {
        pages,
        ..Default::default()
    })
}

/// What connecting the chosen assets did, asset by asset.
#[derive(Debug, Default)]
pub struct ConnectOutcome {
    pub connected: Vec<Channel>,
    /// Asset name and the reason it was not connected.
    pub failed: Vec<(String, String)>,
}

/// Stores a channel reached through Facebook Login, or explains why it cannot be.
pub fn store_channel(conn: &mut PgConnection, new: &NewChannel) -> Result<Channel, ChannelError> {
    store_channel_via(
        conn,
        new,
        Login::Facebook,
        None,
        crate::config::HistoryImportWindow::default(),
    )
}

/// Stores a channel reached through `login` (with its token's end, if it has one), in one
/// transaction: refused when another tenant has the asset, or when the same Instagram account
/// is connected the other way. A Messenger or Instagram channel starts importing the
/// conversations `history` covers.
pub fn store_channel_via(
    conn: &mut PgConnection,
    new: &NewChannel,
    login: Login,
    token_expires_at: Option<chrono::DateTime<Utc>>,
    history: crate::config::HistoryImportWindow,
) -> Result<Channel, ChannelError> {
    conn.transaction(|conn| {
        if new.platform == Platform::Instagram
            && let Some(other) = channel_tokens::connected_instagram(conn, &new.platform_id)?
            && other.login != login
        {
            return Err(ChannelError::ConnectedOtherWay {
                name: other.display_name(),
                how: other.login.label(),
            });
        }
        let mut channel = store_new(conn, new, history)?;
        channel_tokens::set_login(conn, channel.tenant_id, channel.id, login, token_expires_at)?;
        channel.login = login;
        channel.token_expires_at = token_expires_at;
        Ok(channel)
    })
}

fn store_new(
    conn: &mut PgConnection,
    new: &NewChannel,
    history: crate::config::HistoryImportWindow,
) -> Result<Channel, ChannelError> {
    match channels::upsert_connected(conn, new) {
        Ok(channel) => {
            // Webhooks that arrived before the account was connected are processed now.
            let (object, mut ids) = match channel.platform {
                Platform::Messenger => ("page", vec![channel.platform_id.clone()]),
                Platform::Instagram => ("instagram", vec![channel.platform_id.clone()]),
                Platform::Whatsapp => (
                    "whatsapp_business_account",
                    vec![channel.platform_id.clone()],
                ),
            };
            ids.extend(channel.waba_id.clone());
            crate::models::webhooks::requeue_unrouted(conn, object, &ids)?;
            // Comments posted before the connection, and recent insights, are read from Meta.
            if channel.platform != Platform::Whatsapp {
                let since = chrono::Utc::now()
                    - chrono::Duration::days(crate::comments::sync::BACKFILL_DAYS);
                crate::comments::sync::start(
                    conn,
                    channel.tenant_id,
                    channel.id,
                    since,
                    new.connected_by,
                )?;
                // And the last 90 days of insights.
                crate::insights::refresh::queue(
                    conn,
                    channel.tenant_id,
                    channel.id,
                    crate::insights::refresh::BACKFILL_DAYS,
                )?;
                crate::insights::posts::queue(conn, channel.tenant_id, channel.id, false)?;
                // And the recent conversations, so the inbox does not start empty.
                crate::channels::history::start(conn, channel.tenant_id, channel.id, history)?;
            } else {
                // The account's message templates, for the library and the composer.
                crate::message_templates::jobs::queue_sync(conn, channel.tenant_id, channel.id)?;
            }
            Ok(channel)
        }
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ChannelError::OwnedElsewhere(new.name.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Subscribes and stores the chosen Pages (Messenger) and Instagram accounts.
pub async fn connect_pages(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    assets: &PendingAssets,
    chosen_pages: &[String],
    chosen_instagram: &[String],
) -> Result<ConnectOutcome, ChannelError> {
    let mut outcome = ConnectOutcome::default();
    for page in &assets.pages {
        let ig = page
            .instagram
            .as_ref()
            .filter(|ig| chosen_instagram.contains(&ig.id));
        let want_page = chosen_pages.contains(&page.id);
        if !want_page && ig.is_none() {
            continue;
        }
        let token = AccessToken::new(page.token.clone());
        // Instagram messaging for Facebook-login apps also arrives through the Page's subscription.
        if let Err(e) = state
            .graph
            .subscribe_page(&page.id, &token, PAGE_WEBHOOK_FIELDS)
            .await
        {
            outcome.failed.push((page.name.clone(), e.to_string()));
            continue;
        }
        let fields: Vec<String> = PAGE_WEBHOOK_FIELDS.iter().map(|f| f.to_string()).collect();
        let mut to_store = Vec::new();
        if want_page {
            to_store.push(NewChannel {
                tenant_id: tenant,
                platform: Platform::Messenger,
                platform_id: page.id.clone(),
                name: page.name.clone(),
                username: None,
                picture_url: page.picture_url.clone(),
                page_id: Some(page.id.clone()),
                waba_id: None,
                display_phone_number: None,
                token_ciphertext: None,
                token_key_id: None,
                subscribed_fields: fields.clone(),
                connected_by: Some(user),
            });
        }
        if let Some(ig) = ig {
            to_store.push(NewChannel {
                tenant_id: tenant,
                platform: Platform::Instagram,
                platform_id: ig.id.clone(),
                name: ig
                    .username
                    .clone()
                    .unwrap_or_else(|| format!("{} (Instagram)", page.name)),
                username: ig.username.clone(),
                picture_url: ig.picture_url.clone(),
                page_id: Some(page.id.clone()),
                waba_id: None,
                display_phone_number: None,
                token_ciphertext: None,
                token_key_id: None,
                subscribed_fields: fields.clone(),
                connected_by: Some(user),
            });
        }
        for mut new in to_store {
            let sealed = seal_token(
                &state.cipher,
                tenant,
                new.platform,
                &new.platform_id,
                &token,
            )?;
            new.token_ciphertext = Some(sealed.blob);
            new.token_key_id = Some(sealed.key_id);
            let window = state.config.history_import;
            let stored = crate::db::run(&state.pool, move |conn| {
                Ok(store_channel_via(conn, &new, Login::Facebook, None, window))
            })
            .await?;
            match stored {
                Ok(channel) => outcome.connected.push(channel),
                Err(
                    e @ (ChannelError::OwnedElsewhere(_) | ChannelError::ConnectedOtherWay { .. }),
                ) => outcome.failed.push((page.name.clone(), e.to_string())),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(outcome)
}
