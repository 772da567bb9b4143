//! What every resolver and handler shares across requests (behind an `Arc`): the database,
//! the token verifier, metrics, and the change and event feeds. Nothing here names a
//! feature's own types: a feature's caches are schema data, put there by the composition
//! root (`lib.rs`).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::db::StatementCounter;
use crate::db::reads::Reads;

/// Shared across requests.
pub struct State {
    /// sea-orm's pool: writes (transactions), migrations, exports, health.
    pub db: DatabaseConnection,
    /// What queries read through (on PostgreSQL a pool without sqlx's ping per statement).
    pub reads: Reads,
    pub statements: StatementCounter,
    /// Extra wait before a loader batch runs (0: batches close when the request's task yields).
    pub loader_delay: Duration,
    /// Checks bearer tokens.
    pub verifier: crate::auth::jwt::Verifier,
    /// SQLite allows one writer: mutations take this lock so that two writes never race
    /// to upgrade their read locks (which SQLite answers with "database is locked").
    /// `None` on PostgreSQL, whose row locks and unique indexes do the job.
    pub write_lock: Option<tokio::sync::Mutex<()>>,
    /// `--dev`: field suggestions and other conveniences for local work.
    pub dev: bool,
    /// Whether introspection is answered.
    pub introspection: bool,
    /// Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
    /// When committed data changed (PostgreSQL), so kept answers can be reused until then.
    pub changes: crate::changes::Changes,
    /// Committed events, for subscriptions.
    pub events: crate::events::Events,
    /// How often a subscription checks its token again (`CHIDAO_WS_RECHECK_SECS`).
    pub socket_recheck: Duration,
}

impl State {
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a State {
        ctx.data_unchecked::<Arc<State>>()
    }
}
