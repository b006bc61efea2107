//! WhatsApp Cloud API: window, templates, template review, media.

use meta_sandbox::IssueToken;
use serde_json::json;

use super::{env, kind_of, read, receiver, signature_ok};

fn text_to(wa_id: &str) -> serde_json::Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": format!("+{wa_id}"), "type": "text", "text": {"body": "Your order is ready"}})
}

fn order_update(wa_id: &str, lang: &str, params: &[&str]) -> serde_json::Value {
    let parameters: Vec<_> = params
        .iter()
        .map(|p| json!({"type": "text", "text": p}))
        .collect();
    json!({"messaging_product": "whatsapp", "to": wa_id, "type": "template", "template": {"name": "order_update", "language": {"code": lang}, "components": [{"type": "body", "parameters": parameters}]}})
}

#[tokio::test]
async fn free_form_needs_the_window_and_templates_are_checked() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let token = env.token(IssueToken::SystemUser);
    let path = format!("{}/messages", seed.phone_number.id);
    let carlos = seed.customer("Carlos").unwrap().id.clone();
    let aisha = seed.customer("Aisha").unwrap().id.clone();

    let ok = env.post_json(&path, &token, text_to(&carlos)).await;
    let body = ok.ok();
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(
        body["contacts"][0],
        json!({"input": format!("+{carlos}"), "wa_id": carlos})
    );
    assert!(
        body["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );

    let late = env.post_json(&path, &token, text_to(&aisha)).await;
    assert_eq!(
        late.assert_error(400, 131047, None),
        "(#131047) Re-engagement message"
    );
    assert_eq!(
        late.body["error"]["error_data"]["details"],
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
    );

    let tpl = env
        .post_json(
            &path,
            &token,
            order_update(&aisha, "en_US", &["Aisha", "#1001"]),
        )
        .await;
    assert_eq!(tpl.ok()["messages"][0]["message_status"], "accepted");
    env.post_json(
        &path,
        &token,
        order_update(&aisha, "pt_BR", &["Aisha", "#1001"]),
    )
    .await
    .assert_error(404, 132001, None);
    let count = env
        .post_json(&path, &token, order_update(&aisha, "en_US", &["Aisha"]))
        .await;
    count.assert_error(400, 132000, None);
    assert!(
        count.body["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("(1) does not match the expected number of params (2)")
    );
    let paused = json!({"messaging_product": "whatsapp", "to": aisha, "type": "template", "template": {"name": "winter_promo", "language": {"code": "en"}}});
    env.post_json(&path, &token, paused)
        .await
        .assert_error(400, 132015, None);

    let read_receipt = env
        .post_json(
            &path,
            &token,
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}),
        )
        .await;
    assert_eq!(read_receipt.ok(), &json!({"success": true}));

    // A Page token has no business here; a bad token is a 401.
    env.post_json(&path, &env.page_token(1), text_to(&carlos))
        .await
        .assert_error(400, 100, Some(33));
    env.post_json(&path, "EAAbad", text_to(&carlos))
        .await
        .assert_error(401, 190, None);

    let phones = env
        .get(&format!("{}/phone_numbers", seed.waba.id), &token, &[])
        .await;
    let p = &phones.ok()["data"][0];
    assert_eq!(p["display_phone_number"], "+1 555-010-0100");
    assert_eq!(p["verified_name"], "Acme Coffee");
    assert_eq!(p["throughput"]["level"], "STANDARD");
    let reg = format!("{}/register", seed.phone_number.id);
    env.post_json(
        &reg,
        &token,
        json!({"messaging_product": "whatsapp", "pin": "12ab"}),
    )
    .await
    .assert_error(400, 100, None);
    for _ in 0..10 {
        env.post_json(
            &reg,
            &token,
            json!({"messaging_product": "whatsapp", "pin": "123456"}),
        )
        .await
        .ok();
    }
    env.post_json(
        &reg,
        &token,
        json!({"messaging_product": "whatsapp", "pin": "123456"}),
    )
    .await
    .assert_error(400, 133016, None);
}

