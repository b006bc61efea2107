//! Shared test harness: a real PostgreSQL (Parley's own embedded cluster, started once and shared
//! by every test process), a fresh database per test cloned from a migrated template, and the
//! real application served over HTTP on a random port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::OnceLock;

use diesel::prelude::*;
use parley::auth::Role;
use parley::config::Config;
use parley::db::ids::{TenantId, UserId};
use parley::db::{self, PgPool};
use parley::embedded_pg::{Durability, EmbeddedPostgres};
pub use parley::html_page::HtmlPage;
use parley::models::{tenants, users};
use parley::state::AppState;
use secrecy::ExposeSecret;
use sha2::Digest;

mod client;
mod fixtures;
mod inbox;
mod meta;
mod webhooks;

// Each test binary uses its own part of the harness.
#[allow(unused_imports)]
pub use client::*;
#[allow(unused_imports)]
pub use fixtures::*;
#[allow(unused_imports)]
pub use inbox::*;
#[allow(unused_imports)]
pub use meta::*;
#[allow(unused_imports)]
pub use webhooks::*;

/// Where the shared test cluster lives.
fn cluster_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-pg")
}

/// URL of a database on the test server that is used to create the others.
fn maintenance_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("PARLEY_TEST_DATABASE_URL") {
            return url;
        }
        let root = cluster_root();
        std::fs::create_dir_all(&root).unwrap();
        // One process at a time initialises or starts the shared cluster.
        let lock = std::fs::File::create(root.with_extension("lock")).unwrap();
        // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
        assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
        let pg = EmbeddedPostgres::start_with(&root.join("pg"), Durability::Throwaway)
            .unwrap_or_else(|e| panic!("cannot start the test PostgreSQL cluster: {e}"));
        let url = pg.database_url().expose_secret().to_string();
        pg.keep_running();
        drop(lock);
        url
    })
}

/// Name of the migrated template database for the current migrations.
fn template_name() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flat_map(|e| std::fs::read_dir(e.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut hasher = sha2::Sha256::new();
    for f in files {
        hasher.update(f.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&f).unwrap());
    }
    format!("parley_tmpl_{}", &hex::encode(hasher.finalize())[..16])
}

fn url_for(database: &str) -> String {
    let base = maintenance_url();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{database}")
}

fn ensure_template(conn: &mut PgConnection) -> String {
    let name = template_name();
    diesel::sql_query("SELECT pg_advisory_lock(4242)")
        .execute(conn)
        .unwrap();
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(conn)
    .unwrap();
    if !exists {
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(conn)
            .unwrap();
        let mut tmpl = db::connect(&url_for(&name)).unwrap();
        db::migrate(&mut tmpl).unwrap();
    }
    diesel::sql_query("SELECT pg_advisory_unlock(4242)")
        .execute(conn)
        .unwrap();
    name
}

/// A database of its own for one test, dropped at the end.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A fresh, migrated database.
    pub fn new() -> Self {
        Self::create(true)
    }

    /// A fresh database with no tables (for migration tests).
    pub fn empty() -> Self {
        Self::create(false)
    }

    fn create(migrated: bool) -> Self {
        let mut conn = db::connect(maintenance_url()).unwrap();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let sql = if migrated {
            format!(
                "CREATE DATABASE {name} TEMPLATE {}",
                ensure_template(&mut conn)
            )
        } else {
            format!("CREATE DATABASE {name}")
        };
        diesel::sql_query(sql).execute(&mut conn).unwrap();
        TestDb {
            url: url_for(&name),
            name,
        }
    }

    pub fn connect(&self) -> PgConnection {
        db::connect(&self.url).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = db::connect(maintenance_url()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// Configuration for a test app on `db`.
pub fn test_config(db: &TestDb, extra: &[(&str, &str)]) -> Config {
    let data_dir =
        std::env::temp_dir().join(format!("parley-test-{}", uuid::Uuid::new_v4().simple()));
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url.clone()),
        ("PARLEY_DATA_DIR".into(), data_dir.display().to_string()),
        ("PARLEY_BIND".into(), "127.0.0.1:0".into()),
        ("PARLEY_SESSION_KEY".into(), parley::crypto::random_hex(64)),
        (
            "PARLEY_ENCRYPTION_KEY".into(),
            parley::crypto::random_hex(32),
        ),
        ("META_APP_ID".into(), TEST_APP_ID.into()),
        ("META_APP_SECRET".into(), TEST_APP_SECRET.into()),
        ("META_VERIFY_TOKEN".into(), TEST_VERIFY_TOKEN.into()),
    ]);
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

/// The application served over real HTTP on a random port, with its own database.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub db: TestDb,
    server: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra_env: &[(&str, &str)]) -> Self {
        install_crypto_provider();
        parley::telemetry::init(parley::config::LogFormat::Text);
        let db = tokio::task::spawn_blocking(TestDb::new).await.unwrap();
        let mut config = test_config(&db, extra_env);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        config.public_url = address.clone();
        let state = AppState::new(db::build_pool(&db.url, 12).unwrap(), config).unwrap();
        let server = parley::web::server::build(state.clone(), listener).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            address,
            state,
            db,
            server: handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests assert them).
    pub fn client(&self) -> Client {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Client {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar,
            base: self.address.clone(),
            csrf: None,
        }
    }

    /// Another browser holding a copy of `client`'s cookies (a stolen session cookie).
    pub fn copy_of(&self, client: &Client) -> Client {
        use reqwest::cookie::CookieStore;
        let copy = self.client();
        let url: reqwest::Url = self.address.parse().unwrap();
        if let Some(cookies) = client.jar.cookies(&url) {
            for cookie in cookies.to_str().unwrap().split("; ") {
                copy.jar.add_cookie_str(cookie, &url);
            }
        }
        Client {
            csrf: client.csrf.clone(),
            ..copy
        }
    }

    /// Creates a user (and the tenant if needed) directly in the database.
    pub async fn create_user(
        &self,
        tenant: &str,
        email: &str,
        role: Role,
        password: &str,
    ) -> (TenantId, UserId) {
        let (tenant, email, password) =
            (tenant.to_string(), email.to_string(), password.to_string());
        parley::db::run(self.pool(), move |conn| {
            let t = tenants::find_or_create(conn, &tenant)?;
            let hash = parley::auth::password::hash(&password).unwrap();
            let display_name = email.split('@').next().unwrap().to_string();
            let u = users::create(
                conn,
                &users::NewUser {
                    tenant_id: t.id,
                    email: &email,
                    display_name: &display_name,
                    password_hash: &hash,
                    role,
                },
            )?;
            Ok((t.id, u.id))
        })
        .await
        .unwrap()
    }

    /// A client signed in as a new user of `tenant` with `role`.
    pub async fn signed_in(
        &self,
        tenant: &str,
        email: &str,
        role: Role,
    ) -> (Client, TenantId, UserId) {
        let (t, u) = self.create_user(tenant, email, role, PASSWORD).await;
        let mut client = self.client();
        let res = client.login(email, PASSWORD).await;
        assert_eq!(res.status(), 303, "sign-in as {email} failed");
        (client, t, u)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the database is dropped (with FORCE) right after.
        drop(self.server.stop(false));
    }
}

impl TestApp {
    /// Another server with this app's configuration whose database cannot be reached.
    pub fn server_without_database(&self) -> std::net::SocketAddr {
        let mut config = (*self.state.config).clone();
        config.database_url = None;
        let pool = db::build_pool("postgres://nobody@127.0.0.1:1/none", 1).unwrap();
        let state = AppState::new(pool, config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(parley::web::server::build(state, listener).unwrap());
        addr
    }
}
