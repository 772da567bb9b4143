//! `GET /metrics`: the pools' current figures, then every metric in the Prometheus text format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::State;

/// `GET /metrics` in the Prometheus text format.
pub fn render(state: &State) -> Response {
    state.metrics.record_pools(
        pool_stats(&state.db),
        state.reads.pool_stats(),
        state.statements.get(),
    );
    let Some(out) = state.metrics.encode() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

/// (size, idle, max) of sea-orm's pool.
fn pool_stats(db: &sea_orm::DatabaseConnection) -> (i64, i64, i64) {
    match sea_orm::ConnectionTrait::get_database_backend(db) {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                i64::from(pool.size()),
                pool.num_idle() as i64,
                i64::from(pool.options().get_max_connections()),
            )
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                i64::from(pool.size()),
                pool.num_idle() as i64,
                i64::from(pool.options().get_max_connections()),
            )
        }
        _ => (0, 0, 0),
    }
}
