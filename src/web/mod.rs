//! The HTTP layer: thin handlers that extract, authorize, call a service and render.

pub mod client_address;
pub mod hx;
pub mod layout;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod render;
pub mod routes;
pub mod safe_url;
pub mod server;
pub mod uploads;
pub mod webhook_receiver;
