//! Meta's Resumable Upload API, as template media headers use it: `POST /{app-id}/uploads`
//! opens a session for a file of a given length and type; `POST /upload:<id>` with the bytes
//! from `file_offset` returns the file's handle (`h`) once it is complete, and `GET` says how
//! far it got.

use serde_json::{Value, json};

use super::auth::MetaError;
use super::graph::Ctx;

/// The types Meta accepts.
const TYPES: [&str; 5] = [
    "application/pdf",
    "image/jpeg",
    "image/jpg",
    "image/png",
    "video/mp4",
];

/// An upload in progress.
#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    pub length: usize,
    pub file_type: String,
    pub received: Vec<u8>,
}

/// `POST /{app-id}/uploads?file_name&file_length&file_type`.
pub(crate) fn start(ctx: &Ctx) -> Result<Value, MetaError> {
    if ctx.method() != "POST" {
        return Err(ctx.unsupported());
    }
    let length = ctx
        .req
        .text("file_length")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .ok_or_else(|| MetaError::required("file_length"))?;
    let file_type = ctx
        .req
        .text("file_type")
        .ok_or_else(|| MetaError::required("file_type"))?;
    if !TYPES.contains(&file_type.as_str()) {
        return Err(MetaError::param(format!(
            "Param file_type must be one of {{{}}} - got \"{file_type}\".",
            TYPES.join(", ")
        )));
    }
    let mut state = ctx.inner.world.lock();
    let id = format!("upload:{}", state.next_id("MTpt", 12));
    state.uploads.insert(
        id.clone(),
        Session {
            length,
            file_type,
            received: Vec::new(),
        },
    );
    Ok(json!({"id": id}))
}

/// `POST /upload:<id>` (bytes from `file_offset`), or `GET` for the offset reached.
pub(crate) fn write(ctx: &Ctx) -> Result<Value, MetaError> {
    let mut state = ctx.inner.world.lock();
    let done = {
        let session = state
            .uploads
            .get_mut(&ctx.id)
            .ok_or_else(|| ctx.unsupported())?;
        if ctx.method() == "GET" {
            return Ok(json!({"id": ctx.id, "file_offset": session.received.len()}));
        }
        let offset = ctx
            .req
            .file_offset
            .as_deref()
            .and_then(|o| o.trim().parse::<usize>().ok())
            .ok_or_else(|| MetaError::required("file_offset"))?;
        if offset != session.received.len() {
            return Err(MetaError::param(format!(
                "The upload is at offset {}; resume from there.",
                session.received.len()
            )));
        }
        session.received.extend_from_slice(&ctx.req.raw);
        if session.received.len() > session.length {
            return Err(MetaError::param("More bytes than file_length."));
        }
        session.received.len() == session.length
    };
    if !done {
        let reached = state.uploads.get(&ctx.id).map(|s| s.received.len());
        return Ok(json!({"id": ctx.id, "file_offset": reached}));
    }
    let handle = format!("4::{}", ctx.id.trim_start_matches("upload:"));
    let file_type = state
        .uploads
        .get(&ctx.id)
        .map(|s| s.file_type.clone())
        .unwrap_or_default();
    state.upload_handles.push((handle.clone(), file_type));
    Ok(json!({"h": handle}))
}
