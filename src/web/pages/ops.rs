//! Health, readiness and metrics endpoints for operators and load balancers.

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

use crate::state::AppState;

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

/// GET /metrics: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
