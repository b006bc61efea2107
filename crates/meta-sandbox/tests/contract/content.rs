//! Comments (Facebook and Instagram) and insights.

use serde_json::Value;

use super::env;

fn first_id(v: &Value) -> String {
    v["data"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn comments_can_be_listed_hidden_replied_to_and_deleted() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let token = env.page_token(1);
    let feed = env
        .get(
            &format!("{}/feed", seed.pages[0].id),
            &token,
            &[(
                "fields",
                "id,message,created_time,permalink_url,full_picture",
            )],
        )
        .await;
    let post = first_id(feed.ok());
    assert!(
        feed.body["data"][0]["created_time"]
            .as_str()
            .unwrap()
            .ends_with("+0000")
    );
    let comments = env
        .get(
            &format!("{post}/comments"),
            &token,
            &[
                ("filter", "stream"),
                ("order", "reverse_chronological"),
                ("summary", "true"),
                (
                    "fields",
                    "id,message,from,is_hidden,can_reply_privately,parent",
                ),
            ],
        )
        .await;
    let body = comments.ok();
    // The seeded customers' comments and a page reply, and the crowd's (spam included).
    assert_eq!(body["summary"]["total_count"], 8);
    let customer_comment = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["from"]["id"] != seed.pages[0].id)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    assert_eq!(
        env.post_form(&customer_comment, &token, &[("is_hidden", "true")])
            .await
            .ok()["success"],
        true
    );
    assert_eq!(
        env.get(&customer_comment, &token, &[("fields", "is_hidden")])
            .await
            .ok()["is_hidden"],
        true
    );
    env.post_form(&customer_comment, &token, &[("is_hidden", "false")])
        .await
        .ok();
    let reply = env
        .post_form(
            &format!("{customer_comment}/comments"),
            &token,
            &[("message", "Thanks!")],
        )
        .await;
    let reply_id = reply.ok()["id"].as_str().unwrap().to_string();
    let replies = env
        .get(&format!("{customer_comment}/comments"), &token, &[])
        .await;
    assert!(
        replies.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == reply_id.as_str())
    );
    assert_eq!(
        env.delete(&customer_comment, &token, &[]).await.ok()["success"],
        true
    );
    env.get(&customer_comment, &token, &[])
        .await
        .assert_error(400, 100, Some(33));

    // Instagram.
    let ig = seed.pages[0].instagram.clone().unwrap();
    let media = env.get(&format!("{}/media", ig.id), &token, &[("fields", "id,caption,media_type,media_product_type,permalink,timestamp,comments_count,like_count,media_url")]).await;
    let media_id = first_id(media.ok());
    let ig_comments = env
        .get(
            &format!("{media_id}/comments"),
            &token,
            &[(
                "fields",
                "id,text,timestamp,username,from,hidden,like_count",
            )],
        )
        .await;
    let c = first_id(ig_comments.ok());
    assert_eq!(
        env.post_form(&c, &token, &[("hide", "true")]).await.ok()["success"],
        true
    );
    assert_eq!(
        env.get(&c, &token, &[("fields", "hidden")]).await.ok()["hidden"],
        true
    );
    let r = env
        .post_form(
            &format!("{c}/replies"),
            &token,
            &[("message", "See you soon!")],
        )
        .await;
    assert!(r.ok()["id"].is_string());
    assert_eq!(env.delete(&c, &token, &[]).await.ok()["success"], true);
    env.get(&c, &token, &[])
        .await
        .assert_error(400, 100, Some(33));
}

#[tokio::test]
async fn insights_are_deterministic_and_reject_deprecated_metrics() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let token = env.page_token(1);
    let path = format!("{}/insights", seed.pages[0].id);
    let now = chrono::Utc::now().timestamp();
    let since = (now - 10 * 86_400).to_string();
    let until = now.to_string();
    let q = [
        ("metric", "page_media_view,page_post_engagements"),
        ("period", "day"),
        ("since", since.as_str()),
        ("until", until.as_str()),
    ];
    let a = env.get(&path, &token, &q).await;
    let b = env.get(&path, &token, &q).await;
    assert_eq!(a.ok()["data"], b.ok()["data"]);
    let values = a.body["data"][0]["values"].as_array().unwrap();
    assert!(values.len() >= 9, "{values:?}");
    assert!(
        values[0]["end_time"]
            .as_str()
            .unwrap()
            .ends_with("T08:00:00+0000")
    );
    assert_eq!(a.body["data"][0]["name"], "page_media_view");

    let dep = env
        .get(
            &path,
            &token,
            &[("metric", "page_impressions"), ("period", "day")],
        )
        .await;
    assert_eq!(
        dep.assert_error(400, 100, None),
        "(#100) The value must be a valid insights metric"
    );
    let far = (now - 120 * 86_400).to_string();
    let long = env
        .get(
            &path,
            &token,
            &[
                ("metric", "page_media_view"),
                ("period", "day"),
                ("since", &far),
                ("until", &until),
            ],
        )
        .await;
    assert!(long.assert_error(400, 100, None).contains("90 days"));

    let ig = seed.pages[0].instagram.clone().unwrap();
    let ig_path = format!("{}/insights", ig.id);
    let series = env
        .get(
            &ig_path,
            &token,
            &[
                ("metric", "reach,follower_count"),
                ("period", "day"),
                ("since", &since),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(series.ok()["data"].as_array().unwrap().len(), 2);
    let needs_total = env
        .get(&ig_path, &token, &[("metric", "views"), ("period", "day")])
        .await;
    assert!(
        needs_total
            .assert_error(400, 100, None)
            .contains("metric_type=total_value")
    );
    let total = env
        .get(
            &ig_path,
            &token,
            &[
                ("metric", "views,accounts_engaged"),
                ("period", "day"),
                ("metric_type", "total_value"),
                ("since", &since),
                ("until", &until),
            ],
        )
        .await;
    assert!(
        total.ok()["data"][0]["total_value"]["value"]
            .as_u64()
            .unwrap()
            > 0
    );
    env.get(
        &ig_path,
        &token,
        &[("metric", "impressions"), ("period", "day")],
    )
    .await
    .assert_error(400, 100, None);

    // Acme Bikes has fewer than 100 followers: follower_count has no data (not zeros).
    let bikes = seed.pages[1].instagram.clone().unwrap();
    let empty = env
        .get(
            &format!("{}/insights", bikes.id),
            &env.page_token(2),
            &[
                ("metric", "follower_count"),
                ("period", "day"),
                ("since", &since),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(empty.ok()["data"], serde_json::json!([]));
    let stories = env
        .get(&format!("{}/stories", bikes.id), &env.page_token(2), &[])
        .await;
    let story = first_id(stories.ok());
    let low = env
        .get(
            &format!("{story}/insights"),
            &env.page_token(2),
            &[("metric", "reach")],
        )
        .await;
    assert_eq!(
        low.assert_error(400, 10, None),
        "(#10) Not enough viewers for the media to show insights"
    );
}
