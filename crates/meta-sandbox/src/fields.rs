//! Graph request parameters, `fields=` selection and cursor paging, as Graph does them.

use actix_web::HttpRequest;
use actix_web::web::Bytes;
use serde_json::{Map, Value, json};

use super::auth::MetaError;

/// One Graph call, parsed: path segments after the version and every parameter (query string,
/// then form or JSON body; the body wins).
#[derive(Debug, Clone)]
pub(crate) struct GraphRequest {
    pub method: String,
    pub version: String,
    pub segments: Vec<String>,
    /// Path as called, e.g. `/v24.0/me/accounts`.
    pub path: String,
    pub params: Map<String, Value>,
    query_pairs: Vec<(String, String)>,
    /// The Content-Type header as sent (multipart boundaries are case-sensitive).
    pub content_type: String,
    /// The parts of a `multipart/form-data` body (media uploads), read before dispatch.
    pub parts: Vec<FormPart>,
    pub token: Option<String>,
    /// A body that is neither JSON, a form nor multipart (a Resumable Upload's bytes).
    pub raw: Vec<u8>,
    /// The `file_offset` header of a Resumable Upload.
    pub file_offset: Option<String>,
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub(crate) struct FormPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Reads a multipart body with actix-multipart; an unreadable one yields the parts read so far
/// (the endpoint then reports the missing field, as Graph does).
pub(crate) async fn read_parts(req: &HttpRequest, body: Bytes) -> Vec<FormPart> {
    use futures_util::StreamExt;
    let mut form = actix_multipart::Multipart::new(
        req.headers(),
        futures_util::stream::once(async move { Ok(body) }),
    );
    let mut parts = Vec::new();
    while let Some(Ok(mut field)) = form.next().await {
        let mut data = actix_web::web::BytesMut::new();
        while let Some(Ok(chunk)) = field.next().await {
            data.extend_from_slice(&chunk);
        }
        parts.push(FormPart {
            name: field.name().unwrap_or_default().to_string(),
            filename: field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_string),
            content_type: field.content_type().map(|m| m.essence_str().to_string()),
            data: data.freeze(),
        });
    }
    parts
}

impl GraphRequest {
    pub fn parse(
        req: &HttpRequest,
        body: Bytes,
        parts: Vec<FormPart>,
        version: &str,
        segments: Vec<String>,
    ) -> Self {
        let query_pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let mut params = Map::new();
        for (k, v) in &query_pairs {
            params.insert(k.clone(), Value::String(v.clone()));
        }
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let lower = content_type.to_ascii_lowercase();
        let mut raw = Vec::new();
        if !lower.starts_with("application/json")
            && !lower.starts_with("application/x-www-form-urlencoded")
            && !lower.starts_with("multipart/")
        {
            raw = body.to_vec();
        }
        let file_offset = req
            .headers()
            .get("file_offset")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if lower.starts_with("application/json") {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&body) {
                params.extend(map);
            }
        } else if lower.starts_with("application/x-www-form-urlencoded")
            && let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        {
            for (k, v) in pairs {
                params.insert(k, Value::String(v));
            }
        }
        let header_token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("OAuth "))
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string());
        let token = header_token.or_else(|| match params.get("access_token") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        });
        Self {
            method: req.method().as_str().to_ascii_uppercase(),
            version: version.to_string(),
            path: req.path().to_string(),
            segments,
            params,
            query_pairs,
            content_type,
            parts,
            token,
            raw,
            file_offset,
        }
    }

    /// A scalar parameter as text (JSON numbers and booleans are stringified).
    pub fn param(&self, name: &str) -> Option<&str> {
        match self.params.get(name) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    /// A scalar parameter, also accepting JSON numbers and booleans.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An object or array parameter: sent as JSON, or as a JSON string in a form field.
    pub fn obj(&self, name: &str) -> Option<Value> {
        match self.params.get(name)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            v @ (Value::Object(_) | Value::Array(_)) => Some(v.clone()),
            _ => None,
        }
    }

    /// A boolean parameter (`true`/`false`, also `1`/`0`).
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.text(name)?.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// The `fields=` selection, or `defaults` when absent.
    pub fn fields(&self, defaults: &str) -> Result<Vec<FieldSel>, MetaError> {
        parse_fields(
            self.param("fields")
                .filter(|f| !f.trim().is_empty())
                .unwrap_or(defaults),
        )
    }

    /// The parameters as JSON (what the sandbox records for sends).
    pub fn params_json(&self) -> Value {
        let mut map = self.params.clone();
        for secret in ["access_token", "appsecret_proof"] {
            map.remove(secret);
        }
        Value::Object(map)
    }
}

