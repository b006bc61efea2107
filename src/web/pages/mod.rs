//! One module per page.

pub mod account;
pub mod channels;
pub mod comment_rules;
mod comment_rules_form;
pub mod comments;
pub mod comments_ask;
pub mod comments_audit;
pub mod comments_bulk;
mod comments_query;
pub mod comments_sync;
pub mod connect;
pub mod connect_whatsapp;
pub mod inbox;
pub mod insights;
pub mod insights_filters;
pub mod insights_messaging;
pub mod insights_post;
pub mod insights_posts;
pub mod jobs;
pub mod login;
pub mod media;
pub mod outbound_media;
pub mod saved_replies;
pub mod sections;
pub mod team;
pub mod webhook_log;
