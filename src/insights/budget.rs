//! Insights are the least urgent Meta traffic: they wait whenever a Page's or account's call
//! budget (Meta's `X-Business-Use-Case-Usage`, or `X-App-Usage` for the app) is half used, so
//! replies and moderation keep theirs, and the daily refresh spreads the channels over hours so
//! no tenant's many channels take the budget at once.

use std::time::Duration;

use chrono::Utc;

use crate::jobs::JobError;
use crate::models::channels::Channel;
use crate::state::AppState;

/// Above this share of a budget, insights wait.
pub const CEILING_PERCENT: f64 = 50.0;
/// How long they wait before looking again.
pub const WAIT: Duration = Duration::from_secs(15 * 60);
/// The daily refresh spreads its channels over this many hours.
pub const SPREAD_HOURS: i64 = 6;

/// `Err(Later)` when the channel's (or the app's) budget is above the ceiling.
pub fn check(state: &AppState, channel: &Channel) -> Result<(), JobError> {
    let used = [channel.platform_id.as_str(), "app"]
        .iter()
        .filter_map(|key| state.graph.budget_used(key))
        .fold(0.0, f64::max);
    if used >= CEILING_PERCENT {
        return Err(JobError::Later {
            after: WAIT,
            reason: format!(
                "Meta reports {used:.0}% of this channel's call budget used; insights wait so replies and moderation keep theirs"
            ),
        });
    }
    Ok(())
}

/// When the daily refresh of channel `id` runs: a fixed place in the spread window, so the
/// channels are evenly spread and each keeps its hour from day to day.
pub fn spread_start(id: i64) -> chrono::DateTime<Utc> {
    let window = SPREAD_HOURS * 3600;
    // A multiplicative hash spreads consecutive ids across the window.
    let offset = (id.unsigned_abs().wrapping_mul(2_654_435_761) % window as u64) as i64;
    Utc::now() + chrono::Duration::seconds(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_spread_over_the_window() {
        let now = Utc::now();
        let hours: std::collections::BTreeSet<i64> = (1..=60)
            .map(|id| (spread_start(id) - now).num_hours())
            .collect();
        assert!(hours.len() >= SPREAD_HOURS as usize - 1, "{hours:?}");
        assert!(hours.iter().all(|h| (0..SPREAD_HOURS).contains(h)));
    }
}
