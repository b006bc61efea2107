//! Deliveries that are signed but odd or hostile: NULs, impossible times, values PostgreSQL
//! refuses, random shapes. One bad delivery is isolated and marked; everything after it lands.

use parley::models::channels::Platform;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::rows;

/// An app with tenant Acme and its Messenger Page "P1" connected.
async fn app_with_page() -> (TestApp, parley::db::ids::TenantId) {
    let app = TestApp::spawn().await;
    let tenant = app
        .query(|c| {
            parley::models::tenants::find_or_create(c, "Acme")
                .unwrap()
                .id
        })
        .await;
    app.connect_channel(tenant, Platform::Messenger, "P1", None)
        .await;
    (app, tenant)
}

fn page_message(mid: &str, text: &str, timestamp: Value) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"object":"page","entry":[{"id":"P1","time":1700000000000_i64,"messaging":[
        {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":timestamp,
         "message":{"mid":mid,"text":text}}]}]}),
    )
    .unwrap()
}

/// Text no compression shrinks: too long for a btree index entry.
fn incompressible(len: usize) -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(x % 36) as usize])
        })
        .collect()
}

#[tokio::test]
async fn deliveries_postgres_refuses_are_isolated_and_the_rest_land() {
    let (app, _) = app_with_page().await;
    let deliveries = [
        page_message("m1", "before", json!(1700000000000_i64)),
        // NULs everywhere, and times outside PostgreSQL's range.
        page_message("m2\u{0}", "nul\u{0}text", json!(-210866803200001_i64)),
        page_message("m3", "far future", json!(9_000_000_000_000_000_i64)),
        // An account id too long for any index entry: its item cannot be kept unrouted.
        serde_json::to_vec(
            &json!({"object":"page","entry":[{"id":incompressible(12_000),"time":1,
            "messaging":[{"sender":{"id":"U9"},"message":{"mid":"x","text":"lost"}}]}]}),
        )
        .unwrap(),
        page_message("m4", "after", json!(1700000001000_i64)),
    ];
    for body in &deliveries {
        assert_eq!(app.post_webhook(body).await.status(), 200);
    }
    // Panics if processing does not settle.
    app.process_webhooks().await;
    let messages = rows(
        &app,
        "SELECT platform_message_id AS a, text AS b FROM messages ORDER BY id",
    )
    .await;
    let mids: Vec<&str> = messages.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(mids, ["m1", "m2", "m3", "m4"], "{messages:?}");
    assert_eq!(messages[1].1.as_deref(), Some("nultext"));
    // The impossible times became the delivery's.
    let years = rows(
        &app,
        "SELECT platform_message_id AS a, extract(year FROM sent_at)::text AS b FROM messages ORDER BY id",
    )
    .await;
    assert!(
        years.iter().all(|(_, y)| y.as_deref() >= Some("2023")),
        "{years:?}"
    );
    // The refused one is kept, marked, with its reason.
    let dead = rows(
        &app,
        "SELECT state AS a, last_error AS b FROM webhook_items WHERE length(account_id) > 1000",
    )
    .await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].0, "dead");
    assert!(
        dead[0].1.as_deref().unwrap_or("").contains("index row"),
        "{dead:?}"
    );
}

