//! Meta's webhooks: verify (`verify`), store before acknowledging (the `/webhooks/meta` handler),
//! split deliveries into routed items (`split`), normalize them into events (`normalize`, pure),
//! and apply the events idempotently (`apply`, a batch at a time in `apply_batch`; events about
//! one message in `message_events`), driven by `processor`.

pub mod apply;
pub mod apply_batch;
pub mod apply_comments;
pub mod apply_templates;
pub mod customers;
pub mod ingest;
pub mod message_events;
pub mod normalize;
pub mod normalize_changes;
pub mod normalize_whatsapp;
pub mod processor;
pub mod rounds;
pub mod split;
pub mod verify;
