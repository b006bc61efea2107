//! Webhook deliveries written by hand, and small queries over what they left behind.

use diesel::sql_types::{BigInt, Nullable, Text};
use parley::db::ids::TenantId;
use serde_json::json;

use super::*;

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Nullable<Text>)]
    b: Option<String>,
}

#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

pub async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.query(move |c| diesel::sql_query(sql).get_result::<Count>(c).unwrap().n)
        .await
}

pub async fn rows(app: &TestApp, sql: &'static str) -> Vec<(String, Option<String>)> {
    app.query(move |c| {
        diesel::sql_query(sql)
            .load::<Row>(c)
            .unwrap()
            .into_iter()
            .map(|r| (r.a, r.b))
            .collect()
    })
    .await
}

pub async fn tenant(app: &TestApp, name: &'static str) -> TenantId {
    app.query(move |c| parley::models::tenants::find_or_create(c, name).unwrap().id)
        .await
}

pub fn messenger(page: &str, events: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"object":"page","entry":[{"id":page,"time":1700000000000_i64,"messaging":events}]}),
    )
    .unwrap()
}

pub fn text(page: &str, user: &str, mid: &str, ts: i64, body: &str) -> serde_json::Value {
    json!({"sender":{"id":user},"recipient":{"id":page},"timestamp":ts,"message":{"mid":mid,"text":body}})
}
