//! Builds the HTTP server: middleware stack, sessions, static files and the route table.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::csrf;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{metrics, routes};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "parley_session";

/// Where static assets are read from: `PARLEY_STATIC_DIR`, else `./static`, else the source tree's.
pub fn static_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PARLEY_STATIC_DIR") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("static");
    if local.join("app.css").exists() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
}

/// The page policy: everything from Parley itself; forms may also lead to Meta's OAuth dialog
/// (the connect wizard's first step is a form whose answer redirects there). Images may come
/// from any https host (Meta's CDN serves post thumbnails) and from Meta's own origin, which in
/// the demo is the local sandbox.
fn content_security_policy(dialog_url: &str) -> String {
    let origin: String = dialog_url
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    format!(
        "default-src 'self'; img-src 'self' data: https: {origin}; style-src 'self'; \
         script-src 'self'; frame-ancestors 'none'; form-action 'self' {origin}"
    )
}

/// Starts serving on `listener`; the returned server runs until stopped.
pub fn build(state: AppState, listener: TcpListener) -> Result<Server, AppError> {
    let key_bytes = state
        .config
        .session_key
        .as_ref()
        .ok_or_else(|| AppError::Internal("PARLEY_SESSION_KEY is not set".into()))?
        .expose()
        .to_vec();
    let key = Key::try_from(key_bytes.as_slice())
        .map_err(|e| AppError::Internal(format!("session key: {e}")))?;
    let secure = state.config.public_url_is_https();
    let static_dir = static_dir();
    let csp = content_security_policy(&state.config.meta.dialog_url);
    // One group-commit writer for webhook deliveries, shared by every HTTP worker.
    let ingest = web::Data::new(crate::webhooks::ingest::Ingest::start(
        state.pool.clone(),
        state.deliveries_stored.clone(),
    ));
    // One LISTEN connection per process feeds every open page's live stream.
    let live = web::Data::new(crate::inbox::live::Live::new(
        state.pool.clone(),
        state.config.live_streams_max,
    ));
    let data = web::Data::new(state);

    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_name(SESSION_COOKIE.into())
            .cookie_secure(secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(PersistentSession::default().session_ttl(CookieDuration::hours(12)))
            .build();
        App::new()
            .app_data(data.clone())
            .app_data(ingest.clone())
            .app_data(live.clone())
            .app_data(web::FormConfig::default().limit(256 * 1024))
            .service(
                actix_files::Files::new("/static", static_dir.clone())
                    .use_etag(true)
                    .use_last_modified(true),
            )
            .configure(routes::configure)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(AppError::NotFound)
            }))
            // Order: the last `wrap` runs first. Sessions must exist before the CSRF guard reads them.
            .wrap(from_fn(csrf::guard))
            .wrap(sessions)
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("Content-Security-Policy", csp.clone())),
            )
            .wrap(Compress::default())
            .wrap(from_fn(metrics::track))
            .wrap(tracing_actix_web::TracingLogger::<metrics::RequestSpan>::new())
    })
    .listen(listener)
    .map_err(|e| AppError::Internal(format!("cannot listen: {e}")))?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}
