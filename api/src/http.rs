//! The HTTP service: routes, middleware, GraphiQL, health and readiness.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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

use crate::auth::{Principal, Role, Scope};
use crate::context::{Caller, State};
use crate::error::ApiError;
use crate::schema::ChidaoSchema;

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) schema: ChidaoSchema,
    pub(crate) state: Arc<State>,
    /// Documents parsed recently (`graphql_http::Documents`).
    pub(crate) documents: Arc<crate::graphql_http::Documents>,
    /// The schema operations over `/graphql/ws` run on (with the socket's checks).
    pub(crate) ws_schema: ChidaoSchema,
    /// Open WebSocket connections (`subscriptions::MAX_CONNECTIONS` permits).
    pub(crate) sockets: Arc<tokio::sync::Semaphore>,
}

/// The router of the whole service.
pub fn router(state: Arc<State>) -> Router {
    let schema = crate::schema::build(state.clone());
    let limits = state.limits.clone();
    let timeout = state.request_timeout;
    let cors = cors_layer(&state.cors_origins);
    let app = App {
        schema,
        ws_schema: crate::schema::build_ws(state.clone()),
        state,
        documents: Arc::new(crate::graphql_http::Documents::new()),
        sockets: Arc::new(tokio::sync::Semaphore::new(crate::subscriptions::MAX_CONNECTIONS)),
    };
    Router::new()
        .route("/graphql", get(crate::graphql_http::get).post(crate::graphql_http::post))
        .route("/graphql/ws", get(crate::subscriptions::handler))
        .route("/export/indicators.csv", get(export_csv))
        .route("/export/indicators.json", get(export_json))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app)
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(cors)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// A refused token: 401 with a GraphQL error body, so clients handle it like any error.
pub(crate) fn unauthenticated(e: ApiError) -> Response {
    let message = e.message();
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": e.code() } }]
    });
    let status = match e {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let ApiError::Internal(source) = &e {
        tracing::error!(error = %source, "authentication failed internally");
    }
    (
        status,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"chidao\"")],
        Json(body),
    )
        .into_response()
}

/// Turns the `Authorization` header into a caller and its scope. Every GraphQL request
/// passes here; there is no anonymous access.
pub async fn authenticate(state: &State, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "Cần đăng nhập: gửi token trong header `Authorization: Bearer <token>`".into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("Header Authorization không hợp lệ".into()))?;
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("Header Authorization phải có dạng `Bearer <token>`".into())
        })?;
    let claims = state
        .verifier
        .verify(token)
        .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
    let role = Role::parse(&claims.role).ok_or_else(|| {
        ApiError::Unauthenticated(format!(
            "Vai trò '{}' không hợp lệ: dùng admin, monitor, agency, viewer hoặc analyst",
            claims.role.chars().take(40).collect::<String>()
        ))
    })?;
    let (agency_id, holders) = if role == Role::Agency {
        let code = claims.agency.as_deref().ok_or_else(|| {
            ApiError::Unauthenticated("Token vai trò agency phải có trường `agency` (mã cơ quan)".into())
        })?;
        let id = agency_of_token(&state.reads, code).await?;
        (
            Some(id),
            Some(crate::agencies::holder_scope(&state.reads, id).await?),
        )
    } else {
        (None, None)
    };
    Ok(Caller {
        principal: Principal {
            subject: claims.sub,
            role,
            agency_id,
        },
        scope: Scope::for_role(role, holders),
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(64).collect()),
        expires_at: claims.exp,
    })
}

/// The agency a token names, refused when unknown or dissolved (naming the successor).
async fn agency_of_token(db: &crate::reads::Reads, code: &str) -> Result<i32, ApiError> {
    use entity::{agency, agency_succession};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let shown: String = code.chars().take(60).collect();
    let a = agency::Entity::find()
        .filter(agency::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated(format!("Không có cơ quan mã '{shown}'")))?;
    let today = crate::context::today();
    if a.valid_to.is_some_and(|end| end < today) {
        let succession = agency_succession::Entity::find()
            .filter(agency_succession::Column::PredecessorId.eq(a.id))
            .order_by_desc(agency_succession::Column::EffectiveOn)
            .one(db)
            .await?;
        let successor = match &succession {
            Some(s) => agency::Entity::find_by_id(s.successor_id).one(db).await?,
            None => None,
        };
        return Err(ApiError::Unauthenticated(match (succession, successor) {
            (Some(s), Some(next)) => format!(
                "{} đã sáp nhập vào {} từ ngày {}; hãy dùng token của {} (mã '{}')",
                a.name,
                next.name,
                s.effective_on.format("%d/%m/%Y"),
                next.name,
                next.code
            ),
            _ => format!(
                "{} đã ngừng hoạt động; token của cơ quan này không còn dùng được",
                a.name
            ),
        }));
    }
    Ok(a.id)
}

async fn export_csv(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    export(&app, &headers, q, crate::export::Format::Csv).await
}

async fn export_json(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    export(&app, &headers, q, crate::export::Format::Json).await
}

/// The export endpoints: same bearer token and scope as GraphQL.
async fn export(
    app: &App,
    headers: &HeaderMap,
    query: Option<String>,
    format: crate::export::Format,
) -> Response {
    let caller = match authenticate(&app.state, headers).await {
        Ok(c) => c,
        Err(e) => return unauthenticated(e),
    };
    let params: std::collections::HashMap<String, String> =
        match unique_query_pairs(query.as_deref().unwrap_or_default()) {
            Some(p) => p,
            None => return bad_request(ApiError::bad_input("query", "Chuỗi tham số không hợp lệ")),
        };
    match crate::export::ExportFilter::parse(&params) {
        Ok(filter) => crate::export::respond(app.state.db.clone(), caller.scope, filter, format),
        Err(e) => bad_request(e),
    }
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

fn bad_request(e: ApiError) -> Response {
    let mut err = serde_json::json!({ "message": e.message(), "extensions": { "code": e.code() } });
    if let ApiError::BadUserInput { field: Some(f), .. } = &e {
        err["extensions"]["field"] = serde_json::Value::String(f.clone());
    }
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "errors": [err] })),
    )
        .into_response()
}

async fn metrics(AxState(app): AxState<App>) -> Response {
    crate::metrics::render(&app.state)
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
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "errors": [{ "message": "Lỗi hệ thống, vui lòng thử lại sau", "extensions": { "code": "INTERNAL" } }] })),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(AxState(app): AxState<App>) -> Response {
    match app.state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => Json(serde_json::json!({"status": "ready", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}
