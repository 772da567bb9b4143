//! The identity provider's public keys by URL: a JWKS at `JWT_JWKS_URL`, or the `jwks_uri` of
//! the OpenID discovery document of `JWT_OIDC_ISSUER` (`<issuer>/.well-known/openid-configuration`).
//! The last good set is kept and used until a newer one is fetched, so a provider that is
//! down costs nothing while its keys have not changed.
//!
//! When a set is fetched again:
//! - on a schedule: after the response's `Cache-Control: max-age` (as Hasura's `jwk_url`
//!   honours it), clamped to [1 minute, 1 day]; 1 hour without one. A failed fetch is retried
//!   after 1 s, doubling up to 1 minute, while the last good set stays in use;
//! - when a token names a `kid` that no key has, or no key fits its `alg` (the provider rotated
//!   its keys): at most once per `JWT_JWKS_MIN_REFETCH_SECS` (30 s), whatever the number of
//!   tokens asking. Fetches are serialised, and a request that waited for another's fetch uses
//!   its result instead of fetching again, so a burst of tokens with one new `kid` costs one
//!   fetch, and forged tokens with random `kid`s cannot make chidao hammer the provider.
//!
//! Each request has a 3 s connect and a 5 s overall timeout, and a body over 256 KiB is
//! refused. Keys are fetched over `https://`, or `http://` only from a loopback address
//! (127.0.0.0/8, ::1, localhost): whoever can change the keys on the way can sign any token.
//! Redirects are followed under the same rule. Keys that do not fit are skipped, not fatal:
//! only RSA (at least 2048 bits) and EC P-256/P-384 keys whose `use` is `sig` (or absent),
//! whose `key_ops` (if any) include `verify`, and whose `alg` (if any) is RS256/384/512 for RSA
//! or ES256/ES384 matching the curve. A symmetric (`oct`) key in a JWKS is never used: HS256
//! tokens verify only against `JWT_SECRET`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use prometheus_client::metrics::counter::Counter;
use reqwest::Url;
use reqwest::header::HeaderMap;

use super::jwt::PublicKey;

/// How long a set is used before it is fetched again when the response says nothing.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// The shortest and longest schedule a response's `max-age` may set.
pub const MIN_MAX_AGE: Duration = Duration::from_secs(60);
pub const MAX_MAX_AGE: Duration = Duration::from_secs(86_400);
/// The default least time between two fetches caused by unknown `kid`s.
pub const DEFAULT_MIN_REFETCH: Duration = Duration::from_secs(30);
/// The largest discovery document or JWKS accepted (real ones are a few KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Retry delays after failed fetches: 1 s, doubling, at most this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

const RSA: &[Algorithm] = &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `JWT_JWKS_URL`.
    Jwks(Url),
    /// `JWT_OIDC_ISSUER`: the JWKS named by its discovery document.
    Discovery { issuer: String },
}

/// What `/readyz` says of the provider's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// A set is held and the last fetch succeeded.
    Fresh,
    /// A set is held but the last fetch failed: the last good set is in use.
    Stale,
    /// No set was ever fetched: provider tokens are refused.
    Missing,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Fresh => "ok",
            KeyState::Stale => "stale",
            KeyState::Missing => "unavailable",
        }
    }
}

/// One fetched key set.
pub struct KeySet {
    pub keys: Vec<PublicKey>,
    fetched: Instant,
    max_age: Duration,
    /// Counts successful fetches: a request that saw generation `n` knows a newer set exists.
    pub generation: u64,
}

/// Under the fetch lock.
struct FetchState {
    last_attempt: Option<Instant>,
    /// Discovery: the `jwks_uri` found, until a fetch from it fails.
    jwks_uri: Option<Url>,
    generation: u64,
}

/// The identity provider's keys, fetched and kept.
pub struct ProviderKeys {
    source: Source,
    client: reqwest::Client,
    min_refetch: Duration,
    current: RwLock<Option<Arc<KeySet>>>,
    /// One fetch at a time.
    fetch: tokio::sync::Mutex<FetchState>,
    last_failed: AtomicBool,
    /// (ok, error) fetch counters, once the application's metrics exist.
    counters: OnceLock<(Counter, Counter)>,
}

