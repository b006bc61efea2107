//! OAuth dialog, code and token exchanges, debug_token, revocation.

use meta_sandbox::{IssueToken, TokenKind, TokenSelector};

use super::{Env, SECRET, env, read};

const REDIRECT: &str = "https://parley.example/oauth/meta/callback";

/// Opens the dialog and answers it; returns the Location of the redirect.
async fn dialog(env: &Env, params: &[(&str, &str)], action: &str) -> String {
    let resp = env
        .http
        .get(env.graph("dialog/oauth"))
        .query(params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let marker = "name=\"dialog_id\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let id = &html[start..start + html[start..].find('"').unwrap()];
    let resp = env
        .http
        .post(env.graph("dialog/oauth/confirm"))
        .form(&[("dialog_id", id), ("action", action)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    resp.headers()["location"].to_str().unwrap().to_string()
}

fn query_value(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    pairs.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

async fn login_code(env: &Env, redirect: &str) -> String {
    let app_id = env.sb.world().seed().app_id.clone();
    let params = [
        ("client_id", app_id.as_str()),
        ("redirect_uri", redirect),
        ("state", "st8"),
        ("scope", "pages_show_list,pages_messaging"),
        ("response_type", "code"),
    ];
    let location = dialog(env, &params, "continue").await;
    query_value(&location, "code").unwrap()
}

async fn exchange(env: &Env, params: &[(&str, &str)]) -> super::Resp {
    read(
        env.http
            .get(env.graph("oauth/access_token"))
            .query(params)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn dialog_shows_the_shared_accounts_and_redirects_on_approve_and_deny() {
    let env = env().await;
    let app_id = env.sb.world().seed().app_id.clone();
    let page = env
        .http
        .get(env.graph("dialog/oauth"))
        .query(&[
            ("client_id", app_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "abc"),
            ("scope", "pages_messaging"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Acme Coffee") && page.contains("@acmecoffee") && page.contains("@acmebikes")
    );
    assert!(
        page.contains("pages_messaging")
            && page.contains("value=\"continue\"")
            && page.contains("value=\"cancel\"")
    );

    let params = [
        ("client_id", app_id.as_str()),
        ("redirect_uri", "https://a.example/cb?tenant=7"),
        ("state", "s t"),
        ("scope", "pages_show_list"),
    ];
    let approved = dialog(&env, &params, "continue").await;
    assert!(
        approved.starts_with("https://a.example/cb?tenant=7&code="),
        "{approved}"
    );
    assert_eq!(query_value(&approved, "state").as_deref(), Some("s t"));

    let denied = dialog(&env, &params, "cancel").await;
    assert!(
        denied.starts_with("https://a.example/cb?tenant=7&error=access_denied"),
        "{denied}"
    );
    assert!(
        denied.contains(
            "error_code=200&error_description=Permissions+error&error_reason=user_denied&state=s+t"
        ),
        "{denied}"
    );

    // Wrong app or no redirect_uri: an error page, never a redirect.
    for q in [
        vec![("client_id", "42"), ("redirect_uri", REDIRECT)],
        vec![("client_id", app_id.as_str())],
    ] {
        let resp = env
            .http
            .get(env.graph("dialog/oauth"))
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_the_redirect_uri() {
    let env = env().await;
    let app_id = env.sb.world().seed().app_id.clone();
    let code = login_code(&env, REDIRECT).await;
    let base = [
        ("client_id", app_id.as_str()),
        ("client_secret", SECRET),
        ("code", code.as_str()),
    ];

    let mut wrong = base.to_vec();
    wrong.push(("redirect_uri", "https://evil.example/cb"));
    let msg = exchange(&env, &wrong)
        .await
        .assert_error(400, 100, Some(36008))
        .to_string();
    assert!(msg.contains("redirect_uri is identical"), "{msg}");

    let mut right = base.to_vec();
    right.push(("redirect_uri", REDIRECT));
    let resp = exchange(&env, &right).await;
    let body = resp.ok();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 5183);
    let short = body["access_token"].as_str().unwrap().to_string();

    let again = exchange(&env, &right).await;
    assert_eq!(
        again.assert_error(400, 100, Some(36009)),
        "This authorization code has been used."
    );

    let mut bad_secret = right.clone();
    bad_secret[1] = ("client_secret", "nope");
    exchange(&env, &bad_secret).await.assert_error(400, 1, None);

    // Long-lived exchange.
    let long = exchange(
        &env,
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", &app_id),
            ("client_secret", SECRET),
            ("fb_exchange_token", &short),
        ],
    )
    .await;
    assert_eq!(long.ok()["expires_in"], 5_183_944);
    let long_token = long.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(long_token, short);
    let me = env.get("me", &long_token, &[("fields", "id,name")]).await;
    assert_eq!(me.ok()["name"], "Sandbox Admin");
}

#[tokio::test]
async fn embedded_signup_returns_waba_and_a_system_user_token() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let params = [
        ("client_id", seed.app_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("config_id", "777"),
        ("state", "es"),
        ("response_type", "code"),
    ];
    let location = dialog(&env, &params, "continue").await;
    assert_eq!(
        query_value(&location, "waba_id"),
        Some(seed.waba.id.clone())
    );
    assert_eq!(
        query_value(&location, "phone_number_id"),
        Some(seed.phone_number.id.clone())
    );
    let code = query_value(&location, "code").unwrap();
    let resp = exchange(
        &env,
        &[
            ("client_id", &seed.app_id),
            ("client_secret", SECRET),
            ("code", &code),
        ],
    )
    .await;
    let token = resp.ok()["access_token"].as_str().unwrap().to_string();
    let app_token = format!("{}|{SECRET}", seed.app_id);
    let debug = env
        .http
        .get(env.graph("debug_token"))
        .query(&[
            ("input_token", token.as_str()),
            ("access_token", &app_token),
        ])
        .send()
        .await
        .unwrap();
    let data = read(debug).await.body["data"].clone();
    assert_eq!(data["type"], "SYSTEM_USER");
    assert_eq!(data["expires_at"], 0);
    let granular = data["granular_scopes"].as_array().unwrap();
    assert!(
        granular
            .iter()
            .any(|g| g["scope"] == "whatsapp_business_messaging"
                && g["target_ids"][0] == seed.waba.id)
    );
}

#[tokio::test]
async fn debug_token_reports_valid_then_revoked_and_calls_fail_with_the_subcode() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let user = env.token(IssueToken::User);
    let app_token = format!("{}|{SECRET}", seed.app_id);
    let debug = |t: String| {
        let req = env
            .http
            .get(env.graph("debug_token"))
            .query(&[("input_token", t), ("access_token", app_token.clone())]);
        async move { read(req.send().await.unwrap()).await }
    };
    let data = debug(user.clone()).await.ok()["data"].clone();
    assert_eq!(data["is_valid"], true);
    assert_eq!(data["type"], "USER");
    assert_eq!(data["app_id"], seed.app_id);
    assert_eq!(data["user_id"], seed.user.id);
    assert!(
        data["granular_scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["scope"] == "pages_messaging"
                && g["target_ids"].as_array().unwrap().len() == 3)
    );

    // Page tokens derived from the user token die with it.
    let accounts = env.get("me/accounts", &user, &[]).await;
    let page_token = accounts.ok()["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The user token and the three Page tokens `me/accounts` derived from it.
    assert_eq!(
        env.sb
            .revoke_token(TokenSelector::Kind(TokenKind::User), 460),
        4
    );

    let data = debug(user.clone()).await.body["data"].clone();
    assert_eq!(data["is_valid"], false);
    assert_eq!(data["error"]["code"], 190);
    assert_eq!(data["error"]["subcode"], 460);
    let msg = env
        .get("me", &user, &[])
        .await
        .assert_error(400, 190, Some(460))
        .to_string();
    assert!(msg.contains("changed their password"), "{msg}");
    env.get("me", &page_token, &[])
        .await
        .assert_error(400, 190, Some(460));

    let unknown = debug("garbage".into()).await.body["data"].clone();
    assert_eq!(unknown["is_valid"], false);
}
