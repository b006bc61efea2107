//! Small helpers: Meta-style random ids, timestamps, a deterministic PRNG and HMAC.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `n` random alphanumeric characters (Meta's tokens, codes and message ids look like this).
pub fn random_alnum(n: usize) -> String {
    random_bytes(n)
        .into_iter()
        .map(|b| ALNUM[usize::from(b) % ALNUM.len()] as char)
        .collect()
}

/// `n` bytes from the operating system's random number generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; n];
    // SystemRandom only fails if the OS has no entropy source, which leaves nothing safe to do.
    #[allow(clippy::expect_used)]
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("the operating system's random number generator failed");
    buf
}

/// Compares secrets in time independent of where they differ (subtle).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A value like Meta's `fbtrace_id`.
pub fn fbtrace_id() -> String {
    random_alnum(23)
}

/// ISO-8601 the way Graph reads return it: `2026-11-20T10:00:00+0000`.
pub fn graph_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// Lowercase hex HMAC-SHA256 of `message` keyed with `key`.
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; this arm cannot run.
        Err(_) => String::new(),
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// A small deterministic PRNG (SplitMix64): the same seed gives the same sequence.
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`; 0 gives 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// The SplitMix64 finaliser: a good 64-bit hash of a 64-bit value.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit hash of strings (FNV-1a, then mixed), for deterministic data.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix(h)
}

/// Escapes every non-ASCII character of serialized JSON as `\uXXXX`, as Meta puts webhook
/// bodies on the wire (the signature covers these exact bytes).
pub fn escape_unicode_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prng_is_deterministic() {
        let mut a = Prng::new(7);
        let mut b = Prng::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        assert!(a.unit() < 1.0);
        assert!(a.below(3) < 3);
    }

    #[test]
    fn unicode_is_escaped_as_utf16() {
        let json = serde_json::json!({"t": "caf\u{e9} \u{1F600}"}).to_string();
        assert_eq!(
            escape_unicode_json(&json),
            r#"{"t":"caf\u00e9 \ud83d\ude00"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&escape_unicode_json(&json)).unwrap();
        assert_eq!(back["t"], "caf\u{e9} \u{1F600}");
    }

    #[test]
    fn graph_time_has_meta_offset_format() {
        let t = DateTime::from_timestamp(1_763_632_800, 0).unwrap();
        assert_eq!(graph_time(t), "2025-11-20T10:00:00+0000");
    }

    #[test]
    fn hmac_matches_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
