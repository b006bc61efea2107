//! Facebook Login's OAuth dialog (also WhatsApp Embedded Signup with `config_id`): the
//! approval page and its Continue / Cancel redirects. Token endpoints are in `tokens.rs`.

use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;
use chrono::Utc;

use super::Inner;
use super::fields::GraphRequest;
use super::seed::{APP_NAME, SeedPage};
use super::util::random_alnum;
use super::world::{AuthCode, PendingDialog, SYSTEM_SCOPES};

/// Permissions the dialog accepts; anything else is an "Invalid Scopes" error.
const KNOWN_SCOPES: &[&str] = &[
    "public_profile",
    "email",
    "pages_show_list",
    "pages_messaging",
    "pages_manage_metadata",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "read_insights",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_content_publish",
    "business_management",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
    "ads_read",
    "ads_management",
    "leads_retrieval",
    "catalog_management",
];

#[derive(Template)]
#[template(path = "dialog.html")]
struct DialogPage<'a> {
    app_name: &'a str,
    user_name: &'a str,
    action: String,
    dialog_id: String,
    scopes: Vec<(String, &'static str)>,
    pages: Vec<&'a SeedPage>,
    signup: bool,
    waba_name: &'a str,
    phone: &'a str,
    verified_name: &'a str,
}

#[derive(Template)]
#[template(path = "dialog_error.html")]
struct DialogError<'a> {
    title: &'a str,
    message: &'a str,
}

