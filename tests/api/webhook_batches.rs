//! The set-based paths (fast) and the item-by-item path (the fallback) must end in the same
//! state for any mix of events: duplicates within a batch, receipts, reactions and edits before
//! their message, echoes, renames, attachments, and the real payloads in
//! ../shared/fixtures/meta-webhooks when present.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::{account_ids, platform_of, real_payload_files};

fn page(events: Value) -> Value {
    json!({"object":"page","entry":[{"id":"P1","time":1700000000000_i64,"messaging":events}]})
}

fn instagram(events: Value) -> Value {
    json!({"object":"instagram","entry":[{"id":"IG1","time":1700000000000_i64,"messaging":events}]})
}

fn whatsapp(value: Value) -> Value {
    json!({"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages","value":value}]}]})
}

fn text(user: &str, mid: &str, ts: i64, body: &str) -> Value {
    json!({"sender":{"id":user},"recipient":{"id":"P1"},"timestamp":ts,"message":{"mid":mid,"text":body}})
}

fn wa_text(name: &str, wamid: &str, ts: &str, body: &str) -> Value {
    whatsapp(json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550100","phone_number_id":"PN1"},
        "contacts":[{"profile":{"name":name},"wa_id":"15550001001"}],
        "messages":[{"from":"15550001001","id":wamid,"timestamp":ts,"type":"text","text":{"body":body}}]}))
}

fn wa_status(wamid: &str, status: &str, ts: &str) -> Value {
    whatsapp(json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550100","phone_number_id":"PN1"},
        "statuses":[{"id":wamid,"status":status,"timestamp":ts,"recipient_id":"15550001001"}]}))
}

/// Deliveries that touch each other across items: written from the contract.
fn synthetic() -> Vec<Vec<u8>> {
    let t = 1_700_000_000_000_i64;
    let bodies = vec![
        // A reaction, an edit and a read that arrive before their messages.
        page(
            json!([{"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":t + 9000,"reaction":{"mid":"m4","action":"react","reaction":"love","emoji":"\u{2764}"}}]),
        ),
        page(
            json!([{"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":t + 8000,"message_edit":{"mid":"m2","text":"second (edited)","num_edit":1}}]),
        ),
        page(
            json!([{"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":t + 7000,"read":{"watermark":t + 2600}}]),
        ),
        page(json!([
            text("U1", "m1", t + 1000, "hello"),
            text("U1", "m2", t + 2000, "second"),
            text("U2", "m3", t + 1500, "another customer")
        ])),
        // An echo from another Meta tool, then a delivery watermark covering it.
        page(
            json!([{"sender":{"id":"P1"},"recipient":{"id":"U1"},"timestamp":t + 2500,"message":{"mid":"m4","text":"sent elsewhere","is_echo":true,"app_id":42}}]),
        ),
        page(
            json!([{"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":t + 6000,"delivery":{"watermark":t + 3000}}]),
        ),
        page(
            json!([{"sender":{"id":"U3"},"recipient":{"id":"P1"},"timestamp":t + 500,"message":{"mid":"m5","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/a.jpg"}}]}}]),
        ),
        page(
            json!([{"sender":{"id":"U3"},"recipient":{"id":"P1"},"timestamp":t + 600,"message":{"mid":"m6","text":"from an ad"},"referral":{"source":"ADS","type":"OPEN_THREAD","ref":"spring","ad_id":"123"}}]),
        ),
        // Instagram: seen before the echo, and an unsend.
        instagram(
            json!([{"sender":{"id":"G1"},"recipient":{"id":"IG1"},"timestamp":t + 9000,"read":{"mid":"ig_out"}}]),
        ),
        instagram(
            json!([{"sender":{"id":"IG1"},"recipient":{"id":"G1"},"timestamp":t + 1000,"message":{"mid":"ig_out","text":"thanks!","is_echo":true}}]),
        ),
        instagram(
            json!([{"sender":{"id":"G1"},"recipient":{"id":"IG1"},"timestamp":t + 500,"message":{"mid":"ig_in","text":"hi"}}]),
        ),
        instagram(
            json!([{"sender":{"id":"G1"},"recipient":{"id":"IG1"},"timestamp":t + 800,"message":{"mid":"ig_in","is_deleted":true}}]),
        ),
        // WhatsApp: a customer renamed between messages; statuses for a message not seen (parked).
        wa_text("Kerry", "wamid.A", "1700000001", "Is the shop open?"),
        wa_text("Kerry Fisher", "wamid.B", "1700000002", "Hello?"),
        wa_status("wamid.OUT", "sent", "1700000003"),
        wa_status("wamid.OUT", "read", "1700000005"),
    ];
    bodies
        .into_iter()
        .map(|b| serde_json::to_vec(&b).unwrap())
        .collect()
}

