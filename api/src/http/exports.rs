//! `GET /export/indicators.csv` and `.json`: the flat indicator export for BI tools, with the
//! same bearer token and scope as GraphQL (`indicators::export` makes the rows); and
//! `GET /export/follow-up.xlsx` and `.csv`: the follow-up office's monthly table
//! (`duties::followup`).

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
    let caller = match caller_of(app, ip, headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
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

/// The caller of an export request, or the response refusing it (a bad token, the rate limit).
async fn caller_of(
    app: &App,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<crate::auth::Caller, Response> {
    let limited = |key: String| app.rate_limit.as_ref()?.check(&key, &app.state.metrics);
    let caller = match authenticate(&app.state.verifier, app.state.directory(), headers).await {
        Ok(c) => c,
        // A refused token counts against its IP (see `graphql::handle`).
        Err(e) => return Err(limited(format!("ip:{ip}")).unwrap_or_else(|| unauthenticated(e))),
    };
    if let Some(res) = limited(format!("sub:{}", caller.principal.subject)) {
        return Err(res);
    }
    Ok(caller)
}

/// `asOf=2025-12-31` (default today in Vietnam), the only parameter.
fn as_of_param(query: Option<&str>) -> Result<chrono::NaiveDate, ApiError> {
    let params = unique_query_pairs(query.unwrap_or_default())
        .ok_or_else(|| ApiError::bad_input("query", "Chuỗi tham số không hợp lệ"))?;
    let mut day = crate::clock::today();
    for (k, v) in &params {
        match k.as_str() {
            "asOf" => {
                day = chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                    ApiError::bad_input("asOf", "`asOf` là một ngày dạng YYYY-MM-DD, ví dụ 2025-12-31")
                })?;
            }
            _ => {
                return Err(ApiError::bad_input(
                    "query",
                    "Tham số không được hỗ trợ; bảng theo dõi chỉ nhận `asOf`",
                ));
            }
        }
    }
    Ok(day)
}

fn error_status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        ApiError::TooComplex(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn follow_up(
    app: &App,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    query: Option<String>,
    xlsx: bool,
) -> Response {
    use axum::response::IntoResponse;
    let caller = match caller_of(app, ip, headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let day = match as_of_param(query.as_deref()) {
        Ok(d) => d,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e),
    };
    // The spreadsheet lists overdue tasks and reports (rows); the CSV holds counts only, which
    // an analyst may read.
    let rows = caller.scope.require(crate::auth::Permission::ReadRows);
    if xlsx && let Err(e) = rows {
        return error_response(StatusCode::FORBIDDEN, &e);
    }
    let scope = caller.scope.for_aggregates();
    let reads = app.state.query_reads(&caller.principal.subject).await;
    let built = crate::duties::followup::build(&reads, &scope, &app.state.duties, day, xlsx).await;
    let table = match built {
        Ok(t) => t,
        Err(e) => return error_response(error_status(&e), &e),
    };
    let (body, mime, ext) = if xlsx {
        (
            crate::duties::followup::xlsx(&table),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            crate::duties::followup::csv(&table),
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    match body {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (axum::http::header::CONTENT_TYPE, mime.to_owned()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"theo-doi-{day}.{ext}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_response(error_status(&e), &e),
    }
}

pub(super) async fn follow_up_xlsx(
    AxState(app): AxState<App>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    follow_up(&app, peer.ip(), &headers, q, true).await
}

pub(super) async fn follow_up_csv(
    AxState(app): AxState<App>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    follow_up(&app, peer.ip(), &headers, q, false).await
}