fn error_page(title: &str, message: &str) -> HttpResponse {
    match (DialogError { title, message }).render() {
        Ok(html) => HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

const URL_BLOCKED: &str = "This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth Redirect URIs.";

/// `GET /{v}/dialog/oauth` shows the approval page; `POST /{v}/dialog/oauth/confirm` answers it.
pub(crate) fn dialog(inner: &Inner, req: &GraphRequest) -> HttpResponse {
    if req.segments.get(1).map(String::as_str) != Some("oauth") {
        return error_page("Page Not Found", "The link you followed may be broken.");
    }
    if req.method == "POST" && req.segments.get(2).map(String::as_str) == Some("confirm") {
        return confirm(inner, req);
    }
    let seed = inner.world.seed();
    if req.param("client_id") != Some(seed.app_id.as_str()) {
        return error_page(
            "Invalid App ID",
            "The provided app ID does not look like a valid app ID.",
        );
    }
    let redirect_uri = match req.param("redirect_uri") {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => u.to_string(),
        _ => return error_page("URL blocked", URL_BLOCKED),
    };
    if req.param("response_type").is_some_and(|t| t != "code") {
        return error_page(
            "Unsupported response_type",
            "The sandbox supports the code flow only (response_type=code).",
        );
    }
    let mut scopes: Vec<String> = req
        .param("scope")
        .unwrap_or("")
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let invalid: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !KNOWN_SCOPES.contains(s))
        .collect();
    if !invalid.is_empty() {
        return error_page(
            &format!("Invalid Scopes: {}", invalid.join(", ")),
            "This message is only shown to developers. Users of your app will ignore these permissions if present. Please read the documentation for valid permissions at: https://developers.facebook.com/docs/facebook-login/permissions",
        );
    }
    // config_id means Facebook Login for Business; it is Embedded Signup unless the requested
    // scopes are all non-WhatsApp ones.
    let signup = req.param("config_id").is_some_and(|c| !c.is_empty())
        && (scopes.is_empty() || scopes.iter().any(|s| s.starts_with("whatsapp_")));
    if signup && scopes.is_empty() {
        scopes = SYSTEM_SCOPES.iter().map(|s| s.to_string()).collect();
    }
    if !scopes.iter().any(|s| s == "public_profile") && !signup {
        scopes.insert(0, "public_profile".into());
    }
    let dialog_id = random_alnum(24);
    inner.world.lock().dialogs.insert(
        dialog_id.clone(),
        PendingDialog {
            redirect_uri,
            state: req.param("state").map(str::to_string),
            scopes: scopes.clone(),
            signup,
        },
    );
    let page = DialogPage {
        app_name: APP_NAME,
        user_name: &seed.user.name,
        action: format!("/{}/dialog/oauth/confirm", req.version),
        dialog_id,
        scopes: scopes.iter().map(|s| (s.clone(), describe(s))).collect(),
        pages: seed.pages.iter().collect(),
        signup,
        waba_name: &seed.waba.name,
        phone: &seed.phone_number.display_phone_number,
        verified_name: &seed.phone_number.verified_name,
    };
    match page.render() {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// What a permission lets the app do, in the dialog's words.
fn describe(scope: &str) -> &'static str {
    match scope {
        "public_profile" => "Receive your name and profile picture",
        "email" => "Receive your email address",
        "pages_show_list" => "Show a list of the Pages you manage",
        "pages_messaging" => "Manage and access Page conversations in Messenger",
        "pages_manage_metadata" => "Manage accounts, settings and webhooks for a Page",
        "pages_read_engagement" => "Read content posted on the Page",
        "pages_manage_engagement" => "Create and manage content and comments on your Page",
        "pages_read_user_content" => "Read user content on your Page",
        "read_insights" => "Read Page and Instagram insights",
        "instagram_basic" => "Access profile and posts from the Instagram account",
        "instagram_manage_messages" => "Manage and access Instagram Direct messages",
        "instagram_manage_comments" => "Manage comments for the Instagram account",
        "instagram_manage_insights" => "Access insights for the Instagram account",
        "business_management" => "Manage your business",
        "whatsapp_business_management" => "Manage your WhatsApp accounts",
        "whatsapp_business_messaging" => "Send and receive WhatsApp messages",
        _ => "Use this permission",
    }
}

/// Appends query parameters to a URL, before any fragment.
pub(crate) fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (uri, None),
    };
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{query}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn confirm(inner: &Inner, req: &GraphRequest) -> HttpResponse {
    let pending = req
        .param("dialog_id")
        .and_then(|id| inner.world.lock().dialogs.remove(id));
    let Some(pending) = pending else {
        return error_page(
            "This link has expired",
            "Please go back to the app and try logging in again.",
        );
    };
    let state = pending.state.clone().unwrap_or_default();
    let location = if req.param("action") == Some("continue") {
        let code = format!("AQ{}", random_alnum(160));
        inner.world.lock().codes.insert(
            code.clone(),
            AuthCode {
                redirect_uri: pending.redirect_uri.clone(),
                scopes: pending.scopes.clone(),
                created: Utc::now(),
                used: false,
                signup: pending.signup,
            },
        );
        let seed = inner.world.seed();
        let mut pairs = vec![("code", code.as_str())];
        if pending.signup {
            // Mirrors the WA_EMBEDDED_SIGNUP FINISH event's data.
            pairs.push(("waba_id", seed.waba.id.as_str()));
            pairs.push(("phone_number_id", seed.phone_number.id.as_str()));
            pairs.push(("business_id", seed.business_id.as_str()));
        }
        pairs.push(("state", state.as_str()));
        append_query(&pending.redirect_uri, &pairs)
    } else {
        append_query(
            &pending.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_code", "200"),
                ("error_description", "Permissions error"),
                ("error_reason", "user_denied"),
                ("state", state.as_str()),
            ],
        )
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_query_uses_the_right_separator_and_keeps_fragments() {
        assert_eq!(
            append_query("https://a/cb", &[("code", "x y")]),
            "https://a/cb?code=x+y"
        );
        assert_eq!(
            append_query("https://a/cb?t=1", &[("code", "x")]),
            "https://a/cb?t=1&code=x"
        );
        assert_eq!(
            append_query("https://a/cb#f", &[("s", "1")]),
            "https://a/cb?s=1#f"
        );
    }
}
