//! The connection GraphQL queries read through.
//!
//! On PostgreSQL, reads go through a pool of their own (deadpool over sqlx `PgConnection`s)
//! instead of sea-orm's sqlx pool. sqlx's pool pings every connection when it is given back
//! (`PoolConnection::return_to_pool` sends a Sync and waits for the answer), so each read
//! statement cost two round trips, and on a busy two-core machine the second one showed as
//! ~10% of the server's CPU and more of PostgreSQL's (measured with the `bench/` suite: Q4,
//! one statement per request, ran 20–30% faster without it).
//!
//! What the ping guarded against is handled here instead:
//! * a statement whose future is dropped half-way (a request timeout, a client that went
//!   away) may leave bytes on the wire: its connection is closed, never returned;
//! * a connection that failed with an I/O or protocol error, or that the server ended, is
//!   closed with every idle one, and the read runs again on a new connection (reads change
//!   nothing, so this is safe): a database restart costs no failed query;
//! * a connection idle for longer than [`PING_IF_IDLE_FOR`] is pinged before reuse (the
//!   server or a firewall may have dropped it), as sea-orm's pool is configured to do.
//!
//! Writes (transactions), migrations, exports and SQLite keep sea-orm's pool: `Reads::Orm`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, Object, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;

use super::StatementCounter;

/// A pooled connection unused for this long is pinged before it is handed out.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

/// How many times a read is tried when its connections keep turning out broken.
const READ_ATTEMPTS: usize = 3;

/// How long a read waits for a free connection (or for a new one to open).
const WAIT: Duration = Duration::from_secs(5);

/// Where queries read from: sea-orm's pool, or (PostgreSQL) the ping-free read pool.
#[derive(Clone, Debug)]
pub enum Reads {
    Orm(DatabaseConnection),
    Pg(Arc<PgReads>),
}

impl Reads {
    /// The read pool for `url` when it is PostgreSQL (`size` connections at most), else `db`.
    pub fn new(
        url: &str,
        db: &DatabaseConnection,
        size: u32,
        counter: StatementCounter,
    ) -> Result<Self, DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(Reads::Orm(db.clone()));
        }
        Self::pg(url, size, counter, None)
    }

    /// The ping-free read pool on the PostgreSQL server at `url`: the primary's, or a read
    /// replica's (`db::replica`), whose reads run on `fallback` (the primary's pool) when the
    /// replica cannot be reached.
    pub fn pg(
        url: &str,
        size: u32,
        counter: StatementCounter,
        fallback: Option<&Reads>,
    ) -> Result<Self, DbErr> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?
            .disable_statement_logging();
        let pool = managed::Pool::builder(Manager { opts })
            .max_size(size.max(1) as usize)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbErr::Custom(format!("read pool: {e}")))?;
        let fallback = match fallback {
            Some(Reads::Pg(p)) => Some(p.clone()),
            _ => None,
        };
        Ok(Reads::Pg(Arc::new(PgReads {
            pool,
            counter,
            fallback,
        })))
    }

    /// (open connections, idle ones, maximum) of the read pool; `None` when reads share
    /// sea-orm's pool.
    pub fn pool_stats(&self) -> Option<(i64, i64, i64)> {
        match self {
            Reads::Orm(_) => None,
            Reads::Pg(p) => {
                let s = p.pool.status();
                Some((s.size as i64, s.available as i64, s.max_size as i64))
            }
        }
    }
}

/// PostgreSQL read pool; see the module documentation.
pub struct PgReads {
    pool: managed::Pool<Manager>,
    counter: StatementCounter,
    /// Where a read runs when this server cannot be reached (a replica's primary).
    fallback: Option<Arc<PgReads>>,
}

impl std::fmt::Debug for PgReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReads")
            .field("status", &self.pool.status())
            .finish()
    }
}

struct Manager {
    opts: PgConnectOptions,
}

impl managed::Manager for Manager {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.opts.connect().await
    }

    async fn recycle(&self, conn: &mut PgConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.last_used() >= PING_IF_IDLE_FOR {
            conn.ping().await?;
        }
        Ok(())
    }
}

/// Whether an error leaves the connection unusable (as opposed to a statement the server
/// refused, after which the connection is fine).
fn breaks_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
            true
        }
        // The server ended the session: class 08 (connection exception) and 57P01–57P03
        // (administrator or crash shutdown, "cannot connect now"), sent as a FATAL error.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// Whether a sea-orm error says its connection is unusable (see `breaks_connection`).
