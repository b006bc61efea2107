//! Rows and queries, one file per aggregate. Every query on tenant data takes a [`TenantId`].
//!
//! [`TenantId`]: crate::db::ids::TenantId

pub mod channels;
pub mod connect;
pub mod contacts;
pub mod conversations;
pub mod labels;
pub mod login_throttle;
pub mod message_templates;
pub mod messages;
pub mod notes;
pub mod receipts;
pub mod retention;
pub mod send_budgets;
pub mod sessions;
pub mod sql;
pub mod table_stats;
pub mod tenants;
pub mod users;
pub mod webhooks;
