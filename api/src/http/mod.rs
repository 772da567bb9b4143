//! The HTTP service: the router and its middleware, `/graphql` (`graphql`), `/graphql/ws`
//! (`ws`), GraphiQL's page and assets (`graphiql`), the exports (`exports`), `/metrics`, rate limits, health and readiness, and the one
//! JSON error body of every HTTP error. Depends on the schema and the capabilities, never the
//! reverse.

mod answers;
mod exports;
mod graphiql;
mod graphql;
mod metrics;
mod rate_limit;
mod serve;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as AxState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::ConnectionTrait;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use rate_limit::RateLimit;
pub use serve::serve;
pub use ws::{MAX_PENDING, MAX_PENDING_PER_IP, SocketChecks};

use crate::config::Settings;
use crate::error::ApiError;
use crate::graphql::limits::Limits;
use crate::schema::ChidaoSchema;
use crate::state::State;

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) schema: ChidaoSchema,
    pub(crate) state: Arc<State>,
    /// Documents parsed recently (`graphql::Documents`).
    pub(crate) documents: Arc<graphql::Documents>,
    /// Answers kept while nothing they read has changed (`answers`).
    pub(crate) answers: Arc<answers::Answers>,
    /// The schema operations over `/graphql/ws` run on (with the socket's checks).
    pub(crate) ws_schema: ChidaoSchema,
    /// Open WebSocket connections (`ws::MAX_CONNECTIONS` permits).
    pub(crate) sockets: Arc<tokio::sync::Semaphore>,
    /// Sockets still waiting for `connection_init` (`ws::Pending`).
    pub(crate) pending: Arc<ws::Pending>,
    /// Request limits checked before execution.
    pub(crate) limits: Limits,
    /// Per-subject / per-IP rate limit; `None` when off.
    pub(crate) rate_limit: Option<Arc<RateLimit>>,
    /// The schema's abstract types, for putting responses in selection order.
    pub(crate) types: Arc<crate::graphql::order::Types>,
}

/// The router of the whole service, over the schemas `lib.rs` built.
pub fn router(
    state: Arc<State>,
    schema: ChidaoSchema,
    ws_schema: ChidaoSchema,
    settings: &Settings,
    types: Arc<crate::graphql::order::Types>,
) -> Router {
    let limits = settings.limits();
    let timeout = Duration::from_secs(settings.request_timeout_secs.max(1));
    let cors = cors_layer(&settings.cors_origins);
    let (hits, misses) = state.metrics.reuse_counters("graphql");
    let answers = answers::Answers::new(
        Duration::from_secs(settings.statistics_reuse_secs),
        hits,
        misses,
        state.metrics.answers_kept(),
    );
    let app = App {
        answers: Arc::new(answers),
        schema,
        ws_schema,
        state,
        documents: Arc::new(graphql::Documents::new()),
        sockets: Arc::new(tokio::sync::Semaphore::new(ws::MAX_CONNECTIONS)),
        pending: Arc::new(ws::Pending::new()),
        limits: limits.clone(),
        rate_limit: RateLimit::new(settings.rate_per_minute, settings.rate_burst).map(Arc::new),
        types,
    };
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::handler))
        .route("/graphiql/assets/{name}", get(graphiql::asset))
        .route("/export/indicators.csv", get(exports::csv))
        .route("/export/indicators.json", get(exports::json))
        .route("/export/follow-up.xlsx", get(exports::follow_up_xlsx))
        .route("/export/follow-up.csv", get(exports::follow_up_csv))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app)
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(cors)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::map_response_with_state(
            (limits.max_body_bytes, timeout),
            json_refusals,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let h = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
                // Both ids are bounded by `client_request_id` before they get here.
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(),
                request_id = %h("x-request-id"), client_request_id = %h(CLIENT_REQUEST_ID))
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(client_request_id))
}

/// The header that keeps the client's own request id, when it sent a usable one.
pub(crate) const CLIENT_REQUEST_ID: &str = "x-client-request-id";

/// The server makes every request id (`x-request-id`, a UUID: the audit log's and the log's
/// key). A client's `x-request-id` is never trusted as one: it moves to `x-client-request-id`
/// when it is 1–128 characters of `A-Z a-z 0-9 . _ : -`, and is dropped otherwise.
async fn client_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    let headers = req.headers_mut();
    let given = headers.remove("x-request-id");
    headers.remove(CLIENT_REQUEST_ID);
    if let Some(v) = given
        && (1..=128).contains(&v.len())
        && v.as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(b))
    {
        headers.insert(CLIENT_REQUEST_ID, v);
    }
    req
}

/// The body-limit and timeout layers refuse with a bare 413 or 408: give those the JSON error
/// body of every other HTTP error (`TOO_COMPLEX`, naming the limit).
async fn json_refusals(AxState((max, timeout)): AxState<(usize, Duration)>, res: Response) -> Response {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let message = match res.status() {
        _ if json => return res,
        StatusCode::PAYLOAD_TOO_LARGE => format!("Yêu cầu quá lớn: tối đa {max} byte"),
        StatusCode::REQUEST_TIMEOUT => format!(
            "Yêu cầu chạy quá thời gian cho phép (tối đa {} giây); hãy thu hẹp yêu cầu hoặc thử lại sau",
            timeout.as_secs()
        ),
        _ => return res,
    };
    error_response(res.status(), &ApiError::TooComplex(message))
}

/// The one JSON body of an HTTP error: a GraphQL `errors` list of one, with the error's
/// `extensions` (code, field, …), so clients handle it like any GraphQL error.
pub(crate) fn error_response(status: StatusCode, e: &ApiError) -> Response {
    (status, Json(serde_json::json!({ "errors": [e.to_json()] }))).into_response()
}

/// A refused token: 401 (or 500 when the check itself failed), with the error body.
pub(crate) fn unauthenticated(e: ApiError) -> Response {
    let status = match e {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut res = error_response(status, &e);
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"chidao\""),
    );
    res
}

/// Decodes `a=1&b=x%20y` (each name once).
fn unique_query_pairs(q: &str) -> Option<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in url_pairs(q)? {
        if out.insert(k, v).is_some() {
            return None;
        }
    }
    Some(out)
}

/// Decodes `a=1&b=x%20y` (percent and `+` decoding by serde_urlencoded).
pub(crate) fn url_pairs(q: &str) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_str(q).ok()
}

async fn metrics(AxState(app): AxState<App>) -> Response {
    metrics::render(&app.state)
}

/// CORS for the portals' origins only; none configured: no CORS headers (same-origin only).
fn cors_layer(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let list: Vec<HeaderValue> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(3600))
}

/// A panic outside a resolver (resolvers are caught in `graphql_http`): a JSON INTERNAL
/// error with no detail; the log has it.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &ApiError::internal(std::io::Error::other(what)),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(AxState(app): AxState<App>) -> Response {
    let database = match app.state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            false
        }
    };
    // Keys by URL: not ready before the first fetch (every provider token would be refused),
    // ready on the last good set while the provider is down ("stale").
    let keys = app.state.verifier.key_state();
    let ready = database && keys != Some(crate::auth::jwks::KeyState::Missing);
    let mut body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": if database { "ok" } else { "unreachable" },
    });
    if let Some(keys) = keys {
        body["keys"] = keys.as_str().into();
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
