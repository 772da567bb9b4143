//! Configuration: one struct, read from flags or the environment, with defaults that make
//! `cargo run` work on a fresh machine.

use std::net::SocketAddr;

/// Where the data lives and where the service listens.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Database URL: `sqlite://file.db?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://chidao.db?mode=rwc")]
    pub database_url: String,

    /// A PostgreSQL streaming replica (a hot standby of DATABASE_URL) that query requests
    /// read from; writes, the change listener and kept answers stay on the primary, and a
    /// caller reads its own writes (`db::replica`). Unset: everything reads the primary.
    #[arg(long, env = "DATABASE_READ_URL")]
    pub database_read_url: Option<String>,

    /// How long a query request waits for the read replica to replay its caller's last
    /// write before it reads from the primary instead, in milliseconds.
    #[arg(long, env = "CHIDAO_REPLICA_WAIT_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub replica_wait_ms: u64,

    /// Address to listen on.
    #[arg(long, env = "CHIDAO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Folder of the seed files loaded into an empty database.
    #[arg(long, env = "CHIDAO_SEEDS", default_value = "seeds")]
    pub seeds: std::path::PathBuf,

    /// Maximum pooled database connections (PostgreSQL; SQLite uses a small pool).
    #[arg(long, env = "CHIDAO_DB_POOL", default_value_t = 10)]
    pub db_pool: u32,

    /// Extra time a loader batch waits for keys before it runs, in milliseconds. 0 (the
    /// default): a batch runs as soon as every sibling resolver of the level has asked.
    #[arg(long, env = "CHIDAO_LOADER_DELAY_MS", default_value_t = 0)]
    pub loader_delay_ms: u64,

    /// HS256 key for tokens: at least 32 bytes and no placeholder (make one with `openssl rand
    /// -base64 48`). Prefer the environment to the flag.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM public key (RSA or EC) of the identity provider, for RS256/ES256 tokens.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<std::path::PathBuf>,

    /// JWKS file of the identity provider (keys chosen by `kid`), for RS256/ES256 tokens.
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<std::path::PathBuf>,

    /// JWKS URL of the identity provider (https, or http on loopback), fetched and kept;
    /// fetched again on its `Cache-Control: max-age` (1 min to 1 day, else 1 h) and when a
    /// token names an unknown `kid`.
    #[arg(long, env = "JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,

    /// OpenID issuer of the identity provider (e.g. https://sso.laocai.gov.vn/realms/laocai):
    /// its keys are found by discovery (`/.well-known/openid-configuration`), and RS/ES tokens
    /// must carry it as `iss` unless JWT_ISSUER says otherwise.
    #[arg(long, env = "JWT_OIDC_ISSUER")]
    pub jwt_oidc_issuer: Option<String>,

    /// Least seconds between two fetches of the provider's keys caused by tokens with an
    /// unknown `kid` (however many such tokens arrive).
    #[arg(long, env = "JWT_JWKS_MIN_REFETCH_SECS", default_value_t = 30)]
    pub jwt_jwks_min_refetch_secs: u64,

    /// The longest lifetime a token may have, in seconds (`exp` − `iat`, and `exp` − now):
    /// longer ones are refused, so a leaked token cannot stay good for months.
    #[arg(long, env = "JWT_MAX_LIFETIME_SECS", default_value_t = crate::auth::jwt::DEFAULT_MAX_LIFETIME_SECS)]
    pub jwt_max_lifetime_secs: u64,

    /// Required `iss` claim, when set.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim, when set.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Maximum lexical tokens in a GraphQL document.
    #[arg(long, env = "CHIDAO_MAX_TOKENS", default_value_t = 2000)]
    pub max_tokens: usize,

    /// Maximum nesting depth of a GraphQL operation.
    #[arg(long, env = "CHIDAO_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,

    /// Maximum nesting depth inside introspection (`__schema`, `__type`), counted from the
    /// operation's root. Introspection is measured apart from data, as graphql-armor does:
    /// graphql-js's standard introspection query nests `ofType` nine levels (depth 15), and
    /// its size depends on the schema, not on the data.
    #[arg(long, env = "CHIDAO_MAX_INTROSPECTION_DEPTH", default_value_t = 20)]
    pub max_introspection_depth: usize,

    /// Maximum aliased fields in a GraphQL document.
    #[arg(long, env = "CHIDAO_MAX_ALIASES", default_value_t = 20)]
    pub max_aliases: usize,

    /// Maximum directive uses in a GraphQL document.
    #[arg(long, env = "CHIDAO_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,

    /// Maximum estimated cost (each field 1; a connection multiplies its children by `first`).
    #[arg(long, env = "CHIDAO_MAX_COST", default_value_t = 50_000)]
    pub max_cost: u64,

    /// Estimated cost that may run at once over all requests and subscription events (each
    /// holds its estimate until its answer is written; the rest wait their turn): what bounds
    /// the server's memory under many heavy requests at once.
    #[arg(long, env = "CHIDAO_MAX_COST_IN_FLIGHT", default_value_t = 60_000)]
    pub max_cost_in_flight: u64,

    /// Maximum rows one request's loaders may read (the executed response's nodes): a backstop
    /// behind the estimated cost, for data larger than the estimate assumes.
    #[arg(long, env = "CHIDAO_MAX_NODES", default_value_t = 50_000)]
    pub max_nodes: u64,

    /// Maximum bytes of one GraphQL response (exports stream and are not counted).
    #[arg(long, env = "CHIDAO_MAX_RESPONSE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_response_bytes: usize,

    /// Maximum operations in a batched request; 0 turns batching off.
    #[arg(long, env = "CHIDAO_MAX_BATCH", default_value_t = 0)]
    pub max_batch: usize,

    /// Maximum request body in bytes.
    #[arg(long, env = "CHIDAO_MAX_BODY_BYTES", default_value_t = 262_144)]
    pub max_body_bytes: usize,

    /// Answer introspection queries (authenticated callers only).
    #[arg(long, env = "CHIDAO_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub introspection: bool,

    /// Requests a minute per token subject (or per IP without a token); 0 turns it off.
    #[arg(long, env = "CHIDAO_RATE_PER_MINUTE", default_value_t = 600)]
    pub rate_per_minute: u32,

    /// Burst allowed above the per-minute rate.
    #[arg(long, env = "CHIDAO_RATE_BURST", default_value_t = 100)]
    pub rate_burst: u32,

    /// Browser origins allowed by CORS, comma-separated (e.g. https://dichvucong.laocai.gov.vn).
    #[arg(long, env = "CHIDAO_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// PostgreSQL: seconds an answer (a whole query's, or a `taskStatistics`) may be reused
    /// while no write has been committed to a table it read (every such write drops it at
    /// once, through LISTEN/NOTIFY); 0 computes every answer. SQLite never reuses answers.
    #[arg(long, env = "CHIDAO_STATISTICS_REUSE_SECS", default_value_t = 60)]
    pub statistics_reuse_secs: u64,

    /// Let Linux back chidao's heap with transparent huge pages (2 MB pages, when the
    /// machine's THP setting is `always`): 15–30 MB more resident memory for a small heap
    /// whose pages are mostly empty. Off: `chidao serve` asks the kernel not to
    /// (`prctl(PR_SET_THP_DISABLE)`) and executes itself again, so that the allocator's first
    /// pages are small too.
    #[arg(long, env = "CHIDAO_HUGE_PAGES", default_value_t = false, action = clap::ArgAction::Set)]
    pub huge_pages: bool,

    /// A reporting duty not yet met and due within this many days is DUE_SOON (and gets its
    /// reminder).
    #[arg(long, env = "CHIDAO_DUE_SOON_DAYS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=60))]
    pub due_soon_days: u32,

    /// The day of the period's last month a recurring task's report is due (III.3 of
    /// 10/CT-UBND: before the UBND's regular monthly meeting); a day past the month's end is its
    /// last day.
    #[arg(long, env = "CHIDAO_RECURRING_REPORT_DAY", default_value_t = crate::domain::duty::DEFAULT_RECURRING_DAY, value_parser = clap::value_parser!(u32).range(1..=31))]
    pub recurring_report_day: u32,

    /// Seconds between two sweeps of reporting reminders (REPORT_DUE_SOON, REPORT_OVERDUE
    /// events); 0 sends none on its own (`sendReportingReminders` still does).
    #[arg(long, env = "CHIDAO_REMINDER_INTERVAL_SECS", default_value_t = 3600)]
    pub reminder_interval_secs: u64,

    /// Reminders are sent for duties that fell due at most this many days ago (so turning
    /// them on does not remind of years of history).
    #[arg(long, env = "CHIDAO_REMINDER_LOOKBACK_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=3660))]
    pub reminder_lookback_days: u32,

    /// Seconds after which a subscription checks its token again (at its next event), as
    /// `POST /graphql` checks every request: an agency merged away, or rows that changed,
    /// end the subscription.
    #[arg(long, env = "CHIDAO_WS_RECHECK_SECS", default_value_t = 60)]
    pub ws_recheck_secs: u64,

    /// Hosts webhook endpoints may point at, comma-separated: names or addresses, exact, or
    /// `*.` and a domain. Empty: no endpoint can be created. A loopback or link-local address is
    /// a receiver only when its host is named here exactly.
    #[arg(
        long,
        env = "CHIDAO_WEBHOOK_ALLOW_HOSTS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub webhook_allow_hosts: Vec<String>,

    /// Webhook deliveries this instance sends at once (one endpoint at most a quarter of them);
    /// 0: this instance sends none (the outbox still fills; other instances deliver).
    #[arg(long, env = "CHIDAO_WEBHOOK_WORKERS", default_value_t = 8, value_parser = clap::value_parser!(u64).range(0..=256))]
    pub webhook_workers: u64,

    /// Seconds one webhook attempt may take (connect, send, answer).
    #[arg(long, env = "CHIDAO_WEBHOOK_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub webhook_timeout_secs: u64,

    /// Seconds before each retry of a failed webhook delivery, comma-separated (±20 % jitter);
    /// after the last the delivery has failed.
    #[arg(
        long,
        env = "CHIDAO_WEBHOOK_RETRY_SECS",
        value_delimiter = ',',
        default_value = "5,300,1800,7200,18000,36000,36000"
    )]
    pub webhook_retry_secs: Vec<u64>,

    /// Failed attempts in a row after which an endpoint reads as failing.
    #[arg(long, env = "CHIDAO_WEBHOOK_FAILING_AFTER", default_value_t = 5)]
    pub webhook_failing_after: u32,

    /// Seconds before a request is cut off with 408.
    #[arg(long, env = "CHIDAO_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds a client has to send a request's headers (from the connection's start, or the
    /// end of its previous request) before the connection is closed: a slow-header client
    /// cannot hold connections open.
    #[arg(long, env = "CHIDAO_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Development mode: with no key configured, make one and print a token per role.
    #[arg(long, env = "CHIDAO_DEV", global = true, action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub dev: bool,
}