/// Checks a key URL: `https://`, or `http://` on a loopback host.
pub fn check_url(what: &str, raw: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw).map_err(|e| anyhow::anyhow!("{what} '{raw}' is not a URL: {e}"))?;
    if !allowed(&url) {
        anyhow::bail!(
            "{what} must be an https:// URL (http:// only on a loopback address such as 127.0.0.1): \
             keys fetched over plain http could be replaced on the way, and whoever replaces them can \
             sign any token"
        );
    }
    Ok(url)
}

fn allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => url.host_str().is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

impl ProviderKeys {
    pub fn new(source: Source, min_refetch: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("chidao/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 5 {
                    attempt.error("more than 5 redirects")
                } else if allowed(attempt.url()) {
                    attempt.follow()
                } else {
                    attempt.error("redirected to an address that is neither https nor loopback http")
                }
            }))
            .build()?;
        Ok(ProviderKeys {
            source,
            client,
            min_refetch,
            current: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(FetchState {
                last_attempt: None,
                jwks_uri: None,
                generation: 0,
            }),
            last_failed: AtomicBool::new(false),
            counters: OnceLock::new(),
        })
    }

    /// Counts fetches in these (ok, error) counters from now on.
    pub fn count_fetches(&self, ok: Counter, error: Counter) {
        let _ = self.counters.set((ok, error));
    }

    /// The last good set, if any.
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        // A poisoned lock still holds a whole `Option<Arc<_>>` (it is only ever replaced).
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn state(&self) -> KeyState {
        match (self.keys().is_some(), self.last_failed.load(Ordering::Relaxed)) {
            (false, _) => KeyState::Missing,
            (true, true) => KeyState::Stale,
            (true, false) => KeyState::Fresh,
        }
    }

    /// Fetches now (waiting for a fetch under way, then fetching again).
    pub async fn refresh(&self) -> Result<Arc<KeySet>, String> {
        let mut st = self.fetch.lock().await;
        self.fetch_locked(&mut st).await
    }

    /// A token named a key no set has: a newer set if one is there (fetched by this call, or by
    /// another while this one waited), `None` when nothing newer may be had now (fetched less
    /// than `min_refetch` ago, or the fetch failed).
    pub async fn refetch_for_unknown_key(&self, seen: Option<u64>) -> Option<Arc<KeySet>> {
        let mut st = self.fetch.lock().await;
        if st.generation != seen.unwrap_or(0) {
            return self.keys();
        }
        if st.last_attempt.is_some_and(|at| at.elapsed() < self.min_refetch) {
            return None;
        }
        self.fetch_locked(&mut st).await.ok()
    }

    async fn fetch_locked(&self, st: &mut FetchState) -> Result<Arc<KeySet>, String> {
        st.last_attempt = Some(Instant::now());
        let outcome = self.download(st).await;
        let counters = self.counters.get();
        match outcome {
            Ok((keys, max_age, from)) => {
                st.generation += 1;
                let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_deref().unwrap_or("-")).collect();
                tracing::info!(
                    url = %from, keys = %kids.join(","), refresh_in_secs = max_age.as_secs(),
                    "identity provider keys fetched"
                );
                let set = Arc::new(KeySet {
                    keys,
                    fetched: Instant::now(),
                    max_age,
                    generation: st.generation,
                });
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(set.clone());
                self.last_failed.store(false, Ordering::Relaxed);
                if let Some((ok, _)) = counters {
                    ok.inc();
                }
                Ok(set)
            }
            Err(e) => {
                // A discovery document may have moved the keys: look again next time.
                st.jwks_uri = None;
                self.last_failed.store(true, Ordering::Relaxed);
                if let Some((_, error)) = counters {
                    error.inc();
                }
                if self.keys().is_some() {
                    tracing::warn!(error = %e, "identity provider keys not fetched; the last good set stays in use");
                } else {
                    tracing::warn!(
                        error = %e,
                        "identity provider keys not fetched; tokens it signs are refused until a fetch succeeds"
                    );
                }
                Err(e)
            }
        }
    }

    async fn download(&self, st: &mut FetchState) -> Result<(Vec<PublicKey>, Duration, Url), String> {
        let url = match (&self.source, &st.jwks_uri) {
            (Source::Jwks(url), _) => url.clone(),
            (Source::Discovery { .. }, Some(url)) => url.clone(),
            (Source::Discovery { issuer }, None) => {
                let url = self.discover(issuer).await?;
                st.jwks_uri = Some(url.clone());
                url
            }
        };
        let (body, headers) = self.get(&url).await?;
        let keys = parse_jwks(&body).map_err(|e| format!("{url}: {e}"))?;
        Ok((keys, cache_lifetime(&headers), url))
    }

    /// The `jwks_uri` of the issuer's discovery document, which must name the same issuer
    /// (OpenID Connect Discovery 1.0, 4.3).
    async fn discover(&self, issuer: &str) -> Result<Url, String> {
        let raw = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let url = Url::parse(&raw).map_err(|e| format!("{raw}: {e}"))?;
        let (body, _) = self.get(&url).await?;
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let doc: Discovery = serde_json::from_slice(&body)
            .map_err(|e| format!("{url} is not an OpenID discovery document: {e}"))?;
        if doc.issuer != issuer {
            return Err(format!(
                "{url} names the issuer '{}', not '{issuer}': set JWT_OIDC_ISSUER to exactly the issuer \
                 the provider announces",
                doc.issuer
            ));
        }
        check_url("the discovery document's jwks_uri", &doc.jwks_uri).map_err(|e| e.to_string())
    }

    /// GETs `url`: the body (at most [`MAX_BODY_BYTES`]) and the headers of a 2xx answer.
    async fn get(&self, url: &Url) -> Result<(Vec<u8>, HeaderMap), String> {
        let mut res = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("{url}: {}", describe(&e)))?;
        if !res.status().is_success() {
            return Err(format!("{url} answered {}", res.status()));
        }
        let too_big = || format!("{url}: the answer is larger than {MAX_BODY_BYTES} bytes");
        if res.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_big());
        }
        let headers = res.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| format!("{url}: {}", describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, headers))
    }

    /// Keeps the set fresh for as long as `self` lives: on the schedule, and with backoff
    /// after failures. `failures`: how many fetches have failed in a row so far (1 when the
    /// start-up fetch failed).
    pub fn spawn_refresher(self: &Arc<Self>, failures: u32) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut failures = failures;
            loop {
                let Some(wait) = weak.upgrade().map(|k| k.wait_before_next(failures)) else {
                    return;
                };
                tokio::time::sleep(wait).await;
                let Some(keys) = weak.upgrade() else { return };
                // A fetch for an unknown `kid` may have renewed the set meanwhile.
                if failures == 0 && !keys.due() {
                    continue;
                }
                failures = match keys.refresh().await {
                    Ok(_) => 0,
                    Err(_) => failures.saturating_add(1),
                };
            }
        });
    }

    fn wait_before_next(&self, failures: u32) -> Duration {
        match self.keys() {
            Some(set) if failures == 0 => set.max_age.saturating_sub(set.fetched.elapsed()),
            _ => backoff(failures),
        }
    }

    fn due(&self) -> bool {
        self.keys().is_none_or(|set| set.fetched.elapsed() >= set.max_age)
    }
}

