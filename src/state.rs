//! What every request handler and job can reach.

use std::sync::Arc;

use crate::config::Config;
use crate::db::PgPool;
use crate::web::metrics::Metrics;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
}
