//! Prometheus metrics (`GET /metrics`) and rate limiting per token subject / client IP.

use std::num::NonZeroU32;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::auth::Role;
use crate::context::State;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    operation: String,
    role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReuseLabels {
    answer: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

/// The service's metrics, one set per application.
pub struct Metrics {
    registry: Registry,
    requests: Family<OpLabels, Counter>,
    duration: Family<DurationLabels, Histogram>,
    errors: Family<CodeLabels, Counter>,
    rate_limited: Counter,
    pool: Family<PoolLabels, Gauge>,
    read_pool: Family<PoolLabels, Gauge>,
    statements: Counter<u64, AtomicU64>,
    reuse: Family<ReuseLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("chidao");
        let requests = Family::<OpLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations by operation name and role",
            requests.clone(),
        );
        let duration = Family::<DurationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL operation latency",
            duration.clone(),
        );
        let errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "graphql_errors",
            "GraphQL errors by extensions.code",
            errors.clone(),
        );
        let rate_limited = Counter::default();
        registry.register("rate_limited", "Requests refused with 429", rate_limited.clone());
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, in_use, max)",
            pool.clone(),
        );
        let read_pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_read_pool_connections",
            "PostgreSQL read pool connections by state (idle, in_use, max); absent on SQLite",
            read_pool.clone(),
        );
        let statements = Counter::<u64, AtomicU64>::default();
        registry.register("db_statements", "SQL statements run", statements.clone());
        let reuse = Family::<ReuseLabels, Counter>::default();
        registry.register(
            "answers_reused",
            "Lookups of kept answers (taskStatistics) by result: hit (reused) or miss (computed)",
            reuse.clone(),
        );
        Metrics {
            registry,
            requests,
            duration,
            errors,
            rate_limited,
            pool,
            read_pool,
            statements,
            reuse,
        }
    }
}

impl Metrics {
    /// The (hit, miss) counters of the kept answers of `answer`.
    pub fn reuse_counters(&self, answer: &str) -> (Counter, Counter) {
        let get = |result: &str| {
            self.reuse
                .get_or_create(&ReuseLabels {
                    answer: answer.to_owned(),
                    result: result.to_owned(),
                })
                .clone()
        };
        (get("hit"), get("miss"))
    }

    pub fn observe(&self, op: &str, role: Role, codes: &[&str], started: Instant) {
        // Operation names come from clients: keep the label set bounded.
        let op: String = if op.is_empty() {
            "anonymous".into()
        } else {
            op.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect()
        };
        self.requests
            .get_or_create(&OpLabels {
                operation: op.clone(),
                role: role.as_str().into(),
            })
            .inc();
        self.duration
            .get_or_create(&DurationLabels { operation: op })
            .observe(started.elapsed().as_secs_f64());
        for c in codes {
            self.errors
                .get_or_create(&CodeLabels {
                    code: (*c).to_owned(),
                })
                .inc();
        }
    }
}

/// `GET /metrics` in the Prometheus text format.
pub fn render(state: &State) -> Response {
    let m = &state.metrics;
    set_pool(&m.pool, pool_stats(&state.db));
    if let Some(stats) = state.reads.pool_stats() {
        set_pool(&m.read_pool, stats);
    }
    let seen = m.statements.get();
    let now = state.statements.get();
    if now > seen {
        m.statements.inc_by(now - seen);
    }
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

fn set_pool(family: &Family<PoolLabels, Gauge>, (size, idle, max): (i64, i64, i64)) {
    let set = |state: &str, v: i64| family.get_or_create(&PoolLabels { state: state.into() }).set(v);
    set("in_use", size.saturating_sub(idle));
    set("idle", idle);
    set("max", max);
}

fn pool_stats(db: &sea_orm::DatabaseConnection) -> (i64, i64, i64) {
    match sea_orm::ConnectionTrait::get_database_backend(db) {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                i64::from(pool.size()),
                pool.num_idle() as i64,
                i64::from(pool.options().get_max_connections()),
            )
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                i64::from(pool.size()),
                pool.num_idle() as i64,
                i64::from(pool.options().get_max_connections()),
            )
        }
        _ => (0, 0, 0),
    }
}

/// Token-bucket limits per key (a token's subject, or `ip:<addr>` without a token).
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl RateLimit {
    /// `per_minute` requests a minute on average, bursts up to `burst`; `None` when off.
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst.max(1))?;
        Some(RateLimit {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        })
    }
}

/// `Some(429)` when `key` is over its limit.
pub fn rate_limited(state: &State, key: &str) -> Option<Response> {
    let rl = state.rate_limit.as_ref()?;
    match rl.limiter.check_key(&key.to_owned()) {
        Ok(()) => None,
        Err(not_until) => {
            state.metrics.rate_limited.inc();
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let body = serde_json::json!({ "errors": [{
                "message": format!("Quá nhiều yêu cầu; thử lại sau {secs} giây"),
                "extensions": { "code": "RATE_LIMITED", "retryAfterSeconds": secs }
            }]});
            let mut res = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(res)
        }
    }
}