impl Settings {
    /// The defaults, exactly as `chidao` with no flags and no environment would start: read
    /// from the `#[arg]` attributes above (the one place a default is written), with every
    /// `env` lookup removed so a developer's shell cannot change them.
    pub fn defaults() -> Settings {
        use clap::{Args, FromArgMatches};
        let command = Settings::augment_args(clap::Command::new("chidao")).mut_args(|a| a.env(None));
        command
            .try_get_matches_from(["chidao"])
            .and_then(|m| Settings::from_arg_matches(&m))
            .unwrap_or_else(|e| panic!("the settings' own defaults parse: {e}"))
    }

    /// The settings a test server starts with: the defaults over `database_url`, on a free
    /// port, signing with `secret`, and no rate limit (tests fire
    /// hundreds of requests with one token; the rate-limit test turns it on).
    pub fn for_tests(database_url: impl Into<String>, secret: &str) -> Settings {
        Settings {
            database_url: database_url.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_pool: 4,
            jwt_secret: Some(secret.to_owned()),
            rate_per_minute: 0,
            ..Settings::defaults()
        }
    }

    /// How webhooks are delivered.
    pub fn webhooks(&self) -> WebhookSettings {
        WebhookSettings {
            allow_hosts: self
                .webhook_allow_hosts
                .iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect(),
            workers: self.webhook_workers as usize,
            timeout: std::time::Duration::from_secs(self.webhook_timeout_secs),
            retry_after: self
                .webhook_retry_secs
                .iter()
                .map(|s| std::time::Duration::from_secs(*s))
                .collect(),
            failing_after: self.webhook_failing_after.min(i32::MAX as u32) as i32,
        }
    }

