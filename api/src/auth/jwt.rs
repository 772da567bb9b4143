//! Token verification and signing. HS256 with a shared secret (`JWT_SECRET`), and RS256 or
//! ES256 with the province identity provider's public keys: a PEM file, a JWKS file, or keys
//! fetched by URL (`JWT_JWKS_URL`, or OpenID discovery from `JWT_OIDC_ISSUER`; `jwks`).
//! Each algorithm is only ever checked against a key of its own family, so a token cannot
//! choose its key by choosing `alg` (no HS256-with-the-public-key confusion): an HS256 token
//! against `JWT_SECRET` only, an RS/ES token against the provider's keys only.
//!
//! The issuer: `JWT_ISSUER`, when set, is required of every token. Otherwise `JWT_OIDC_ISSUER`
//! is required of the provider's (RS/ES) tokens, as the discovery document names it; HS256
//! tokens, which chidao signs itself (`chidao token`), are not the provider's.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use prometheus_client::metrics::counter::Counter;
use serde::{Deserialize, Serialize};

use super::Role;
use super::jwks::{self, KeyState, ProviderKeys, Source};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// The claims chidao reads (CONTRACT.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    /// The agency's code, for role `agency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Required: a token without it is refused by validation (which names the claim).
    #[serde(default)]
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// One audience or several (identity providers such as Keycloak send an array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// Why a token was refused; the message helps the caller and never repeats the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token đã hết hạn (exp); hãy lấy token mới")]
    Expired,
    #[error("Token chưa có hiệu lực (nbf)")]
    NotYetValid,
    #[error("Chữ ký token không hợp lệ")]
    BadSignature,
    #[error("Token không do bên phát hành được chấp nhận cấp (iss)")]
    WrongIssuer,
    #[error("Token không dành cho dịch vụ này (aud)")]
    WrongAudience,
    #[error("Token thiếu trường bắt buộc `{0}`")]
    MissingClaim(String),
    #[error("Thuật toán ký '{0}' không được chấp nhận")]
    Algorithm(String),
    #[error("Không có khóa nào khớp với token (kid)")]
    UnknownKey,
    #[error(
        "Chưa tải được khóa công khai của hệ thống định danh (JWKS) nên chưa kiểm tra được token; \
         vui lòng thử lại sau ít phút"
    )]
    KeysUnavailable,
    #[error("Token không đúng định dạng JWT")]
    Malformed,
    #[error("Trường trong token sai kiểu: cần `sub` và `role` là chuỗi, `exp` là số giây")]
    BadClaims,
    #[error("Token có thời hạn quá dài (tối đa {0} giây); hãy lấy token ngắn hạn hơn")]
    TooLong(u64),
    #[error("Trường `sub` của token phải có từ 1 đến 256 ký tự, không có ký tự điều khiển")]
    BadSubject,
}

/// The longest `sub` accepted (it names the caller in the audit log and the rate limit).
pub const MAX_SUBJECT_CHARS: usize = 256;

/// Default of `JWT_MAX_LIFETIME_SECS`: a token valid for more than a day is refused.
pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 24 * 3600;

/// A public key, with the key id it came with (JWKS) and the algorithms it may verify.
pub struct PublicKey {
    pub kid: Option<String>,
    pub key: DecodingKey,
    pub algorithms: &'static [Algorithm],
}

/// Everything needed to check a token.
pub struct Verifier {
    secret: Option<DecodingKey>,
    /// From `JWT_PUBLIC_KEY_FILE` and `JWT_JWKS_FILE`.
    public: Vec<PublicKey>,
    /// From `JWT_JWKS_URL` or `JWT_OIDC_ISSUER`.
    provider: Option<Arc<ProviderKeys>>,
    /// Required of HS256 tokens (`JWT_ISSUER`).
    issuer: Option<String>,
    /// Required of RS/ES tokens (`JWT_ISSUER`, else `JWT_OIDC_ISSUER`).
    provider_issuer: Option<String>,
    audience: Option<String>,
    max_lifetime_secs: u64,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub secret: Option<String>,
    pub public_key_file: Option<std::path::PathBuf>,
    pub jwks_file: Option<std::path::PathBuf>,
    pub jwks_url: Option<String>,
    pub oidc_issuer: Option<String>,
    /// The least time between two fetches caused by tokens with an unknown `kid`.
    pub jwks_min_refetch: Duration,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The longest lifetime a token may have (`exp` − `iat`, and `exp` − now).
    pub max_lifetime: Duration,
}

