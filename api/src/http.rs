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

use crate::auth::{Principal, Scope};
use crate::context::{Caller, State};
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

async fn execute(app: &App, req: async_graphql::Request) -> GraphQLResponse {
    // Authentication arrives with the token issue; until then every caller reads as the
    // public portal does, across all agencies.
    let principal = Principal::public();
    let scope = Scope::All;
    let loaders = Loaders::new(&app.state.db, &scope, app.state.loader_delay);
    let req = req.data(Caller { principal, scope }).data(loaders);
    app.schema.execute(req).await.into()
}

async fn graphql_post(AxState(app): AxState<App>, req: GraphQLRequest) -> GraphQLResponse {
    execute(&app, req.into_inner()).await
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
    execute(&app, req).await.into_response()
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
