//! The HTTP layer: thin handlers that extract, authorize, call a service and render.

pub mod layout;
pub mod metrics;
pub mod multipart;
pub mod pages;
pub mod render;
pub mod routes;
pub mod server;