impl Default for KeyConfig {
    fn default() -> Self {
        KeyConfig {
            secret: None,
            public_key_file: None,
            jwks_file: None,
            jwks_url: None,
            oidc_issuer: None,
            jwks_min_refetch: jwks::DEFAULT_MIN_REFETCH,
            issuer: None,
            audience: None,
            max_lifetime: Duration::from_secs(DEFAULT_MAX_LIFETIME_SECS),
        }
    }
}

impl KeyConfig {
    pub fn has_key(&self) -> bool {
        self.secret.as_deref().is_some_and(|s| !s.is_empty())
            || self.public_key_file.is_some()
            || self.jwks_file.is_some()
            || self.jwks_url.is_some()
            || self.oidc_issuer.is_some()
    }
}

const RSA: &[Algorithm] = &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
const EC: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];

impl Verifier {
    /// Checks the configuration and reads the key files; fetches nothing (see [`Verifier::start`]).
    pub fn new(cfg: &KeyConfig) -> anyhow::Result<Self> {
        let secret = match cfg.secret.as_deref() {
            Some(s) => {
                super::secret::check(s)?;
                Some(DecodingKey::from_secret(s.as_bytes()))
            }
            None => None,
        };
        let mut public = Vec::new();
        if let Some(path) = &cfg.public_key_file {
            public.push(read_pem(path)?);
        }
        if let Some(path) = &cfg.jwks_file {
            public.extend(read_jwks(path)?);
        }
        let source = match (&cfg.jwks_url, &cfg.oidc_issuer) {
            (Some(_), Some(_)) => anyhow::bail!(
                "JWT_JWKS_URL and JWT_OIDC_ISSUER are both set: set one. JWT_OIDC_ISSUER finds the \
                 keys by discovery; to fetch them from another address, set JWT_JWKS_URL and JWT_ISSUER"
            ),
            (Some(url), None) => Some(Source::Jwks(jwks::check_url("JWT_JWKS_URL", url)?)),
            (None, Some(issuer)) => {
                let url = jwks::check_url("JWT_OIDC_ISSUER", issuer)?;
                if url.query().is_some() || url.fragment().is_some() {
                    anyhow::bail!(
                        "JWT_OIDC_ISSUER '{issuer}' must have no query or fragment (OpenID issuers have none)"
                    );
                }
                Some(Source::Discovery {
                    issuer: issuer.clone(),
                })
            }
            (None, None) => None,
        };
        let provider = match source {
            Some(source) => Some(Arc::new(ProviderKeys::new(source, cfg.jwks_min_refetch)?)),
            None => None,
        };
        Ok(Verifier {
            secret,
            public,
            provider,
            issuer: cfg.issuer.clone(),
            provider_issuer: cfg.issuer.clone().or_else(|| cfg.oidc_issuer.clone()),
            audience: cfg.audience.clone(),
            max_lifetime_secs: cfg.max_lifetime.as_secs().max(1),
        })
    }

    /// With keys by URL: the first fetch, then the refresher in the background. When the
    /// provider cannot be reached, chidao starts all the same (its tokens are refused, and
    /// `/readyz` is 503, until a fetch succeeds), so a provider that starts later or is down
    /// for a moment does not keep chidao down with it. `fetches`: the (ok, error) counters.
    pub async fn start(&self, fetches: Option<(Counter, Counter)>) {
        let Some(provider) = &self.provider else { return };
        if let Some((ok, error)) = fetches {
            provider.count_fetches(ok, error);
        }
        let failures = match provider.refresh().await {
            Ok(_) => 0,
            Err(_) => 1,
        };
        provider.spawn_refresher(failures);
    }

