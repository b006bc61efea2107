//! Parley's Meta side in tests: signed webhook deliveries, queued jobs run on demand, and the
//! in-process Meta sandbox wired in as Meta.

use super::*;

/// Parley's Meta app in tests.
pub const TEST_APP_ID: &str = "1000000000000001";
pub const TEST_APP_SECRET: &str = "test-app-secret";
/// The Instagram Login app of the tests' sandbox.
pub const TEST_IG_APP_ID: &str = "1000000000000002";
pub const TEST_IG_APP_SECRET: &str = "test-instagram-secret";
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

/// The app wired to an in-process Meta sandbox as its Meta (Graph API, dialog and webhooks).
pub async fn app_with_sandbox(page_count: usize) -> (TestApp, meta_sandbox::Sandbox) {
    app_with_sandbox_env(page_count, &[]).await
}

/// Like [`app_with_sandbox`], with Instagram Login configured against the sandbox's
/// Instagram hosts, plus `extra` environment.
pub async fn app_with_instagram_login(
    page_count: usize,
    extra: &[(&str, &str)],
) -> (TestApp, meta_sandbox::Sandbox) {
    install_crypto_provider();
    let sandbox = meta_sandbox::Sandbox::start_local(meta_sandbox::SandboxConfig {
        app_id: TEST_APP_ID.into(),
        app_secret: TEST_APP_SECRET.into(),
        instagram_app_id: TEST_IG_APP_ID.into(),
        instagram_app_secret: TEST_IG_APP_SECRET.into(),
        page_count,
        receipt_delay: std::time::Duration::from_millis(100),
        webhook_retry_backoff: std::time::Duration::from_millis(100),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = sandbox.url();
    let (www, api, graph) = sandbox.instagram_urls();
    let mut env: Vec<(&str, &str)> = vec![
        ("META_GRAPH_URL", &url),
        ("META_DIALOG_URL", &url),
        ("META_INSTAGRAM_APP_ID", TEST_IG_APP_ID),
        ("META_INSTAGRAM_APP_SECRET", TEST_IG_APP_SECRET),
        ("META_INSTAGRAM_DIALOG_URL", &www),
        ("META_INSTAGRAM_API_URL", &api),
        ("META_INSTAGRAM_GRAPH_URL", &graph),
    ];
    env.extend_from_slice(extra);
    let app = TestApp::spawn_with(&env).await;
    sandbox.set_webhook_url(Some(app.url("/webhooks/meta")));
    (app, sandbox)
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
                parley::jobs::queue::list(
                    c,
                    None,
                    Some(parley::db::statuses::JobState::Queued),
                    100,
                )
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
    /// The first channel of `platform` in the database.
    pub async fn channel_of(
        &self,
        platform: parley::models::channels::Platform,
    ) -> parley::models::channels::Channel {
        self.query(move |c| {
            use diesel::prelude::*;
            use parley::db::schema::channels::dsl as ch;
            ch::channels
                .filter(ch::platform.eq(platform))
                .order(ch::id)
                .select(parley::models::channels::Channel::as_select())
                .first(c)
                .unwrap()
        })
        .await
    }

    /// The id of the first channel in the database.
    pub async fn first_channel_id(&self) -> i64 {
        self.query(|c| {
            use diesel::prelude::*;
            parley::db::schema::channels::table
                .select(parley::db::schema::channels::id)
                .order(parley::db::schema::channels::id)
                .first(c)
                .unwrap()
        })
        .await
    }

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
