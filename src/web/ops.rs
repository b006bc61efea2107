//! Health, readiness and metrics endpoints for operators and load balancers.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::state::AppState;
use crate::telemetry::figures;
use crate::web::client_address::client_ip;

/// GET /healthz: the process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// GET /readyz: the database answers; 503 otherwise so a load balancer takes this process out.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = crate::db::run(&state.pool, |conn| Ok(crate::db::ping(conn)?)).await;
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
    let Some(handle) = state.figures.clone() else {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("another metrics recorder is installed in this process");
    };
    // The queue's and items' figures come from the database, so every process reports the
    // same ones; without the database the rest is still worth reporting.
    match crate::db::run(&state.pool, |conn| {
        Ok((
            crate::jobs::queue::counts_by_kind(conn)?,
            crate::models::webhooks::attention_counts(conn)?,
        ))
    })
    .await
    {
        Ok((jobs, items)) => {
            report_jobs(&jobs);
            for (item_state, count) in items {
                figures::webhook_items(item_state.as_str(), count);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: queue figures unavailable"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// Job gauges: every registered kind in every live state, zero when it has none, so a count that
/// drops to nothing reads 0 rather than its last value.
fn report_jobs(counts: &[(String, String, i64)]) {
    let mut seen = std::collections::HashSet::new();
    for (kind, job_state, n) in counts {
        figures::jobs(kind, job_state, *n);
        seen.insert((kind.as_str(), job_state.as_str()));
    }
    for kind in crate::jobs::kinds::ALL {
        for job_state in crate::db::statuses::JobState::ALL
            .iter()
            .map(|s| s.as_str())
        {
            if !seen.contains(&(*kind, job_state)) {
                figures::jobs(kind, job_state, 0);
            }
        }
    }
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
