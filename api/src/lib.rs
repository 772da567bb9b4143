//! chidao's library: the domain, the GraphQL API and the HTTP service. The `chidao` binary
//! is a thin CLI over [`Application`].

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod changes;
pub mod config;
pub mod context;
pub mod db;
pub mod directives;
pub mod domain;
pub mod error;
pub mod events;
pub mod export;
pub mod graphql_http;
pub mod http;
pub mod indicators;
pub mod limits;
pub mod loaders;
pub mod metrics;
pub mod mutations;
pub mod positional;
pub mod reads;
pub mod relay;
pub mod reports;
pub mod scalars;
pub mod schema;
pub mod seed;
pub mod subscriptions;
pub mod synthetic;
pub mod tasks;
pub mod telemetry;

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::context::State;
use crate::db::StatementCounter;

/// How many `taskStatistics` answers are kept at most. An answer is under 1 KB plus ~150
/// bytes a group, and only answers of at most `stats::MAX_KEPT_GROUPS` groups are kept, so
/// the whole stays under ~10 MB whatever callers ask; a dashboard asks for a handful of
/// filters, each agency for its own.
const STATISTICS_KEPT: usize = 1024;

/// A built service, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    state: Arc<State>,
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
                "no token key configured: set JWT_SECRET (HS256), JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE \
                 (RS256/ES256), or pass --dev for local work"
            );
        };
        let verifier = auth::jwt::Verifier::new(&keys)?;
        let (db, statements) = db::connect(&settings.database_url, settings.db_pool).await?;
        if let Some(report) = db::prepare(&db, &settings.seeds).await? {
            tracing::info!("{report}");
        }
        let listener = TcpListener::bind(settings.bind).await?;
        let db_backend = sea_orm::ConnectionTrait::get_database_backend(&db);
        let reads = reads::Reads::new(&settings.database_url, &db, settings.db_pool, statements.clone())?;
        let metrics = metrics::Metrics::default();
        let (hits, misses) = metrics.reuse_counters("task_statistics");
        let reuse_for = std::time::Duration::from_secs(settings.statistics_reuse_secs);
        let events = events::Events::new();
        // On PostgreSQL the listener also brings other instances' task events (subscriptions),
        // so it runs even when statistics are never reused.
        let changes = if db_backend == sea_orm::DbBackend::Postgres {
            changes::Changes::listen(&settings.database_url, events.clone()).await
        } else {
            changes::Changes::off()
        };
        Ok(Application {
            listener,
            state: Arc::new(State {
                db,
                reads,
                statements,
                loader_delay: std::time::Duration::from_millis(settings.loader_delay_ms),
                verifier,
                write_lock: (db_backend == sea_orm::DbBackend::Sqlite).then(|| tokio::sync::Mutex::new(())),
                dev: settings.dev,
                limits: settings.limits(),
                introspection: settings.introspection,
                rate_limit: metrics::RateLimit::new(settings.rate_per_minute, settings.rate_burst),
                metrics,
                cors_origins: settings.cors_origins.clone(),
                request_timeout: std::time::Duration::from_secs(settings.request_timeout_secs.max(1)),
                changes,
                events,
                socket_recheck: std::time::Duration::from_secs(settings.ws_recheck_secs),
                task_statistics: changes::Reuse::new(reuse_for, STATISTICS_KEPT, hits, misses),
            }),
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

    /// The task event feed (tests wait on its subscriber count).
    pub fn events(&self) -> events::Events {
        self.state.events.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = http::router(self.state.clone());
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
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
