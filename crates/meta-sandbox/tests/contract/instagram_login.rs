//! Instagram Login's hosts: the window and code exchange, 60-day tokens and Meta's refresh
//! rules, each host knowing only its own app's tokens, and the Conversations API.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;

use crate::{Resp, env, read};

const IG_SECRET: &str = meta_sandbox::DEFAULT_INSTAGRAM_APP_SECRET;
const STUDIO: &str = meta_sandbox::STUDIO_IG_ID;

fn ig_proof(token: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(IG_SECRET.as_bytes()).unwrap();
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Allows the window as `account` and exchanges the code: a 60-day token.
async fn login(e: &crate::Env, account: &str) -> String {
    let (www, api, graph) = e.sb.instagram_urls();
    let redirect = "https://parley.example/oauth/instagram/callback";
    let window = e
        .http
        .get(format!("{www}/oauth/authorize"))
        .query(&[
            ("client_id", meta_sandbox::DEFAULT_INSTAGRAM_APP_ID),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            (
                "scope",
                "instagram_business_basic,instagram_business_manage_messages",
            ),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(window.status(), 200);
    let html = window.text().await.unwrap();
    let dialog_id = html
        .split("name=\"dialog_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let back = e
        .http
        .post(format!("{www}/oauth/authorize/confirm"))
        .form(&[
            ("dialog_id", dialog_id.as_str()),
            ("account", account),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 302);
    let location = back.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.ends_with("#_") && location.contains("state=s1"),
        "{location}"
    );
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap()
        .to_string();
    let short = read(
        e.http
            .post(format!("{api}/oauth/access_token"))
            .form(&[
                ("client_id", meta_sandbox::DEFAULT_INSTAGRAM_APP_ID),
                ("client_secret", IG_SECRET),
                ("grant_type", "authorization_code"),
                ("redirect_uri", redirect),
                ("code", code.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let grant = &short.ok()["data"][0];
    assert_eq!(grant["user_id"], account);
    let short_token = grant["access_token"].as_str().unwrap().to_string();
    let long = read(
        e.http
            .get(format!("{graph}/access_token"))
            .query(&[
                ("grant_type", "ig_exchange_token"),
                ("client_secret", IG_SECRET),
                ("access_token", short_token.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(long.ok()["expires_in"], 5_184_000);
    long.ok()["access_token"].as_str().unwrap().to_string()
}

async fn ig_get(e: &crate::Env, path: &str, token: &str, params: &[(&str, &str)]) -> Resp {
    let (_, _, graph) = e.sb.instagram_urls();
    let proof = ig_proof(token);
    let mut query = params.to_vec();
    query.push(("appsecret_proof", proof.as_str()));
    read(
        e.http
            .get(format!("{graph}/v24.0/{path}"))
            .bearer_auth(token)
            .query(&query)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn tokens_live_on_their_own_host_and_refresh_by_meta_rules() {
    let e = env().await;
    let token = login(&e, STUDIO).await;
    let me = ig_get(&e, "me", &token, &[("fields", "id,user_id,username")]).await;
    assert_eq!(me.ok()["user_id"], STUDIO);
    assert_eq!(me.ok()["username"], "acme.studio");
    assert_ne!(me.ok()["id"], STUDIO, "the `id` is app-scoped");
    // The Facebook host does not know an Instagram token, nor the Instagram host a Page token.
    let on_facebook = e.get("me", &token, &[]).await;
    on_facebook.assert_error(400, 190, None);
    let page_token = e.page_token(1);
    ig_get(&e, "me", &page_token, &[])
        .await
        .assert_error(400, 190, None);
    // A proof made with the Facebook app's secret is refused.
    let wrong = read(
        e.http
            .get(format!("{}/v24.0/me", e.sb.instagram_urls().2))
            .bearer_auth(&token)
            .query(&[("appsecret_proof", crate::proof(&token))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong.assert_error(400, 100, None);

    let refresh = |t: String| {
        let graph = e.sb.instagram_urls().2;
        let http = e.http.clone();
        async move {
            read(
                http.get(format!("{graph}/refresh_access_token"))
                    .query(&[
                        ("grant_type", "ig_refresh_token"),
                        ("access_token", t.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    // Under 24 hours old: refused; a day later: a new 60-day token; past its end: 190/463.
    refresh(token.clone()).await.assert_error(400, 100, None);
    e.sb.age_instagram_tokens(std::time::Duration::from_secs(25 * 3600));
    let renewed = refresh(token.clone()).await;
    assert_eq!(renewed.ok()["expires_in"], 5_184_000);
    e.sb.age_instagram_tokens(std::time::Duration::from_secs(61 * 86_400));
    refresh(token).await.assert_error(400, 190, Some(463));
}

#[tokio::test]
async fn conversations_are_listed_newest_first_with_twenty_messages_each() {
    let e = env().await;
    let token = login(&e, STUDIO).await;
    let list = ig_get(
        &e,
        "me/conversations",
        &token,
        &[("platform", "instagram"), ("limit", "2")],
    )
    .await;
    let page = list.ok();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert!(
        page["paging"]["next"].is_string(),
        "three conversations, two per page"
    );
    let first = page["data"][0]["id"].as_str().unwrap().to_string();
    let detail = ig_get(&e, &first, &token, &[("fields", "participants,messages")]).await;
    let messages = detail.ok()["messages"]["data"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 20, "only the 20 most recent of 26");
    assert!(detail.ok()["messages"]["paging"]["next"].is_string());
    let times: Vec<&str> = messages
        .iter()
        .map(|m| m["created_time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let participants: Vec<&Value> = detail.ok()["participants"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert!(participants.iter().any(|p| p["id"] == STUDIO));
    // A Page's Messenger conversations need the Page's token and a platform.
    let page_id = e.sb.world().seed().pages[0].id.clone();
    let page_token = e.page_token(1);
    let messenger = e
        .get(
            &format!("{page_id}/conversations"),
            &page_token,
            &[("platform", "messenger")],
        )
        .await;
    assert_eq!(messenger.ok()["data"].as_array().unwrap().len(), 3);
    e.get(
        &format!("{page_id}/conversations"),
        &page_token,
        &[("platform", "whatsapp")],
    )
    .await
    .assert_error(400, 100, None);
}
