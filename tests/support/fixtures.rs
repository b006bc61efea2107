//! The real webhook payloads in ../shared/fixtures/meta-webhooks, read in place (never copied).

use std::path::PathBuf;

use parley::models::channels::Platform;
use serde_json::Value;

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/meta-webhooks")
}

/// The routing ids in a payload: entry ids, and WhatsApp phone number ids.
pub fn account_ids(body: &Value) -> Vec<(String, Option<String>)> {
    let mut ids = Vec::new();
    for entry in body
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let entry_id = parley::webhooks::split::id_str(entry.get("id")).unwrap_or_default();
        let mut phones = Vec::new();
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(p) =
                parley::webhooks::split::id_str(change.pointer("/value/metadata/phone_number_id"))
            {
                phones.push(p);
            }
        }
        if phones.is_empty() {
            ids.push((entry_id, None));
        } else {
            ids.extend(phones.into_iter().map(|p| (p, Some(entry_id.clone()))));
        }
    }
    ids
}

/// The real payloads' files in a stable order, or `None` (with a printed notice) when the
/// shared folder is absent.
pub fn real_payload_files() -> Option<Vec<PathBuf>> {
    let dir = fixtures_dir();
    if !dir.exists() {
        // Under CI the folder is always laid beside the checkout: its absence is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent under CI",
            dir.display()
        );
        eprintln!(
            "SKIPPED: {} is absent (a checkout without shared/)",
            dir.display()
        );
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|d| {
            std::fs::read_dir(d.path())
                .unwrap()
                .flatten()
                .map(|f| f.path())
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 200,
        "expected the 210 payloads, found {}",
        files.len()
    );
    Some(files)
}

/// The platform a payload's `object` names.
pub fn platform_of(body: &Value) -> Platform {
    match body.get("object").and_then(Value::as_str) {
        Some("page") => Platform::Messenger,
        Some("instagram") => Platform::Instagram,
        _ => Platform::Whatsapp,
    }
}