/// The wait after `failures` failed fetches in a row: 1 s, 2 s, 4 s, … at most a minute.
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

/// A transport error, with its cause (reqwest's own message names only the URL).
fn describe(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// How long a response may be used: its `Cache-Control: max-age` (`no-cache`, `no-store`:
/// 0), clamped to [`MIN_MAX_AGE`, `MAX_MAX_AGE`]; [`DEFAULT_MAX_AGE`] without either.
pub fn cache_lifetime(headers: &HeaderMap) -> Duration {
    let mut age = None;
    for value in headers.get_all(reqwest::header::CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        for directive in text.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                age = Some(0);
            } else if let Some(n) = lower.strip_prefix("max-age=")
                && let Ok(n) = n.trim_matches('"').parse::<u64>()
            {
                age = Some(age.map_or(n, |a: u64| a.min(n)));
            }
        }
    }
    age.map_or(DEFAULT_MAX_AGE, |secs| {
        Duration::from_secs(secs).clamp(MIN_MAX_AGE, MAX_MAX_AGE)
    })
}

/// The usable keys of a JWKS document (see the module's doc for which); an error when it is
/// not a JWKS or holds no usable key.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<PublicKey>, String> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|e| format!("not a JWKS: {e}"))?;
    let total = set.keys.len();
    let keys: Vec<PublicKey> = set
        .keys
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
        .filter_map(|jwk| usable(&jwk))
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "none of its {total} keys is an RSA (2048 bits or more) or EC P-256/P-384 signing key"
        ));
    }
    if keys.len() < total {
        tracing::debug!(used = keys.len(), total, "JWKS keys that do not fit were skipped");
    }
    Ok(keys)
}

