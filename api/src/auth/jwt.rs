//! Token verification and signing. HS256 with a shared secret (`JWT_SECRET`), and RS256 or
//! ES256 with the province identity provider's public keys (a PEM file or a JWKS file).
//! Each algorithm is only ever checked against a key of its own family, so a token cannot
//! choose its key by choosing `alg` (no HS256-with-the-public-key confusion).

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Role;

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
    #[error("Token không đúng định dạng JWT")]
    Malformed,
    #[error("Trường trong token sai kiểu: cần `sub` và `role` là chuỗi, `exp` là số giây")]
    BadClaims,
}

/// Public keys of one family, with the key id each came with (JWKS).
struct PublicKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: &'static [Algorithm],
}

/// Everything needed to check a token.
pub struct Verifier {
    secret: Option<DecodingKey>,
    public: Vec<PublicKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

/// Where the keys come from.
#[derive(Debug, Clone, Default)]
pub struct KeyConfig {
    pub secret: Option<String>,
    pub public_key_file: Option<std::path::PathBuf>,
    pub jwks_file: Option<std::path::PathBuf>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl KeyConfig {
    pub fn has_key(&self) -> bool {
        self.secret.as_deref().is_some_and(|s| !s.is_empty())
            || self.public_key_file.is_some()
            || self.jwks_file.is_some()
    }
}

const RSA: &[Algorithm] = &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
const EC: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];

impl Verifier {
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
        Ok(Verifier {
            secret,
            public,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
        })
    }

    /// Checks signature, `exp` (required), `nbf`, and `iss`/`aud` when configured.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let alg = header.alg;
        let keys: Vec<&DecodingKey> = if alg == Algorithm::HS256 {
            self.secret.iter().collect()
        } else if RSA.contains(&alg) || EC.contains(&alg) {
            let fitting: Vec<&PublicKey> = self
                .public
                .iter()
                .filter(|k| k.algorithms.contains(&alg))
                .collect();
            if fitting.is_empty() {
                return Err(TokenError::Algorithm(format!("{alg:?}")));
            }
            match &header.kid {
                Some(kid) if fitting.iter().any(|k| k.kid.is_some()) => fitting
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .map(|k| &k.key)
                    .collect(),
                _ => fitting.iter().map(|k| &k.key).collect(),
            }
        } else {
            return Err(TokenError::Algorithm(format!("{alg:?}")));
        };
        if keys.is_empty() {
            return Err(if alg == Algorithm::HS256 {
                TokenError::Algorithm("HS256".into())
            } else {
                TokenError::UnknownKey
            });
        }
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let mut last = TokenError::BadSignature;
        for key in keys {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => return Ok(data.claims),
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

fn read_jwks(path: &Path) -> anyhow::Result<Vec<PublicKey>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let set: JwkSet =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not a JWKS: {e}", path.display()))?;
    let mut out = Vec::new();
    for jwk in &set.keys {
        use jsonwebtoken::jwk::AlgorithmParameters as P;
        let algorithms = match &jwk.algorithm {
            P::RSA(_) => RSA,
            P::EllipticCurve(_) => EC,
            _ => continue,
        };
        out.push(PublicKey {
            kid: jwk.common.key_id.clone(),
            key: DecodingKey::from_jwk(jwk)?,
            algorithms,
        });
    }
    if out.is_empty() {
        anyhow::bail!("{} holds no RSA or EC key", path.display());
    }
    Ok(out)
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
        let c = verifier().verify(&t).expect("verify");
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
        assert_eq!(verifier().verify(&other).err(), Some(TokenError::BadSignature));
        assert_eq!(
            verifier().verify("not.a.token").err(),
            Some(TokenError::Malformed)
        );
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
        assert_eq!(verifier().verify(&enc(&expired)).err(), Some(TokenError::Expired));
        // Within the leeway, a just-expired token still passes.
        let skewed = Claims {
            exp: now - 10,
            ..expired.clone()
        };
        assert!(verifier().verify(&enc(&skewed)).is_ok());
        let early = Claims {
            exp: now + 3600,
            nbf: Some(now + 3600),
            ..expired.clone()
        };
        assert_eq!(
            verifier().verify(&enc(&early)).err(),
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
            verifier().verify(&no_exp).err(),
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
        assert!(v.verify(&good).is_ok());
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
        assert_eq!(v.verify(&bad_iss).err(), Some(TokenError::WrongIssuer));
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
        assert_eq!(v.verify(&bad_aud).err(), Some(TokenError::WrongAudience));
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
        assert!(v.verify(&enc(serde_json::json!(["account", "chidao"]))).is_ok());
        assert_eq!(
            v.verify(&enc(serde_json::json!(["account"]))).err(),
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
        assert_eq!(v.verify(&bad).err(), Some(TokenError::BadClaims));
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
            let c = v.verify(&signed(alg, private, None)).expect("verifies");
            assert_eq!(c.role, "monitor");
            // An HS256 token is refused when only a public key is configured, even one
            // "signed" with the public key's bytes (algorithm confusion).
            let pem = std::fs::read_to_string(fixture(public)).expect("pem");
            let forged =
                sign(&pem, "x", Role::Admin, None, Duration::from_secs(60), None, None).expect("sign");
            assert!(matches!(v.verify(&forged), Err(TokenError::Algorithm(_))));
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
            v.verify(&signed(Algorithm::RS256, "rsa-private.pem", Some("rsa-1")))
                .is_ok()
        );
        assert!(
            v.verify(&signed(Algorithm::ES256, "ec-private.pem", Some("ec-1")))
                .is_ok()
        );
        assert_eq!(
            v.verify(&signed(Algorithm::ES256, "ec-private.pem", Some("gone")))
                .err(),
            Some(TokenError::UnknownKey)
        );
    }
}