    /// The keys fetched by URL, if configured.
    pub fn provider_keys(&self) -> Option<&ProviderKeys> {
        self.provider.as_deref()
    }

    /// The provider's keys' state, when keys come by URL.
    pub fn key_state(&self) -> Option<KeyState> {
        self.provider.as_ref().map(|p| p.state())
    }

    /// Checks signature, `exp` (required), `nbf`, and `iss`/`aud` when configured.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let alg = header.alg;
        if alg == Algorithm::HS256 {
            let Some(secret) = &self.secret else {
                return Err(TokenError::Algorithm("HS256".into()));
            };
            return self.decode(token, alg, [secret], self.issuer.as_deref());
        }
        if !(RSA.contains(&alg) || EC.contains(&alg)) {
            return Err(TokenError::Algorithm(format!("{alg:?}")));
        }
        let kid = header.kid.as_deref();
        let mut fetched = self.provider.as_ref().and_then(|p| p.keys());
        // A `kid` no key has, or no key for this `alg`: the provider may have rotated its keys
        // since the set was fetched.
        let named = |set: Option<&jwks::KeySet>| {
            kid.is_none_or(|kid| self.all_keys(set).any(|k| k.kid.as_deref() == Some(kid)))
        };
        if let Some(provider) = &self.provider
            && (!named(fetched.as_deref()) || self.candidates(alg, kid, fetched.as_deref()).next().is_none())
            && let Some(newer) = provider
                .refetch_for_unknown_key(fetched.as_ref().map(|s| s.generation))
                .await
        {
            fetched = Some(newer);
        }
        let keys: Vec<&DecodingKey> = self.candidates(alg, kid, fetched.as_deref()).collect();
        if keys.is_empty() {
            let of_alg = self
                .all_keys(fetched.as_deref())
                .any(|k| k.algorithms.contains(&alg));
            return Err(if self.provider.is_some() && fetched.is_none() && !of_alg {
                TokenError::KeysUnavailable
            } else if !of_alg {
                TokenError::Algorithm(format!("{alg:?}"))
            } else {
                TokenError::UnknownKey
            });
        }
        self.decode(token, alg, keys, self.provider_issuer.as_deref())
    }

    /// The file keys and the fetched ones.
    fn all_keys<'a>(&'a self, fetched: Option<&'a jwks::KeySet>) -> impl Iterator<Item = &'a PublicKey> {
        self.public
            .iter()
            .chain(fetched.into_iter().flat_map(|s| s.keys.iter()))
    }

    /// The keys that may have signed a token of `alg` naming `kid`: those of that algorithm
    /// with that `kid`, or with none (a PEM key); every key of the algorithm for a token
    /// without `kid`.
    fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&'a str>,
        fetched: Option<&'a jwks::KeySet>,
    ) -> impl Iterator<Item = &'a DecodingKey> {
        self.all_keys(fetched)
            .filter(move |k| k.algorithms.contains(&alg))
            .filter(move |k| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
            .map(|k| &k.key)
    }

    /// A valid token's claims within the service's bounds: a lifetime of at most
    /// `JWT_MAX_LIFETIME_SECS` (from `iat` when given, and from now), a `sub` of at most
    /// [`MAX_SUBJECT_CHARS`] without control characters.
    fn bounded(&self, claims: Claims) -> Result<Claims, TokenError> {
        let sub = claims.sub.chars().count();
        if sub == 0 || sub > MAX_SUBJECT_CHARS || claims.sub.chars().any(char::is_control) {
            return Err(TokenError::BadSubject);
        }
        let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
        let max = self.max_lifetime_secs;
        let from_issue = claims.iat.map(|iat| claims.exp.saturating_sub(iat));
        let from_now = claims.exp.saturating_sub(now);
        if from_issue.is_some_and(|l| l > max) || from_now > max + LEEWAY_SECS {
            return Err(TokenError::TooLong(max));
        }
        Ok(claims)
    }

    fn decode<'a>(
        &self,
        token: &str,
        alg: Algorithm,
        keys: impl IntoIterator<Item = &'a DecodingKey>,
        issuer: Option<&str>,
    ) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        // jsonwebtoken checks `iss` and `aud` only when the token has them: a configured issuer
        // or audience must also make the claim required, or a token without it would pass.
        let mut required = vec!["exp", "sub"];
        match issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let mut last = TokenError::BadSignature;
        for key in keys {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => return self.bounded(data.claims),
                Err(e) => {
                    last = match e.kind() {
                        ErrorKind::InvalidSignature => TokenError::BadSignature,
                        ErrorKind::ExpiredSignature => return Err(TokenError::Expired),
                        ErrorKind::ImmatureSignature => return Err(TokenError::NotYetValid),
                        ErrorKind::InvalidIssuer => return Err(TokenError::WrongIssuer),
                        ErrorKind::InvalidAudience => return Err(TokenError::WrongAudience),
                        ErrorKind::MissingRequiredClaim(c) => {
                            return Err(TokenError::MissingClaim(c.clone()));
                        }
                        ErrorKind::InvalidAlgorithm => TokenError::Algorithm(format!("{alg:?}")),
                        ErrorKind::Json(_) => return Err(TokenError::BadClaims),
                        _ => TokenError::Malformed,
                    }
                }
            }
        }
        Err(last)
    }
}