/// The key, and the algorithms it may verify, when it fits (see the module's doc).
pub fn usable(jwk: &Jwk) -> Option<PublicKey> {
    let common = &jwk.common;
    if common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let declared = common.key_algorithm;
    let algorithms: &'static [Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(p) => {
            if rsa_bits(&p.n)? < 2048 {
                return None;
            }
            match declared {
                None => RSA,
                Some(KeyAlgorithm::RS256) => &[Algorithm::RS256],
                Some(KeyAlgorithm::RS384) => &[Algorithm::RS384],
                Some(KeyAlgorithm::RS512) => &[Algorithm::RS512],
                Some(_) => return None,
            }
        }
        AlgorithmParameters::EllipticCurve(p) => match (&p.curve, declared) {
            (EllipticCurve::P256, None | Some(KeyAlgorithm::ES256)) => &[Algorithm::ES256],
            (EllipticCurve::P384, None | Some(KeyAlgorithm::ES384)) => &[Algorithm::ES384],
            _ => return None,
        },
        // `oct` (a shared secret has no place in a public key set), OKP and anything else.
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(PublicKey {
        kid: common.key_id.clone(),
        key,
        algorithms,
    })
}

/// The size in bits of an RSA modulus given in base64url.
fn rsa_bits(n: &str) -> Option<usize> {
    use base64::Engine;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(n).ok()?;
    let first = bytes.iter().position(|b| *b != 0)?;
    Some((bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    //! Against a tiny HTTP server in the test (axum on port 0) whose answers the test changes.

    use std::collections::HashMap;
    use std::sync::Mutex;

    use axum::http::{StatusCode, Uri};
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::jwt::{KeyConfig, TokenError, Verifier};

    /// What the server answers at one path, and how often it was asked.
    #[derive(Clone)]
    struct Reply {
        status: StatusCode,
        body: Vec<u8>,
        cache_control: Option<&'static str>,
    }

    #[derive(Default)]
    struct Server {
        replies: Mutex<HashMap<String, Reply>>,
        hits: Mutex<HashMap<String, usize>>,
    }

    impl Server {
        fn set(&self, path: &str, status: StatusCode, body: impl Into<Vec<u8>>) {
            self.replies.lock().expect("lock").insert(
                path.into(),
                Reply {
                    status,
                    body: body.into(),
                    cache_control: None,
                },
            );
        }

        fn set_json(&self, path: &str, body: &Value) {
            self.set(path, StatusCode::OK, body.to_string());
        }

        fn hits(&self, path: &str) -> usize {
            self.hits.lock().expect("lock").get(path).copied().unwrap_or(0)
        }
    }

    /// Serves `server`'s replies on 127.0.0.1:<free port>; returns its base URL.
    async fn serve(server: Arc<Server>) -> String {
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let server = server.clone();
            async move {
                let path = uri.path().to_owned();
                *server.hits.lock().expect("lock").entry(path.clone()).or_default() += 1;
                let reply = server.replies.lock().expect("lock").get(&path).cloned();
                match reply {
                    Some(r) => {
                        let mut res = axum::response::Response::new(axum::body::Body::from(r.body));
                        *res.status_mut() = r.status;
                        if let Some(cc) = r.cache_control {
                            res.headers_mut().insert(
                                reqwest::header::CACHE_CONTROL,
                                reqwest::header::HeaderValue::from_static(cc),
                            );
                        }
                        res
                    }
                    None => {
                        let mut res = axum::response::Response::new(axum::body::Body::empty());
                        *res.status_mut() = StatusCode::NOT_FOUND;
                        res
                    }
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/jwt")
            .join(name)
    }

    /// The fixture JWKS's RSA and EC keys, under other key ids.
    fn jwks(rsa_kid: &str, ec_kid: &str) -> Value {
        let text = std::fs::read_to_string(fixture("jwks.json")).expect("fixture");
        let mut set: Value = serde_json::from_str(&text).expect("json");
        for key in set["keys"].as_array_mut().expect("keys") {
            key["kid"] = json!(if key["kty"] == "RSA" { rsa_kid } else { ec_kid });
        }
        set
    }

    fn token(alg: Algorithm, kid: &str, claims: Value) -> String {
        let (file, rsa) = match alg {
            Algorithm::RS256 => ("rsa-private.pem", true),
            _ => ("ec-private.pem", false),
        };
        let pem = std::fs::read(fixture(file)).expect("fixture");
        let key = if rsa {
            EncodingKey::from_rsa_pem(&pem)
        } else {
            EncodingKey::from_ec_pem(&pem)
        }
        .expect("private key");
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, &key).expect("sign")
    }

    fn claims() -> Value {
        json!({ "sub": "idp-user", "role": "monitor", "exp": jsonwebtoken::get_current_timestamp() + 600 })
    }

    fn rs(kid: &str) -> String {
        token(Algorithm::RS256, kid, claims())
    }

    async fn verifier(cfg: KeyConfig) -> Verifier {
        let v = Verifier::new(&cfg).expect("verifier");
        v.start(None).await;
        v
    }

    fn by_url(url: String, min_refetch: Duration) -> KeyConfig {
        KeyConfig {
            jwks_url: Some(url),
            jwks_min_refetch: min_refetch,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_new_kid_is_fetched_and_a_removed_one_refused() {
        let server = Arc::new(Server::default());
        server.set_json("/jwks", &jwks("k1", "e1"));
        let base = serve(server.clone()).await;
        let v = verifier(by_url(format!("{base}/jwks"), Duration::ZERO)).await;
        assert_eq!(v.key_state(), Some(KeyState::Fresh));
        assert!(v.verify(&rs("k1")).await.is_ok());
        assert!(v.verify(&token(Algorithm::ES256, "e1", claims())).await.is_ok());
        assert_eq!(server.hits("/jwks"), 1, "known keys need no fetch");
        // The provider rotates: k2 replaces k1.
        server.set_json("/jwks", &jwks("k2", "e1"));
        assert!(v.verify(&rs("k2")).await.is_ok(), "fetched for the new kid");
        assert_eq!(server.hits("/jwks"), 2);
        assert_eq!(v.verify(&rs("k1")).await.err(), Some(TokenError::UnknownKey));
    }

    #[tokio::test]
    async fn unknown_kids_refetch_at_most_once_per_interval() {
        let server = Arc::new(Server::default());
        server.set_json("/jwks", &jwks("k1", "e1"));
        let base = serve(server.clone()).await;
        let v = verifier(by_url(format!("{base}/jwks"), Duration::from_secs(3600))).await;
        server.set_json("/jwks", &jwks("k2", "e1"));
        for kid in ["k2", "forged-1", "forged-2"] {
            assert_eq!(
                v.verify(&rs(kid)).await.err(),
                Some(TokenError::UnknownKey),
                "{kid}"
            );
        }
        assert_eq!(
            server.hits("/jwks"),
            1,
            "the start-up fetch was less than an interval ago"
        );
    }

    #[tokio::test]
    async fn concurrent_tokens_with_one_new_kid_cause_one_fetch() {
        let server = Arc::new(Server::default());
        server.set_json("/jwks", &jwks("k1", "e1"));
        let base = serve(server.clone()).await;
        let v = Arc::new(verifier(by_url(format!("{base}/jwks"), Duration::ZERO)).await);
        server.set_json("/jwks", &jwks("k2", "e1"));
        let t = rs("k2");
        let checks = (0..20).map(|_| {
            let (v, t) = (v.clone(), t.clone());
            tokio::spawn(async move { v.verify(&t).await })
        });
        for r in futures::future::join_all(checks).await {
            assert!(r.expect("task").is_ok());
        }
        assert_eq!(
            server.hits("/jwks"),
            2,
            "one fetch at start-up, one for the new kid"
        );
    }

    #[tokio::test]
    async fn the_last_good_set_is_kept_while_the_provider_fails() {
        let server = Arc::new(Server::default());
        server.set_json("/jwks", &jwks("k1", "e1"));
        let base = serve(server.clone()).await;
        let v = verifier(by_url(format!("{base}/jwks"), Duration::ZERO)).await;
        for (status, body) in [
            (StatusCode::SERVICE_UNAVAILABLE, "down".as_bytes().to_vec()),
            (StatusCode::OK, b"<html>maintenance</html>".to_vec()),
            (StatusCode::OK, br#"{"keys":[]}"#.to_vec()),
            (
                StatusCode::OK,
                br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k9"}]}"#.to_vec(),
            ),
        ] {
            server.set("/jwks", status, body);
            let keys = v.provider_keys().expect("by url");
            assert!(keys.refresh().await.is_err());
            assert_eq!(v.key_state(), Some(KeyState::Stale));
            assert!(
                v.verify(&rs("k1")).await.is_ok(),
                "the last good set still verifies"
            );
            // An unknown kid asks again, fails, and is refused without losing the set.
            assert_eq!(v.verify(&rs("k2")).await.err(), Some(TokenError::UnknownKey));
        }
        server.set_json("/jwks", &jwks("k1", "e1"));
        assert!(v.verify(&rs("k1")).await.is_ok());
        assert!(v.provider_keys().expect("by url").refresh().await.is_ok());
        assert_eq!(v.key_state(), Some(KeyState::Fresh));
    }

    #[tokio::test]
    async fn an_unreachable_provider_at_start_up_refuses_tokens_until_a_retry_succeeds() {
        let server = Arc::new(Server::default());
        server.set("/jwks", StatusCode::SERVICE_UNAVAILABLE, "starting");
        let base = serve(server.clone()).await;
        let v = verifier(by_url(format!("{base}/jwks"), Duration::from_secs(3600))).await;
        assert_eq!(v.key_state(), Some(KeyState::Missing));
        assert_eq!(v.verify(&rs("k1")).await.err(), Some(TokenError::KeysUnavailable));
        server.set_json("/jwks", &jwks("k1", "e1"));
        // The refresher retries after 1 s (then 2 s, 4 s, …): wait for it, not for a time.
        let deadline = Instant::now() + Duration::from_secs(20);
        while v.key_state() != Some(KeyState::Fresh) {
            assert!(Instant::now() < deadline, "no retry succeeded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(v.verify(&rs("k1")).await.is_ok());
    }

    #[tokio::test]
    async fn discovery_finds_the_jwks_and_implies_the_issuer() {
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        let issuer = format!("{base}/realms/laocai");
        server.set_json(
            "/realms/laocai/.well-known/openid-configuration",
            &json!({ "issuer": issuer, "jwks_uri": format!("{base}/certs") }),
        );
        server.set_json("/certs", &jwks("k1", "e1"));
        let cfg = KeyConfig {
            oidc_issuer: Some(issuer.clone()),
            secret: Some("VAP8Ho2orhvHNHt5o5Z5T3thR3GUKYoPsN9b8rWdc8UF".into()),
            ..Default::default()
        };
        let v = verifier(cfg.clone()).await;
        let with_iss = |iss: &str| {
            let mut c = claims();
            c["iss"] = json!(iss);
            c
        };
        assert!(
            v.verify(&token(Algorithm::RS256, "k1", with_iss(&issuer)))
                .await
                .is_ok()
        );
        assert_eq!(
            v.verify(&token(Algorithm::RS256, "k1", with_iss("https://evil")))
                .await
                .err(),
            Some(TokenError::WrongIssuer)
        );
        assert_eq!(
            v.verify(&token(Algorithm::RS256, "k1", claims())).await.err(),
            Some(TokenError::MissingClaim("iss".into()))
        );
        // HS256 tokens are chidao's own, not the provider's: no issuer is implied for them.
        let own = crate::auth::jwt::sign(
            cfg.secret.as_deref().expect("secret"),
            "u",
            crate::auth::Role::Admin,
            None,
            Duration::from_secs(60),
            None,
            None,
        )
        .expect("sign");
        assert!(v.verify(&own).await.is_ok());
        // JWT_ISSUER, when set, is the issuer asked of every token.
        let v = verifier(KeyConfig {
            issuer: Some("https://sso.laocai.gov.vn/realms/laocai".into()),
            ..cfg
        })
        .await;
        assert_eq!(
            v.verify(&token(Algorithm::RS256, "k1", with_iss(&issuer)))
                .await
                .err(),
            Some(TokenError::WrongIssuer)
        );
        assert!(
            v.verify(&token(
                Algorithm::RS256,
                "k1",
                with_iss("https://sso.laocai.gov.vn/realms/laocai")
            ))
            .await
            .is_ok()
        );
        assert_eq!(server.hits("/realms/laocai/.well-known/openid-configuration"), 2);
    }

    #[tokio::test]
    async fn discovery_documents_that_do_not_fit_are_refused() {
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        server.set_json("/certs", &jwks("k1", "e1"));
        let path = "/.well-known/openid-configuration";
        let keys = |issuer: &str| {
            ProviderKeys::new(
                Source::Discovery {
                    issuer: issuer.into(),
                },
                Duration::ZERO,
            )
        };
        for (doc, says) in [
            (
                json!({ "issuer": "https://other", "jwks_uri": format!("{base}/certs") }),
                "names the issuer",
            ),
            (
                json!({ "issuer": base, "jwks_uri": "http://sso.laocai.gov.vn/certs" }),
                "https",
            ),
            (json!({ "issuer": base }), "not an OpenID discovery document"),
        ] {
            server.set_json(path, &doc);
            let err = keys(&base).expect("keys").refresh().await.err().expect("refused");
            assert!(err.contains(says), "{doc}: {err}");
        }
        server.set_json(
            path,
            &json!({ "issuer": base, "jwks_uri": format!("{base}/certs") }),
        );
        assert!(keys(&base).expect("keys").refresh().await.is_ok());
    }

    #[tokio::test]
    async fn oversized_answers_are_refused() {
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        let mut big = jwks("k1", "e1");
        big["padding"] = json!("x".repeat(MAX_BODY_BYTES));
        server.set_json("/jwks", &big);
        let keys = ProviderKeys::new(
            Source::Jwks(Url::parse(&format!("{base}/jwks")).expect("url")),
            Duration::ZERO,
        )
        .expect("keys");
        let err = keys.refresh().await.err().expect("refused");
        assert!(err.contains("larger than"), "{err}");
    }

    #[tokio::test]
    async fn the_schedule_follows_max_age() {
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        server.replies.lock().expect("lock").insert(
            "/jwks".into(),
            Reply {
                status: StatusCode::OK,
                body: jwks("k1", "e1").to_string().into_bytes(),
                cache_control: Some("public, max-age=120, must-revalidate"),
            },
        );
        let keys = ProviderKeys::new(
            Source::Jwks(Url::parse(&format!("{base}/jwks")).expect("url")),
            Duration::ZERO,
        )
        .expect("keys");
        let set = keys.refresh().await.expect("fetched");
        assert_eq!(set.max_age, Duration::from_secs(120));
        assert!(!keys.due());
    }

    #[test]
    fn cache_lifetimes() {
        let of = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(reqwest::header::CACHE_CONTROL, v.parse().expect("header"));
            }
            cache_lifetime(&h).as_secs()
        };
        assert_eq!(of(&[]), 3600);
        assert_eq!(of(&["max-age=600"]), 600);
        assert_eq!(of(&["public, max-age=21600, stale-while-revalidate=60"]), 21_600);
        assert_eq!(of(&["max-age=5"]), 60, "at least a minute");
        assert_eq!(of(&["max-age=31536000"]), 86_400, "at most a day");
        assert_eq!(of(&["no-cache"]), 60);
        assert_eq!(of(&["no-store, max-age=600"]), 60);
        assert_eq!(of(&["max-age=oops"]), 3600);
        assert_eq!(of(&["max-age=900", "max-age=300"]), 300);
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX).as_secs(), 60);
    }

    #[test]
    fn keys_that_do_not_fit_are_skipped() {
        let good = jwks("rsa-ok", "ec-ok");
        let rsa = good["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kty"] == "RSA")
            .expect("rsa")
            .clone();
        let ec = good["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kty"] == "EC")
            .expect("ec")
            .clone();
        let with = |base: &Value, kid: &str, changes: Value| {
            let mut k = base.clone();
            k["kid"] = json!(kid);
            for (name, value) in changes.as_object().expect("object") {
                if value.is_null() {
                    k.as_object_mut().expect("object").remove(name);
                } else {
                    k[name] = value.clone();
                }
            }
            k
        };
        let short_n = {
            use base64::Engine;
            let mut n = vec![0xc5u8; 128];
            n[127] |= 1;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n)
        };
        let set = json!({ "keys": [
            rsa.clone(),
            ec.clone(),
            with(&rsa, "rsa-no-alg", json!({ "alg": null, "use": null })),
            with(&rsa, "rsa-enc", json!({ "use": "enc" })),
            with(&rsa, "rsa-as-es256", json!({ "alg": "ES256" })),
            with(&rsa, "rsa-ps256", json!({ "alg": "PS256" })),
            with(&rsa, "rsa-encrypt-only", json!({ "key_ops": ["encrypt"], "use": null })),
            with(&rsa, "rsa-1024", json!({ "n": short_n })),
            with(&rsa, "rsa-no-n", json!({ "n": null })),
            with(&ec, "ec-as-es384", json!({ "alg": "ES384" })),
            with(&ec, "ec-p521", json!({ "crv": "P-521", "alg": null })),
            { "kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", "kid": "oct", "alg": "HS256" },
            { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed" },
            { "kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA", "kid": "pq" },
            "not a key",
        ]});
        let keys = parse_jwks(set.to_string().as_bytes()).expect("usable keys");
        let kept: Vec<(&str, &[Algorithm])> = keys
            .iter()
            .map(|k| (k.kid.as_deref().unwrap_or("-"), k.algorithms))
            .collect();
        assert_eq!(
            kept,
            [
                ("rsa-ok", &[Algorithm::RS256][..]),
                ("ec-ok", &[Algorithm::ES256][..]),
                ("rsa-no-alg", RSA),
            ]
        );
        let none = json!({ "keys": [with(&rsa, "rsa-enc", json!({ "use": "enc" }))] });
        assert!(parse_jwks(none.to_string().as_bytes()).is_err());
        assert!(parse_jwks(b"[]").is_err());
    }

    #[test]
    fn key_urls_are_https_or_loopback_http() {
        for (url, ok) in [
            (
                "https://sso.laocai.gov.vn/realms/laocai/protocol/openid-connect/certs",
                true,
            ),
            ("http://127.0.0.1:8180/jwks", true),
            ("http://127.9.9.9/jwks", true),
            ("http://localhost:8180/jwks", true),
            ("http://[::1]:8180/jwks", true),
            ("http://sso.laocai.gov.vn/jwks", false),
            ("http://10.0.0.5/jwks", false),
            ("http://[::ffff:10.0.0.5]/jwks", false),
            ("ftp://127.0.0.1/jwks", false),
            ("file:///etc/jwks.json", false),
            ("sso.laocai.gov.vn/jwks", false),
        ] {
            assert_eq!(check_url("JWT_JWKS_URL", url).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused_at_start() {
        let both = KeyConfig {
            jwks_url: Some("https://sso.laocai.gov.vn/certs".into()),
            oidc_issuer: Some("https://sso.laocai.gov.vn".into()),
            ..Default::default()
        };
        let err = Verifier::new(&both).err().expect("refused").to_string();
        assert!(err.contains("set one"), "{err}");
        let plain = KeyConfig {
            oidc_issuer: Some("http://sso.laocai.gov.vn/realms/laocai".into()),
            ..Default::default()
        };
        let err = Verifier::new(&plain).err().expect("refused").to_string();
        assert!(err.contains("https://"), "{err}");
    }

    #[tokio::test]
    async fn provider_keys_never_verify_hs256() {
        // A JWKS that (wrongly) publishes a shared secret: a token signed with it is refused,
        // since HS256 only ever verifies against JWT_SECRET.
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        let mut set = jwks("k1", "e1");
        let secret = "VAP8Ho2orhvHNHt5o5Z5T3thR3GUKYoPsN9b8rWdc8UF";
        let k = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        };
        set["keys"]
            .as_array_mut()
            .expect("keys")
            .push(json!({ "kty": "oct", "kid": "hs", "alg": "HS256", "k": k }));
        server.set_json("/jwks", &set);
        let v = verifier(by_url(format!("{base}/jwks"), Duration::ZERO)).await;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("hs".into());
        let forged = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret.as_bytes()))
            .expect("sign");
        assert_eq!(
            v.verify(&forged).await.err(),
            Some(TokenError::Algorithm("HS256".into()))
        );
    }
}
