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

/// Parley's Meta app in tests.
pub const TEST_APP_ID: &str = "1000000000000001";
pub const TEST_APP_SECRET: &str = "test-app-secret";
pub const TEST_VERIFY_TOKEN: &str = "test-verify-token";

impl TestApp {
    /// POSTs a body to /webhooks/meta signed with the test app secret.
    pub async fn post_webhook(&self, body: &[u8]) -> reqwest::Response {
        // One client per test process: building one loads TLS roots (tens of milliseconds).
        static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
        CLIENT
            .get_or_init(reqwest::Client::new)
            .post(self.url("/webhooks/meta"))
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                parley::webhooks::verify::sign(TEST_APP_SECRET, body),
            )
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Runs webhook processing rounds until there is nothing left to do.
    pub async fn process_webhooks(&self) {
        for _ in 0..1000 {
            if parley::webhooks::processor::round(&self.state)
                .await
                .unwrap()
                == 0
            {
                return;
            }
        }
        panic!("webhook processing did not settle");
    }

    /// Connects a channel directly with a given token (e.g. one issued by the sandbox).
    pub async fn connect_channel_with_token(
        &self,
        tenant: TenantId,
        platform: parley::models::channels::Platform,
        platform_id: &str,
        waba: Option<&str>,
        token: &str,
    ) -> parley::models::channels::Channel {
        let ch = self
            .connect_channel(tenant, platform, platform_id, waba)
            .await;
        let cipher = self.state.cipher.clone();
        let token = token.to_string();
        self.query(move |c| {
            let sealed = parley::channels::seal_token(
                &cipher,
                tenant,
                platform,
                &ch.platform_id,
                &parley::meta::AccessToken::new(token),
            )
            .unwrap();
            parley::models::channels::replace_token(
                c,
                ch.id,
                ch.token_key_id.as_deref().unwrap(),
                &sealed.blob,
                &sealed.key_id,
            )
            .unwrap();
            ch
        })
        .await
    }

    /// Connects a channel directly (webhook tests; the wizard has its own tests).
    pub async fn connect_channel(
        &self,
        tenant: TenantId,
        platform: parley::models::channels::Platform,
        platform_id: &str,
        waba: Option<&str>,
    ) -> parley::models::channels::Channel {
        let cipher = self.state.cipher.clone();
        let (pid, waba) = (platform_id.to_string(), waba.map(String::from));
        parley::db::run(self.pool(), move |conn| {
            let sealed = parley::channels::seal_token(
                &cipher,
                tenant,
                platform,
                &pid,
                &parley::meta::AccessToken::new("test-token"),
            )
            .unwrap();
            let new = parley::models::channels::NewChannel {
                tenant_id: tenant,
                platform,
                platform_id: pid.clone(),
                name: format!("{} {pid}", platform.label()),
                username: None,
                picture_url: None,
                page_id: (platform != parley::models::channels::Platform::Whatsapp)
                    .then(|| pid.clone()),
                waba_id: waba,
                display_phone_number: None,
                token_ciphertext: Some(sealed.blob),
                token_key_id: Some(sealed.key_id),
                subscribed_fields: vec![],
                connected_by: None,
            };
            Ok(parley::channels::connect::store_channel(conn, &new).unwrap())
        })
        .await
        .unwrap()
    }

