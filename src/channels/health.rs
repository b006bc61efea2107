//! Token health: a periodic `debug_token` check of every connected channel, and the same
//! verdict at once when any Graph call answers that the token is invalid.

use crate::channels::{ChannelError, open_token};
use crate::meta::{GraphError, GraphErrorKind, TokenProblem};
use crate::models::channels::{self, Channel, Login, Platform};
use crate::state::AppState;

/// Permissions each kind of channel needs, and the object they must be granted for.
fn required(channel: &Channel) -> Vec<(&'static str, Option<String>)> {
    match channel.platform {
        Platform::Messenger => vec![
            ("pages_messaging", channel.page_id.clone()),
            ("pages_manage_metadata", channel.page_id.clone()),
        ],
        Platform::Instagram => vec![("instagram_manage_messages", None)],
        Platform::Whatsapp => vec![("whatsapp_business_messaging", channel.waba_id.clone())],
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Verified,
    /// The channel was disconnected, for this reason.
    Disconnected(String),
}

/// Why a Facebook Login token no longer serves the channel, by `debug_token`.
async fn facebook_verdict(
    state: &AppState,
    channel: &Channel,
    token: &crate::meta::AccessToken,
) -> Result<Option<String>, ChannelError> {
    let debug = state.graph.debug_token(token).await?;
    Ok(if !debug.is_valid {
        let subcode = debug.error.as_ref().and_then(|e| e.subcode);
        Some(
            TokenProblem::from_subcode(subcode)
                .explanation()
                .to_string(),
        )
    } else {
        required(channel)
            .into_iter()
            .find(|(scope, target)| !debug.grants(scope, target.as_deref()))
            .map(|(scope, _)| {
                format!(
                    "Meta no longer grants Parley the {scope} permission. Reconnect and allow it."
                )
            })
    })
}

/// Checks one channel's token (`debug_token`, or `/me` for Instagram Login) and records the
/// result.
pub async fn check_channel(state: &AppState, channel: &Channel) -> Result<Health, ChannelError> {
    let token = open_token(&state.cipher, channel)?;
    let reason = if channel.login == Login::Instagram {
        // debug_token belongs to Facebook Login; an Instagram token proves itself by reading
        // its own account.
        match state.graph.instagram_me(&token).await {
            Ok(_) => None,
            Err(e) => match e.kind {
                GraphErrorKind::TokenInvalid(problem) => Some(problem.explanation().to_string()),
                _ => return Err(e.into()),
            },
        }
    } else {
        facebook_verdict(state, channel, &token).await?
    };
    let (tenant, id) = (channel.tenant_id, channel.id);
    match reason {
        None => {
            crate::db::run(&state.pool, move |conn| {
                Ok(channels::mark_verified(conn, tenant, id)?)
            })
            .await?;
            Ok(Health::Verified)
        }
        Some(reason) => {
            let stored = reason.clone();
            crate::db::run(&state.pool, move |conn| {
                Ok(channels::disconnect(conn, tenant, id, &stored, true)?)
            })
            .await?;
            tracing::warn!(channel_id = %id, tenant_id = %tenant, %reason, "channel token no longer valid");
            Ok(Health::Disconnected(reason))
        }
    }
}

/// What a sweep over every channel found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub verified: usize,
    pub disconnected: usize,
    /// Checks that could not be made (Meta unreachable, rate limited); tried again next time.
    pub unchecked: usize,
}

/// Checks every connected channel; one failing check does not stop the others.
pub async fn sweep(state: &AppState) -> Result<SweepReport, ChannelError> {
    let all = crate::db::run(&state.pool, |conn| Ok(channels::all_connected(conn)?)).await?;
    let mut report = SweepReport::default();
    for channel in all {
        match check_channel(state, &channel).await {
            Ok(Health::Verified) => report.verified += 1,
            Ok(Health::Disconnected(_)) => report.disconnected += 1,
            Err(ChannelError::Db(e)) => return Err(ChannelError::Db(e)),
            Err(e) => {
                tracing::warn!(channel_id = %channel.id, error = %e, "token check failed");
                report.unchecked += 1;
            }
        }
    }
    Ok(report)
}

/// Call after any Graph call made with a channel's token: a 190 disconnects the channel at once.
pub async fn record_graph_failure(
    state: &AppState,
    channel: &Channel,
    error: &GraphError,
) -> Result<bool, ChannelError> {
    let GraphErrorKind::TokenInvalid(problem) = error.kind else {
        return Ok(false);
    };
    let (tenant, id) = (channel.tenant_id, channel.id);
    let reason = problem.explanation().to_string();
    crate::db::run(&state.pool, move |conn| {
        Ok(channels::disconnect(conn, tenant, id, &reason, true)?)
    })
    .await?;
    Ok(true)
}
