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
    /// What queries read through (on PostgreSQL a pool without sqlx's ping per statement),
    /// on the primary; a query request may read the replica instead ([`State::reads_of`]).
    pub reads: Reads,
    /// The read replica (`DATABASE_READ_URL`), when there is one.
    pub replica: Option<Arc<crate::db::replica::Replica>>,
    pub statements: StatementCounter,
    /// Extra wait before a loader batch runs (0: batches close when the request's task yields).
    pub loader_delay: Duration,
    /// Checks bearer tokens.
    pub verifier: crate::auth::jwt::Verifier,
    /// Agency tokens' agencies and scopes, kept until a write to what their lookup read.
    pub token_agencies: crate::auth::caller::KeptAgencies,
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
    /// The estimated cost running at once (`CHIDAO_MAX_COST_IN_FLIGHT`): a request or a
    /// subscription event takes its estimate's worth of permits while it runs.
    pub in_flight: InFlight,
    /// How long the data's plain lists are, for the cost estimate (`db::sizes`).
    pub sizes: Arc<crate::db::sizes::ListSizes>,
    /// How reporting duties are computed (`CHIDAO_DUE_SOON_DAYS`).
    pub duties: crate::domain::duty::DutySettings,
    /// `CHIDAO_REMINDER_LOOKBACK_DAYS`.
    pub reminder_lookback_days: u32,
    /// How webhooks are delivered (`CHIDAO_WEBHOOK_*`).
    pub webhooks: crate::config::WebhookSettings,
}

/// Admission by estimated cost: the server's memory under load follows the size of the answers
/// being built, which the estimated cost bounds, so the sum of the estimates running at once
/// is kept under a ceiling; beyond it requests wait (FIFO) rather than all build at once.
pub struct InFlight {
    permits: Arc<tokio::sync::Semaphore>,
    most: u64,
}

impl InFlight {
    /// A ceiling of `total` cost units, never below one request's `max_cost`.
    pub fn new(total: u64, max_cost: u64) -> Self {
        let most = total.max(max_cost).clamp(1, u64::from(u32::MAX));
        InFlight {
            permits: Arc::new(tokio::sync::Semaphore::new(most as usize)),
            most,
        }
    }

    /// Waits until `cost` fits, and holds it until the permit is dropped.
    pub async fn admit(&self, cost: u64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let n = cost.clamp(1, self.most) as u32;
        self.permits.clone().acquire_many_owned(n).await.ok()
    }
}

/// The reads of one request, when it has been routed ([`State::query_reads`]).
pub struct RequestReads(pub Reads);

impl State {
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a State {
        ctx.data_unchecked::<Arc<State>>()
    }

    /// Where a token's agency is looked up (`auth::caller::authenticate`).
    pub fn directory(&self) -> crate::auth::caller::Directory<'_> {
        crate::auth::caller::Directory {
            reads: &self.reads,
            changes: &self.changes,
            kept: &self.token_agencies,
            fresh: false,
        }
    }

    /// What a resolver reads through: the read replica or the primary, as its request was
    /// routed (the primary when it was not: a mutation, a subscription event).
    pub fn reads_of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Reads {
        match ctx.data_opt::<RequestReads>() {
            Some(r) => &r.0,
            None => &Self::of(ctx).reads,
        }
    }

    /// Where a query request (or an export) of the token subject `subject` reads: the
    /// replica once it has replayed the subject's last write, else the primary
    /// (`db::replica`); the primary when there is no replica.
    pub async fn query_reads(&self, subject: &str) -> Reads {
        match &self.replica {
            Some(r) => r.route(subject, &self.reads).await,
            None => self.reads.clone(),
        }
    }
}
