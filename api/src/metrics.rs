//! The service's Prometheus metrics: what is counted and how it is encoded (served by
//! `http::metrics`).

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::auth::Role;

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
struct ResultLabels {
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
    key_fetches: Family<ResultLabels, Counter>,
    webhook_attempts: Family<ResultLabels, Counter>,
    webhook_queue: Gauge,
    webhook_oldest: Gauge,
    read_routes: Family<ResultLabels, Histogram>,
    replica_lag: Gauge,
    answers_kept: Gauge,
    /// The operation names that have a label value of their own (at most
    /// [`MAX_OPERATION_LABELS`]; later new names share [`OTHER_OPERATIONS`]).
    operations: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// How many distinct operation names get a label value of their own: the clients of the
/// province send a few dozen; a client inventing names cannot grow `/metrics` past this.
pub const MAX_OPERATION_LABELS: usize = 200;
/// The label value of every operation name past [`MAX_OPERATION_LABELS`].
pub const OTHER_OPERATIONS: &str = "other";

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
            "Lookups of kept answers (answer: graphql for whole query answers, task_statistics, token_agency for agency tokens' agencies and scopes) by result: hit (reused) or miss (computed)",
            reuse.clone(),
        );
        let key_fetches = Family::<ResultLabels, Counter>::default();
        registry.register(
            "jwks_fetches",
            "Fetches of the identity provider's keys (JWT_JWKS_URL, JWT_OIDC_ISSUER) by result: ok or error",
            key_fetches.clone(),
        );
        let webhook_attempts = Family::<ResultLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook attempts by result: delivered, failed (retried later), given_up (FAILED), skipped (not visible to the endpoint)",
            webhook_attempts.clone(),
        );
        let webhook_queue = Gauge::default();
        registry.register(
            "webhook_queue_depth",
            "Webhook deliveries PENDING (every instance's, read from the outbox every few seconds)",
            webhook_queue.clone(),
        );
        let webhook_oldest = Gauge::default();
        registry.register(
            "webhook_oldest_pending_seconds",
            "Age of the oldest PENDING webhook delivery (0 when none)",
            webhook_oldest.clone(),
        );
        // 1 µs to ~0.5 s: a route without a wait is a lookup (microseconds); a wait lasts
        // until the replica replays the caller's write, at most CHIDAO_REPLICA_WAIT_MS.
        let read_routes = Family::<ResultLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_001, 4.0, 11))
        });
        registry.register(
            "read_route_seconds",
            "Time to choose where a query request reads (DATABASE_READ_URL), by choice: replica, replica_after_wait (the caller's own write replayed while it waited), primary_after_wait (not replayed in CHIDAO_REPLICA_WAIT_MS), primary_replica_down",
            read_routes.clone(),
        );
        let replica_lag = Gauge::default();
        registry.register(
            "replica_lag_bytes",
            "WAL bytes the read replica had not replayed at its last check (every 500 ms)",
            replica_lag.clone(),
        );
        let answers_kept = Gauge::default();
        registry.register(
            "answers_kept_bytes",
            "Bytes the kept whole query answers and their keys take (CHIDAO_STATISTICS_REUSE_SECS)",
            answers_kept.clone(),
        );
        Metrics {
            registry,
            read_routes,
            replica_lag,
            answers_kept,
            webhook_attempts,
            webhook_queue,
            webhook_oldest,
            requests,
            duration,
            errors,
            rate_limited,
            pool,
            read_pool,
            statements,
            reuse,
            key_fetches,
            operations: Default::default(),
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

    /// The histogram of the time to route query requests as `result` (see `db::replica`).
    pub fn read_route(&self, result: &str) -> Histogram {
        self.read_routes
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .clone()
    }

    /// The gauge of the bytes kept query answers take.
    pub fn answers_kept(&self) -> Gauge {
        self.answers_kept.clone()
    }

    /// The gauge of the read replica's replay lag, in WAL bytes.
    pub fn replica_lag(&self) -> Gauge {
        self.replica_lag.clone()
    }

    /// Counts one webhook attempt by its result.
    pub fn webhook_attempt(&self, result: &str) {
        self.webhook_attempts
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// The outbox's PENDING deliveries and the age of the oldest, in seconds.
    pub fn set_webhook_queue(&self, depth: i64, oldest_secs: i64) {
        self.webhook_queue.set(depth);
        self.webhook_oldest.set(oldest_secs);
    }

    /// The (ok, error) counters of fetches of the identity provider's keys.
    pub fn key_fetch_counters(&self) -> (Counter, Counter) {
        let get = |result: &str| {
            self.key_fetches
                .get_or_create(&ResultLabels {
                    result: result.to_owned(),
                })
                .clone()
        };
        (get("ok"), get("error"))
    }

    /// Operation names come from clients: the label set is bounded, in the length of a value
    /// (64 characters of `A-Z a-z 0-9 _`) and in their number (the first
    /// [`MAX_OPERATION_LABELS`] names seen; the rest are [`OTHER_OPERATIONS`]).
    fn operation_label(&self, op: &str) -> String {
        let op: String = op
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        if op.is_empty() {
            return "anonymous".into();
        }
        let mut known = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        if known.contains(&op) {
            return op;
        }
        if known.len() < MAX_OPERATION_LABELS {
            known.insert(op.clone());
            return op;
        }
        OTHER_OPERATIONS.into()
    }

    pub fn observe(&self, op: &str, role: Role, codes: &[&str], started: Instant) {
        let op = self.operation_label(op);
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

    /// One request refused with 429.
    pub fn count_rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Brings the gauges up to date: the write pool's and the read pool's (size, idle, max)
    /// and the statements run so far.
    pub fn record_pools(&self, write: (i64, i64, i64), read: Option<(i64, i64, i64)>, statements: u64) {
        set_pool(&self.pool, write);
        if let Some(stats) = read {
            set_pool(&self.read_pool, stats);
        }
        let seen = self.statements.get();
        if statements > seen {
            self.statements.inc_by(statements - seen);
        }
    }

    /// The Prometheus/OpenMetrics text of every metric.
    pub fn encode(&self) -> Option<String> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).ok()?;
        Some(out)
    }
}

fn set_pool(family: &Family<PoolLabels, Gauge>, (size, idle, max): (i64, i64, i64)) {
    let set = |state: &str, v: i64| family.get_or_create(&PoolLabels { state: state.into() }).set(v);
    set("in_use", size.saturating_sub(idle));
    set("idle", idle);
    set("max", max);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_operation_names_cannot_grow_the_label_set() {
        let m = Metrics::default();
        let t = Instant::now();
        for i in 0..(MAX_OPERATION_LABELS + 500) {
            m.observe(&format!("Op{i}"), Role::Viewer, &[], t);
        }
        m.observe("Op3", Role::Viewer, &[], t);
        m.observe("", Role::Viewer, &[], t);
        m.observe(&"x".repeat(10_000), Role::Viewer, &[], t);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &m.registry).expect("encode");
        let series: std::collections::HashSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("chidao_graphql_requests_total{"))
            .collect();
        // 200 names of their own, `other` and `anonymous`.
        assert_eq!(series.len(), MAX_OPERATION_LABELS + 2, "{series:?}");
        assert!(text.contains(r#"operation="other""#));
        assert!(text.contains(r#"operation="Op3""#));
        assert!(!text.contains(&"x".repeat(65)));
    }
}
