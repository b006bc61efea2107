//! AES-256-GCM encryption of Meta tokens at rest, with a key id stored beside each ciphertext so
//! keys can be rotated without downtime: processes decrypt with the current key or any old key,
//! and always encrypt with the current one.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::Digest;

use crate::crypto::random_bytes;

/// Encryption failures. Messages never contain key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("encryption key must be 32 bytes")]
    BadKey,
    #[error("no key with id {0} is configured (set it in PARLEY_ENCRYPTION_KEYS_OLD)")]
    UnknownKey(String),
    #[error("stored secret is corrupt or was encrypted for another record")]
    Corrupt,
    #[error("encryption failed")]
    Seal,
}

/// A secret as stored: which key, and nonce ‖ ciphertext ‖ tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedSecret {
    pub key_id: String,
    pub blob: Vec<u8>,
}

struct Key {
    id: String,
    key: LessSafeKey,
}

/// Encrypts with the current key; decrypts with the current or any old key.
pub struct TokenCipher {
    current: Key,
    old: Vec<Key>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCipher")
            .field("current_key_id", &self.current.id)
            .field(
                "old_key_ids",
                &self.old.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A key's public id: the first 8 bytes of SHA-256 over a label and the key, in hex. Stable, so
/// no registry of ids is needed, and it reveals nothing about the key.
pub fn key_id(key: &[u8]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"parley-token-key-id:");
    h.update(key);
    hex::encode(&h.finalize()[..8])
}

fn make_key(bytes: &[u8]) -> Result<Key, CryptoError> {
    if bytes.len() != 32 {
        return Err(CryptoError::BadKey);
    }
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::BadKey)?;
    Ok(Key {
        id: key_id(bytes),
        key: LessSafeKey::new(unbound),
    })
}

impl TokenCipher {
    /// A cipher with `current` for new secrets and `old` keys still accepted for reading.
    pub fn new(current: &[u8], old: &[&[u8]]) -> Result<TokenCipher, CryptoError> {
        Ok(TokenCipher {
            current: make_key(current)?,
            old: old.iter().map(|k| make_key(k)).collect::<Result<_, _>>()?,
        })
    }

    /// Id of the key new secrets are encrypted with.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plaintext` bound to `context` (e.g. the record it belongs to), with a fresh
    /// random nonce: a ciphertext moved to another record will not decrypt.
    pub fn encrypt(&self, plaintext: &str, context: &str) -> Result<EncryptedSecret, CryptoError> {
        let nonce_bytes = random_bytes(NONCE_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&nonce_bytes);
        let mut buf = plaintext.as_bytes().to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&buf);
        Ok(EncryptedSecret {
            key_id: self.current.id.clone(),
            blob,
        })
    }

    /// Decrypts a stored secret with whichever configured key it names.
    pub fn decrypt(&self, secret: &EncryptedSecret, context: &str) -> Result<String, CryptoError> {
        let key = std::iter::once(&self.current)
            .chain(self.old.iter())
            .find(|k| k.id == secret.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(secret.key_id.clone()))?;
        if secret.blob.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(CryptoError::Corrupt);
        }
        let (nonce, sealed) = secret.blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Corrupt)?;
        let mut buf = sealed.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Corrupt)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Corrupt)
    }

    /// Whether a stored secret should be re-encrypted under the current key.
    pub fn needs_rotation(&self, secret: &EncryptedSecret) -> bool {
        secret.key_id != self.current.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: [u8; 32] = [1; 32];
    const K2: [u8; 32] = [2; 32];

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = TokenCipher::new(&K1, &[]).unwrap();
        let a = c.encrypt("EAAB-token", "channel:1").unwrap();
        let b = c.encrypt("EAAB-token", "channel:1").unwrap();
        assert_ne!(a.blob, b.blob, "a fresh nonce each time");
        assert!(!String::from_utf8_lossy(&a.blob).contains("EAAB"));
        assert_eq!(c.decrypt(&a, "channel:1").unwrap(), "EAAB-token");
    }

    #[test]
    fn tampering_or_another_context_is_refused() {
        let c = TokenCipher::new(&K1, &[]).unwrap();
        let mut s = c.encrypt("secret", "channel:1").unwrap();
        assert!(matches!(
            c.decrypt(&s, "channel:2"),
            Err(CryptoError::Corrupt)
        ));
        let last = s.blob.len() - 1;
        s.blob[last] ^= 1;
        assert!(matches!(
            c.decrypt(&s, "channel:1"),
            Err(CryptoError::Corrupt)
        ));
    }

    #[test]
    fn rotation_reads_old_and_writes_new() {
        let before = TokenCipher::new(&K1, &[]).unwrap();
        let stored = before.encrypt("secret", "ctx").unwrap();
        let during = TokenCipher::new(&K2, &[&K1]).unwrap();
        assert!(during.needs_rotation(&stored));
        assert_eq!(during.decrypt(&stored, "ctx").unwrap(), "secret");
        let rotated = during.encrypt("secret", "ctx").unwrap();
        assert_eq!(rotated.key_id, key_id(&K2));
        let after = TokenCipher::new(&K2, &[]).unwrap();
        assert!(matches!(
            after.decrypt(&stored, "ctx"),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(after.decrypt(&rotated, "ctx").unwrap(), "secret");
    }
}
