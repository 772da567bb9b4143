//! Connecting to SQLite or PostgreSQL (the URL's scheme picks), migrating, and counting
//! statements so tests can prove that a request's SQL does not grow with its page size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Counts every SQL statement the connection runs.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts one statement; `RUST_LOG=chidao::sql=trace` shows each with its duration.
    pub fn record(&self, statement: &sea_orm::Statement, elapsed: Duration, failed: bool) {
        self.0.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(target: "chidao::sql", elapsed_us = elapsed.as_micros() as u64, failed, sql = %statement);
    }
}

/// Opens a pool sized for the backend: SQLite serialises writers, so a small pool avoids
/// "database is locked"; PostgreSQL gets `pool` connections.
pub async fn connect(url: &str, pool: u32) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(if sqlite { 4 } else { pool.max(1) })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // A connection that has been busy is not pinged before reuse (that was one extra
        // round trip per statement); one idle long enough to have been dropped by the
        // server or a firewall still is.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .sqlx_logging(false);
    let mut db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL (kept in the file) lets readers proceed during a write. sqlx already turns on
        // foreign keys and a 5 s busy timeout on every SQLite connection it opens.
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    let counter = StatementCounter::default();
    let recorder = counter.clone();
    db.set_metric_callback(move |info| recorder.record(info.statement, info.elapsed, info.failed));
    Ok((db, counter))
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