    /// Runs a query on the test database.
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PgConnection) -> T + Send + 'static,
    ) -> T {
        parley::db::run(self.pool(), move |conn| Ok(f(conn)))
            .await
            .unwrap()
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

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client with a cookie jar and the last CSRF token it saw.
pub struct Client {
    pub http: reqwest::Client,
    /// The cookie jar `http` uses.
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub csrf: Option<String>,
}

/// The CSRF token a page's forms carry.
pub fn csrf_from(html: &str) -> Option<String> {
    HtmlPage::parse(html).csrf_token()
}

impl Client {
    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    /// GET a page and return its status and body, remembering its CSRF token.
    pub async fn page(&mut self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if let Some(token) = csrf_from(&body) {
            self.csrf = Some(token);
        }
        (status, body)
    }

    /// POST a form with the remembered CSRF token added.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        self.http
            .post(format!("{}{}", self.base, path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// POST a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{}", self.base, path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&mut self, email: &str, password: &str) -> reqwest::Response {
        let (status, _) = self.page("/login").await;
        assert_eq!(status, 200);
        let res = self
            .post_form(
                "/login",
                &[("email", email), ("password", password), ("next", "/")],
            )
            .await;
        if res.status() == 303 {
            // The session (and its CSRF token) is renewed at sign-in: follow to a page to read it.
            let mut next = location(&res);
            for _ in 0..3 {
                let r = self.get(&next).await;
                if r.status() == 303 {
                    next = location(&r);
                    continue;
                }
                if let Some(token) = csrf_from(&r.text().await.unwrap()) {
                    self.csrf = Some(token);
                }
                break;
            }
        }
        res
    }
}

/// The Location header of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The app wired to an in-process Meta sandbox as its Meta (Graph API, dialog and webhooks).
pub async fn app_with_sandbox(page_count: usize) -> (TestApp, meta_sandbox::Sandbox) {
    app_with_sandbox_env(page_count, &[]).await
}

/// Like [`app_with_sandbox`], with extra environment for the app.
pub async fn app_with_sandbox_env(
    page_count: usize,
    extra: &[(&str, &str)],
) -> (TestApp, meta_sandbox::Sandbox) {
    install_crypto_provider();
    let sandbox = meta_sandbox::Sandbox::start_local(meta_sandbox::SandboxConfig {
        app_id: TEST_APP_ID.into(),
        app_secret: TEST_APP_SECRET.into(),
        page_count,
        template_review_delay: std::time::Duration::from_millis(500),
        receipt_delay: std::time::Duration::from_millis(100),
        webhook_retry_backoff: std::time::Duration::from_millis(100),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = sandbox.url();
    let mut env: Vec<(&str, &str)> = vec![("META_GRAPH_URL", &url), ("META_DIALOG_URL", &url)];
    env.extend_from_slice(extra);
    let app = TestApp::spawn_with(&env).await;
    sandbox.set_webhook_url(Some(app.url("/webhooks/meta")));
    (app, sandbox)
}

/// The values of `<input name="field">`, in page order.
pub fn input_values(html: &str, field: &str) -> Vec<String> {
    HtmlPage::parse(html).input_values(field)
}

/// The `action` of the first form in a page.
pub fn form_action(html: &str) -> String {
    HtmlPage::parse(html).form_action().unwrap()
}

impl Client {
    /// GET an absolute URL (another host, e.g. the sandbox's dialog) with this cookie jar.
    pub async fn get_abs(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// Runs step 1 of the connect wizard through the sandbox's dialog; `approve` or decline.
    /// Returns the response of Parley's callback.
    pub async fn through_meta_dialog(
        &mut self,
        start_path: &str,
        approve: bool,
    ) -> reqwest::Response {
        let res = self.post_form(start_path, &[]).await;
        assert_eq!(res.status(), 303, "starting the wizard");
        let dialog = location(&res);
        let page = self.get_abs(&dialog).await;
        assert_eq!(page.status(), 200, "the dialog page");
        let html = page.text().await.unwrap();
        let action = form_action(&html);
        let action = if action.starts_with("http") {
            action
        } else {
            format!("{}{}", dialog.split("/v").next().unwrap(), action)
        };
        let dialog_id = input_values(&html, "dialog_id").remove(0);
        let decision = self
            .http
            .post(&action)
            .form(&[
                ("dialog_id", dialog_id.as_str()),
                ("action", if approve { "continue" } else { "cancel" }),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            decision.status().is_redirection(),
            "the dialog redirects back: {}",
            decision.status()
        );
        let callback = location(&decision);
        assert!(callback.contains("/oauth/meta/callback"), "{callback}");
        self.get_abs(&callback).await
    }
}

/// A sandbox customer of `channel` on `account` whose profile Meta shares.
pub fn sandbox_customer(
    sandbox: &meta_sandbox::Sandbox,
    channel: meta_sandbox::Channel,
    account: &str,
) -> String {
    sandbox
        .world()
        .seed()
        .customers
        .iter()
        .find(|c| c.channel == channel && c.account_id == account && !c.withholds_profile)
        .map(|c| c.id.clone())
        .unwrap()
}

impl TestApp {
    /// Connects the sandbox's first Page to `tenant` with a real Page token and subscribes it to
    /// the messaging fields, as the connect wizard does; returns the Page id.
    pub async fn connect_sandbox_page(
        &self,
        sandbox: &meta_sandbox::Sandbox,
        tenant: TenantId,
    ) -> String {
        let page = sandbox.world().seed().pages[0].clone();
        let token = sandbox
            .issue_token(meta_sandbox::IssueToken::Page {
                page_id: page.id.clone(),
            })
            .unwrap();
        self.connect_channel_with_token(
            tenant,
            parley::models::channels::Platform::Messenger,
            &page.id,
            None,
            &token,
        )
        .await;
        self.state
            .graph
            .subscribe_page(
                &page.id,
                &parley::meta::AccessToken::new(token),
                &[
                    "messages",
                    "message_echoes",
                    "message_deliveries",
                    "message_reads",
                ],
            )
            .await
            .unwrap();
        page.id
    }

    /// Runs every queued job of `kind` once, in this process; returns each one's outcome.
    pub async fn run_queued_jobs(&self, kind: &'static str) -> Vec<Result<(), String>> {
        let jobs = self
            .query(move |c| {
                parley::jobs::queue::list(c, None, Some("queued"), 100)
                    .unwrap()
                    .into_iter()
                    .filter(|j| j.kind == kind)
                    .collect::<Vec<_>>()
            })
            .await;
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            outcomes.push(
                parley::jobs::kinds::run(&self.state, &job)
                    .await
                    .map_err(|e| e.to_string()),
            );
        }
        outcomes
    }
}

impl TestApp {
    /// The id of the first conversation in the database (tests that make exactly one).
    pub async fn first_conversation(&self) -> i64 {
        self.query(|c| {
            use diesel::prelude::*;
            parley::db::schema::conversations::table
                .select(parley::db::schema::conversations::id)
                .order(parley::db::schema::conversations::id)
                .first(c)
                .unwrap()
        })
        .await
    }

    /// Connects the sandbox's WhatsApp number to `tenant` (its account subscribed), has a
    /// customer write `text` `ago`, and returns the conversation's id and the customer's wa_id.
    pub async fn whatsapp_conversation(
        &self,
        sandbox: &meta_sandbox::Sandbox,
        tenant: TenantId,
        text: &str,
        ago: chrono::Duration,
    ) -> (i64, String) {
        let seed = sandbox.world().seed().clone();
        let token = sandbox
            .issue_token(meta_sandbox::IssueToken::SystemUser)
            .unwrap();
        self.connect_channel_with_token(
            tenant,
            parley::models::channels::Platform::Whatsapp,
            &seed.phone_number.id,
            Some(&seed.waba.id),
            &token,
        )
        .await;
        self.state
            .graph
            .whatsapp_subscribe(&seed.waba.id, &parley::meta::AccessToken::new(token))
            .await
            .unwrap();
        let wa = sandbox_customer(
            sandbox,
            meta_sandbox::Channel::WhatsApp,
            &seed.phone_number.id,
        );
        sandbox
            .customer_message(meta_sandbox::CustomerMessage {
                at: Some(chrono::Utc::now() - ago),
                ..meta_sandbox::CustomerMessage::text(wa.clone(), text)
            })
            .await
            .unwrap();
        self.process_webhooks().await;
        (self.first_conversation().await, wa)
    }
}