    /// The request limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_tokens: self.max_tokens,
            max_depth: self.max_depth,
            max_introspection_depth: self.max_introspection_depth,
            introspection: self.introspection,
            max_aliases: self.max_aliases,
            max_directives: self.max_directives,
            max_cost: self.max_cost,
            max_batch: self.max_batch,
            max_nodes: self.max_nodes,
            max_response_bytes: self.max_response_bytes,
            max_body_bytes: self.max_body_bytes,
        }
    }

    /// The token keys and claims to check.
    pub fn keys(&self) -> crate::auth::jwt::KeyConfig {
        crate::auth::jwt::KeyConfig {
            secret: self.jwt_secret.clone().filter(|s| !s.is_empty()),
            public_key_file: self.jwt_public_key_file.clone(),
            jwks_file: self.jwt_jwks_file.clone(),
            jwks_url: self.jwt_jwks_url.clone().filter(|s| !s.is_empty()),
            oidc_issuer: self.jwt_oidc_issuer.clone().filter(|s| !s.is_empty()),
            jwks_min_refetch: std::time::Duration::from_secs(self.jwt_jwks_min_refetch_secs),
            issuer: self.jwt_issuer.clone().filter(|s| !s.is_empty()),
            audience: self.jwt_audience.clone().filter(|s| !s.is_empty()),
            max_lifetime: std::time::Duration::from_secs(self.jwt_max_lifetime_secs),
        }
    }

    /// The database URL with any password masked, for logs.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