/// Every delivery twice, in a scrambled but fixed order (a small LCG).
fn corpus() -> Vec<Vec<u8>> {
    let mut once = synthetic();
    if let Some(files) = real_payload_files() {
        once.extend(files.iter().map(|f| std::fs::read(f).unwrap()));
    }
    let mut all: Vec<Vec<u8>> = once.iter().chain(once.iter()).cloned().collect();
    let mut seed: u64 = 0x5eed;
    for i in (1..all.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        all.swap(i, (seed >> 33) as usize % (i + 1));
    }
    all
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// A timestamp as text, or "now" when it comes from the clock rather than from Meta (events
/// without their own time): those differ between runs.
fn t(column: &str) -> String {
    format!("CASE WHEN {column} > now() - interval '1 hour' THEN 'now' ELSE {column}::text END")
}

/// The domain state as sorted lines, without ids that depend on insertion order.
fn state_query() -> String {
    format!(
        "SELECT line FROM (
  SELECT 'contact ' || ch.platform_id || ' ' || c.platform_user_id || ' ' || coalesce(c.name, '-') AS line
    FROM contacts c JOIN channels ch ON ch.id = c.channel_id
  UNION ALL
  SELECT 'conversation ' || ch.platform_id || ' ' || c.platform_user_id || ' ' ||
         row(v.status, {v_last_message_at}, {v_last_inbound_at}, v.last_message_preview, v.unread_count,
             {v_delivered_watermark}, {v_read_watermark}, {v_snoozed_until})::text
    FROM conversations v JOIN contacts c ON c.id = v.contact_id JOIN channels ch ON ch.id = v.channel_id
  UNION ALL
  SELECT 'message ' || ch.platform_id || ' ' || c.platform_user_id || ' ' ||
         row(m.platform_message_id, m.direction, m.kind, m.text, m.status, m.status_at IS NULL, {m_sent_at}, {m_deleted_at},
             {m_edited_at}, m.edit_count, m.attachments, m.referral, m.extra, m.is_echo, m.reply_to_platform_id,
             m.error)::text
    FROM messages m JOIN conversations v ON v.id = m.conversation_id JOIN contacts c ON c.id = v.contact_id
    JOIN channels ch ON ch.id = m.channel_id
  UNION ALL
  SELECT 'reaction ' || m.platform_message_id || ' ' || row(r.reactor, r.emoji, r.reaction, {r_reacted_at})::text
    FROM message_reactions r JOIN messages m ON m.id = r.message_id
  UNION ALL
  SELECT 'parked ' || p.platform_message_id || ' ' || p.event::text || ' ' || {p_occurred_at} FROM pending_message_events p
  UNION ALL
  SELECT 'comment ' || row(c.platform_comment_id, c.post_id, c.parent_comment_id, c.author_id, c.author_name,
         c.text, {c_commented_at}, c.hidden, {c_deleted_at}, {c_edited_at}, c.from_business)::text FROM comments c
  UNION ALL
  SELECT 'template ' || row(t.platform_template_id, t.name, t.status, t.status_reason, t.quality_score)::text
    FROM message_templates t
  UNION ALL
  SELECT 'item ' || row(i.event_id, i.position, i.state, i.last_error, i.attempts)::text FROM webhook_items i
  UNION ALL
  SELECT 'jobs ' || kind || ' ' || count(*) FROM jobs WHERE kind IN ('fetch_profile', 'download_attachments') GROUP BY kind
) x ORDER BY line",
        v_last_message_at = t("v.last_message_at"),
        v_last_inbound_at = t("v.last_inbound_at"),
        v_delivered_watermark = t("v.delivered_watermark"),
        v_read_watermark = t("v.read_watermark"),
        v_snoozed_until = t("v.snoozed_until"),
        m_sent_at = t("m.sent_at"),
        m_deleted_at = t("m.deleted_at"),
        m_edited_at = t("m.edited_at"),
        r_reacted_at = t("r.reacted_at"),
        c_commented_at = t("c.commented_at"),
        c_deleted_at = t("c.deleted_at"),
        c_edited_at = t("c.edited_at"),
        p_occurred_at = t("p.occurred_at")
    )
}

