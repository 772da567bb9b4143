//! The HTTP service: routes, middleware, GraphiQL, health and readiness.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::ConnectionTrait;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Principal, Role, Scope};
use crate::context::{Caller, State};
use crate::error::ApiError;
use crate::loaders::Loaders;
use crate::schema::ChidaoSchema;

#[derive(Clone)]
struct App {
    schema: ChidaoSchema,
    state: Arc<State>,
}

/// The router of the whole service.
pub fn router(state: Arc<State>) -> Router {
    let schema = crate::schema::build(state.clone());
    let app = App { schema, state };
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/export/indicators.csv", get(export_csv))
        .route("/export/indicators.json", get(export_json))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn execute(app: &App, headers: &HeaderMap, req: async_graphql::Request) -> Response {
    let caller = match authenticate(&app.state, headers).await {
        Ok(c) => c,
        Err(e) => return unauthenticated(e),
    };
    let loaders = Loaders::new(&app.state.db, &caller.scope, app.state.loader_delay);
    let req = req.data(caller).data(loaders);
    GraphQLResponse::from(app.schema.execute(req).await).into_response()
}

/// A refused token: 401 with a GraphQL error body, so clients handle it like any error.
fn unauthenticated(e: ApiError) -> Response {
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
        let id = agency_of_token(&state.db, code).await?;
        (
            Some(id),
            Some(crate::agencies::holder_scope(&state.db, id).await?),
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
    })
}

/// The agency a token names, refused when unknown or dissolved (naming the successor).
async fn agency_of_token(db: &sea_orm::DatabaseConnection, code: &str) -> Result<i32, ApiError> {
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

async fn graphql_post(AxState(app): AxState<App>, headers: HeaderMap, req: GraphQLRequest) -> Response {
    execute(&app, &headers, req.into_inner()).await
}

async fn graphql_get(AxState(app): AxState<App>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && uri.query().is_none_or(|q| !q.contains("query=")) {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let req = match uri.query() {
        Some(q) => match async_graphql::http::parse_query_string(q) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        },
        None => return (StatusCode::BAD_REQUEST, "Thiếu tham số query").into_response(),
    };
    if is_mutation(&req) {
        let body = serde_json::json!({
            "errors": [{
                "message": "Mutation chỉ gửi bằng POST (GET chỉ dùng cho truy vấn)",
                "extensions": { "code": "BAD_USER_INPUT" }
            }]
        });
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            Json(body),
        )
            .into_response();
    }
    execute(&app, &headers, req).await
}

/// Whether the operation a request would run is a mutation (GET must only read). A
/// document that does not parse is left to the executor, which reports it.
fn is_mutation(req: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(doc) = async_graphql::parser::parse_query(&req.query) else {
        return false;
    };
    let ty = match (&doc.operations, req.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) => {
            // Ambiguous without a name: refuse if any of them writes.
            ops.values()
                .any(|op| op.node.ty == OperationType::Mutation)
                .then_some(OperationType::Mutation)
        }
    };
    ty == Some(OperationType::Mutation)
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
        match serde_urlencoded_pairs(query.as_deref().unwrap_or_default()) {
            Some(p) => p,
            None => return bad_request(ApiError::bad_input("query", "Chuỗi tham số không hợp lệ")),
        };
    match crate::export::ExportFilter::parse(&params) {
        Ok(filter) => crate::export::respond(app.state.db.clone(), caller.scope, filter, format),
        Err(e) => bad_request(e),
    }
}

/// Decodes `a=1&b=x%20y` (each name once).
fn serde_urlencoded_pairs(q: &str) -> Option<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in url_pairs(q)? {
        if out.insert(k, v).is_some() {
            return None;
        }
    }
    Some(out)
}

fn url_pairs(q: &str) -> Option<Vec<(String, String)>> {
    let decode = |s: &str| -> Option<String> {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).ok()
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
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
