//! An agent with the sandbox's first Page connected: the starting point of the inbox tests.

use chrono::{Duration, Utc};
use diesel::sql_types::{BigInt, Text};
use meta_sandbox::{Channel, CustomerMessage, Sandbox};

use super::*;

/// An agent of "Acme" with the sandbox's first Page connected and subscribed.
pub struct Env {
    pub app: TestApp,
    pub sandbox: Sandbox,
    pub agent: Client,
    pub tenant: TenantId,
    pub page_id: String,
    pub psid: String,
}

pub async fn env() -> Env {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (agent, tenant, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let page_id = app.connect_sandbox_page(&sandbox, tenant).await;
    let psid = sandbox_customer(&sandbox, Channel::Messenger, &page_id);
    Env {
        app,
        sandbox,
        agent,
        tenant,
        page_id,
        psid,
    }
}

impl Env {
    /// The customer writes `hours_ago`; returns the conversation id once processed.
    pub async fn customer_writes(&self, text: &str, hours_ago: i64) -> i64 {
        self.sandbox
            .customer_message(CustomerMessage {
                at: Some(Utc::now() - Duration::hours(hours_ago)),
                ..CustomerMessage::text(self.psid.clone(), text)
            })
            .await
            .unwrap();
        self.app.process_webhooks().await;
        let psid = self.psid.clone();
        self.app
            .query(move |c| {
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = BigInt)]
                    id: i64,
                }
                diesel::sql_query(
                    "SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.platform_user_id = $1",
                )
                .bind::<Text, _>(psid)
                .get_result::<Id>(c)
                .unwrap()
                .id
            })
            .await
    }
}

/// Runs every queued job of `kind` once; returns how many ran (their failures are what the
/// tests look at afterwards, in the messages' states).
pub async fn run_jobs(app: &TestApp, kind: &'static str) -> usize {
    app.run_queued_jobs(kind).await.len()
}

/// `(status, text, error message)` of the outbound messages, oldest first.
pub async fn outbound(app: &TestApp) -> Vec<(String, Option<String>, Option<String>)> {
    app.query(|c| {
        use parley::db::schema::messages::dsl as m;
        m::messages
            .filter(m::direction.eq("outbound"))
            .order(m::id)
            .select((m::status, m::text, m::error))
            .load::<(String, Option<String>, Option<serde_json::Value>)>(c)
            .unwrap()
            .into_iter()
            .map(|(s, t, e)| {
                let e = e.and_then(|e| e.get("message").and_then(|m| m.as_str()).map(String::from));
                (s, t, e)
            })
            .collect()
    })
    .await
}