/// Request limits checked before a GraphQL operation executes (`graphql::limits`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Lexical tokens in the query text.
    pub max_tokens: usize,
    /// Nesting depth of fields.
    pub max_depth: usize,
    /// Nesting depth inside introspection, from the operation's root.
    pub max_introspection_depth: usize,
    /// Whether introspection is answered at all (`CHIDAO_INTROSPECTION`).
    pub introspection: bool,
    /// Aliased fields in the document.
    pub max_aliases: usize,
    /// Directive uses in the document.
    pub max_directives: usize,
    /// Estimated cost: each field costs 1 and a connection multiplies its children by its
    /// page size (`first`/`last`, or 20).
    pub max_cost: u64,
    /// Rows one request's loaders may read.
    pub max_nodes: u64,
    /// Bytes of one response.
    pub max_response_bytes: usize,
    /// Operations in one batched request (0: batching off).
    pub max_batch: usize,
    /// Request body bytes.
    pub max_body_bytes: usize,
}

pub fn redact_url(url: &str) -> String {
    // postgres://user:secret@host/db -> postgres://user:***@host/db
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::{Settings, redact_url};

    #[test]
    fn defaults_are_those_of_the_attributes_whatever_the_environment() {
        let d = Settings::defaults();
        assert_eq!(d.database_url, "sqlite://chidao.db?mode=rwc");
        assert_eq!(d.bind.to_string(), "127.0.0.1:8080");
        assert_eq!((d.max_depth, d.max_cost, d.max_tokens), (12, 50_000, 2000));
        assert!(d.introspection);
        assert!(!d.dev);
        assert_eq!(d.rate_per_minute, 600);
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/chidao"),
            "postgres://app:***@db:5432/chidao"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact_url("sqlite://chidao.db?mode=rwc"),
            "sqlite://chidao.db?mode=rwc"
        );
    }
}

/// How webhooks are delivered (`CHIDAO_WEBHOOK_*`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Hosts (names or addresses, exact, or `*.` and a domain) endpoints may point at.
    /// Empty: no endpoint may be created.
    pub allow_hosts: Vec<String>,
    /// Delivery workers of this instance (at once); one endpoint takes at most a quarter of
    /// them (at least one).
    pub workers: usize,
    /// How long one attempt may take.
    pub timeout: std::time::Duration,
    /// The waits before each retry; after the last, a delivery has failed.
    pub retry_after: Vec<std::time::Duration>,
    /// Failures in a row after which an endpoint reads as failing.
    pub failing_after: i32,
}

impl WebhookSettings {
    /// Whether `host` is on the allow-list.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allow_hosts.iter().any(|a| {
            let a = a.trim().trim_end_matches('.').to_ascii_lowercase();
            match a.strip_prefix("*.") {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == a || host == a.trim_start_matches('[').trim_end_matches(']'),
            }
        })
    }

    /// The wait before retry `n` (1: the first) with ±20 % jitter, or `None` after the last.
    pub fn retry_wait(&self, n: usize) -> Option<std::time::Duration> {
        let base = self.retry_after.get(n.checked_sub(1)?)?;
        let jitter = 0.8 + 0.4 * rand::random::<f64>();
        Some(base.mul_f64(jitter))
    }
}