#[tokio::test]
async fn templates_are_reviewed_and_announced_by_webhook() {
    let hook = receiver().await;
    let url = hook.url.clone();
    let env = super::env_with(|c| c.webhook_url = Some(url)).await;
    let seed = env.sb.world().seed().clone();
    let token = env.token(IssueToken::SystemUser);
    assert_eq!(
        env.post_json(
            &format!("{}/subscribed_apps", seed.waba.id),
            &token,
            json!({})
        )
        .await
        .ok()["success"],
        true
    );
    let path = format!("{}/message_templates", seed.waba.id);
    let create = |name: &str, body: &str| json!({"name": name, "category": "UTILITY", "language": "en_US", "components": [{"type": "BODY", "text": body, "example": {"body_text": [["Maria"]]}}]});
    let good = env
        .post_json(
            &path,
            &token,
            create("pickup_ready", "Hi {{1}}, your coffee is ready."),
        )
        .await;
    assert_eq!(good.ok()["status"], "PENDING");
    assert_eq!(good.body["category"], "UTILITY");
    let good_id = good.body["id"].as_str().unwrap().to_string();
    let bad = env
        .post_json(
            &path,
            &token,
            create("promo", "Hi {{1}}, coffee is FREE!!! today"),
        )
        .await;
    let bad_id = bad.ok()["id"].as_str().unwrap().to_string();

    env.post_json(&path, &token, create("pickup_ready", "Again {{1}}"))
        .await
        .assert_error(400, 100, Some(2_388_024));
    env.post_json(&path, &token, create("Bad Name", "x"))
        .await
        .assert_error(400, 100, None);
    env.post_json(&path, &token, json!({"name": "no_example", "category": "UTILITY", "language": "en", "components": [{"type": "BODY", "text": "Hi {{1}}"}]})).await.assert_error(400, 100, None);
    env.post_json(
        &path,
        &token,
        json!({"name": "x", "category": "PROMO", "language": "en", "components": []}),
    )
    .await
    .assert_error(400, 100, None);

    let status = env.get(&good_id, &token, &[("fields", "status")]).await;
    assert_eq!(status.ok()["status"], "PENDING");
    let events = hook
        .wait_for(2, |b| kind_of(b) == "message_template_status_update")
        .await;
    let value = |id: &str| {
        events
            .iter()
            .map(|e| e["entry"][0]["changes"][0]["value"].clone())
            .find(|v| v["message_template_id"].as_u64() == id.parse::<u64>().ok())
            .unwrap()
    };
    assert_eq!(value(&good_id)["event"], "APPROVED");
    let rejected = value(&bad_id);
    assert_eq!(rejected["event"], "REJECTED");
    assert_eq!(rejected["reason"], "PROMOTIONAL");
    assert_eq!(
        env.get(&good_id, &token, &[("fields", "status")])
            .await
            .ok()["status"],
        "APPROVED"
    );
    for (sig, body) in hook.hits.lock().unwrap().iter() {
        assert!(signature_ok(sig, body));
    }

    let approved = env
        .get(
            &path,
            &token,
            &[
                ("status", "APPROVED"),
                ("fields", "name,status"),
                ("limit", "2"),
            ],
        )
        .await;
    assert_eq!(approved.ok()["data"].as_array().unwrap().len(), 2);
    assert!(approved.body["paging"]["next"].is_string());
    assert_eq!(
        env.delete(&path, &token, &[("name", "pickup_ready")])
            .await
            .ok()["success"],
        true
    );
    env.post_json(&path, &token, create("pickup_ready", "Hi {{1}}, again."))
        .await
        .assert_error(400, 100, Some(2_388_023));
}

#[tokio::test]
async fn media_uploads_and_downloads_need_the_bearer_token() {
    let env = env().await;
    let seed = env.sb.world().seed().clone();
    let token = env.token(IssueToken::SystemUser);
    let file: &[u8] = b"\x89PNG\r\n\x1a\nnot really a picture";
    let mut body = Vec::new();
    for (name, value) in [("messaging_product", "whatsapp"), ("type", "image/png")] {
        body.extend_from_slice(
            format!(
                "--BOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"menu.png\"\r\nContent-Type: image/png\r\n\r\n");
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--BOUNDARY--\r\n");
    let upload = env
        .http
        .post(env.graph(&format!("{}/media", seed.phone_number.id)))
        .bearer_auth(&token)
        .query(&[("appsecret_proof", super::proof(&token))])
        .header("content-type", "multipart/form-data; boundary=BOUNDARY")
        .body(body)
        .send()
        .await
        .unwrap();
    let upload = read(upload).await;
    let id = upload.ok()["id"].as_str().unwrap().to_string();

    let info = env.get(&id, &token, &[]).await;
    let info = info.ok().clone();
    assert_eq!(info["mime_type"], "image/png");
    assert_eq!(info["file_size"], file.len());
    assert_eq!(info["messaging_product"], "whatsapp");
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/_media/", env.sb.url())));

    assert_eq!(env.http.get(url).send().await.unwrap().status(), 401);
    assert_eq!(
        env.http
            .get(url)
            .bearer_auth("EAAwrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let ok = env.http.get(url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], "image/png");
    assert_eq!(&ok.bytes().await.unwrap()[..], file);
    let bad_url = url.replace("/_media/wa/", "/_media/wa/x");
    assert_eq!(
        env.http
            .get(bad_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let send = env.post_json(&format!("{}/messages", seed.phone_number.id), &token, json!({"messaging_product": "whatsapp", "to": seed.customer("Carlos").unwrap().id, "type": "image", "image": {"id": id}})).await;
    send.ok();
}