/// One requested field, with its sub-selection (`name{a,b}`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldSel {
    pub name: String,
    pub sub: Option<Vec<FieldSel>>,
}

/// Parses `id,name,picture.type(large),instagram_business_account{id,username}`. Modifiers
/// like `.type(large)` or `.limit(5)` are accepted and ignored.
pub(crate) fn parse_fields(text: &str) -> Result<Vec<FieldSel>, MetaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let out = parse_list(&chars, &mut pos)?;
    if pos < chars.len() {
        return Err(MetaError::param(format!("Syntax error in fields: {text}")));
    }
    Ok(out)
}

fn parse_list(chars: &[char], pos: &mut usize) -> Result<Vec<FieldSel>, MetaError> {
    let mut out = Vec::new();
    loop {
        let start = *pos;
        while *pos < chars.len() && !matches!(chars[*pos], ',' | '{' | '}' | '.') {
            *pos += 1;
        }
        let name: String = chars[start..*pos]
            .iter()
            .collect::<String>()
            .trim()
            .to_string();
        // Modifiers: `.name(args)`, possibly chained.
        while *pos < chars.len() && chars[*pos] == '.' {
            while *pos < chars.len() && chars[*pos] != ')' {
                *pos += 1;
            }
            *pos += 1;
        }
        let mut sub = None;
        if *pos < chars.len() && chars[*pos] == '{' {
            *pos += 1;
            sub = Some(parse_list(chars, pos)?);
            if *pos >= chars.len() || chars[*pos] != '}' {
                return Err(MetaError::param(
                    "Syntax error: unbalanced braces in fields",
                ));
            }
            *pos += 1;
        }
        if !name.is_empty() {
            out.push(FieldSel { name, sub });
        }
        if *pos < chars.len() && chars[*pos] == ',' {
            *pos += 1;
            continue;
        }
        return Ok(out);
    }
}

/// Nested nodes that, requested without a sub-selection, come back as `{id}` only.
const ID_ONLY: &[&str] = &["instagram_business_account", "media", "parent"];

/// Keeps the requested fields of `full`. A field missing from `full` is omitted if it is in
/// `known` (Meta omits empty fields) and an error otherwise.
pub(crate) fn select(
    full: &Value,
    fields: &[FieldSel],
    node_type: &str,
    known: &[&str],
) -> Result<Value, MetaError> {
    let mut out = Map::new();
    for f in fields {
        match full.get(&f.name) {
            Some(v) => {
                out.insert(f.name.clone(), nested(&f.name, v, f.sub.as_deref()));
            }
            None if known.contains(&f.name.as_str()) => {}
            None => return Err(MetaError::nonexisting_field(&f.name, node_type)),
        }
    }
    Ok(Value::Object(out))
}

fn nested(name: &str, v: &Value, sub: Option<&[FieldSel]>) -> Value {
    match (v, sub) {
        (Value::Object(map), Some(sub)) if map.contains_key("data") && map["data"].is_array() => {
            let data: Vec<Value> = map["data"]
                .as_array()
                .map(|items| items.iter().map(|i| lenient(i, sub)).collect())
                .unwrap_or_default();
            let mut m = map.clone();
            m.insert("data".into(), Value::Array(data));
            Value::Object(m)
        }
        // Edges like `picture` wrap one object in `data`: sub-fields apply inside it.
        (Value::Object(map), Some(sub)) if map.get("data").is_some_and(Value::is_object) => {
            let mut m = map.clone();
            m.insert("data".into(), lenient(&map["data"], sub));
            Value::Object(m)
        }
        (Value::Object(_), Some(sub)) => lenient(v, sub),
        (Value::Object(map), None) if ID_ONLY.contains(&name) && map.contains_key("id") => {
            json!({"id": map["id"]})
        }
        _ => v.clone(),
    }
}

/// Selection inside nested objects: unknown names are skipped.
fn lenient(v: &Value, sub: &[FieldSel]) -> Value {
    let mut out = Map::new();
    for f in sub {
        if let Some(x) = v.get(&f.name) {
            out.insert(f.name.clone(), nested(&f.name, x, f.sub.as_deref()));
        }
    }
    Value::Object(out)
}

