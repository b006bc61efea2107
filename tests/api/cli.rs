//! The `parley` binary: configuration errors, operator commands.

use std::process::{Command, Output};

use crate::support::TestDb;

fn parley(db: Option<&TestDb>, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env(
            "PARLEY_DATA_DIR",
            std::env::temp_dir().join("parley-cli-test"),
        )
        .env("RUST_LOG", "warn");
    if let Some(db) = db {
        cmd.env("DATABASE_URL", &db.url);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_malformed_variable_fails_with_one_clear_line_naming_it() {
    let cases = [
        (
            "PARLEY_BIND",
            "not-an-address",
            "PARLEY_BIND: expected an address and port",
        ),
        (
            "PARLEY_SESSION_KEY",
            "tooshort",
            "PARLEY_SESSION_KEY: expected 128 hexadecimal characters",
        ),
        (
            "DATABASE_URL",
            "mysql://localhost/x",
            "DATABASE_URL: expected a PostgreSQL URL",
        ),
        (
            "META_GRAPH_VERSION",
            "latest",
            "META_GRAPH_VERSION: expected a Graph API version",
        ),
        (
            "PARLEY_LOG_FORMAT",
            "yaml",
            "PARLEY_LOG_FORMAT: expected \"text\" or \"json\"",
        ),
    ];
    for (var, value, expected) in cases {
        let out = parley(None, &[(var, value)], &["migrate"]);
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line for {var}: {err}");
        assert!(err.contains(expected), "{var}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn help_documents_every_command() {
    let out = parley(None, &[], &["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "worker", "migrate", "demo", "admin", "jobs"] {
        assert!(text.contains(cmd), "{cmd} in --help");
    }
    let out = parley(None, &[], &["admin", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("create-user") && text.contains("list-users"));
}

#[test]
fn admin_create_user_creates_the_tenant_and_lists_users() {
    let db = TestDb::new();
    let out = parley(
        Some(&db),
        &[("PARLEY_PASSWORD", "operator chosen password")],
        &[
            "admin",
            "create-user",
            "--tenant",
            "Globex",
            "--email",
            "Hank@Globex.test",
            "--role",
            "admin",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("created hank@globex.test (admin) in tenant \"Globex\"")
    );

    // The password can also come from standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args([
            "admin",
            "create-user",
            "--tenant",
            "globex",
            "--email",
            "ivy@globex.test",
            "--role",
            "analyst",
        ])
        .env("DATABASE_URL", &db.url)
        .env_remove("PARLEY_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"stdin password here\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = parley(Some(&db), &[], &["admin", "list-users"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("hank@globex.test"));
    assert!(listing.contains("ivy@globex.test"));
    assert_eq!(
        listing.matches("Globex").count(),
        2,
        "one tenant, matched case-insensitively: {listing}"
    );

    // Bad input is refused with a reason.
    let out = parley(
        Some(&db),
        &[("PARLEY_PASSWORD", "operator chosen password")],
        &[
            "admin",
            "create-user",
            "--tenant",
            "Globex",
            "--email",
            "x@globex.test",
            "--role",
            "owner",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--role must be one of"));
    let out = parley(
        Some(&db),
        &[("PARLEY_PASSWORD", "short")],
        &[
            "admin",
            "create-user",
            "--tenant",
            "Globex",
            "--email",
            "x@globex.test",
            "--role",
            "agent",
        ],
    );
    assert!(stderr(&out).contains("at least 10 characters"));
}

#[test]
fn jobs_commands_enqueue_list_and_refuse_unknown_kinds() {
    let db = TestDb::new();
    let out = parley(
        Some(&db),
        &[],
        &["jobs", "enqueue", "cleanup_login_throttle"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = parley(Some(&db), &[], &["jobs", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("cleanup_login_throttle"));
    let out = parley(Some(&db), &[], &["jobs", "enqueue", "launch_rockets"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown job kind"));
    let out = parley(Some(&db), &[], &["jobs", "retry", "12345"]);
    assert!(stderr(&out).contains("does not exist or is not dead"));
}

#[test]
fn keys_rotate_re_encrypts_every_token_under_the_new_key() {
    use parley::crypto::TokenCipher;
    use parley::models::channels::{self, NewChannel, Platform};
    let db = TestDb::new();
    let (old, new) = (
        parley::crypto::random_hex(32),
        parley::crypto::random_hex(32),
    );
    let old_cipher = TokenCipher::new(&hex::decode(&old).unwrap(), &[]).unwrap();
    let mut conn = db.connect();
    let tenant = parley::models::tenants::find_or_create(&mut conn, "Acme")
        .unwrap()
        .id;
    for page in ["1", "2"] {
        let sealed = parley::channels::seal_token(
            &old_cipher,
            tenant,
            Platform::Messenger,
            page,
            &parley::meta::AccessToken::new(format!("tok-{page}")),
        )
        .unwrap();
        channels::upsert_connected(
            &mut conn,
            &NewChannel {
                tenant_id: tenant,
                platform: Platform::Messenger,
                platform_id: page.into(),
                name: page.into(),
                username: None,
                picture_url: None,
                page_id: Some(page.into()),
                waba_id: None,
                display_phone_number: None,
                token_ciphertext: Some(sealed.blob),
                token_key_id: Some(sealed.key_id),
                subscribed_fields: vec![],
                connected_by: None,
            },
        )
        .unwrap();
    }
    let out = parley(
        Some(&db),
        &[
            ("PARLEY_ENCRYPTION_KEY", &new),
            ("PARLEY_ENCRYPTION_KEYS_OLD", &old),
            ("PARLEY_SESSION_KEY", &parley::crypto::random_hex(64)),
        ],
        &["keys", "rotate"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-encrypted 2 token(s)"));
    let new_cipher = TokenCipher::new(&hex::decode(&new).unwrap(), &[]).unwrap();
    for c in channels::list(&mut conn, tenant).unwrap() {
        assert_eq!(
            parley::channels::open_token(&new_cipher, &c)
                .unwrap()
                .expose_secret(),
            format!("tok-{}", c.platform_id)
        );
    }
    let out = parley(Some(&db), &[], &["keys", "generate"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 64);
}

#[test]
fn webhooks_commands_list_and_replay_items_and_failed_deliveries() {
    use diesel::prelude::*;
    let db = TestDb::new();
    let mut conn = db.connect();
    diesel::sql_query(
        "INSERT INTO webhook_events (id, body, signature_ok, state, last_error)
         VALUES (7001, '\\x3c68746d6c3e', TRUE, 'failed', 'not JSON'),
                (7002, '\\x7b7d', TRUE, 'split', NULL)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO webhook_items (id, event_id, position, object, account_id, kind, body, state, last_error)
         VALUES (8001, 7002, 0, 'page', '42', 'message', '{}', 'dead', 'boom')",
    )
    .execute(&mut conn)
    .unwrap();
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();

    let out = parley(Some(&db), &[], &["webhooks", "list", "--state", "dead"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("8001") && stdout(&out).contains("boom"));
    assert!(
        stdout(&out).contains("delivery 7001"),
        "failed deliveries are listed too"
    );

    let out = parley(Some(&db), &[], &["webhooks", "replay", "8001"]);
    assert!(
        stdout(&out).contains("1 item(s) queued"),
        "{}",
        stdout(&out)
    );
    let out = parley(
        Some(&db),
        &[],
        &["webhooks", "replay", "--delivery", "7001"],
    );
    assert!(
        stdout(&out).contains("1 failed delivery(ies) queued"),
        "{}",
        stdout(&out)
    );
    let out = parley(
        Some(&db),
        &[],
        &["webhooks", "replay", "--delivery", "7002"],
    );
    assert!(
        stdout(&out).contains("0 failed delivery(ies)"),
        "only failed ones"
    );
    let out = parley(
        Some(&db),
        &[],
        &["webhooks", "replay", "8001", "--delivery", "7001"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("give one of"));

    #[derive(QueryableByName)]
    struct State {
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
    }
    let states: Vec<State> = diesel::sql_query(
        "SELECT state FROM webhook_events WHERE id = 7001
         UNION ALL SELECT state FROM webhook_items WHERE id = 8001",
    )
    .load(&mut conn)
    .unwrap();
    let states: Vec<&str> = states.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["received", "pending"]);
}

#[tokio::test]
async fn admin_reset_password_sets_it_and_signs_the_user_out_everywhere() {
    let app = crate::support::TestApp::spawn().await;
    let (mut browser, _, _) = app
        .signed_in("Acme", "ann@acme.test", parley::auth::Role::Agent)
        .await;
    let db_url = app.db.url.clone();
    let run = |email: &'static str, password: &'static str| {
        let db_url = db_url.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_parley"))
                .args(["admin", "reset-password", "--email", email])
                .env("DATABASE_URL", db_url)
                .env("PARLEY_PASSWORD", password)
                .env("RUST_LOG", "warn")
                .output()
                .unwrap()
        })
    };
    let out = run("ann@acme.test", "short").await.unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 10 characters"));
    let out = run("nobody@acme.test", "a long new password")
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no user has the email"));

    let out = run("ann@acme.test", "a long new password").await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 session(s) signed out"));
    let res = browser.get("/inbox").await;
    assert_eq!(res.status(), 303, "the old session ended");
    let mut fresh = app.client();
    assert_eq!(
        fresh
            .login("ann@acme.test", crate::support::PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        fresh
            .login("ann@acme.test", "a long new password")
            .await
            .status(),
        303
    );
}

/// The Dockerfile's HEALTHCHECK command, as its exec form lists it.
fn dockerfile_healthcheck() -> Vec<String> {
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let line = dockerfile
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("the Dockerfile has a HEALTHCHECK");
    let json = &line[line.find("CMD").unwrap() + 3..];
    serde_json::from_str(json.trim()).expect("HEALTHCHECK uses the exec form")
}

#[tokio::test]
async fn the_dockerfile_healthcheck_passes_for_a_ready_server_and_fails_otherwise() {
    let command = dockerfile_healthcheck();
    assert_eq!(command[0], "/usr/local/bin/parley", "{command:?}");
    let app = crate::support::TestApp::spawn().await;
    let run = |bind: String| {
        let args = command[1..].to_vec();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_parley"))
                .args(args)
                .env("PARLEY_BIND", bind)
                .env_remove("DATABASE_URL")
                .output()
                .unwrap()
        })
    };
    let port = app.address.rsplit(':').next().unwrap().to_string();
    // As in the image: bound to every interface, checked over loopback.
    let ready = run(format!("0.0.0.0:{port}")).await.unwrap();
    assert!(ready.status.success(), "{}", stderr(&ready));

    let no_database = app.server_without_database();
    let unready = run(no_database.to_string()).await.unwrap();
    assert_eq!(unready.status.code(), Some(1), "{}", stderr(&unready));
    // Its /readyz answers 503 once the pool gives up, after the check has timed out.
    assert!(
        stderr(&unready).contains("not ready"),
        "{}",
        stderr(&unready)
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let down = run(addr.to_string()).await.unwrap();
    assert_eq!(down.status.code(), Some(1));
    assert!(stderr(&down).contains("cannot connect"));
}
