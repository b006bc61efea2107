//! Meta's messaging window for Messenger and Instagram: what may be sent how long after the
//! customer's last message.

use chrono::{DateTime, Duration as TimeDelta, Utc};

/// Where a recipient stands in Meta's messaging window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Within 24 h of the customer's last message: anything goes.
    Open,
    /// 24 h to 7 days: only `MESSAGE_TAG` + `HUMAN_AGENT`.
    HumanAgentOnly,
    /// Beyond 7 days, or never messaged.
    Closed,
}

/// The window given the customer's last inbound message.
pub(crate) fn window(last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Window {
    match last_inbound {
        Some(t) if now - t < TimeDelta::hours(24) => Window::Open,
        Some(t) if now - t < TimeDelta::days(7) => Window::HumanAgentOnly,
        _ => Window::Closed,
    }
}

/// Whether a send of this type and tag is allowed in `w`.
pub(crate) fn permits(w: Window, messaging_type: &str, tag: Option<&str>) -> bool {
    match w {
        Window::Open => true,
        Window::HumanAgentOnly => messaging_type == "MESSAGE_TAG" && tag == Some("HUMAN_AGENT"),
        Window::Closed => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rules_follow_meta() {
        let now = Utc::now();
        let at = |h: i64| Some(now - TimeDelta::hours(h));
        assert_eq!(window(at(2), now), Window::Open);
        assert_eq!(window(at(30), now), Window::HumanAgentOnly);
        assert_eq!(window(at(8 * 24), now), Window::Closed);
        assert_eq!(window(None, now), Window::Closed);
        assert!(permits(Window::Open, "UPDATE", None));
        assert!(!permits(Window::HumanAgentOnly, "RESPONSE", None));
        assert!(!permits(
            Window::HumanAgentOnly,
            "MESSAGE_TAG",
            Some("ACCOUNT_UPDATE")
        ));
        assert!(permits(
            Window::HumanAgentOnly,
            "MESSAGE_TAG",
            Some("HUMAN_AGENT")
        ));
        assert!(!permits(Window::Closed, "MESSAGE_TAG", Some("HUMAN_AGENT")));
    }
}
