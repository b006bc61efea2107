//! Meta's messaging windows, measured from the customer's last message (contract §2.3, §4.4):
//! what an agent may send now, and how the composer explains it.

use chrono::{DateTime, Duration, Utc};

use crate::models::channels::Platform;

/// Where a conversation stands for a reply sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Within 24 h of the customer's last message: a normal reply (`RESPONSE`).
    Open { closes_at: DateTime<Utc> },
    /// Messenger/Instagram 24 h – 7 days: only with the `HUMAN_AGENT` tag.
    HumanAgent { until: DateTime<Utc> },
    /// WhatsApp outside 24 h (or never messaged): only an approved template.
    TemplateOnly,
    /// Messenger/Instagram beyond 7 days (or never messaged): no reply is possible.
    Closed,
}

/// How a reply will be sent: what the job tells Meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    Response,
    HumanAgent,
}

impl SendMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SendMode::Response => "response",
            SendMode::HumanAgent => "human_agent",
        }
    }

    pub fn parse(s: &str) -> Option<SendMode> {
        match s {
            "response" => Some(SendMode::Response),
            "human_agent" => Some(SendMode::HumanAgent),
            _ => None,
        }
    }
}

/// The window of a conversation on `platform` whose customer last wrote at `last_inbound`.
pub fn window(
    platform: Platform,
    last_inbound: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Window {
    let Some(last) = last_inbound else {
        return closed(platform);
    };
    let day = last + Duration::hours(24);
    if now < day {
        return Window::Open { closes_at: day };
    }
    let week = last + Duration::days(7);
    match platform {
        Platform::Whatsapp => Window::TemplateOnly,
        _ if now < week => Window::HumanAgent { until: week },
        _ => Window::Closed,
    }
}

fn closed(platform: Platform) -> Window {
    match platform {
        Platform::Whatsapp => Window::TemplateOnly,
        _ => Window::Closed,
    }
}

/// Why a free-form reply cannot go out as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowRefusal {
    #[error(
        "More than 24 hours have passed since the customer's last message. Tick \"Send as human agent\" to reply with Meta's HUMAN_AGENT tag (allowed up to 7 days)."
    )]
    NeedsHumanAgentTag,
    #[error(
        "The customer's last message is more than 7 days old. Meta does not allow a reply until the customer writes again."
    )]
    Closed,
    #[error(
        "More than 24 hours have passed since the customer's last WhatsApp message. Only an approved message template can be sent until the customer writes again."
    )]
    TemplateOnly,
}

impl Window {
    /// The send mode for a free-form reply, given whether the agent set the HUMAN_AGENT toggle.
    pub fn mode_for(self, human_agent_requested: bool) -> Result<SendMode, WindowRefusal> {
        match self {
            // Inside 24 h the tag is allowed too, but RESPONSE is the honest type.
            Window::Open { .. } => Ok(SendMode::Response),
            Window::HumanAgent { .. } if human_agent_requested => Ok(SendMode::HumanAgent),
            Window::HumanAgent { .. } => Err(WindowRefusal::NeedsHumanAgentTag),
            Window::TemplateOnly => Err(WindowRefusal::TemplateOnly),
            Window::Closed => Err(WindowRefusal::Closed),
        }
    }

    /// Whether the composer can send free-form text at all.
    pub fn allows_reply(self) -> bool {
        matches!(self, Window::Open { .. } | Window::HumanAgent { .. })
    }

    pub fn needs_human_agent(self) -> bool {
        matches!(self, Window::HumanAgent { .. })
    }

    /// A short CSS-friendly state name.
    pub fn state(self) -> &'static str {
        match self {
            Window::Open { .. } => "open",
            Window::HumanAgent { .. } => "human-agent",
            Window::TemplateOnly => "template-only",
            Window::Closed => "closed",
        }
    }

    /// The indicator above the composer.
    pub fn describe(self, now: DateTime<Utc>) -> String {
        match self {
            Window::Open { closes_at } => {
                format!("Window closes in {}", remaining(closes_at - now))
            }
            Window::HumanAgent { until } => format!(
                "Outside 24 h: replies go out with the Human agent tag ({} left)",
                remaining(until - now)
            ),
            Window::TemplateOnly => {
                "WhatsApp window closed: only an approved template can be sent until the customer writes again.".into()
            }
            Window::Closed => {
                "Window closed: the customer's last message is more than 7 days old, so Meta does not allow a reply.".into()
            }
        }
    }
}

/// "3 h 12 min", "5 days 2 h", "4 min".
pub fn remaining(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    if days > 0 {
        let unit = if days == 1 { "day" } else { "days" };
        format!("{days} {unit} {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else {
        format!("{mins} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messenger_and_instagram_follow_24h_then_human_agent_then_closed() {
        let now = Utc::now();
        for p in [Platform::Messenger, Platform::Instagram] {
            let w = window(p, Some(now - Duration::hours(2)), now);
            assert!(matches!(w, Window::Open { .. }));
            assert_eq!(w.mode_for(false), Ok(SendMode::Response));
            let w = window(p, Some(now - Duration::hours(30)), now);
            assert!(matches!(w, Window::HumanAgent { .. }));
            assert_eq!(w.mode_for(false), Err(WindowRefusal::NeedsHumanAgentTag));
            assert_eq!(w.mode_for(true), Ok(SendMode::HumanAgent));
            let w = window(p, Some(now - Duration::days(8)), now);
            assert_eq!(w, Window::Closed);
            assert_eq!(w.mode_for(true), Err(WindowRefusal::Closed));
            assert_eq!(window(p, None, now), Window::Closed);
        }
    }

    #[test]
    fn whatsapp_needs_a_template_after_24h() {
        let now = Utc::now();
        let w = window(Platform::Whatsapp, Some(now - Duration::hours(30)), now);
        assert_eq!(w, Window::TemplateOnly);
        assert_eq!(w.mode_for(true), Err(WindowRefusal::TemplateOnly));
        assert!(matches!(
            window(Platform::Whatsapp, Some(now - Duration::hours(1)), now),
            Window::Open { .. }
        ));
    }

    #[test]
    fn remaining_time_reads_naturally() {
        assert_eq!(remaining(Duration::minutes(192)), "3 h 12 min");
        assert_eq!(remaining(Duration::minutes(5 * 1440 + 130)), "5 days 2 h");
        assert_eq!(remaining(Duration::minutes(4)), "4 min");
        let now = Utc::now();
        let w = window(Platform::Messenger, Some(now - Duration::hours(21)), now);
        assert_eq!(w.describe(now), "Window closes in 3 h 0 min");
    }
}
