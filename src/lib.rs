//! Parley: a self-hosted, multi-tenant inbox for Meta's business messaging.

pub mod app;
pub mod auth;
pub mod bench;
pub mod channels;
pub mod cli;
/// Comment moderation: rules and the actions carried out at Meta.
pub mod comments;
pub mod config;
pub mod crypto;
pub mod db;
pub mod embedded_pg;
pub mod error;
/// HTML reading for the demo's wizard driver and the tests (with the `sandbox` feature).
#[cfg(feature = "sandbox")]
pub mod html_page;
pub mod http_client;
pub mod inbox;
pub mod insights;
pub mod jobs;
pub mod keyfiles;
pub mod message_templates;
pub mod meta;
pub mod models;
pub mod state;
pub mod team;
pub mod telemetry;
pub mod web;
pub mod webhooks;
