//! Connecting to SQLite or PostgreSQL (the URL's scheme picks), migrating, and counting
//! statements so tests can prove that a request's SQL does not grow with its page size; the
//! read pool (`reads`) and decoding rows by column position (`positional`).

pub mod calendar;
pub mod kept;
pub mod lean;
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

/// `expr IN (ids)`, written so that PostgreSQL plans the statement once for any number of ids:
/// `expr = ANY(CAST($n AS INTEGER[]))`, one parameter holding the ids as an array; one id is
/// `expr = $n`.
///
/// With an `IN` list each id is a parameter of its own, and the statement's text differs with
/// the number of ids, so each page size is a statement of its own, planned afresh for its first
/// five runs on each connection, and its generic plan then executes the list as 50 parameters.
/// With one array parameter, Q2 of `bench/` (50 tasks, their milestones, reports, assignments
/// and agencies) cost PostgreSQL 2,821 µs a request against 4,088 (one run of `bench/run.sh`;
/// the milestones-and-reports union executes in 0.27 ms against 0.60 ms in `EXPLAIN ANALYZE`).
/// One id stays `= $n`: for an array of one PostgreSQL keeps planning each run afresh (a custom
/// plan costs less than the generic one it estimates for an array of unknown length), 0.6 ms a
/// run for the union against 0.006 ms; Q1 (one task) measured 919 req/s that way against 3,814.
/// SQLite has no arrays and plans cheaply: an `IN` list there.
pub fn among(
    backend: DbBackend,
    expr: impl Into<sea_orm::sea_query::Expr>,
    ids: impl IntoIterator<Item = i32>,
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let ids: Vec<i32> = ids.into_iter().collect();
    match (backend, ids.as_slice()) {
        (_, [one]) => expr.into().eq(*one),
        (DbBackend::Postgres, _) => Expr::cust_with_exprs(
            "$1 = ANY(CAST($2 AS INTEGER[]))",
            [expr.into(), Expr::val(pg_id_array(&ids))],
        ),
        _ => expr.into().is_in(ids),
    }
}

/// `ids` as the text of a PostgreSQL integer array (`{1,2,3}`), the one parameter of
/// [`among`].
pub(crate) fn pg_id_array(ids: &[i32]) -> String {
    use std::fmt::Write;
    let mut list = String::with_capacity(2 + ids.len() * 6);
    list.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "{id}");
    }
    list.push('}');
    list
}

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
        let _ = SEEN.try_with(|seen| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(statement.sql.clone());
            }
        });
        tracing::trace!(target: "chidao::sql", elapsed_us = elapsed.as_micros() as u64, failed, sql = %statement);
    }
}

tokio::task_local! {
    static SEEN: std::sync::Mutex<Vec<String>>;
}

/// Runs `work` and returns with its output the SQL of every statement it ran, in order: for
/// tests of what a request reads (a request's resolvers run in its own task, as
/// [`touched`] explains).
pub async fn statements_of<F: std::future::Future>(work: F) -> (F::Output, Vec<String>) {
    SEEN.scope(std::sync::Mutex::new(Vec::new()), async {
        let out = work.await;
        let seen =
            SEEN.with(|s| std::mem::take(&mut *s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)));
        (out, seen)
    })
    .await
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

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Expr, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    use super::*;

    fn sql(backend: DbBackend, ids: &[i32]) -> (String, Vec<String>) {
        let q = Query::select()
            .column("id")
            .from("tasks")
            .and_where(among(backend, Expr::col("id"), ids.iter().copied()))
            .to_owned();
        let (sql, values) = match backend {
            DbBackend::Postgres => q.build(PostgresQueryBuilder),
            _ => q.build(SqliteQueryBuilder),
        };
        (sql, values.0.iter().map(|v| format!("{v:?}")).collect())
    }

    #[test]
    fn ids_are_one_array_parameter_on_postgresql_and_a_list_on_sqlite() {
        let (two, v2) = sql(DbBackend::Postgres, &[7, 9]);
        let (many, v50) = sql(DbBackend::Postgres, &(1..=50).collect::<Vec<_>>());
        // One statement text for any number of ids: what lets PostgreSQL keep a generic plan.
        assert_eq!(two, many);
        assert_eq!(
            two,
            r#"SELECT "id" FROM "tasks" WHERE "id" = ANY(CAST($1 AS INTEGER[]))"#
        );
        assert_eq!(v2.len(), 1);
        assert!(v2[0].contains("{7,9}"), "{v2:?}");
        assert!(v50[0].contains("{1,2,3,") && v50[0].contains(",50}"), "{v50:?}");
        let (none, _) = sql(DbBackend::Postgres, &[]);
        assert_eq!(none, two);
        // One id is an equality, on both.
        let (one, v1) = sql(DbBackend::Postgres, &[7]);
        assert_eq!(one, r#"SELECT "id" FROM "tasks" WHERE "id" = $1"#);
        assert_eq!(v1.len(), 1);
        let (lite, values) = sql(DbBackend::Sqlite, &[1, 2, 3]);
        assert_eq!(lite, r#"SELECT "id" FROM "tasks" WHERE "id" IN (?, ?, ?)"#);
        assert_eq!(values.len(), 3);
        assert_eq!(
            sql(DbBackend::Sqlite, &[4]).0,
            r#"SELECT "id" FROM "tasks" WHERE "id" = ?"#
        );
    }
}
