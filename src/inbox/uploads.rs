//! Files agents attach to replies: checked against what each platform accepts (type, size, and
//! the bytes really being that type), stored in Parley's media dir, and recorded with an
//! unguessable token under which Meta can fetch Messenger/Instagram attachments.

use std::path::Path;

use diesel::prelude::*;

use crate::db::ids::TenantId;
use crate::inbox::InboxError;
use crate::models::attachments::{Attachment, Stored};
use crate::models::channels::Platform;
use crate::models::outbound_media::{self, NewOutboundMedia};

const MB: usize = 1024 * 1024;

/// Largest upload the composer accepts at all (Messenger's limit); the form body may be a little
/// larger for the other fields.
pub const MAX_UPLOAD_BYTES: usize = 25 * MB;

/// The Send API attachment kind of a content type (`image`, `video`, `audio`, `file`).
pub fn kind_of(content_type: &str) -> &'static str {
    match content_type.split('/').next().unwrap_or("") {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "file",
    }
}

/// The largest file of `content_type` a platform accepts, or `None` when it does not take it.
pub fn limit(platform: Platform, content_type: &str) -> Option<usize> {
    let documents = [
        "application/pdf",
        "text/plain",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ];
    match platform {
        Platform::Whatsapp => match content_type {
            "image/jpeg" | "image/png" => Some(5 * MB),
            "video/mp4" | "video/3gpp" => Some(16 * MB),
            "audio/mpeg" | "audio/mp4" | "audio/ogg" | "audio/aac" | "audio/amr" => Some(16 * MB),
            t if documents.contains(&t) => Some(MAX_UPLOAD_BYTES),
            _ => None,
        },
        Platform::Instagram => match content_type {
            "image/jpeg" | "image/png" | "image/gif" => Some(8 * MB),
            "video/mp4" | "audio/mpeg" | "audio/mp4" | "audio/aac" | "audio/ogg" => {
                Some(MAX_UPLOAD_BYTES)
            }
            "application/pdf" => Some(MAX_UPLOAD_BYTES),
            _ => None,
        },
        Platform::Messenger => match content_type {
            "image/jpeg" | "image/png" | "image/gif" => Some(MAX_UPLOAD_BYTES),
            "video/mp4" | "audio/mpeg" | "audio/mp4" | "audio/aac" | "audio/ogg" => {
                Some(MAX_UPLOAD_BYTES)
            }
            t if documents.contains(&t) => Some(MAX_UPLOAD_BYTES),
            _ => None,
        },
    }
}

/// Whether the first bytes look like `content_type` (a renamed .exe is not a JPEG).
pub fn looks_like(content_type: &str, bytes: &[u8]) -> bool {
    let starts = |p: &[u8]| bytes.starts_with(p);
    match content_type {
        "image/jpeg" => starts(&[0xFF, 0xD8, 0xFF]),
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "application/pdf" => starts(b"%PDF-"),
        "video/mp4" | "audio/mp4" | "video/3gpp" => bytes.get(4..8) == Some(b"ftyp"),
        "audio/ogg" => starts(b"OggS"),
        "audio/mpeg" => {
            starts(b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
        }
        "audio/aac" => bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xF0 == 0xF0,
        "audio/amr" => starts(b"#!AMR"),
        // Office formats are zip (new) or OLE (old); text is anything.
        t if t.contains("openxmlformats") => starts(b"PK\x03\x04"),
        "application/msword" | "application/vnd.ms-excel" => starts(&[0xD0, 0xCF, 0x11, 0xE0]),
        "text/plain" => !bytes.contains(&0),
        _ => false,
    }
}

/// A safe file name to show and to give Meta: letters, digits, dot, dash, underscore.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "attachment".into()
    } else {
        trimmed.to_string()
    }
}

/// Checks an upload for `platform`, with a reason an agent can act on.
pub fn check(platform: Platform, content_type: &str, bytes: &[u8]) -> Result<(), InboxError> {
    let Some(max) = limit(platform, content_type) else {
        return Err(InboxError::Invalid(format!(
            "{} does not accept {content_type} files. Send an image (JPEG or PNG), an MP4 video, audio, or a PDF.",
            platform.label()
        )));
    };
    if bytes.is_empty() {
        return Err(InboxError::Invalid("The file is empty.".into()));
    }
    if bytes.len() > max {
        return Err(InboxError::Invalid(format!(
            "The file is {:.1} MB; {} accepts {content_type} up to {} MB.",
            bytes.len() as f64 / MB as f64,
            platform.label(),
            max / MB
        )));
    }
    if !looks_like(content_type, bytes) {
        return Err(InboxError::Invalid(format!(
            "The file does not look like {content_type}. Check that it is not damaged or misnamed."
        )));
    }
    Ok(())
}

pub use crate::models::outbound_media::OutboundMedia;

impl OutboundMedia {
    /// The attachment entry of the message that carries it (shown and served like inbound ones).
    pub fn attachment(&self) -> Attachment {
        Attachment {
            kind: kind_of(&self.content_type).to_string(),
            filename: Some(self.filename.clone()),
            outbound_media: Some(self.token.clone()),
            stored: Some(Stored::File {
                file: self.file.clone(),
                content_type: self.content_type.clone(),
                size: self.size_bytes,
            }),
            ..Attachment::default()
        }
    }
}

/// Writes the checked bytes into `dir` and records them for `tenant`.
pub fn store(
    conn: &mut PgConnection,
    dir: &Path,
    tenant: TenantId,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<OutboundMedia, InboxError> {
    let token = crate::crypto::random_hex(24);
    let file = format!("out-{token}");
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(dir.join(&file), bytes))
        .map_err(|e| InboxError::Storage(format!("could not store the upload: {e}")))?;
    Ok(outbound_media::insert(
        conn,
        &NewOutboundMedia {
            tenant,
            token: &token,
            file: &file,
            filename: &clean_filename(filename),
            content_type,
            size_bytes: bytes.len() as i64,
        },
    )?)
}

/// An upload by its public token (for Meta's fetch), with its tenant; valid for 7 days.
pub fn by_token(
    conn: &mut PgConnection,
    token: &str,
) -> QueryResult<Option<(TenantId, OutboundMedia)>> {
    outbound_media::by_token(conn, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_accept_what_meta_accepts() {
        assert_eq!(limit(Platform::Whatsapp, "image/jpeg"), Some(5 * MB));
        assert_eq!(limit(Platform::Whatsapp, "image/gif"), None);
        assert_eq!(limit(Platform::Messenger, "image/gif"), Some(25 * MB));
        assert_eq!(limit(Platform::Instagram, "text/plain"), None);
        assert_eq!(limit(Platform::Messenger, "application/x-msdownload"), None);
    }

    #[test]
    fn bytes_must_match_the_declared_type() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert!(check(Platform::Messenger, "image/png", png).is_ok());
        assert!(check(Platform::Messenger, "image/jpeg", png).is_err());
        assert!(check(Platform::Messenger, "image/png", b"").is_err());
        let big = [png.as_slice(), &vec![0u8; 6 * MB]].concat();
        let err = check(Platform::Whatsapp, "image/png", &big)
            .unwrap_err()
            .to_string();
        assert!(err.contains("up to 5 MB"), "{err}");
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            clean_filename("Invoice May 2026.pdf"),
            "Invoice_May_2026.pdf"
        );
        assert_eq!(clean_filename("..."), "attachment");
    }
}
