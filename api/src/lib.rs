//! chidao's library and its composition root: [`Application::build`] makes the shared state,
//! each capability's caches and the schemas, and hands them to the router; nothing else knows
//! them all. The `chidao` binary is a thin CLI over it.
//!
//! Layers point one way: `http` → `schema` → the capabilities (`agencies`, `directives`,
//! `tasks`, `reports`, `indicators`, `audit`) → `graphql`, `auth`, `db`, `domain` and the shared
//! infrastructure (`state`, `config`, `error`, `metrics`, `events`, `changes`, `clock`). Only the
//! GraphQL object graph among the capabilities refers back and forth; `.ci/layers.py` checks it.
// async-graphql's resolver futures nest deep enough for the auto-trait checks of the merged
// roots to pass the default limit of 128.
#![recursion_limit = "256"]

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod clock;
pub mod config;
pub mod db;
pub mod directives;
pub mod domain;
pub mod duties;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod indicators;
pub mod intake;
pub mod metrics;
pub mod reports;
pub mod schema;
pub mod seed;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod webhooks;

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::db::StatementCounter;
use crate::state::State;

/// A built service, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    state: Arc<State>,
    schema: schema::ChidaoSchema,
    /// The node budget of one request (`CHIDAO_MAX_NODES`), for `execute`.
    max_nodes: u64,
    router: axum::Router,
    /// `CHIDAO_HEADER_READ_TIMEOUT_SECS`.
    header_read_timeout: std::time::Duration,
    /// The key made for `--dev` when none was configured.
    dev_secret: Option<String>,
}

