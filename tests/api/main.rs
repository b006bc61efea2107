//! Integration tests: the real application over HTTP against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod attachments;
mod auth;
mod burst;
mod channels;
mod cli;
mod comment_actions;
mod comment_bulk;
mod comment_mentions;
mod comment_replies;
mod comment_rules;
mod comment_sync;
mod comments;
mod connect_whatsapp;
mod connect_wizard;
mod csrf;
mod faults;
mod graph_client;
mod graph_sandbox;
mod inbox;
mod inbox_actions;
mod insights;
mod insights_messaging;
mod insights_posts;
mod jobs;
mod migrations;
mod normalizer_snapshots;
mod ops;
mod retention;
mod roles;
mod schema_drift;
mod security_payloads;
mod security_requests;
mod security_sessions;
mod security_tenants;
mod send_budgets;
mod team;
mod tenancy;
mod webhook_batches;
mod webhook_fixtures;
mod webhook_hostile;
mod webhook_ledger;
mod webhooks;
