//! WhatsApp media (multipart upload, media URL lookup, authenticated download with 5-minute
//! URLs) and the sandbox's own generated files under `/_media/static/` (avatars, post images,
//! voice notes, receipts) that simulated customers send.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::auth::MetaError;
use super::graph::Ctx;
use super::util::{random_alnum, sha256_hex, stable_hash};
use super::world::{State, TokenKind};

#[derive(Debug, Clone)]
pub(crate) struct Media {
    pub mime_type: String,
    pub bytes: Bytes,
    pub sha256: String,
}

/// Stores media and returns its new id.
pub(crate) fn store(state: &mut State, bytes: Bytes, mime_type: &str) -> String {
    let id = state.next_id("13752458", 8);
    state.media.insert(
        id.clone(),
        Media {
            mime_type: mime_type.to_string(),
            sha256: sha256_hex(&bytes),
            bytes,
        },
    );
    id
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/_media/wa/{token}", web::get().to(download))
        .route("/_media/static/{tail:.*}", web::get().to(static_file));
}

/// Size limits per type, as Cloud API enforces them.
fn max_size(mime: &str) -> Option<usize> {
    const MB: usize = 1024 * 1024;
    match mime {
        "image/jpeg" | "image/png" => Some(5 * MB),
        "image/webp" => Some(500 * 1024),
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" | "video/mp4"
        | "video/3gpp" => Some(16 * MB),
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(100 * MB),
        _ => None,
    }
}

/// `POST /{phone-number-id}/media` (multipart: `file`, `type`, `messaging_product`).
pub(crate) fn upload(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    if ctx.method() != "POST" {
        return Err(ctx.no_such_edge("WhatsAppBusinessPhoneNumber"));
    }
    if !ctx
        .req
        .content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(MetaError::param(
            "Media uploads must be multipart/form-data",
        ));
    }
    let parts = &ctx.req.parts;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).trim().to_string())
    };
    if text("messaging_product").as_deref() != Some("whatsapp") {
        return Err(MetaError::required("messaging_product"));
    }
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| MetaError::required("file"))?;
    let mime = text("type")
        .or_else(|| file.content_type.clone())
        .ok_or_else(|| MetaError::required("type"))?;
    let limit = max_size(&mime).ok_or_else(|| {
        MetaError::whatsapp(
            131053,
            "Media upload error",
            format!("Unsupported file type {mime}."),
            400,
        )
    })?;
    if file.data.is_empty() || file.data.len() > limit {
        return Err(MetaError::whatsapp(
            131053,
            "Media upload error",
            format!("File size must be between 1 byte and {limit} bytes for {mime}."),
            400,
        ));
    }
    let id = store(&mut ctx.inner.world.lock(), file.data.clone(), &mime);
    Ok(json!({"id": id}))
}

/// `GET /{media-id}` (a 5-minute download URL) and `DELETE /{media-id}`.
pub(crate) fn node(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_whatsapp()?;
    if ctx.edge.is_some() {
        return Err(ctx.no_such_edge("WhatsAppBusinessAccountMedia"));
    }
    if let Some(p) = ctx.req.param("phone_number_id")
        && p != ctx.seed().phone_number.id
    {
        return Err(MetaError::param("Param phone_number_id does not own this media").status(400));
    }
    let mut state = ctx.inner.world.lock();
    match ctx.method() {
        "GET" => {
            let m = state
                .media
                .get(&ctx.id)
                .cloned()
                .ok_or_else(|| ctx.unsupported())?;
            let token = random_alnum(32);
            let expires: DateTime<Utc> = Utc::now() + TimeDelta::minutes(5);
            state
                .media_urls
                .insert(token.clone(), (ctx.id.clone(), expires));
            let url = format!(
                "{}/_media/wa/{token}?mid={}&ext={}&hash={}",
                ctx.inner.base_url,
                ctx.id,
                expires.timestamp(),
                &m.sha256[..12]
            );
            Ok(
                json!({"messaging_product": "whatsapp", "url": url, "mime_type": m.mime_type, "sha256": m.sha256, "file_size": m.bytes.len(), "id": ctx.id}),
            )
        }
        "DELETE" => {
            state.media.remove(&ctx.id);
            Ok(json!({"success": true}))
        }
        _ => Err(ctx.unsupported()),
    }
}

/// Downloads need `Authorization: Bearer <token>` with WhatsApp access; the URL expires.
async fn download(
    req: HttpRequest,
    path: web::Path<String>,
    data: web::Data<Inner>,
) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let state = data.world.lock();
    let authorised = bearer.and_then(|t| state.tokens.get(t)).is_some_and(|t| {
        t.revoked.is_none()
            && t.expires_at.is_none_or(|e| e > Utc::now())
            && (t.kind == TokenKind::SystemUser
                || t.scopes.iter().any(|s| s.starts_with("whatsapp_")))
    });
    if !authorised {
        return HttpResponse::Unauthorized().finish();
    }
    let media = state
        .media_urls
        .get(path.as_str())
        .filter(|(_, expires)| *expires > Utc::now())
        .and_then(|(id, _)| state.media.get(id));
    match media {
        Some(m) => HttpResponse::Ok()
            .content_type(m.mime_type.as_str())
            .body(m.bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn static_file(path: web::Path<String>) -> HttpResponse {
    let name = path.into_inner();
    let (mime, bytes) = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => ("image/png", png(&name)),
        Some("wav") => ("audio/wav", wav()),
        Some("pdf") => ("application/pdf", PDF.to_vec()),
        // A header-only MP4: enough for type sniffing, not a playable video.
        Some("mp4") => ("video/mp4", MP4.to_vec()),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(bytes)
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/MediaBox[0 0 300 144]/Parent 2 0 R/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n4 0 obj<</Length 44>>stream\nBT /F1 18 Tf 20 70 Td (Acme receipt) Tj ET\nendstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const MP4: &[u8] = &[
    0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0, b'i', b's', b'o',
    b'm', b'm', b'p', b'4', b'1',
];

/// One second of a 440 Hz tone, 8 kHz 8-bit mono.
pub(crate) fn wav() -> Vec<u8> {
    let samples: Vec<u8> = (0..8000)
        .map(|i| (128.0 + 60.0 * (i as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin()) as u8)
        .collect();
    let mut out = Vec::with_capacity(44 + samples.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&[16, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&[1, 0, 8, 0]);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A 48×48 PNG in a colour derived from `seed`, with a lighter diagonal band.
pub(crate) fn png(seed: &str) -> Vec<u8> {
    const SIZE: usize = 48;
    let h = stable_hash(&[seed]);
    let base = [
        (h & 0x7f) as u8 + 60,
        ((h >> 8) & 0x7f) as u8 + 60,
        ((h >> 16) & 0x7f) as u8 + 60,
    ];
    let mut raw = Vec::with_capacity(SIZE * (SIZE * 3 + 1));
    for y in 0..SIZE {
        raw.push(0);
        for x in 0..SIZE {
            let band = (x + y) % 24 < 6;
            for c in base {
                raw.push(if band { c.saturating_add(50) } else { c });
            }
        }
    }
    // zlib with one stored (uncompressed) deflate block.
    let len = raw.len() as u16;
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(SIZE as u32).to_be_bytes());
    ihdr.extend_from_slice(&(SIZE as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_have_valid_headers() {
        let p = png("x");
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(&wav()[..4], b"RIFF");
    }
}
