//! What every resolver can reach: the shared state and the per-request caller.

use std::sync::Arc;

use chrono::{FixedOffset, NaiveDate, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::{Principal, Scope};
use crate::db::StatementCounter;

/// Shared across requests (behind an `Arc`).
pub struct State {
    /// sea-orm's pool: writes (transactions), migrations, exports, health.
    pub db: DatabaseConnection,
    /// What queries read through (on PostgreSQL a pool without sqlx's ping per statement).
    pub reads: crate::reads::Reads,
    pub statements: StatementCounter,
    /// Extra wait before a loader batch runs (0: batches close when the request's task yields).
    pub loader_delay: std::time::Duration,
    /// Checks bearer tokens.
    pub verifier: crate::auth::jwt::Verifier,
    /// SQLite allows one writer: mutations take this lock so that two writes never race
    /// to upgrade their read locks (which SQLite answers with "database is locked").
    /// `None` on PostgreSQL, whose row locks and unique indexes do the job.
    pub write_lock: Option<tokio::sync::Mutex<()>>,
    /// `--dev`: field suggestions and other conveniences for local work.
    pub dev: bool,
    /// Request limits checked before execution.
    pub limits: crate::limits::Limits,
    /// Whether introspection is answered.
    pub introspection: bool,
    /// Per-subject / per-IP rate limit; `None` when off.
    pub rate_limit: Option<crate::metrics::RateLimit>,
    /// Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
    /// Origins allowed by CORS (none: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Per-request timeout.
    pub request_timeout: std::time::Duration,
    /// When committed data changed (PostgreSQL), so kept answers can be reused until then.
    pub changes: crate::changes::Changes,
    /// Committed task events, for subscriptions.
    pub events: crate::events::Events,
    /// How often a subscription checks its token again (`CHIDAO_WS_RECHECK_SECS`).
    pub socket_recheck: std::time::Duration,
    /// `taskStatistics` answers kept until the data changes.
    pub task_statistics: crate::changes::Reuse<
        crate::tasks::stats::StatisticsKey,
        std::sync::Arc<crate::tasks::stats::TaskStatistics>,
    >,
}

impl State {
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a State {
        ctx.data_unchecked::<Arc<State>>()
    }
}

/// The caller of one request and what it may see.
pub struct Caller {
    pub principal: Principal,
    pub scope: Scope,
    /// The request's `x-request-id`, for the audit log and error reports.
    pub request_id: Option<String>,
    /// When the token expires (seconds since the Unix epoch): a socket's subscriptions end then.
    pub expires_at: u64,
}

impl Caller {
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Caller {
        ctx.data_unchecked::<Caller>()
    }
}

/// Indochina Time (UTC+7), checked at compile time.
const ICT: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Vietnam's civil date: "today" for deadlines is the province's today, not UTC's.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&ICT).date_naive()
}
