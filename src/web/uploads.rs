//! File uploads (`multipart/form-data`): accepted only on the routes that expect one, read only
//! after routing and sign-in, as a stream through actix-multipart's linear-time parser, with a
//! bounded boundary, a bounded number of fields and a size limit on each.
//!
//! The CSRF guard lets a multipart request without the `X-CSRF-Token` header through to an upload
//! route only; [`read`] then requires the session's token as the form's first field before it
//! reads anything else (forms put the hidden token first, so this works without JavaScript).

use actix_multipart::Multipart;
use actix_web::HttpMessage;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::mime;
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::{HttpRequest, dev::ServiceRequest};
use futures_util::StreamExt;

use crate::auth::csrf;
use crate::crypto::constant_time_eq;
use crate::error::AppError;

/// RFC 2046: a boundary is 1 to 70 characters.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// Whether `path` takes multipart uploads: the composer of a conversation and a template's
/// header example, and nothing else.
pub fn accepts_multipart(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    matches!(
        (segments.next(), segments.next(), segments.next(), segments.next()),
        (Some("inbox"), Some(id), Some("messages"), None)
            | (Some("message-templates"), Some(id), Some("header-media"), None)
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
    )
}

/// Whether a Content-Type is `multipart/form-data` (of any shape, valid or not).
pub fn is_multipart(content_type: &str) -> bool {
    content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/")
}

/// The boundary of a `multipart/form-data` Content-Type, if it is a well-formed one of at most
/// [`MAX_BOUNDARY_LEN`] characters from RFC 2046's alphabet.
pub fn valid_boundary(content_type: &str) -> Option<String> {
    let mime: mime::Mime = content_type.parse().ok()?;
    if mime.type_() != mime::MULTIPART || mime.subtype() != mime::FORM_DATA {
        return None;
    }
    let boundary = mime.get_param(mime::BOUNDARY)?.as_str();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    (!boundary.is_empty()
        && boundary.len() <= MAX_BOUNDARY_LEN
        && !boundary.ends_with(' ')
        && boundary.chars().all(allowed))
    .then(|| boundary.to_string())
}

/// Left in the request by the CSRF guard: the token this upload's first field must carry.
#[derive(Clone)]
pub struct TokenInBody(pub String);

/// Marks `req` as an upload whose CSRF token is still to be read from its body.
pub fn expect_token_in_body(req: &ServiceRequest, expected: String) {
    req.extensions_mut().insert(TokenInBody(expected));
}

/// Limits of one upload form.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Fields in all (repeated names count each time).
    pub max_fields: usize,
    /// Bytes of a text field.
    pub max_text: usize,
    /// Bytes of a file.
    pub max_file: usize,
    /// Bytes of all fields together.
    pub max_total: usize,
}

/// One field of an upload form.
#[derive(Debug)]
pub enum FormField {
    Text {
        name: String,
        value: String,
    },
    File {
        name: String,
        filename: String,
        content_type: Option<String>,
        data: Bytes,
    },
}

/// Reads an upload form whose field names are among `allowed` (others are refused).
pub async fn read(
    req: &HttpRequest,
    payload: Payload,
    allowed: &[&str],
    limits: Limits,
) -> Result<Vec<FormField>, AppError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if valid_boundary(content_type).is_none() {
        return Err(AppError::BadRequest(
            "The upload's Content-Type has no valid boundary (at most 70 characters).".into(),
        ));
    }
    let mut token_due = req.extensions().get::<TokenInBody>().cloned();
    let mut form = Multipart::new(req.headers(), payload);
    let mut fields = Vec::new();
    let mut budget = limits.max_total;
    let mut seen = 0;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        // Every part counts, the token's included, so no form is endless.
        seen += 1;
        if seen > limits.max_fields {
            return Err(AppError::BadRequest("The form has too many fields.".into()));
        }
        let name = field.name().unwrap_or_default().to_string();
        if let Some(TokenInBody(expected)) = token_due.take() {
            // Nothing past the first field is read before the token is known to be right.
            if name != csrf::FIELD {
                return Err(AppError::Csrf);
            }
            let given = collect(&mut field, 256, &mut budget).await?;
            if !constant_time_eq(expected.as_bytes(), &given) {
                return Err(AppError::Csrf);
            }
            continue;
        }
        if name == csrf::FIELD {
            collect(&mut field, 256, &mut budget).await?;
            continue;
        }
        if !allowed.contains(&name.as_str()) {
            return Err(AppError::BadRequest(format!(
                "The form has an unexpected field {:?}.",
                name.chars().take(40).collect::<String>()
            )));
        }
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        match filename {
            Some(filename) => {
                let content_type = field.content_type().map(|m| m.essence_str().to_string());
                let data = collect(&mut field, limits.max_file, &mut budget).await?;
                fields.push(FormField::File {
                    name,
                    filename,
                    content_type,
                    data,
                });
            }
            None => {
                let data = collect(&mut field, limits.max_text, &mut budget).await?;
                fields.push(FormField::Text {
                    name,
                    value: String::from_utf8_lossy(&data).into_owned(),
                });
            }
        }
    }
    if token_due.is_some() {
        return Err(AppError::Csrf);
    }
    Ok(fields)
}

/// Reads one field's bytes, refusing more than `limit` or than what is left of the form's
/// `budget`.
async fn collect(
    field: &mut actix_multipart::Field,
    limit: usize,
    budget: &mut usize,
) -> Result<Bytes, AppError> {
    let mut data = BytesMut::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(bad_form)?;
        if data.len() + chunk.len() > limit || chunk.len() > *budget {
            return Err(AppError::PayloadTooLarge);
        }
        *budget -= chunk.len();
        data.extend_from_slice(&chunk);
    }
    Ok(data.freeze())
}

fn bad_form(e: actix_multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("The upload could not be read: {e}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_composer_takes_uploads() {
        assert!(accepts_multipart("/inbox/12/messages"));
        assert!(!accepts_multipart("/inbox/12/messages/x"));
        assert!(!accepts_multipart("/inbox/x/messages"));
        assert!(!accepts_multipart("/inbox//messages"));
        assert!(!accepts_multipart("/team/users"));
        assert!(!accepts_multipart("/login"));
    }

    #[test]
    fn boundaries_are_bounded() {
        assert_eq!(
            valid_boundary("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(
            valid_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW")
                .as_deref(),
            Some("----WebKitFormBoundary7MA4YWxkTrZu0gW")
        );
        let long = "x".repeat(71);
        assert_eq!(
            valid_boundary(&format!("multipart/form-data; boundary={long}")),
            None
        );
        assert_eq!(valid_boundary("multipart/form-data"), None);
        assert_eq!(valid_boundary("application/json"), None);
        assert!(is_multipart("Multipart/form-data; boundary=x"));
        assert!(is_multipart("multipart/mixed"));
        assert!(!is_multipart("application/x-www-form-urlencoded"));
    }
}
