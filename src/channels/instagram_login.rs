//! Instagram accounts without a Facebook Page, through Instagram Login: the connection (code,
//! short-lived token, 60-day token, the account, its webhook subscription) and the refresh
//! that keeps the 60-day token alive.

use chrono::{DateTime, Duration, Utc};

use crate::channels::{ChannelError, connect, health, open_token, seal_token};
use crate::db::ids::{TenantId, UserId};
use crate::meta::GraphErrorKind;
use crate::meta::instagram_login::{
    INSTAGRAM_INSIGHTS_SCOPE, INSTAGRAM_SCOPES, INSTAGRAM_WEBHOOK_FIELDS, InstagramToken,
};
use crate::models::channel_tokens;
use crate::models::channels::{Channel, Login, NewChannel, Platform};
use crate::state::AppState;

/// A token is refreshed once it has less than this left (of its 60 days): well before the
/// end, so a week of Meta trouble still leaves time to retry.
pub const REFRESH_WHEN_LEFT: Duration = Duration::days(30);
/// Meta refuses to refresh a token younger than this.
pub const MIN_AGE: Duration = Duration::hours(24);
/// What Meta gives when it does not say (`expires_in` absent).
const DEFAULT_LIFETIME: Duration = Duration::days(60);

/// The permissions asked for (insights included: the insights pages are part of Parley).
pub fn scopes() -> Vec<&'static str> {
    let mut all = INSTAGRAM_SCOPES.to_vec();
    all.push(INSTAGRAM_INSIGHTS_SCOPE);
    all
}

fn expiry(token: &InstagramToken, now: DateTime<Utc>) -> DateTime<Utc> {
    token
        .expires_in
        .filter(|s| *s > 0)
        .map_or(now + DEFAULT_LIFETIME, |s| now + Duration::seconds(s))
}

/// Exchanges the dialog's code, reads the account, subscribes it to webhooks and stores the
/// channel with its 60-day token (encrypted). Refused when the account is connected through a
/// Facebook Page, or by another workspace.
pub async fn connect_account(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    code: &str,
    redirect_uri: &str,
) -> Result<Channel, ChannelError> {
    let grant = state
        .graph
        .exchange_instagram_code(code, redirect_uri)
        .await?;
    let long = state
        .graph
        .instagram_long_lived(&grant.access_token)
        .await?;
    let now = Utc::now();
    let expires_at = expiry(&long, now);
    let me = state.graph.instagram_me(&long.access_token).await?;
    let ig_id = me
        .account_id()
        .or(grant.user_id.as_deref())
        .ok_or_else(|| {
            ChannelError::Invalid("Instagram did not say which account this is.".into())
        })?
        .to_string();
    let username = me.username.clone();
    let name = me
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| username.clone())
        .unwrap_or_else(|| format!("Instagram {ig_id}"));
    // Refuse before subscribing, so a refused account is left exactly as it was at Meta.
    let check_id = ig_id.clone();
    let existing = crate::db::run(&state.pool, move |conn| {
        Ok(channel_tokens::connected_instagram(conn, &check_id)?)
    })
    .await?;
    if let Some(other) = existing {
        if other.login != Login::Instagram {
            return Err(ChannelError::ConnectedOtherWay {
                name: other.display_name(),
                how: other.login.label(),
            });
        }
        if other.tenant_id != tenant {
            return Err(ChannelError::OwnedElsewhere(other.display_name()));
        }
    }
    state
        .graph
        .subscribe_instagram_account(&ig_id, &long.access_token)
        .await?;
    let sealed = seal_token(
        &state.cipher,
        tenant,
        Platform::Instagram,
        &ig_id,
        &long.access_token,
    )?;
    let new = NewChannel {
        tenant_id: tenant,
        platform: Platform::Instagram,
        platform_id: ig_id,
        name,
        username,
        picture_url: me.profile_picture_url.clone(),
        page_id: None,
        waba_id: None,
        display_phone_number: None,
        token_ciphertext: Some(sealed.blob),
        token_key_id: Some(sealed.key_id),
        subscribed_fields: INSTAGRAM_WEBHOOK_FIELDS
            .iter()
            .map(|f| f.to_string())
            .collect(),
        connected_by: Some(user),
    };
    let window = state.config.history_import;
    crate::db::run(&state.pool, move |conn| {
        Ok(connect::store_channel_via(
            conn,
            &new,
            Login::Instagram,
            Some(expires_at),
            window,
        ))
    })
    .await?
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// A new token, good until then.
    Until(DateTime<Utc>),
    /// Meta refused the token: the channel is disconnected, for this reason.
    Disconnected(String),
}