/// A small deterministic generator of hostile JSON.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn scalar(&mut self) -> Value {
        match self.next() % 12 {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(u64::MAX),
            3 => json!(i64::MIN),
            4 => json!(1e308),
            5 => json!(-0.0),
            6 => json!("\u{0}\u{1}\u{1f}\u{7f}\u{202e}\u{feff}"),
            7 => json!("x".repeat(10_000)),
            8 => json!(""),
            9 => json!("P1"),
            10 => json!(1700000000000_i64),
            _ => json!(self.next().to_string()),
        }
    }

    fn value(&mut self, depth: u32) -> Value {
        if depth == 0 || self.next().is_multiple_of(3) {
            return self.scalar();
        }
        let keys = [
            "mid",
            "text",
            "message",
            "sender",
            "id",
            "recipient",
            "timestamp",
            "attachments",
            "payload",
            "url",
            "reaction",
            "read",
            "delivery",
            "referral",
            "postback",
            "optin",
            "reply_to",
            "story",
            "changes",
            "field",
            "value",
            "messages",
            "statuses",
            "from",
            "type",
            "is_echo",
            "watermark",
            "mids",
            "emoji",
            "action",
            "comment_id",
            "verb",
            "\u{0}",
            "metadata",
            "phone_number_id",
            "contacts",
            "wa_id",
            "profile",
        ];
        if self.next().is_multiple_of(2) {
            let n = self.next() % 4;
            Value::Array((0..n).map(|_| self.value(depth - 1)).collect())
        } else {
            let n = 1 + self.next() % 5;
            let mut map = serde_json::Map::new();
            for _ in 0..n {
                let key = self.pick(&keys).to_string();
                map.insert(key, self.value(depth - 1));
            }
            Value::Object(map)
        }
    }

    /// A delivery with a plausible envelope around random content.
    fn delivery(&mut self) -> Value {
        let (object, account, list) = *self.pick(&[
            ("page", "P1", "messaging"),
            ("instagram", "IG1", "messaging"),
            ("page", "P1", "changes"),
            ("whatsapp_business_account", "WABA1", "changes"),
        ]);
        let items: Vec<Value> = (0..1 + self.next() % 3)
            .map(|_| {
                let mut v = self.value(6);
                if let Value::Object(map) = &mut v
                    && object == "whatsapp_business_account"
                {
                    map.insert("field".into(), json!("messages"));
                    map.insert(
                        "value".into(),
                        json!({"metadata":{"phone_number_id":"PN1"},"messages":[self.value(4)],"statuses":[self.value(3)]}),
                    );
                }
                v
            })
            .collect();
        json!({"object": object, "entry": [{"id": account, "time": self.scalar(), list: items}]})
    }
}

#[test]
fn split_and_normalize_survive_arbitrary_json() {
    let mut g = Gen(0x2545_F491_4F6C_DD1D);
    for _ in 0..2_000 {
        let body = if g.next().is_multiple_of(4) {
            g.value(8)
        } else {
            g.delivery()
        };
        let bytes = serde_json::to_vec(&body).unwrap();
        if let Ok(items) = parley::webhooks::split::split_bytes(&bytes) {
            for item in items {
                let _ = parley::webhooks::normalize::normalize(
                    &item.object,
                    &item.account_id,
                    &item.body,
                    chrono::Utc::now(),
                );
            }
        }
    }
    // Nesting deeper than the JSON parser allows is refused, not a stack overflow.
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parley::webhooks::split::split_bytes(deep.as_bytes()).is_err());
}

#[tokio::test]
async fn hostile_deliveries_never_stop_processing_for_the_next_valid_one() {
    let (app, tenant) = app_with_page().await;
    app.connect_channel(tenant, Platform::Instagram, "IG1", None)
        .await;
    app.connect_channel(tenant, Platform::Whatsapp, "PN1", Some("WABA1"))
        .await;
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for round in 0..3 {
        for _ in 0..60 {
            let body = serde_json::to_vec(&g.delivery()).unwrap();
            assert_eq!(app.post_webhook(&body).await.status(), 200);
        }
        let mid = format!("valid-{round}");
        app.post_webhook(&page_message(&mid, "still here", json!(1700000000000_i64)))
            .await;
        app.process_webhooks().await;
        let found = rows(
            &app,
            "SELECT platform_message_id AS a, text AS b FROM messages WHERE platform_message_id LIKE 'valid-%'",
        )
        .await;
        assert_eq!(found.len(), round + 1, "round {round}: {found:?}");
    }
    let stuck = rows(
        &app,
        "SELECT state AS a, NULL::text AS b FROM webhook_events WHERE state = 'received'",
    )
    .await;
    assert!(stuck.is_empty(), "deliveries left unsplit: {}", stuck.len());
}
