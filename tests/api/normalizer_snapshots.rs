//! How the normalizer understands every real payload in ../shared/fixtures/meta-webhooks, as
//! reviewed snapshots (tests/api/snapshots/): a change in how a payload is read shows up in
//! review as a diff. Accept a deliberate change with `INSTA_UPDATE=always make test` (or
//! `cargo insta review`); under CI a missing or different snapshot fails.

use chrono::{TimeZone, Utc};

use crate::support::real_payload_files;

#[test]
fn every_real_payload_normalizes_as_its_snapshot_says() {
    let Some(files) = real_payload_files() else {
        return;
    };
    // Events without their own time fall back to this, so snapshots do not depend on today.
    let fallback = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for file in files {
        let name = file
            .strip_prefix(file.parent().unwrap().parent().unwrap())
            .unwrap()
            .with_extension("")
            .to_string_lossy()
            .replace(['/', '\\'], "__");
        let body = std::fs::read(&file).unwrap();
        let understood: Vec<_> = match parley::webhooks::split::split_bytes(&body) {
            Ok(drafts) => drafts
                .into_iter()
                .map(|d| {
                    let events = parley::webhooks::normalize::normalize(
                        &d.object,
                        &d.account_id,
                        &d.body,
                        fallback,
                    );
                    (d.object, d.account_id, d.kind, events)
                })
                .collect(),
            Err(e) => panic!("{name} does not split: {e}"),
        };
        insta::assert_debug_snapshot!(name, understood);
    }
}
