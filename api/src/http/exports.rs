//! `GET /export/indicators.csv` and `.json`: the flat indicator export for BI tools, with the
//! same bearer token and scope as GraphQL (`indicators::export` makes the rows).

use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{App, error_response, unauthenticated, unique_query_pairs};
use crate::auth::caller::authenticate;
use crate::error::ApiError;

pub(super) async fn csv(
    AxState(app): AxState<App>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    export(
        &app,
        peer.ip(),
        &headers,
        q,
        crate::indicators::export::Format::Csv,
    )
    .await
}

pub(super) async fn json(
    AxState(app): AxState<App>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    export(
        &app,
        peer.ip(),
        &headers,
        q,
        crate::indicators::export::Format::Json,
    )
    .await
}

/// The export endpoints: same bearer token and scope as GraphQL.
async fn export(
    app: &App,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    query: Option<String>,
    format: crate::indicators::export::Format,
) -> Response {
    let limited = |key: String| app.rate_limit.as_ref()?.check(&key, &app.state.metrics);
    let caller = match authenticate(&app.state.verifier, &app.state.reads, headers).await {
        Ok(c) => c,
        // A refused token counts against its IP (see `graphql::handle`).
        Err(e) => return limited(format!("ip:{ip}")).unwrap_or_else(|| unauthenticated(e)),
    };
    if let Some(res) = limited(format!("sub:{}", caller.principal.subject)) {
        return res;
    }
    let params: std::collections::HashMap<String, String> =
        match unique_query_pairs(query.as_deref().unwrap_or_default()) {
            Some(p) => p,
            None => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    &ApiError::bad_input("query", "Chuỗi tham số không hợp lệ"),
                );
            }
        };
    match crate::indicators::export::ExportFilter::parse(&params) {
        Ok(filter) => crate::indicators::export::respond(app.state.db.clone(), caller.scope, filter, format),
        Err(e) => error_response(StatusCode::BAD_REQUEST, &e),
    }
}
