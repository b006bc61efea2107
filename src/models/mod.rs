//! Rows and queries, one file per aggregate. Every query on tenant data takes a [`TenantId`].
//!
//! [`TenantId`]: crate::db::ids::TenantId

pub mod attachments;
pub mod batches;
pub mod channels;
pub mod comment_actions;
pub mod comment_posts;
pub mod comment_syncs;
pub mod comments;
pub mod connect;
pub mod contact_panel;
pub mod contacts;
pub mod conversation_list;
pub mod conversation_search;
pub mod conversations;
pub mod jobs;
pub mod labels;
pub mod login_throttle;
pub mod message_templates;
pub mod messages;
pub mod moderation_rules;
pub mod notes;
pub mod notifications;
pub mod outbound;
pub mod outbound_media;
pub mod receipts;
pub mod retention;
pub mod saved_replies;
pub mod send_budgets;
pub mod sessions;
pub mod sql;
pub mod table_stats;
pub mod tenants;
pub mod thread;
pub mod users;
pub mod webhooks;