pub fn connection_broken(e: &DbErr) -> bool {
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => breaks_connection(e),
        _ => false,
    }
}

/// A checked-out connection that goes back to the pool only when `release` says the
/// statement finished; dropped any other way (cancelled, broken), the connection is closed.
struct Lease(Option<Object<Manager>>);

impl Lease {
    fn conn(&mut self) -> &mut PgConnection {
        self.0.as_mut().expect("leased connection present until release")
    }

    fn release(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(obj) = self.0.take() {
            // Detached from the pool (which opens a replacement when needed) and closed.
            drop(Object::take(obj));
        }
    }
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

impl PgReads {
    /// Runs `run` on a leased connection, counts and traces the statement, and returns the
    /// connection to the pool unless the error broke it. A read that failed because its
    /// connection was broken (the server restarted or dropped it) runs again on a new
    /// connection, at most [`READ_ATTEMPTS`] times in all: reads change nothing, so the
    /// retry is safe.
    async fn run<T, F>(&self, stmt: &Statement, err: fn(sqlx::Error) -> DbErr, run: F) -> Result<T, DbErr>
    where
        F: for<'c> Fn(
            &'c mut PgConnection,
            sqlx::query::Query<'c, sqlx::Postgres, SqlxValues>,
        ) -> BoxFut<'c, T>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let obj = match self.pool.get().await {
                Ok(obj) => obj,
                Err(e) => {
                    if let Some(fallback) = &self.fallback {
                        tracing::warn!(error = %e, "read replica: no connection; reading from the primary");
                        return Box::pin(fallback.run(stmt, err, run)).await;
                    }
                    return Err(match e {
                        managed::PoolError::Backend(e) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
                        other => {
                            tracing::warn!(error = %other, "read pool: no connection");
                            DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)
                        }
                    });
                }
            };
            let mut lease = Lease(Some(obj));
            let started = Instant::now();
            let values = SqlxValues(stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new())));
            let query = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), values);
            let out = run(lease.conn(), query).await;
            self.counter.record(stmt, started.elapsed(), out.is_err());
            match out {
                Err(e) if breaks_connection(&e) => {
                    drop(lease);
                    // What broke one connection (a restart, a killed session, a firewall)
                    // has most likely broken the idle ones too: close them all, so the
                    // retry opens a fresh connection instead of finding the next dead one.
                    drop(self.pool.retain(|_, _| false));
                    if attempt >= READ_ATTEMPTS {
                        if let Some(fallback) = &self.fallback {
                            tracing::warn!(error = %e, "read replica: connections broken; reading from the primary");
                            return Box::pin(fallback.run(stmt, err, run)).await;
                        }
                        return Err(err(e));
                    }
                    tracing::warn!(error = %e, "read pool: connection broken, retrying the read on a new one");
                }
                out => {
                    lease.release();
                    return out.map_err(err);
                }
            }
        }
    }
}

type BoxFut<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

#[async_trait::async_trait]
impl ConnectionTrait for Reads {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Reads::Orm(db) => db.get_database_backend(),
            Reads::Pg(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Reads::Orm(db) => db.execute_raw(stmt).await,
            Reads::Pg(p) => p
                .run(&stmt, exec_err, |c, q| Box::pin(q.execute(c)))
                .await
                .map(ExecResult::from),
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Reads::Orm(db) => db.execute_unprepared(sql).await,
            Reads::Pg(p) => {
                let stmt = Statement::from_string(DbBackend::Postgres, sql);
                p.run(&stmt, exec_err, |c, _| {
                    Box::pin(sqlx::Executor::execute(c, sqlx::AssertSqlSafe(sql.to_owned())))
                })
                .await
                .map(ExecResult::from)
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Reads::Orm(db) => db.query_one_raw(stmt).await,
            Reads::Pg(p) => p
                .run(&stmt, query_err, |c, q| Box::pin(q.fetch_optional(c)))
                .await
                .map(|row| row.map(QueryResult::from)),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Reads::Orm(db) => db.query_all_raw(stmt).await,
            Reads::Pg(p) => p
                .run(&stmt, query_err, |c, q| Box::pin(q.fetch_all(c)))
                .await
                .map(|rows| rows.into_iter().map(QueryResult::from).collect()),
        }
    }
}
