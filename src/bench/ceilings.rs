//! The machine's ceilings, measured in the same run as the figure they qualify: PostgreSQL's
//! single-row commit rate (pgbench) and a bare actix-web handler's request rate.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use secrecy::ExposeSecret;

use crate::bench::load::{self, Request};
use crate::embedded_pg::EmbeddedPostgres;

/// pgbench single-row INSERT commits/s on `pg` with `clients` connections for `seconds`.
pub fn pgbench(
    pg: &EmbeddedPostgres,
    dir: &Path,
    clients: usize,
    seconds: u64,
) -> Result<f64, String> {
    let url = pg.database_url();
    let mut conn = crate::db::connect(url.expose_secret()).map_err(|e| e.to_string())?;
    diesel::sql_query("CREATE TABLE IF NOT EXISTS bench_insert (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())")
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    let script = dir.join("insert.sql");
    std::fs::write(
        &script,
        "INSERT INTO bench_insert (body) VALUES ('\\x7b7d');\n",
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new(pg.bin_dir().join("pgbench"))
        .args([
            "-n",
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port().to_string(),
            "-U",
            "parley",
        ])
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(crate::embedded_pg::DATABASE_NAME)
        .env("PGPASSWORD", pg.password())
        .output()
        .map_err(|e| format!("pgbench: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            format!(
                "pgbench output not understood: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// Requests/s of a bare actix-web handler (answers "ok") through the same load generator.
pub async fn bare_actix(
    requests: Arc<Vec<Request>>,
    concurrency: usize,
    seconds: u64,
) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = actix_web::HttpServer::new(|| {
        actix_web::App::new().route(
            "/",
            actix_web::web::post().to(|_b: actix_web::web::Bytes| async { "ok" }),
        )
    })
    .listen(listener)
    .map_err(|e| e.to_string())?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    let r = load::run(
        &format!("http://{addr}/"),
        requests,
        concurrency,
        Duration::from_secs(seconds),
    )
    .await;
    handle.stop(true).await;
    Ok(r.per_second())
}
