//! A small multipart/form-data reader, shared by the composer's uploads, the CSRF guard (for
//! forms posted without JavaScript) and the Meta sandbox's media endpoint.

use actix_web::web::Bytes;

/// The boundary of a `multipart/form-data` Content-Type header value.
pub fn boundary(content_type: &str) -> Option<String> {
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_string())
    })
}

/// One field of the form.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Reads the parts of a multipart/form-data body (fields in order, file bytes as slices).
pub fn parse(body: &Bytes, boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut pos = match find(body, delim.as_bytes(), 0) {
        Some(p) => p + delim.len(),
        None => return parts,
    };
    while let Some(next) = find(body, delim.as_bytes(), pos) {
        let segment = &body[pos..next];
        let segment = segment.strip_prefix(b"\r\n").unwrap_or(segment);
        if let Some(split) = find(segment, b"\r\n\r\n", 0) {
            let headers = String::from_utf8_lossy(&segment[..split]).to_string();
            let mut data = &segment[split + 4..];
            data = data.strip_suffix(b"\r\n").unwrap_or(data);
            let mut part = Part {
                name: String::new(),
                filename: None,
                content_type: None,
                data: body.slice_ref(data),
            };
            for line in headers.lines() {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("content-disposition:") {
                    for attr in line.split(';').skip(1) {
                        if let Some((k, v)) = attr.trim().split_once('=') {
                            let v = v.trim_matches('"').to_string();
                            match k.trim() {
                                "name" => part.name = v,
                                "filename" => part.filename = Some(v),
                                _ => {}
                            }
                        }
                    }
                } else if let Some(ct) = lower.strip_prefix("content-type:") {
                    part.content_type = Some(ct.trim().to_string());
                }
            }
            parts.push(part);
        }
        pos = next + delim.len();
        if body[pos..].starts_with(b"--") {
            break;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts_are_read() {
        let body = Bytes::from_static(b"--XyZ\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n");
        let parts = parse(&body, "XyZ");
        assert_eq!(parts.len(), 2);
        assert_eq!(&parts[0].data[..], b"whatsapp");
        assert_eq!(parts[1].filename.as_deref(), Some("a.png"));
        assert_eq!(&parts[1].data[..], b"\x89PNG");
    }

    #[test]
    fn boundaries_are_found() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(boundary("application/json"), None);
    }
}
