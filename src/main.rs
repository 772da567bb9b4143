//! The `chidao` binary: `serve` (default), `migrate`, `seed`, `schema`, `token`.

use std::path::PathBuf;

use anyhow::Context;
use api::config::Settings;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// mimalloc instead of glibc's malloc: a request allocates many small short-lived objects
/// across two worker threads, where glibc's allocator took a sixth of the server's CPU
/// under load (`bench/`, README "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Asks Linux not to back this process's memory with transparent huge pages. mimalloc maps
/// its arenas 1 GiB at a time, aligned; where THP is `always` (Debian's default) each 2 MB of
/// them that holds anything becomes resident whole: idle, chidao held 18 MB of huge pages (37 MB
/// resident, 23.7 MB without them; the peak under the bench 63.5 MB against 35.9 MB). The flag
/// (`prctl(PR_SET_THP_DISABLE)`) applies to pages touched after it is set, and mimalloc touches
/// its first ones before `main`; the flag survives `exec`, so the server executes itself again
/// (same process id, arguments and environment) and starts its heap with the flag on. Set
/// `CHIDAO_HUGE_PAGES=true` to leave the kernel's setting alone.
fn small_pages() {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::prctl;
        use std::os::unix::process::CommandExt;
        // Already off: this is the executed-again server, or the operator turned it off.
        if prctl::get_thp_disable().unwrap_or(true) {
            return;
        }
        if let Err(e) = prctl::set_thp_disable(true) {
            eprintln!("chidao: cannot turn transparent huge pages off ({e}); memory use will be higher");
            return;
        }
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_default();
        let err = std::process::Command::new("/proc/self/exe")
            .arg0(arg0)
            .args(args)
            .exec();
        eprintln!(
            "chidao: cannot execute itself again without huge pages ({err}); going on with those in use"
        );
    }
}

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
    /// Read a document into a draft for review: `chidao import directive FILE`.
    Import {
        #[command(subcommand)]
        what: Import,
    },
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

#[derive(Subcommand)]
enum Import {
    /// Read a directive (UTF-8 text, or `.docx`) into a draft seed file whose doubts are
    /// `# KIỂM TRA:` comments; review it, then load it with `chidao seed`.
    Directive {
        /// The directive's text.
        file: PathBuf,
        /// Where to write the draft (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The agencies file names are resolved against (default: `<seeds>/agencies.yaml`).
        #[arg(long)]
        agencies: Option<PathBuf>,
    },
}

impl Cli {
    /// The command line, with every setting (`--bind`, `--database-url`, …) accepted before
    /// the subcommand and after it alike: `chidao --bind X serve` and `chidao serve --bind X`.
    fn command_line() -> clap::Command {
        Cli::command().mut_args(|a| a.global(true))
    }

    fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut matches = Cli::command_line().try_get_matches_from(args)?;
        Cli::from_arg_matches_mut(&mut matches)
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    if !cli.settings.huge_pages && matches!(cli.command, None | Some(Command::Serve)) {
        small_pages();
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
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
        Command::Import {
            what: Import::Directive { file, out, agencies },
        } => {
            let started = std::time::Instant::now();
            let is_docx = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("docx"));
            let text = if is_docx {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("could not read {}", file.display()))?;
                api::intake::docx::text_of(&bytes).with_context(|| format!("{}", file.display()))?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("could not read {} as UTF-8 text", file.display()))?
            };
            let agencies = agencies.unwrap_or_else(|| cli.settings.seeds.join("agencies.yaml"));
            let names = api::seed::format::read_agencies(&agencies)?;
            let draft = api::intake::read(&text, &names);
            let yaml = api::intake::yaml::write(&draft, &file.display().to_string());
            let flagged = draft.tasks.iter().filter(|t| !t.doubts.is_empty()).count();
            match &out {
                Some(path) => std::fs::write(path, &yaml)
                    .with_context(|| format!("could not write {}", path.display()))?,
                None => print!("{yaml}"),
            }
            eprintln!(
                "{} tasks, {flagged} with doubts (# KIỂM TRA), {} on the document; read in {} ms{}",
                draft.tasks.len(),
                draft.doubts.len(),
                started.elapsed().as_millis(),
                out.as_ref()
                    .map(|p| format!(" → {}", p.display()))
                    .unwrap_or_default()
            );
        }
        Command::Token {
            role,
            agency,
            ttl,
            subject,
        } => {
            let Some(secret) = cli.settings.jwt_secret.as_deref().filter(|s| !s.is_empty()) else {
                anyhow::bail!(
                    "set JWT_SECRET: `chidao token` signs HS256 tokens with it ({})",
                    api::auth::secret::HOW_TO_GENERATE
                );
            };
            // The rule `serve` applies: a token signed with a key `serve` refuses is of no use,
            // and a short or published key signs tokens anyone can forge.
            api::auth::secret::check(secret)?;
            let Some(role) = api::auth::Role::parse(&role) else {
                anyhow::bail!("unknown role '{role}': use admin, monitor, agency, viewer or analyst");
            };
            match (role, agency.as_deref()) {
                (api::auth::Role::Agency, None) => anyhow::bail!("role agency needs --agency CODE"),
                (api::auth::Role::Agency, Some(code)) => existing_agency(&cli.settings, code).await?,
                (_, Some(_)) => anyhow::bail!("--agency is for role agency only"),
                (_, None) => {}
            }
            let max = cli.settings.jwt_max_lifetime_secs;
            if ttl.as_secs() > max {
                anyhow::bail!(
                    "--ttl {}s is longer than `serve` accepts (JWT_MAX_LIFETIME_SECS={max}): the token would be refused",
                    ttl.as_secs()
                );
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

/// Refuses an agency code that is not in the database of `DATABASE_URL`, or whose agency has
/// ended (naming its successor), as `serve` would refuse the token. Reads only: no migration,
/// no seed, and a SQLite file that does not exist is not created.
async fn existing_agency(settings: &Settings, code: &str) -> anyhow::Result<()> {
    let url = without_create(&settings.database_url);
    let shown = settings.redacted_database_url();
    let (db, _) = api::db::connect(&url, 1).await.with_context(|| {
        format!(
            "`chidao token --agency` checks the code in the database, and {shown} cannot be opened; \
             set DATABASE_URL to the database `chidao serve` uses"
        )
    })?;
    let found = api::auth::directory::active_by_code(&db, "--agency", code, api::clock::today()).await;
    db.close().await.ok();
    match found {
        Ok(_) => Ok(()),
        Err(api::error::ApiError::BadUserInput { message, .. }) => {
            anyhow::bail!("--agency {code}: {message} (database {shown})")
        }
        Err(e) => anyhow::bail!(
            "cannot read the agencies of {shown}: has `chidao serve` or `chidao migrate` run on it? ({e:?})"
        ),
    }
}

/// A SQLite URL that opens an existing file only (`mode=rwc` would create an empty one).
fn without_create(url: &str) -> String {
    if url.starts_with("sqlite:") {
        url.replace("mode=rwc", "mode=rw")
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::parse_args(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn settings_are_accepted_before_and_after_the_subcommand() {
        let after = parse(&["chidao", "serve", "--bind", "127.0.0.1:9001", "--dev"]);
        assert!(matches!(after.command, Some(Command::Serve)));
        assert_eq!(after.settings.bind.to_string(), "127.0.0.1:9001");
        assert!(after.settings.dev);
        let before = parse(&["chidao", "--bind", "127.0.0.1:9002", "serve"]);
        assert!(matches!(before.command, Some(Command::Serve)));
        assert_eq!(before.settings.bind.to_string(), "127.0.0.1:9002");
        let token = parse(&[
            "chidao",
            "token",
            "--role",
            "admin",
            "--database-url",
            "sqlite::memory:",
            "--jwt-issuer",
            "x",
        ]);
        assert!(matches!(token.command, Some(Command::Token { .. })));
        assert_eq!(token.settings.database_url, "sqlite::memory:");
        assert_eq!(token.settings.jwt_issuer.as_deref(), Some("x"));
        // No subcommand: serve (main's default), with the settings given.
        let bare = parse(&["chidao", "--bind", "127.0.0.1:9003"]);
        assert!(bare.command.is_none());
        assert_eq!(bare.settings.bind.to_string(), "127.0.0.1:9003");
        // A subcommand's own flags stay its own.
        assert!(Cli::parse_args(["chidao", "--role", "admin", "token"]).is_err());
    }

    #[test]
    fn sqlite_urls_open_existing_files_only() {
        assert_eq!(
            without_create("sqlite://chidao.db?mode=rwc"),
            "sqlite://chidao.db?mode=rw"
        );
        assert_eq!(
            without_create("postgres://u@h/db?mode=rwc"),
            "postgres://u@h/db?mode=rwc"
        );
    }
}
