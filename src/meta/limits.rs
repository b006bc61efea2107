//! Meta's send rates, as budgets a send spends, so Parley spaces its own sends instead of
//! collecting rate-limit errors. The budgets themselves live in PostgreSQL
//! (`models::send_budgets`), so any number of worker processes together keep Meta's rates.

use std::time::Duration;

/// What kind of send, since Meta budgets them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendKind {
    MessengerText,
    MessengerMedia,
    InstagramText,
    InstagramMedia,
    WhatsApp,
}

/// Rates per second for each kind, plus WhatsApp's pair limit.
#[derive(Debug, Clone, Copy)]
pub struct SendLimits {
    pub messenger_text_per_sec: f64,
    pub messenger_media_per_sec: f64,
    pub instagram_text_per_sec: f64,
    pub instagram_media_per_sec: f64,
    pub whatsapp_per_sec: f64,
    /// Minimum spacing of WhatsApp messages to one customer (error 131056 otherwise).
    pub whatsapp_pair_interval: Duration,
}

impl Default for SendLimits {
    /// Meta's defaults (contract §2.2, §4.5).
    fn default() -> Self {
        SendLimits {
            messenger_text_per_sec: 300.0,
            messenger_media_per_sec: 10.0,
            instagram_text_per_sec: 100.0,
            instagram_media_per_sec: 10.0,
            whatsapp_per_sec: 80.0,
            whatsapp_pair_interval: Duration::from_secs(6),
        }
    }
}

impl SendLimits {
    fn rate(&self, kind: SendKind) -> f64 {
        match kind {
            SendKind::MessengerText => self.messenger_text_per_sec,
            SendKind::MessengerMedia => self.messenger_media_per_sec,
            SendKind::InstagramText => self.instagram_text_per_sec,
            SendKind::InstagramMedia => self.instagram_media_per_sec,
            SendKind::WhatsApp => self.whatsapp_per_sec,
        }
    }
}

/// One budget a send spends: at most `burst` sends at once, then one per `interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    /// The budget's key, shared by every process (e.g. `send:1234:MessengerText`).
    pub key: String,
    pub interval: Duration,
    pub burst: u32,
}

impl SendLimits {
    /// The budgets one send of `kind` from `account` (Page, IG account or phone number id) to
    /// `customer` spends: the account's rate for the kind (a second's worth of burst), and for
    /// WhatsApp the pair limit of one message to one customer per few seconds.
    pub fn buckets(&self, account: &str, kind: SendKind, customer: &str) -> Vec<BucketSpec> {
        let per_sec = self.rate(kind).max(0.001);
        let mut specs = vec![BucketSpec {
            key: format!("send:{account}:{kind:?}"),
            interval: Duration::from_secs_f64(1.0 / per_sec),
            burst: per_sec.max(1.0) as u32,
        }];
        if kind == SendKind::WhatsApp {
            specs.push(BucketSpec {
                key: format!("pair:{account}:{customer}"),
                interval: self.whatsapp_pair_interval,
                burst: 1,
            });
        }
        specs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whatsapp_send_spends_the_number_and_the_pair_budget() {
        let limits = SendLimits::default();
        let specs = limits.buckets("phone", SendKind::WhatsApp, "alice");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].burst, 80);
        assert_eq!(specs[1].key, "pair:phone:alice");
        assert_eq!(specs[1].interval, Duration::from_secs(6));
        assert_eq!(specs[1].burst, 1);
        let media = limits.buckets("page", SendKind::MessengerMedia, "u");
        assert_eq!(media.len(), 1);
        assert_eq!(media[0].interval, Duration::from_millis(100));
    }
}
