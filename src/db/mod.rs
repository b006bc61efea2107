//! Database access: the connection pool, the one way to run diesel from async code, migrations.

pub mod ids;
pub mod schema;
pub mod statuses;

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The shared pool of PostgreSQL connections.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;
/// One connection checked out of [`PgPool`].
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

/// Migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Arbitrary but fixed key of the advisory lock that serialises migrations across processes.
const MIGRATION_LOCK_KEY: i64 = 0x7061_726c_6579; // "parley"

/// Failures of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No pooled connection could be had: the database is down or the pool is exhausted.
    #[error("database unavailable")]
    Unavailable(#[from] diesel::r2d2::PoolError),
    /// A direct connection (migrations, operator commands) could not be made.
    #[error("cannot connect to the database")]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("migrations failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl DbError {
    /// True when the database could not be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DbError::Unavailable(_)
                | DbError::Connect(_)
                | DbError::Query(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    _,
                ))
        )
    }
}

/// Builds a pool. Connections are made lazily so that a process can start while the database is
/// briefly unreachable; `/readyz` reports it.
pub fn build_pool(database_url: &str, max_size: u32) -> Result<PgPool, DbError> {
    Ok(Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(std::time::Duration::from_secs(5))
        .build_unchecked(ConnectionManager::<PgConnection>::new(database_url)))
}

/// Runs blocking diesel work on the blocking thread pool with a pooled connection.
///
/// This is the only way async code touches the database, so the pool size caps concurrency.
pub async fn run<T, F>(pool: &PgPool, work: F) -> Result<T, DbError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    run_as(pool, work).await
}

/// One round trip to the server (readiness checks).
pub fn ping(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::select(1.into_sql::<diesel::sql_types::Integer>())
        .execute(conn)
        .map(|_| ())
}

/// Like [`run`], for work that fails with the caller's own error type (an `InboxError`, say):
/// no pool or task failure is lost, and no `Result` nests inside another.
pub async fn run_as<T, E, F>(pool: &PgPool, work: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| E::from(DbError::Unavailable(e)))?;
        work(&mut conn)
    })
    .await
    .map_err(|e| E::from(DbError::Task(e)))?
}

/// Applies pending migrations under a session advisory lock, so that any number of processes may
/// start together on one database.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, DbError> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(DbError::Migration);
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    applied
}

/// Opens one connection outside the pool (for the CLI and migrations).
pub fn connect(database_url: &str) -> Result<PgConnection, DbError> {
    PgConnection::establish(database_url).map_err(DbError::Connect)
}
