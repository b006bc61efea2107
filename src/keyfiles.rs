//! Keys that Parley generates for itself when they are not configured, kept in the data dir.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::{Config, ENCRYPTION_KEY_LEN, SESSION_KEY_LEN, SecretBytes};

/// Whether a missing key may be created (serve and demo) or must already exist (worker, CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Generate,
    Fail,
}

/// A key could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error(
        "{var} is not set and {path} does not exist; set {var} (or run `parley serve` once to generate it)"
    )]
    Absent { var: &'static str, path: String },
    #[error("{path} is unreadable or malformed ({why}); fix or delete it, or set {var}")]
    Malformed {
        var: &'static str,
        path: String,
        why: String,
    },
    #[error("cannot store a generated key in {path}: {why}")]
    Write { path: String, why: String },
}

fn secrets_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets")
}

/// Fills in the session and encryption keys from the data dir, generating them if allowed.
pub fn ensure_keys(config: &mut Config, missing: Missing) -> Result<(), KeyFileError> {
    let dir = secrets_dir(&config.data_dir);
    if config.session_key.is_none() {
        config.session_key = Some(load_or_create(
            &dir.join("session.key"),
            "PARLEY_SESSION_KEY",
            SESSION_KEY_LEN,
            missing,
        )?);
    }
    if config.encryption_key.is_none() {
        // Keys retired by `parley keys rotate` in data-dir mode stay readable until every token
        // has been re-encrypted.
        config.old_encryption_keys.extend(load_retired(&dir)?);
        config.encryption_key = Some(load_or_create(
            &dir.join("encryption.key"),
            "PARLEY_ENCRYPTION_KEY",
            ENCRYPTION_KEY_LEN,
            missing,
        )?);
    }
    Ok(())
}

/// Keys kept as `encryption-old-<id>.key` after a rotation.
fn load_retired(dir: &Path) -> Result<Vec<SecretBytes>, KeyFileError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("encryption-old-") && name.ends_with(".key") {
            keys.push(load_or_create(
                &entry.path(),
                "PARLEY_ENCRYPTION_KEYS_OLD",
                ENCRYPTION_KEY_LEN,
                Missing::Fail,
            )?);
        }
    }
    Ok(keys)
}

/// Replaces the data-dir encryption key with a new random one, keeping the old one as
/// `encryption-old-<id>.key` (read by every process until `parley keys rotate` has finished).
/// Returns the new key.
pub fn retire_and_generate(data_dir: &Path) -> Result<SecretBytes, KeyFileError> {
    let dir = secrets_dir(data_dir);
    let current = dir.join("encryption.key");
    let old = load_or_create(
        &current,
        "PARLEY_ENCRYPTION_KEY",
        ENCRYPTION_KEY_LEN,
        Missing::Fail,
    )?;
    let retired = dir.join(format!(
        "encryption-old-{}.key",
        crate::crypto::cipher::key_id(old.expose())
    ));
    fs::rename(&current, &retired).map_err(|e| KeyFileError::Write {
        path: retired.display().to_string(),
        why: e.to_string(),
    })?;
    load_or_create(
        &current,
        "PARLEY_ENCRYPTION_KEY",
        ENCRYPTION_KEY_LEN,
        Missing::Generate,
    )
}

fn load_or_create(
    path: &Path,
    var: &'static str,
    len: usize,
    missing: Missing,
) -> Result<SecretBytes, KeyFileError> {
    let shown = path.display().to_string();
    match fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|e| KeyFileError::Malformed {
                var,
                path: shown.clone(),
                why: e.to_string(),
            })?;
            if bytes.len() != len {
                return Err(KeyFileError::Malformed {
                    var,
                    path: shown,
                    why: format!("expected {len} bytes"),
                });
            }
            Ok(SecretBytes::new(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing == Missing::Generate => {
            let bytes = crate::crypto::random_bytes(len);
            write_private(path, &hex::encode(&bytes)).map_err(|why| KeyFileError::Write {
                path: shown.clone(),
                why,
            })?;
            tracing::warn!(
                variable = var,
                path = %shown,
                "{var} was not set: generated a random key and stored it (mode 0600); keep this file, or set {var}"
            );
            Ok(SecretBytes::new(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(KeyFileError::Absent { var, path: shown })
        }
        Err(e) => Err(KeyFileError::Malformed {
            var,
            path: shown,
            why: e.to_string(),
        }),
    }
}

fn write_private(path: &Path, content: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        fs::set_permissions(parent, fs::Permissions::from_mode(0o700))
            .map_err(|e| e.to_string())?;
    }
    // create_new: two processes starting together must not overwrite each other's key.
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(content.as_bytes())
        .map_err(|e| e.to_string())
}
