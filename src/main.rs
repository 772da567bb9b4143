//! The `chidao` binary: `serve` (default), `migrate`, `seed`, `schema`, `token`.

use std::path::PathBuf;

use anyhow::Context;
use api::config::Settings;
use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: a request allocates many small short-lived objects
/// across two worker threads, where glibc's allocator took a sixth of the server's CPU
/// under load (`bench/`, README "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "chidao",
    version,
    about = "Theo dõi nhiệm vụ chỉ đạo của UBND tỉnh: GraphQL API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed an empty database, and serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load the seed files (idempotent: unchanged files change nothing), or with `--synthetic`
    /// a large deterministic benchmark dataset (codes `syn-…`) beside them.
    Seed {
        /// Folder of the seed files (default: the `--seeds` setting).
        #[arg(long, conflicts_with = "synthetic")]
        dir: Option<PathBuf>,
        /// Load the synthetic benchmark dataset instead: 300 agencies, 200 directives, 20,000 tasks,
        /// 60,000 assignments, 200,000 progress reports, 500 indicators × 12 values at scale 1.
        /// Refused when the database already holds it.
        #[arg(long)]
        synthetic: bool,
        /// With `--synthetic`: multiply every row count by N, except the agencies (a province has
        /// about 300 whatever the years of data).
        #[arg(long, default_value_t = 1, requires = "synthetic", value_parser = clap::value_parser!(u32).range(1..))]
        scale: u32,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Print an HS256 token signed with JWT_SECRET, for local use and tests.
    Token {
        /// admin, monitor, agency, viewer or analyst.
        #[arg(long)]
        role: String,
        /// The agency's code (required for role agency), e.g. so-tai-chinh.
        #[arg(long)]
        agency: Option<String>,
        /// Lifetime: 90s, 15m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = api::auth::jwt::parse_ttl)]
        ttl: std::time::Duration,
        /// The token's subject (`sub`); defaults to the role.
        #[arg(long)]
        subject: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    api::telemetry::init();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = api::Application::build(&cli.settings)
                .await
                .context("could not start chidao")?;
            let tokens = app.dev_tokens()?;
            if !tokens.is_empty() {
                tracing::warn!("--dev: no JWT key configured; signing with a key made for this run only");
                println!(
                    "Development tokens (valid 12 h, this run only). Send: Authorization: Bearer <token>"
                );
                for (role, token) in tokens {
                    println!("  {:<8} {token}", role.as_str());
                }
            }
            tracing::info!(
                database = %cli.settings.redacted_database_url(),
                "chidao listening on http://{}:{}/graphql",
                cli.settings.bind.ip(),
                app.port()
            );
            app.run_until(api::shutdown_signal()).await?;
        }
        Command::Migrate => {
            let (db, _) = api::db::connect(&cli.settings.database_url, 1).await?;
            api::db::migrate(&db).await?;
            println!("migrations applied");
        }
        Command::Seed {
            synthetic: true,
            scale,
            ..
        } => {
            let (db, _) = api::db::connect(&cli.settings.database_url, 1).await?;
            api::db::migrate(&db).await?;
            let scale = api::seed::synthetic::Scale::times(f64::from(scale));
            println!(
                "loading synthetic data into {}: {scale:?}",
                cli.settings.redacted_database_url()
            );
            let report = api::seed::synthetic::load(&db, scale).await?;
            println!("{report}");
        }
        Command::Seed { dir, .. } => {
            let (db, _) = api::db::connect(&cli.settings.database_url, 1).await?;
            api::db::migrate(&db).await?;
            let dir = dir.unwrap_or(cli.settings.seeds.clone());
            let set = api::seed::SeedSet::read(&dir)?;
            let report = api::seed::load(&db, &set).await?;
            println!("{report}");
        }
        Command::Schema => print!("{}", api::schema::sdl()),
        Command::Token {
            role,
            agency,
            ttl,
            subject,
        } => {
            let Some(secret) = cli.settings.jwt_secret.as_deref().filter(|s| !s.is_empty()) else {
                anyhow::bail!("set JWT_SECRET: `chidao token` signs HS256 tokens with it");
            };
            let Some(role) = api::auth::Role::parse(&role) else {
                anyhow::bail!("unknown role '{role}': use admin, monitor, agency, viewer or analyst");
            };
            if role == api::auth::Role::Agency && agency.is_none() {
                anyhow::bail!("role agency needs --agency CODE");
            }
            let subject = subject.unwrap_or_else(|| role.as_str().to_owned());
            let token = api::auth::jwt::sign(
                secret,
                &subject,
                role,
                agency.as_deref(),
                ttl,
                cli.settings.jwt_issuer.as_deref(),
                cli.settings.jwt_audience.as_deref(),
            )?;
            println!("{token}");
        }
    }
    Ok(())
}
