//! The `chidao` binary: `serve` (default), `migrate`, `seed`, `schema`, `token`.

use std::path::PathBuf;

use anyhow::Context;
use api::config::Settings;
use clap::{Parser, Subcommand};

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
    /// Load the seed files (idempotent: unchanged files change nothing).
    Seed {
        /// Folder of the seed files (default: the `--seeds` setting).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Print a signed token for local use (arrives with authentication).
    Token,
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
        Command::Seed { dir } => {
            let (db, _) = api::db::connect(&cli.settings.database_url, 1).await?;
            api::db::migrate(&db).await?;
            let dir = dir.unwrap_or(cli.settings.seeds.clone());
            let set = api::seed::SeedSet::read(&dir)?;
            let report = api::seed::load(&db, &set).await?;
            println!("{report}");
        }
        Command::Schema => print!("{}", api::schema::sdl()),
        Command::Token => {
            anyhow::bail!("`chidao token` arrives with authentication (JWT); not available yet")
        }
    }
    Ok(())
}