/// The ways a batch can be processed.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// Fresh deliveries split, applied set-based and recorded in one transaction.
    Deliveries,
    /// Deliveries split into pending items first, then items applied set-based.
    ItemsSetBased,
    /// Deliveries split first, then each item in its own savepoint.
    ItemByItem,
}

/// Posts the corpus to a fresh app with every account connected, processes it along `path`
/// (each path must succeed on its own, with no fallback), and returns the state and how many
/// deliveries and items were handled.
async fn run(corpus: &[Vec<u8>], path: Path) -> (Vec<String>, usize) {
    let app = TestApp::spawn().await;
    let tenant = app
        .query(|c| {
            parley::models::tenants::find_or_create(c, "Batches")
                .unwrap()
                .id
        })
        .await;
    let mut connected = std::collections::HashSet::new();
    for raw in corpus {
        let body: Value = serde_json::from_slice(raw).unwrap();
        let platform = platform_of(&body);
        for (id, waba) in account_ids(&body) {
            if connected.insert((platform, id.clone())) {
                app.connect_channel(tenant, platform, &id, waba.as_deref())
                    .await;
            }
        }
        assert_eq!(app.post_webhook(raw).await.status(), 200);
    }
    app.query(move |c| {
        use parley::webhooks::processor::*;
        let mut handled = 0;
        loop {
            let n = match path {
                Path::Deliveries => ingest_batch_set_based(c).unwrap(),
                Path::ItemsSetBased => {
                    split_batch(c).unwrap() + process_batch_set_based(c).unwrap()
                }
                Path::ItemByItem => {
                    let (n, errors) = process_batch_item_by_item(c).unwrap();
                    assert!(errors.is_empty(), "{errors:?}");
                    split_batch(c).unwrap() + n
                }
            };
            if n == 0 {
                break;
            }
            handled += n;
        }
        let state: Vec<String> = diesel::sql_query(state_query())
            .load::<Line>(c)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect();
        (state, handled)
    })
    .await
}

#[tokio::test]
async fn every_processing_path_ends_in_the_same_state() {
    let corpus = corpus();
    let (fused, _) = run(&corpus, Path::Deliveries).await;
    let (items, _) = run(&corpus, Path::ItemsSetBased).await;
    let (careful, _) = run(&corpus, Path::ItemByItem).await;
    let messages = fused.iter().filter(|l| l.starts_with("message ")).count();
    assert!(messages >= 10, "{fused:#?}");
    assert!(
        fused.iter().filter(|l| l.starts_with("item ")).count() >= corpus.len(),
        "every delivery was split"
    );
    assert!(
        !fused
            .iter()
            .any(|l| l.contains(",pending,") || l.contains(",failed,")),
        "every item settled"
    );
    for (name, other) in [("items set-based", &items), ("item by item", &careful)] {
        for (a, b) in fused.iter().zip(other.iter()) {
            assert_eq!(
                a, b,
                "deliveries set-based (left) and {name} (right) differ"
            );
        }
        assert_eq!(fused.len(), other.len(), "{name}");
    }
    // The synthetic deliveries landed as the contract says, whichever arrived first.
    let has = |needle: &str| fused.iter().any(|l| l.contains(needle));
    assert!(
        has("second (edited)"),
        "the edit before its message applied"
    );
    assert!(
        has("reaction m4 (customer,"),
        "the reaction before its message applied"
    );
    assert!(
        has("contact PN1 15550001001 Kerry"),
        "the name Meta sent is kept"
    );
    assert!(
        has("parked wamid.OUT"),
        "statuses for an unknown message wait"
    );
}
