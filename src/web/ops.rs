//! Health, readiness and metrics endpoints for operators and load balancers.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::RunQueryDsl;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::state::AppState;
use crate::web::client_address::client_ip;

/// GET /healthz: the process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// GET /readyz: the database answers; 503 otherwise so a load balancer takes this process out.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = crate::db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok(())
    })
    .await;
    match ping {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

/// GET /metrics: Prometheus text format, for the configured addresses (`PARLEY_METRICS_ALLOW`,
/// loopback by default) or with `Authorization: Bearer $PARLEY_METRICS_TOKEN`.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !may_read_metrics(&req, &state.config) {
        return HttpResponse::Forbidden()
            .content_type("text/plain")
            .body("metrics are not available to this address");
    }
    let mut text = state.metrics.render();
    // The queue's figures come from the database, so every process reports the same ones.
    match crate::db::run(&state.pool, |conn| {
        Ok(crate::jobs::queue::counts_by_kind(conn)?)
    })
    .await
    {
        Ok(counts) => text.push_str(&crate::web::metrics::render_jobs(&counts)),
        Err(e) => tracing::warn!(error = %e, "metrics: job counts unavailable"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

fn may_read_metrics(req: &HttpRequest, config: &Config) -> bool {
    if let Some(expected) = &config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(given) = given
            && constant_time_eq(given.trim().as_bytes(), expected.expose_secret().as_bytes())
        {
            return true;
        }
    }
    client_ip(req, &config.trusted_proxies)
        .is_some_and(|ip| config.metrics_allow.iter().any(|net| net.contains(&ip)))
}