/// Selects `fields` on every item.
pub(crate) fn select_all(
    items: &[Value],
    fields: &[FieldSel],
    node_type: &str,
    known: &[&str],
) -> Result<Vec<Value>, MetaError> {
    items
        .iter()
        .map(|i| select(i, fields, node_type, known))
        .collect()
}

fn encode_cursor(key: &str) -> String {
    format!("QVFI{}", hex::encode(key))
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let raw = hex::decode(cursor.strip_prefix("QVFI")?).ok()?;
    String::from_utf8(raw).ok()
}

/// One page of `items` (each `(cursor key, value)`), honouring `limit`, `after` and `before`,
/// with Meta's `paging{cursors{before,after},next?,previous?}`. `next` is a full URL carrying
/// the token, as Meta's are.
pub(crate) fn paginate(
    req: &GraphRequest,
    base_url: &str,
    items: Vec<(String, Value)>,
    default_limit: usize,
) -> Result<Value, MetaError> {
    let limit = match req.text("limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| MetaError::param("Param limit must be a number"))?
            .clamp(1, 100),
        None => default_limit,
    };
    let position = |cursor: &str| -> Result<usize, MetaError> {
        let key = decode_cursor(cursor).ok_or_else(|| MetaError::param("Invalid cursor"))?;
        items
            .iter()
            .position(|(k, _)| *k == key)
            .ok_or_else(|| MetaError::param("Invalid cursor"))
    };
    let (start, end) = if let Some(after) = req.param("after") {
        let s = position(after)? + 1;
        (s, (s + limit).min(items.len()))
    } else if let Some(before) = req.param("before") {
        let e = position(before)?;
        (e.saturating_sub(limit), e)
    } else {
        (0, limit.min(items.len()))
    };
    let page: Vec<Value> = items[start..end].iter().map(|(_, v)| v.clone()).collect();
    if page.is_empty() {
        return Ok(json!({"data": []}));
    }
    let before = encode_cursor(&items[start].0);
    let after = encode_cursor(&items[end - 1].0);
    let mut paging = json!({"cursors": {"before": before, "after": after}});
    if end < items.len() {
        paging["next"] = json!(link(req, base_url, limit, ("after", &after)));
    }
    if start > 0 {
        paging["previous"] = json!(link(req, base_url, limit, ("before", &before)));
    }
    Ok(json!({"data": page, "paging": paging}))
}

fn link(req: &GraphRequest, base_url: &str, limit: usize, cursor: (&str, &str)) -> String {
    let mut pairs: Vec<(String, String)> = req
        .query_pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "after" | "before" | "limit" | "access_token"))
        .cloned()
        .collect();
    if let Some(token) = &req.token {
        pairs.push(("access_token".into(), token.clone()));
    }
    if !pairs.iter().any(|(k, _)| k == "appsecret_proof")
        && let Some(proof) = req.param("appsecret_proof")
    {
        pairs.push(("appsecret_proof".into(), proof.to_string()));
    }
    pairs.push(("limit".into(), limit.to_string()));
    pairs.push((cursor.0.into(), cursor.1.into()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!(
        "{base_url}/{}/{}?{query}",
        req.version,
        req.segments.join("/")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_fields_and_modifiers() {
        let f = parse_fields("id,name,picture.type(large),instagram_business_account{id,username}")
            .unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[2].name, "picture");
        assert_eq!(f[3].sub.as_ref().unwrap().len(), 2);
        assert!(parse_fields("a{b").is_err());
    }

    #[test]
    fn select_omits_unrequested_and_rejects_unknown() {
        let full = json!({"id": "1", "name": "A", "instagram_business_account": {"id": "2", "username": "u"}});
        let f = parse_fields("id,instagram_business_account").unwrap();
        let v = select(&full, &f, "Page", &[]).unwrap();
        assert_eq!(
            v,
            json!({"id": "1", "instagram_business_account": {"id": "2"}})
        );
        let f = parse_fields("id,bogus").unwrap();
        assert!(select(&full, &f, "Page", &[]).is_err());
        let f = parse_fields("id,picture").unwrap();
        assert_eq!(
            select(&full, &f, "Page", &["picture"]).unwrap(),
            json!({"id": "1"})
        );
    }
}
