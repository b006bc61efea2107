//! Graph basics: auth errors, paging, field selection, Pages, subscriptions, profiles.

use meta_sandbox::IssueToken;

use super::{env, env_with, proof, read};

#[tokio::test]
async fn me_accounts_pages_through_30_pages_with_working_cursors() {
    let env = env_with(|c| c.page_count = 30).await;
    let user = env.token(IssueToken::User);
    let first = env
        .get(
            "me/accounts",
            &user,
            &[
                ("limit", "10"),
                (
                    "fields",
                    "id,name,access_token,tasks,instagram_business_account{id,username}",
                ),
            ],
        )
        .await;
    let body = first.ok().clone();
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert_eq!(body["data"][0]["name"], "Acme Coffee");
    assert_eq!(
        body["data"][0]["instagram_business_account"]["username"],
        "acmecoffee"
    );
    assert!(body["data"][2].get("instagram_business_account").is_none());
    assert!(
        body["data"][0].get("category").is_none(),
        "unrequested fields are omitted"
    );
    assert_eq!(body["data"][0]["tasks"].as_array().unwrap().len(), 6);

    let mut ids: Vec<String> = Vec::new();
    let mut next = body["paging"]["next"].as_str().map(str::to_string);
    ids.extend(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string()),
    );
    let mut pages = 1;
    let mut second_before = None;
    while let Some(url) = next {
        assert!(url.contains("access_token="), "{url}");
        let page = env.get_url(&url).await;
        let data = page.ok()["data"].as_array().unwrap().clone();
        pages += 1;
        if pages == 2 {
            second_before = page.body["paging"]["cursors"]["before"]
                .as_str()
                .map(str::to_string);
        }
        ids.extend(data.iter().map(|p| p["id"].as_str().unwrap().to_string()));
        next = page.body["paging"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(pages, 3);
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((n, ids.len()), (30, 30));

    let back = env
        .get(
            "me/accounts",
            &user,
            &[
                ("limit", "10"),
                ("before", second_before.as_deref().unwrap()),
            ],
        )
        .await;
    assert_eq!(back.ok()["data"][0]["name"], "Acme Coffee");
}

#[tokio::test]
async fn tokens_and_proofs_are_checked_like_meta() {
    let env = env().await;
    let user = env.token(IssueToken::User);
    let url = env.graph("me");

    let missing = read(
        env.http
            .get(&url)
            .query(&[("access_token", &user)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        missing.assert_error(400, 100, None),
        "API calls from the server require an appsecret_proof argument"
    );
    assert_eq!(missing.body["error"]["type"], "GraphMethodException");

    let wrong = read(
        env.http
            .get(&url)
            .query(&[
                ("access_token", user.as_str()),
                ("appsecret_proof", &proof("other")),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        wrong.assert_error(400, 100, None),
        "Invalid appsecret_proof provided in the API argument"
    );

    // Bearer header plus proof in the query works.
    let ok = read(
        env.http
            .get(&url)
            .bearer_auth(&user)
            .query(&[("appsecret_proof", proof(&user))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ok.ok()["id"], env.sb.world().seed().user.id);
    assert!(ok.headers.get("x-app-usage").is_some());

    let bad = env.get("me", "EAAnonsense", &[]).await;
    assert_eq!(
        bad.assert_error(400, 190, None),
        "Invalid OAuth access token - Cannot parse access token"
    );
    assert_eq!(bad.body["error"]["type"], "OAuthException");
    let waba = env.sb.world().seed().waba.id.clone();
    env.get(&format!("{waba}/phone_numbers"), "EAAnonsense", &[])
        .await
        .assert_error(401, 190, None);

    let other_version = read(
        env.http
            .get(format!("{}/v19.0/me", env.sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        other_version.assert_error(400, 2500, None),
        "Unknown path components: /me"
    );

    let unknown = env.get("99999999", &user, &[]).await;
    assert!(
        unknown
            .assert_error(400, 100, Some(33))
            .starts_with("Unsupported get request. Object with ID '99999999' does not exist")
    );
    let field = env.get("me", &user, &[("fields", "id,bogus")]).await;
    assert!(
        field
            .assert_error(400, 100, None)
            .contains("nonexisting field (bogus)")
    );
}

#[tokio::test]
async fn page_fields_subscriptions_and_profiles() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let page = &seed.pages[0];
    let token = env.page_token(1);
    let node = env
        .get(
            &page.id,
            &token,
            &[(
                "fields",
                "id,name,picture,instagram_business_account{id,username,profile_picture_url}",
            )],
        )
        .await;
    let body = node.ok();
    assert_eq!(body["instagram_business_account"]["username"], "acmecoffee");
    assert!(
        body["picture"]["data"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&env.sb.url())
    );
    assert!(node.headers.get("x-business-use-case-usage").is_some());

    let sub = format!("{}/subscribed_apps", page.id);
    let bad = env
        .post_form(
            &sub,
            &token,
            &[("subscribed_fields", "messages,not_a_field")],
        )
        .await;
    assert!(
        bad.assert_error(400, 100, None)
            .contains("subscribed_fields[1]")
    );
    assert_eq!(
        env.post_form(&sub, &token, &[("subscribed_fields", "messages,feed")])
            .await
            .ok()["success"],
        true
    );
    let listed = env.get(&sub, &token, &[]).await;
    assert_eq!(
        listed.ok()["data"][0]["subscribed_fields"],
        serde_json::json!(["messages", "feed"])
    );
    assert_eq!(listed.body["data"][0]["id"], seed.app_id);
    let user = env.token(IssueToken::User);
    env.post_form(&sub, &user, &[("subscribed_fields", "feed")])
        .await
        .assert_error(400, 210, None);
    assert_eq!(env.delete(&sub, &token, &[]).await.ok()["success"], true);
    assert_eq!(
        env.get(&sub, &token, &[]).await.ok()["data"],
        serde_json::json!([])
    );

    let maria = seed.customer("Maria").unwrap();
    let profile = env
        .get(
            &maria.id,
            &token,
            &[("fields", "first_name,last_name,profile_pic")],
        )
        .await;
    assert_eq!(profile.ok()["first_name"], "Maria");
    let liam = seed.customer("Liam").unwrap();
    assert!(liam.withholds_profile);
    env.get(&liam.id, &token, &[("fields", "first_name")])
        .await
        .assert_error(400, 100, Some(33));
    let quiet = seed.customer("quiet.reader").unwrap();
    let ig = env
        .get(
            &quiet.id,
            &token,
            &[("fields", "name,username,profile_pic")],
        )
        .await;
    assert_eq!(ig.ok()["username"], "quiet.reader");
    assert!(ig.body.get("name").is_none());
    // Another Page's token cannot read this Page's customers.
    env.get(&maria.id, &env.page_token(2), &[])
        .await
        .assert_error(400, 100, Some(33));
}
