//! One module per page.

pub mod channels;
pub mod connect;
pub mod connect_whatsapp;
pub mod jobs;
pub mod login;
pub mod media;
pub mod ops;
pub mod sections;
pub mod team;
pub mod webhook_log;
pub mod webhook_receiver;