fn read_pem(path: &Path) -> anyhow::Result<PublicKey> {
    let pem = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok(PublicKey {
            kid: None,
            key,
            algorithms: RSA,
        });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        return Ok(PublicKey {
            kid: None,
            key,
            algorithms: EC,
        });
    }
    anyhow::bail!("{} is neither an RSA nor an EC public key in PEM", path.display())
}

/// A JWKS file: the same keys as a JWKS fetched by URL would give (`jwks::parse_jwks`).
fn read_jwks(path: &Path) -> anyhow::Result<Vec<PublicKey>> {
    let text = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    jwks::parse_jwks(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Signs an HS256 token (for `chidao token`, `--dev` and tests).
pub fn sign(
    secret: &str,
    subject: &str,
    role: Role,
    agency: Option<&str>,
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: subject.to_owned(),
        role: role.as_str().to_owned(),
        agency: agency.map(str::to_owned),
        exp: now + ttl.as_secs(),
        nbf: None,
        iat: Some(now),
        iss: issuer.map(str::to_owned),
        aud: audience.map(|a| serde_json::Value::String(a.to_owned())),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// A random 256-bit secret for `--dev`, one the secret rule accepts (a random value fails it
/// about once in twenty million draws; then another is drawn rather than failing the start).
pub fn random_secret() -> String {
    use base64::Engine;
    loop {
        let bytes: [u8; 32] = rand::random();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if super::secret::check(&secret).is_ok() {
            return secret;
        }
    }
}

/// Parses `90s`, `15m`, `1h`, `7d` (a bare number is seconds).
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 1h or 30m"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in '{s}': use s, m, h or d")),
    };
    let secs = n
        .checked_mul(scale)
        .filter(|s| *s <= 366 * 86_400)
        .ok_or_else(|| format!("'{s}' is too long: at most 366 days"))?;
    if secs == 0 {
        return Err("the lifetime must be positive".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "k2WJ3mH8sdPq0vXb4yL6tZr9cN1fGu7eAo5i";

    /// `verify` without a runtime: with no keys by URL it never waits on anything.
    trait Check {
        fn check(&self, token: &str) -> Result<Claims, TokenError>;
    }

    impl Check for Verifier {
        fn check(&self, token: &str) -> Result<Claims, TokenError> {
            futures::executor::block_on(self.verify(token))
        }
    }

    fn verifier() -> Verifier {
        Verifier::new(&KeyConfig {
            secret: Some(SECRET.into()),
            ..Default::default()
        })
        .expect("verifier")
    }

    #[test]
    fn round_trip_hs256() {
        let t = sign(
            SECRET,
            "u1",
            Role::Agency,
            Some("so-tai-chinh"),
            Duration::from_secs(60),
            None,
            None,
        )
        .expect("sign");
        let c = verifier().check(&t).expect("verify");
        assert_eq!((c.sub.as_str(), c.role.as_str()), ("u1", "agency"));
        assert_eq!(c.agency.as_deref(), Some("so-tai-chinh"));
    }

    #[test]
    fn refusals_say_why() {
        let other = sign(
            "another-secret-another-secret-xx",
            "u",
            Role::Admin,
            None,
            Duration::from_secs(60),
            None,
            None,
        )
        .expect("sign");
        assert_eq!(verifier().check(&other).err(), Some(TokenError::BadSignature));
        assert_eq!(verifier().check("not.a.token").err(), Some(TokenError::Malformed));
        let now = jsonwebtoken::get_current_timestamp();
        let expired = Claims {
            sub: "u".into(),
            role: "admin".into(),
            agency: None,
            exp: now - 2 * LEEWAY_SECS,
            nbf: None,
            iat: None,
            iss: None,
            aud: None,
        };
        let enc = |c: &Claims| {
            jsonwebtoken::encode(
                &Header::default(),
                c,
                &EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .expect("encode")
        };
        assert_eq!(verifier().check(&enc(&expired)).err(), Some(TokenError::Expired));
        // Within the leeway, a just-expired token still passes.
        let skewed = Claims {
            exp: now - 10,
            ..expired.clone()
        };
        assert!(verifier().check(&enc(&skewed)).is_ok());
        let early = Claims {
            exp: now + 3600,
            nbf: Some(now + 3600),
            ..expired.clone()
        };
        assert_eq!(
            verifier().check(&enc(&early)).err(),
            Some(TokenError::NotYetValid)
        );
        // No exp at all: refused.
        let no_exp = jsonwebtoken::encode(
            &Header::default(),
            &serde_json::json!({ "sub": "u", "role": "admin" }),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("encode");
        assert_eq!(
            verifier().check(&no_exp).err(),
            Some(TokenError::MissingClaim("exp".into()))
        );
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let v = Verifier::new(&KeyConfig {
            secret: Some(SECRET.into()),
            issuer: Some("https://sso.laocai.gov.vn".into()),
            audience: Some("chidao".into()),
            ..Default::default()
        })
        .expect("verifier");
        let ttl = Duration::from_secs(60);
        let good = sign(
            SECRET,
            "u",
            Role::Viewer,
            None,
            ttl,
            Some("https://sso.laocai.gov.vn"),
            Some("chidao"),
        )
        .expect("sign");
        assert!(v.check(&good).is_ok());
        let bad_iss = sign(
            SECRET,
            "u",
            Role::Viewer,
            None,
            ttl,
            Some("https://evil"),
            Some("chidao"),
        )
        .expect("sign");
        assert_eq!(v.check(&bad_iss).err(), Some(TokenError::WrongIssuer));
        let bad_aud = sign(
            SECRET,
            "u",
            Role::Viewer,
            None,
            ttl,
            Some("https://sso.laocai.gov.vn"),
            Some("x"),
        )
        .expect("sign");
        assert_eq!(v.check(&bad_aud).err(), Some(TokenError::WrongAudience));
        // A configured issuer or audience is required, not only checked when present.
        let no_iss = sign(SECRET, "u", Role::Viewer, None, ttl, None, Some("chidao")).expect("sign");
        assert_eq!(
            v.check(&no_iss).err(),
            Some(TokenError::MissingClaim("iss".into()))
        );
        let no_aud = sign(
            SECRET,
            "u",
            Role::Viewer,
            None,
            ttl,
            Some("https://sso.laocai.gov.vn"),
            None,
        )
        .expect("sign");
        assert_eq!(
            v.check(&no_aud).err(),
            Some(TokenError::MissingClaim("aud".into()))
        );
    }

    #[test]
    fn an_audience_array_is_accepted() {
        let v = Verifier::new(&KeyConfig {
            secret: Some(SECRET.into()),
            audience: Some("chidao".into()),
            ..Default::default()
        })
        .expect("verifier");
        let enc = |aud: serde_json::Value| {
            let claims = serde_json::json!({
                "sub": "u", "role": "viewer", "aud": aud,
                "exp": jsonwebtoken::get_current_timestamp() + 60,
            });
            jsonwebtoken::encode(
                &Header::default(),
                &claims,
                &EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .expect("encode")
        };
        assert!(v.check(&enc(serde_json::json!(["account", "chidao"]))).is_ok());
        assert_eq!(
            v.check(&enc(serde_json::json!(["account"]))).err(),
            Some(TokenError::WrongAudience)
        );
        // A claim of the wrong type says so instead of blaming a missing claim.
        let bad = jsonwebtoken::encode(
            &Header::default(),
            &serde_json::json!({ "sub": 7, "role": "viewer", "aud": "chidao",
                                 "exp": jsonwebtoken::get_current_timestamp() + 60 }),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("encode");
        assert_eq!(v.check(&bad).err(), Some(TokenError::BadClaims));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(
            Verifier::new(&KeyConfig {
                secret: Some("short".into()),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn ttl_parses() {
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_ttl("45"), Ok(Duration::from_secs(45)));
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("99999999999999999d").is_err());
        assert!(parse_ttl("400d").is_err());
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/jwt")
            .join(name)
    }

    fn signed(alg: Algorithm, private: &str, kid: Option<&str>) -> String {
        let pem = std::fs::read(fixture(private)).expect("fixture");
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
            _ => EncodingKey::from_ec_pem(&pem),
        }
        .expect("private key");
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        let claims = serde_json::json!({
            "sub": "idp-user", "role": "monitor",
            "exp": jsonwebtoken::get_current_timestamp() + 600,
        });
        jsonwebtoken::encode(&header, &claims, &key).expect("sign")
    }

    #[test]
    fn rs256_and_es256_with_pem_files() {
        for (alg, private, public) in [
            (Algorithm::RS256, "rsa-private.pem", "rsa-public.pem"),
            (Algorithm::ES256, "ec-private.pem", "ec-public.pem"),
        ] {
            let v = Verifier::new(&KeyConfig {
                public_key_file: Some(fixture(public)),
                ..Default::default()
            })
            .expect("verifier");
            let c = v.check(&signed(alg, private, None)).expect("verifies");
            assert_eq!(c.role, "monitor");
            // An HS256 token is refused when only a public key is configured, even one
            // "signed" with the public key's bytes (algorithm confusion).
            let pem = std::fs::read_to_string(fixture(public)).expect("pem");
            let forged =
                sign(&pem, "x", Role::Admin, None, Duration::from_secs(60), None, None).expect("sign");
            assert!(matches!(v.check(&forged), Err(TokenError::Algorithm(_))));
        }
    }

    #[test]
    fn jwks_picks_the_key_by_kid() {
        let v = Verifier::new(&KeyConfig {
            jwks_file: Some(fixture("jwks.json")),
            ..Default::default()
        })
        .expect("verifier");
        assert!(
            v.check(&signed(Algorithm::RS256, "rsa-private.pem", Some("rsa-1")))
                .is_ok()
        );
        assert!(
            v.check(&signed(Algorithm::ES256, "ec-private.pem", Some("ec-1")))
                .is_ok()
        );
        assert_eq!(
            v.check(&signed(Algorithm::ES256, "ec-private.pem", Some("gone")))
                .err(),
            Some(TokenError::UnknownKey)
        );
    }
}
