//! Connecting to SQLite or PostgreSQL (the URL's scheme picks), migrating, and counting
//! statements so tests can prove that a request's SQL does not grow with its page size; the
//! read pool (`reads`) and decoding rows by column position (`positional`).

pub mod calendar;
pub mod positional;
pub mod reads;
pub mod replica;
pub mod sizes;
pub mod touched;

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
        touched::record(&statement.sql);
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

/// One connection of its own, outside the pools and the statement counter: for background
/// work (measuring list sizes) that must not count in a request's statements.
pub async fn connect_aside(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(1)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(60))
        .sqlx_logging(false);
    Database::connect(opts).await
}

/// The PostgreSQL advisory lock that instances starting together take around set-up.
const MIGRATION_LOCK: i64 = 0x6368_6964_616f; // "chidao"

/// Applies every pending migration, under the set-up lock (see [`set_up`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    set_up(db, || async {
        Migrator::up(db, None).await?;
        calendar::ensure(db).await
    })
    .await
}

/// Runs `work` (migrating, seeding an empty database) while holding the set-up lock. On
/// PostgreSQL, instances that start at the same time (replicas, a bench's second server)
/// take turns: each holds an advisory lock for its whole set-up, so the second finds the
/// work done instead of failing half-way through it. SQLite is the single-instance
/// embedded default and takes no lock. Inside `work`, call [`Migrator`] directly, not
/// [`migrate`] (the lock is not re-entrant across connections).
pub async fn set_up<T, E, F, Fut>(db: &DatabaseConnection, work: F) -> Result<T, E>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: From<DbErr>,
{
    if db.get_database_backend() != DbBackend::Postgres {
        return work().await;
    }
    use sea_orm::sqlx::{self, Connection as _};
    let sqlx_err = |e: sqlx::Error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(e)));
    // A connection of its own (detached from the pool, which opens another in its place), so
    // that a pool of one still has a connection to work with.
    let mut lock = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_err)?
        .detach();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await
        .map_err(sqlx_err)?;
    let done = work().await;
    // Ending the session releases the lock.
    if let Err(e) = lock.close().await {
        tracing::warn!(error = %e, "closing the set-up lock's connection");
    }
    done
}

/// Parameter `n` (from 1) of a raw statement: `$n` on PostgreSQL, `?n` on SQLite (both may
/// repeat it).
pub fn placeholder(backend: sea_orm::DbBackend, n: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}