impl Application {
    /// Connects, migrates, seeds an empty database, and binds (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let mut keys = settings.keys();
        let dev_secret = if keys.has_key() {
            None
        } else if settings.dev {
            let secret = auth::jwt::random_secret();
            keys.secret = Some(secret.clone());
            Some(secret)
        } else {
            anyhow::bail!(
                "no token key configured: set JWT_SECRET (HS256), or the identity provider's keys \
                 (RS256/ES256) with JWT_OIDC_ISSUER, JWT_JWKS_URL, JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE, \
                 or pass --dev for local work"
            );
        };
        // Settings first (a placeholder secret, a plain-http key URL), before any connection.
        let verifier = auth::jwt::Verifier::new(&keys)?;
        domain::duty::set_recurring_day(settings.recurring_report_day);
        let (db, statements) = db::connect(&settings.database_url, settings.db_pool).await?;
        if let Some(report) = seed::prepare(&db, &settings.seeds).await? {
            tracing::info!("{report}");
        }
        let listener = TcpListener::bind(settings.bind).await?;
        let db_backend = sea_orm::ConnectionTrait::get_database_backend(&db);
        let reads = db::reads::Reads::new(&settings.database_url, &db, settings.db_pool, statements.clone())?;
        let metrics = metrics::Metrics::default();
        let replica = match settings.database_read_url.as_deref().filter(|u| !u.is_empty()) {
            Some(_) if db_backend != sea_orm::DbBackend::Postgres => {
                anyhow::bail!("DATABASE_READ_URL needs DATABASE_URL on PostgreSQL")
            }
            Some(url) => {
                let r = Arc::new(
                    db::replica::Replica::connect(
                        url,
                        &reads,
                        settings.db_pool,
                        statements.clone(),
                        std::time::Duration::from_millis(settings.replica_wait_ms),
                        |choice| metrics.read_route(choice),
                        metrics.replica_lag(),
                    )
                    .await?,
                );
                r.watch(db.clone());
                tracing::info!(replica = %config::redact_url(url), "query requests read from the replica");
                Some(r)
            }
            None => None,
        };
        verifier.start(Some(metrics.key_fetch_counters())).await;
        let reuse_for = std::time::Duration::from_secs(settings.statistics_reuse_secs);
        let events = events::Events::new();
        // On PostgreSQL the listener also brings other instances' task events (subscriptions),
        // so it runs even when statistics are never reused.
        let changes = if db_backend == sea_orm::DbBackend::Postgres {
            changes::Changes::listen(&settings.database_url, events.clone()).await
        } else {
            changes::Changes::off()
        };
        let sizes = Arc::new(db::sizes::ListSizes::default());
        let aside = db::connect_aside(&settings.database_url).await?;
        sizes.refresh(&aside).await?;
        sizes.keep_current(aside);
        let state = Arc::new(State {
            db,
            reads,
            replica,
            statements,
            loader_delay: std::time::Duration::from_millis(settings.loader_delay_ms),
            verifier,
            token_agencies: {
                let (hits, misses) = metrics.reuse_counters("token_agency");
                auth::caller::KeptAgencies::new(reuse_for, hits, misses)
            },
            write_lock: (db_backend == sea_orm::DbBackend::Sqlite).then(|| tokio::sync::Mutex::new(())),
            dev: settings.dev,
            introspection: settings.introspection,
            metrics,
            changes,
            events,
            socket_recheck: std::time::Duration::from_secs(settings.ws_recheck_secs),
            in_flight: state::InFlight::new(settings.max_cost_in_flight, settings.max_cost),
            sizes,
            duties: duties::DutySettings {
                due_soon_days: settings.due_soon_days,
            },
            reminder_lookback_days: settings.reminder_lookback_days,
            webhooks: settings.webhooks(),
        });
        if state.webhooks.workers > 0 {
            webhooks::worker::start(state.clone(), settings.database_url.clone());
        } else {
            tracing::info!("webhook delivery is off on this instance (CHIDAO_WEBHOOK_WORKERS=0)");
        }
        duties::reminders::start(
            state.clone(),
            std::time::Duration::from_secs(settings.reminder_interval_secs),
            settings.reminder_lookback_days,
        );
        // One cache of `taskStatistics` answers, shared by both schemas.
        let statistics = Arc::new(tasks::stats::StatisticsCache::new(reuse_for, &state.metrics));
        let types = Arc::new(graphql::order::Types::of_sdl(&schema::sdl()));
        let parts = || schema::Parts {
            statistics: statistics.clone(),
            limits: settings.limits(),
            types: types.clone(),
        };
        let graphql = schema::build(state.clone(), parts());
        let ws = schema::build_ws(state.clone(), parts(), http::SocketChecks);
        let router = http::router(state.clone(), graphql.clone(), ws, settings, types);
        Ok(Application {
            listener,
            state,
            schema: graphql,
            max_nodes: settings.max_nodes,
            router,
            header_read_timeout: std::time::Duration::from_secs(settings.header_read_timeout_secs.max(1)),
            dev_secret,
        })
    }

    /// In `--dev` without a configured key: one token per role, signed with the made key
    /// (the agency token for Sở Tài chính), valid for 12 hours.
    pub fn dev_tokens(&self) -> anyhow::Result<Vec<(auth::Role, String)>> {
        let Some(secret) = &self.dev_secret else {
            return Ok(Vec::new());
        };
        auth::Role::ALL
            .iter()
            .map(|&role| {
                let agency = (role == auth::Role::Agency).then_some("so-tai-chinh");
                let ttl = std::time::Duration::from_secs(12 * 3600);
                let t = auth::jwt::sign(
                    secret,
                    &format!("dev-{}", role.as_str()),
                    role,
                    agency,
                    ttl,
                    None,
                    None,
                )?;
                Ok((role, t))
            })
            .collect()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Counts SQL statements run by this application (for tests proving N+1 freedom).
    pub fn statements(&self) -> StatementCounter {
        self.state.statements.clone()
    }

    pub fn db(&self) -> sea_orm::DatabaseConnection {
        self.state.db.clone()
    }

    /// The data generation (tests wait for it to move after a write beside the service).
    pub fn generation(&self) -> changes::Generation {
        self.state.changes.generation()
    }

    /// The task event feed (tests wait on its subscriber count).
    pub fn events(&self) -> events::Events {
        self.state.events.clone()
    }

    /// Runs one GraphQL request as the holder of `authorization` (an `Authorization` header's
    /// value), without HTTP: the token is checked and the request gets its caller and loaders
    /// as `POST /graphql` gives them, but none of the HTTP layer's document limits, rate
    /// limits or content negotiation run. For fast schema-level tests.
    pub async fn execute(
        &self,
        authorization: &str,
        request: async_graphql::Request,
    ) -> Result<async_graphql::Response, error::ApiError> {
        let mut headers = axum::http::HeaderMap::new();
        let value = axum::http::HeaderValue::from_str(authorization)
            .map_err(|_| error::ApiError::Unauthenticated("Header Authorization không hợp lệ".into()))?;
        headers.insert(axum::http::header::AUTHORIZATION, value);
        // A document holding a mutation gets loaders that keep nothing beyond one batch, and
        // its caller's agency looked up afresh (`auth::caller::Directory::fresh_if`).
        let doc = async_graphql::parser::parse_query(&request.query).ok();
        let mutation = doc.as_ref().is_some_and(|doc| {
            doc.operations
                .iter()
                .any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
        });
        // A query's loaders leave out the columns none of its fields reads, as over HTTP.
        let lean = doc
            .filter(|_| !mutation)
            .map(|doc| std::sync::Arc::new(db::lean::Fields::of(&doc)));
        let directory = self.state.directory().fresh_if(mutation);
        let caller = auth::caller::authenticate(&self.state.verifier, directory, &headers).await?;
        let mut request = request;
        let reads = if mutation {
            self.state.reads.clone()
        } else {
            self.state.query_reads(&caller.principal.subject).await
        };
        schema::request_data(
            &mut request.data,
            &self.state,
            reads,
            &caller.scope,
            !mutation,
            self.max_nodes,
            lean,
        );
        Ok(self.schema.execute(request.data(caller)).await)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        http::serve(self.listener, self.router, self.header_read_timeout, shutdown).await
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
