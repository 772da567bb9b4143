//! The accept loop: each connection served by hyper (HTTP/1.1 with upgrades for `/graphql/ws`,
//! and HTTP/2), with a header-read timeout that `axum::serve` does not set: a client that
//! opens connections and sends its headers a byte at a time (slowloris) is cut off after
//! `CHIDAO_HEADER_READ_TIMEOUT_SECS` (10 s) instead of holding the connection for ever. Graceful: on shutdown the
//! listener closes, every connection finishes its in-flight request, then `serve` returns.

use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
    let builder = std::sync::Arc::new(builder);
    // Each connection holds a receiver of `closed`; `serve` returns when all are gone.
    let (stop, stopping) = tokio::sync::watch::channel(());
    let (closed_tx, closed) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let service = TowerToHyperService::new(service);
        let (builder, mut stopping, closed) = (builder.clone(), stopping.clone(), closed.clone());
        tokio::spawn(async move {
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                }
                _ = stopping.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                }
            }
            drop(closed);
        });
    }
    drop(listener);
    let _ = stop.send(());
    drop(stop);
    drop(closed);
    closed_tx.closed().await;
    Ok(())
}
