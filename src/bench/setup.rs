//! What every benchmark sets up the same way: Parley's state on a private database, tenants'
//! channels and users, and a server on a free loopback port.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;

use crate::auth::Role;
use crate::db::ids::TenantId;
use crate::models::channels::{Channel, NewChannel, Platform};
use crate::state::AppState;

/// A private PostgreSQL (durable settings) in `dir`, migrated; its URL and a connection.
pub fn database(
    dir: &Path,
) -> Result<
    (
        crate::embedded_pg::EmbeddedPostgres,
        String,
        diesel::PgConnection,
    ),
    String,
> {
    use secrecy::ExposeSecret;
    println!("starting a private PostgreSQL…");
    let pg = crate::embedded_pg::EmbeddedPostgres::start_with(
        &dir.join("pg"),
        crate::embedded_pg::Durability::Durable,
    )
    .map_err(|e| e.to_string())?;
    let url = pg.database_url().expose_secret().to_string();
    let mut conn = crate::db::connect(&url).map_err(|e| e.to_string())?;
    crate::db::migrate(&mut conn).map_err(|e| e.to_string())?;
    Ok((pg, url, conn))
}

/// Runs seeding statements in order.
pub fn execute_all(conn: &mut diesel::PgConnection, statements: &[String]) -> Result<(), String> {
    use diesel::RunQueryDsl;
    for sql in statements {
        diesel::sql_query(sql)
            .execute(conn)
            .map_err(|e| format!("seeding: {e}"))?;
    }
    Ok(())
}

/// Parley's state for a benchmark: its database, a throwaway data folder, fresh keys, `secret`
/// as the app secret and, when given, `graph_url` as Meta.
pub fn state(
    url: &str,
    dir: &Path,
    secret: &str,
    graph_url: Option<&str>,
    pool_size: u32,
) -> Result<AppState, String> {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url.to_string()),
        ("PARLEY_DATA_DIR", dir.join("data").display().to_string()),
        ("PARLEY_SESSION_KEY", crate::crypto::random_hex(64)),
        ("PARLEY_ENCRYPTION_KEY", crate::crypto::random_hex(32)),
        ("META_APP_ID", "1000000000000001".into()),
        ("META_APP_SECRET", secret.into()),
        ("RUST_LOG", "warn".into()),
    ]);
    if let Some(graph) = graph_url {
        vars.insert("META_GRAPH_URL", graph.into());
        vars.insert("META_DIALOG_URL", graph.into());
    }
    let config =
        crate::config::Config::from_lookup(|k| vars.get(k).cloned()).map_err(|e| e.to_string())?;
    let pool = crate::db::build_pool(url, pool_size).map_err(|e| e.to_string())?;
    AppState::new(pool, config).map_err(|e| e.to_string())
}

/// A connected channel of the tenant whose token (sealed at rest, as always) is `token`.
pub fn channel(
    conn: &mut diesel::PgConnection,
    state: &AppState,
    tenant: TenantId,
    platform: Platform,
    platform_id: &str,
    token: &str,
) -> Result<Channel, String> {
    let sealed = crate::channels::seal_token(
        &state.cipher,
        tenant,
        platform,
        platform_id,
        &crate::meta::AccessToken::new(token),
    )
    .map_err(|e| e.to_string())?;
    crate::models::channels::upsert_connected(
        conn,
        &NewChannel {
            tenant_id: tenant,
            platform,
            platform_id: platform_id.into(),
            name: format!("{} {platform_id}", platform.label()),
            username: None,
            picture_url: None,
            page_id: (platform != Platform::Whatsapp).then(|| platform_id.to_string()),
            waba_id: None,
            display_phone_number: None,
            token_ciphertext: Some(sealed.blob),
            token_key_id: Some(sealed.key_id),
            subscribed_fields: vec![],
            connected_by: None,
        },
    )
    .map_err(|e| e.to_string())
}

/// A user of the tenant whose password is [`crate::bench::inbox::PASSWORD`].
pub fn user(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    email: &str,
    role: Role,
) -> Result<crate::db::ids::UserId, String> {
    let hash =
        crate::auth::password::hash(crate::bench::inbox::PASSWORD).map_err(|e| e.to_string())?;
    crate::models::users::create(
        conn,
        &crate::models::users::NewUser {
            tenant_id: tenant,
            email,
            display_name: "Bench user",
            password_hash: &hash,
            role,
        },
    )
    .map(|u| u.id)
    .map_err(|e| e.to_string())
}

/// Serves `state` on a free loopback port; returns its base URL and the server's handle.
pub fn serve(state: &AppState) -> Result<(String, actix_web::dev::ServerHandle), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = crate::web::server::build(state.clone(), listener).map_err(|e| e.to_string())?;
    let handle = server.handle();
    tokio::spawn(server);
    Ok((base, handle))
}

/// Times `requests` GETs of `urls` (in turn, after 5 warm-up requests); returns sorted samples
/// in milliseconds.
pub async fn time_pages(
    client: &reqwest::Client,
    base: &str,
    urls: &[String],
    requests: usize,
) -> Result<Vec<f64>, String> {
    let mut samples = Vec::with_capacity(requests);
    for i in 0..requests + 5 {
        let url = format!("{base}{}", urls[i % urls.len()]);
        let t = std::time::Instant::now();
        let res = client.get(&url).send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        let _ = res.bytes().await;
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        if i >= 5 {
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}
