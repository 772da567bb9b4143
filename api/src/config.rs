//! Configuration: one struct, read from flags or the environment, with defaults that make
//! `cargo run` work on a fresh machine.

use std::net::SocketAddr;

/// Where the data lives and where the service listens.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Database URL: `sqlite://file.db?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://chidao.db?mode=rwc")]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "CHIDAO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Folder of the seed files loaded into an empty database.
    #[arg(long, env = "CHIDAO_SEEDS", default_value = "seeds")]
    pub seeds: std::path::PathBuf,

    /// Maximum pooled database connections (PostgreSQL; SQLite uses a small pool).
    #[arg(long, env = "CHIDAO_DB_POOL", default_value_t = 10)]
    pub db_pool: u32,

    /// How long a DataLoader collects keys before running its batch, in milliseconds.
    #[arg(long, env = "CHIDAO_LOADER_DELAY_MS", default_value_t = 1)]
    pub loader_delay_ms: u64,

    /// HS256 key for tokens (at least 32 bytes). Prefer the environment to the flag.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM public key (RSA or EC) of the identity provider, for RS256/ES256 tokens.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<std::path::PathBuf>,

    /// JWKS file of the identity provider (keys chosen by `kid`), for RS256/ES256 tokens.
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<std::path::PathBuf>,

    /// Required `iss` claim, when set.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim, when set.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Development mode: with no key configured, make one and print a token per role.
    #[arg(long, env = "CHIDAO_DEV", global = true, action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub dev: bool,
}

impl Settings {
    /// The token keys and claims to check.
    pub fn keys(&self) -> crate::auth::jwt::KeyConfig {
        crate::auth::jwt::KeyConfig {
            secret: self.jwt_secret.clone().filter(|s| !s.is_empty()),
            public_key_file: self.jwt_public_key_file.clone(),
            jwks_file: self.jwt_jwks_file.clone(),
            issuer: self.jwt_issuer.clone().filter(|s| !s.is_empty()),
            audience: self.jwt_audience.clone().filter(|s| !s.is_empty()),
        }
    }

    /// The database URL with any password masked, for logs.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

fn redact_url(url: &str) -> String {
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
    use super::redact_url;

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