/// Refreshes one channel's 60-day token and stores the new one. A token Meta calls invalid
/// disconnects the channel with the reason, like any Page token would.
pub async fn refresh_channel(
    state: &AppState,
    channel: &Channel,
) -> Result<Refreshed, ChannelError> {
    let token = open_token(&state.cipher, channel)?;
    let fresh = match state.graph.refresh_instagram_token(&token).await {
        Ok(fresh) => fresh,
        Err(e) => {
            if let GraphErrorKind::TokenInvalid(_) = e.kind
                && health::record_graph_failure(state, channel, &e).await?
            {
                return Ok(Refreshed::Disconnected(e.describe()));
            }
            return Err(e.into());
        }
    };
    let expires_at = expiry(&fresh, Utc::now());
    let sealed = seal_token(
        &state.cipher,
        channel.tenant_id,
        channel.platform,
        &channel.platform_id,
        &fresh.access_token,
    )?;
    let (tenant, id) = (channel.tenant_id, channel.id);
    crate::db::run(&state.pool, move |conn| {
        Ok(channel_tokens::store_refreshed(
            conn,
            tenant,
            id,
            &sealed.blob,
            &sealed.key_id,
            expires_at,
        )?)
    })
    .await?;
    Ok(Refreshed::Until(expires_at))
}

/// What a refresh round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RefreshReport {
    pub refreshed: usize,
    pub disconnected: usize,
    /// Refreshes that failed for now (Meta unreachable, throttled): tried again next round.
    pub failed: usize,
}

/// Refreshes every Instagram Login token with less than [`REFRESH_WHEN_LEFT`] to live and at
/// least [`MIN_AGE`] behind it; one failure does not keep the others from their refresh.
pub async fn refresh_due(state: &AppState) -> Result<RefreshReport, ChannelError> {
    let now = Utc::now();
    let due = crate::db::run(&state.pool, move |conn| {
        Ok(channel_tokens::due_for_refresh(
            conn,
            now + REFRESH_WHEN_LEFT,
            now - MIN_AGE,
        )?)
    })
    .await?;
    let mut report = RefreshReport::default();
    for channel in due {
        match refresh_channel(state, &channel).await {
            Ok(Refreshed::Until(_)) => report.refreshed += 1,
            Ok(Refreshed::Disconnected(_)) => report.disconnected += 1,
            Err(ChannelError::Db(e)) => return Err(ChannelError::Db(e)),
            Err(e) => {
                tracing::warn!(channel_id = %channel.id, error = %e, "Instagram token refresh failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Job `refresh_instagram_tokens` (hourly): keeps every Instagram Login token alive. A round
/// where every refresh failed is retried with backoff; the next hour tries again anyway, and
/// with 30 days of margin a token is never lost to a bad day at Meta.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RefreshInstagramTokens {}

impl crate::jobs::job::Job for RefreshInstagramTokens {
    const KIND: &'static str = "refresh_instagram_tokens";

    async fn run(
        self,
        state: &AppState,
        _: &crate::jobs::job::JobContext,
    ) -> Result<(), crate::jobs::JobError> {
        let report = refresh_due(state)
            .await
            .map_err(|e| crate::jobs::JobError::retry("refreshing Instagram tokens", e))?;
        tracing::info!(
            refreshed = report.refreshed,
            disconnected = report.disconnected,
            failed = report.failed,
            "Instagram token refresh round finished"
        );
        if report.failed > 0 && report.refreshed == 0 && report.disconnected == 0 {
            return Err(crate::jobs::JobError::Retryable(format!(
                "none of {} Instagram tokens could be refreshed; Meta may be unreachable",
                report.failed
            )));
        }
        Ok(())
    }
}
