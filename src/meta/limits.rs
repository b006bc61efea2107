//! Per-channel send pacing: token buckets with Meta's documented rates, so Parley spaces its own
//! sends instead of collecting rate-limit errors.
//!
//! Buckets live in this process. Several Parley processes each keep their own, so operators
//! running N workers should divide the rates by N (see `SendLimits`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    updated: Instant,
}

impl Bucket {
    fn new(per_sec: f64, capacity: f64, now: Instant) -> Self {
        Bucket {
            tokens: capacity,
            capacity,
            per_sec,
            updated: now,
        }
    }

    /// Time until one token is available (zero when one is available now).
    fn wait(&mut self, now: Instant) -> Duration {
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec)
        }
    }

    fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

/// A bucket's key: channel, kind of send, and the customer for WhatsApp's pair limit.
type BucketKey = (String, SendKind, Option<String>);

/// Token buckets keyed by channel (and by channel + customer for WhatsApp's pair limit).
#[derive(Debug)]
pub struct SendLimiter {
    limits: SendLimits,
    buckets: Mutex<HashMap<BucketKey, Bucket>>,
}

impl SendLimiter {
    pub fn new(limits: SendLimits) -> Self {
        SendLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a slot for a send on `channel` (page/IG/phone number id) to `customer`, or says how
    /// long to wait. All relevant buckets must have a token; none is taken unless all do.
    pub fn try_acquire(
        &self,
        channel: &str,
        kind: SendKind,
        customer: &str,
    ) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let per_sec = self.limits.rate(kind).max(0.001);
        let mut keys = vec![(channel.to_string(), kind, None)];
        if kind == SendKind::WhatsApp {
            keys.push((channel.to_string(), kind, Some(customer.to_string())));
        }
        let mut wait = Duration::ZERO;
        for key in &keys {
            let pair = key.2.is_some();
            let bucket = buckets.entry(key.clone()).or_insert_with(|| {
                if pair {
                    let interval = self.limits.whatsapp_pair_interval.as_secs_f64().max(0.001);
                    Bucket::new(1.0 / interval, 1.0, now)
                } else {
                    // One second's worth of burst.
                    Bucket::new(per_sec, per_sec.max(1.0), now)
                }
            });
            wait = wait.max(bucket.wait(now));
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for key in &keys {
            if let Some(b) = buckets.get_mut(key) {
                b.take();
            }
        }
        Ok(())
    }

    /// Waits (up to `max_wait`) for a slot; returns the remaining wait if it is longer.
    pub async fn acquire(
        &self,
        channel: &str,
        kind: SendKind,
        customer: &str,
        max_wait: Duration,
    ) -> Result<(), Duration> {
        let deadline = Instant::now() + max_wait;
        loop {
            match self.try_acquire(channel, kind, customer) {
                Ok(()) => return Ok(()),
                Err(wait) if Instant::now() + wait <= deadline => tokio::time::sleep(wait).await,
                Err(wait) => return Err(wait),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_bucket_allows_a_second_of_burst_then_paces() {
        let limiter = SendLimiter::new(SendLimits {
            messenger_media_per_sec: 10.0,
            ..Default::default()
        });
        for _ in 0..10 {
            assert!(
                limiter
                    .try_acquire("page", SendKind::MessengerMedia, "u")
                    .is_ok()
            );
        }
        let wait = limiter
            .try_acquire("page", SendKind::MessengerMedia, "u")
            .unwrap_err();
        assert!(wait <= Duration::from_millis(110), "{wait:?}");
        // Another page has its own bucket.
        assert!(
            limiter
                .try_acquire("page2", SendKind::MessengerMedia, "u")
                .is_ok()
        );
    }

    #[test]
    fn whatsapp_pair_limit_spaces_messages_to_one_customer() {
        let limiter = SendLimiter::new(SendLimits::default());
        assert!(
            limiter
                .try_acquire("phone", SendKind::WhatsApp, "alice")
                .is_ok()
        );
        let wait = limiter
            .try_acquire("phone", SendKind::WhatsApp, "alice")
            .unwrap_err();
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(
            limiter
                .try_acquire("phone", SendKind::WhatsApp, "bob")
                .is_ok()
        );
    }
}
