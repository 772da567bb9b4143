//! Subscriptions over `/graphql/ws` (the graphql-transport-ws protocol; the older
//! subscriptions-transport-ws is accepted too).
//!
//! * **Who.** The token comes in `connection_init`'s payload (`{"Authorization": "Bearer …"}`,
//!   or `{"token": "…"}`), or else from the upgrade request's `Authorization` header. It is
//!   checked as on `POST /graphql`; a connection without a valid one is closed with its reason.
//!   When the token expires, every subscription of the connection ends with UNAUTHENTICATED.
//! * **What.** The subscriptions of the schema (`tasks::subscription`: `taskEvents`).
//! * **Limits.** Only subscriptions run over the socket (queries and mutations use
//!   `POST /graphql`, with its rate limits); each operation passes the same document limits as
//!   over HTTP; at most [`MAX_CONNECTIONS`] authenticated sockets are open at once. A socket
//!   that has not completed `connection_init` holds no such slot: it holds one of
//!   [`MAX_PENDING`] (at most [`MAX_PENDING_PER_IP`] from one address) for at most
//!   `INIT_TIMEOUT`, so idle unauthenticated sockets cannot take the subscribers' slots.
//!   Over either budget: 503 before the upgrade, or a refused `connection_init`.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextSubscribe,
};
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Data, Request, ServerResult};
use axum::extract::State as AxState;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::App;
use crate::auth::caller::authenticate;
use crate::error::ApiError;
use crate::state::State;
use crate::tasks::subscription::{Socket, expired};

/// Open sockets at most.
pub const MAX_CONNECTIONS: usize = 512;
/// Sockets waiting for `connection_init` at most, from all addresses.
pub const MAX_PENDING: usize = 64;
/// Sockets waiting for `connection_init` at most, from one address.
pub const MAX_PENDING_PER_IP: usize = 8;

/// The sockets that have not completed `connection_init` yet, in all and per address.
pub(crate) struct Pending {
    all: Arc<tokio::sync::Semaphore>,
    per_ip: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One waiting socket's place in [`Pending`], given back when dropped.
pub(crate) struct PendingSlot {
    pending: Arc<Pending>,
    ip: std::net::IpAddr,
    _all: tokio::sync::OwnedSemaphorePermit,
}

impl Pending {
    pub(crate) fn new() -> Self {
        Pending {
            all: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING)),
            per_ip: Default::default(),
        }
    }

    /// A place for a socket from `ip`, or `None` when either budget is spent.
    fn enter(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<PendingSlot> {
        let all = self.all.clone().try_acquire_owned().ok()?;
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = per_ip.entry(ip).or_default();
        if *n >= MAX_PENDING_PER_IP {
            return None;
        }
        *n += 1;
        Some(PendingSlot {
            pending: self.clone(),
            ip,
            _all: all,
        })
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut per_ip = self.pending.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, HeaderValue::from_static("30"))],
        "Quá nhiều kết nối WebSocket; hãy thử lại sau",
    )
        .into_response()
}
/// How long a socket may stay open without a successful `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// A WebSocket close reason holds at most 123 bytes.
const CLOSE_REASON_BYTES: usize = 123;

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub(crate) async fn handler(
    AxState(app): AxState<App>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The first protocol the client offers that async-graphql speaks (as its own extractor picks).
    let Some(protocol) = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| p.trim().parse::<async_graphql::http::WebSocketProtocols>().ok())
        })
    else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    // Refused before the upgrade when the authenticated sockets are all taken, or this
    // address (or everyone) has too many sockets still waiting for `connection_init`.
    if app.sockets.available_permits() == 0 {
        return busy();
    }
    let Some(waiting) = app.pending.enter(peer.ip()) else {
        return busy();
    };
    let waiting = Arc::new(std::sync::Mutex::new(Some(waiting)));
    // The authenticated socket's slot, taken when `connection_init` succeeds.
    let held: Arc<std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>> = Default::default();
    let (sockets, slot, place) = (app.sockets.clone(), held.clone(), waiting.clone());
    let state = app.state.clone();
    let max_nodes = app.limits.max_nodes;
    let schema = app.ws_schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            // The socket may stay INIT_TIMEOUT until `connection_init` succeeds, then until a
            // moment after its token expires (its subscriptions have ended by then).
            let (ready, expiry) = tokio::sync::oneshot::channel();
            let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = refused.clone();
            let on_init = move |payload| async move {
                let refuse = |e: ApiError| {
                    flag.store(true, std::sync::atomic::Ordering::Release);
                    // Sent as the close frame's reason, which holds 123 bytes.
                    let mut e = async_graphql::Error::from(e);
                    e.message = close_reason(&e.message);
                    e
                };
                let connected = connect(&state, max_nodes, &headers, payload).await;
                // Waiting is over, whatever the answer.
                drop(place.lock().unwrap_or_else(|e| e.into_inner()).take());
                let (data, expires) = connected.map_err(&refuse)?;
                let permit = sockets.try_acquire_owned().map_err(|_| {
                    refuse(ApiError::TooComplex(
                        "Quá nhiều kết nối WebSocket; hãy thử lại sau".into(),
                    ))
                })?;
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(permit);
                let _ = ready.send(expires + Duration::from_secs(2));
                Ok(data)
            };
            let serve = serve(socket, schema, protocol, on_init, refused);
            let closing = async move {
                match tokio::time::timeout(INIT_TIMEOUT, expiry).await {
                    Ok(Ok(at)) => tokio::time::sleep_until(at).await,
                    // Refused: async-graphql sends the reason and closes the socket itself.
                    Ok(Err(_)) => std::future::pending().await,
                    Err(_) => {}
                }
            };
            tokio::select! {
                () = serve => {}
                () = closing => {}
            }
            drop(waiting);
            drop(held);
        })
        .into_response()
}

/// Runs the graphql-ws protocol over the socket (async-graphql's `WebSocket`), closing with the
/// codes graphql-transport-ws gives: 4403 Forbidden when `connection_init` is refused, 4400 for
/// a message that is not the protocol's. async-graphql's own loop (`GraphQLWebSocket::serve`)
/// closes both with 1002, which a client library cannot tell from a broken connection.
async fn serve<F, R>(
    socket: axum::extract::ws::WebSocket,
    schema: crate::schema::ChidaoSchema,
    protocol: async_graphql::http::WebSocketProtocols,
    on_init: F,
    refused: Arc<std::sync::atomic::AtomicBool>,
) where
    F: FnOnce(serde_json::Value) -> R + Send + 'static,
    R: std::future::Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    use async_graphql::http::{WebSocketProtocols, WsMessage};
    use axum::extract::ws::{CloseFrame, Message};
    use futures::{SinkExt, StreamExt};
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| futures::future::ready(m.is_ok()))
        .filter_map(|m| {
            futures::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });
    let transport_ws = protocol == WebSocketProtocols::GraphQLWS;
    let messages = async_graphql::http::WebSocket::new(schema, input, protocol).on_connection_init(on_init);
    futures::pin_mut!(messages);
    while let Some(m) = messages.next().await {
        let out = match m {
            WsMessage::Text(t) => Message::Text(t.into()),
            WsMessage::Close(code, reason) => {
                let code = match code {
                    1002 if transport_ws && refused.load(std::sync::atomic::Ordering::Acquire) => 4403,
                    1002 if transport_ws => 4400,
                    other => other,
                };
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        };
        if sink.send(out).await.is_err() {
            break;
        }
    }
}

/// `message`, cut at a character boundary to fit a close frame's reason.
fn close_reason(message: &str) -> String {
    if message.len() <= CLOSE_REASON_BYTES {
        return message.to_owned();
    }
    let mut end = CLOSE_REASON_BYTES - '…'.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// `connection_init`: the caller of every operation on the socket, and when its token
/// expires.
async fn connect(
    state: &State,
    max_nodes: u64,
    upgrade: &HeaderMap,
    payload: serde_json::Value,
) -> Result<(Data, tokio::time::Instant), ApiError> {
    let given = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        .or_else(|| {
            payload
                .get("token")
                .and_then(|v| v.as_str())
                .map(|t| format!("Bearer {t}"))
        });
    let mut headers = HeaderMap::new();
    match given {
        Some(v) => {
            let v = HeaderValue::from_str(&v)
                .map_err(|_| ApiError::Unauthenticated("Authorization không hợp lệ".into()))?;
            headers.insert(header::AUTHORIZATION, v);
        }
        None => {
            if let Some(v) = upgrade.get(header::AUTHORIZATION) {
                headers.insert(header::AUTHORIZATION, v.clone());
            }
        }
    }
    if let Some(id) = upgrade.get("x-request-id") {
        headers.insert("x-request-id", id.clone());
    }
    let caller = authenticate(&state.verifier, state.directory().fresh_if(true), &headers).await?;
    // When the token runs out, so do the subscriptions and the socket.
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let left = caller.expires_at.saturating_sub(now);
    if left == 0 {
        return Err(expired());
    }
    // A token's own lifetime beyond a day is not waited out: the socket closes after a day.
    let expires = tokio::time::Instant::now() + Duration::from_secs(left.min(24 * 3600));
    let mut data = Data::default();
    crate::schema::request_data(
        &mut data,
        state,
        state.reads.clone(),
        &caller.scope,
        false,
        max_nodes,
        None,
    );
    data.insert(caller);
    data.insert(Socket {
        expires,
        auth: headers,
        open: Default::default(),
    });
    Ok((data, expires))
}

/// Checks each operation sent over the socket: a subscription, within the document limits;
/// and puts each event's keys in selection order (`graphql::order`), as `POST /graphql` does.
pub struct SocketChecks;

impl ExtensionFactory for SocketChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Subscribed::default())
    }
}

/// The document an operation runs and its name, once checked.
type Checked = Arc<std::sync::Mutex<Option<(Arc<ExecutableDocument>, Option<String>)>>>;

/// One operation on the socket.
#[derive(Default)]
struct Subscribed {
    /// Set by `prepare_request`, which async-graphql runs when the stream `subscribe` wraps is
    /// first polled: each event reads it then.
    document: Checked,
}

#[async_trait::async_trait]
impl Extension for Subscribed {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: futures::stream::BoxStream<'s, async_graphql::Response>,
        next: NextSubscribe<'_>,
    ) -> futures::stream::BoxStream<'s, async_graphql::Response> {
        use futures::StreamExt;
        let document = self.document.clone();
        let types = ctx.data_unchecked::<Arc<crate::graphql::order::Types>>().clone();
        next.run(ctx, stream)
            .map(move |mut res| {
                let checked = document
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                if let Some((doc, op)) = checked {
                    crate::graphql::order::reorder(&mut res.data, &doc, op.as_deref(), &types);
                }
                res
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        use async_graphql::parser::types::OperationType;
        let limits = ctx.data_unchecked::<crate::graphql::limits::Limits>();
        let refuse = |e: ApiError| async_graphql::Error::from(e).into_server_error(Default::default());
        crate::graphql::limits::check_tokens(&request.query, limits).map_err(refuse)?;
        // A document that does not parse is left to async-graphql, which says where.
        if let Ok(mut doc) = async_graphql::parser::parse_query(&request.query) {
            crate::graphql::order::mark(&mut doc);
            let name = request.operation_name.as_deref();
            let cost = crate::graphql::limits::check_document(
                &doc,
                name,
                &request.variables,
                limits,
                &ctx.data_unchecked::<Arc<State>>().sizes,
            )
            .map_err(refuse)?;
            // Each event of the subscription is admitted at this cost (`State::in_flight`).
            request.data.insert(crate::tasks::subscription::EventCost(cost));
            let types = ctx.data_unchecked::<Arc<crate::graphql::order::Types>>();
            crate::graphql::values::check(&doc, name, &mut request.variables, types).map_err(refuse)?;
            if super::graphql::is_operation(&doc, name, OperationType::Query)
                || super::graphql::is_operation(&doc, name, OperationType::Mutation)
            {
                return Err(refuse(ApiError::BadUserInput {
                    message:
                        "Qua WebSocket chỉ chạy subscription; truy vấn và mutation gửi bằng POST /graphql"
                            .into(),
                    field: None,
                }));
            }
            // Handed over parsed, as `POST /graphql` does.
            *self
                .document
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some((Arc::new(doc.clone()), request.operation_name.clone()));
            request.set_parsed_query(doc);
        }
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        assert_eq!(close_reason("ngắn"), "ngắn");
        let long = "Cơ quan của token đã sáp nhập vào Sở Tài chính từ ngày 01/07/2025; hãy dùng token của cơ quan kế thừa để kết nối";
        assert!(long.len() > CLOSE_REASON_BYTES);
        let cut = close_reason(long);
        assert!(cut.len() <= CLOSE_REASON_BYTES, "{} bytes", cut.len());
        assert!(cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')));
    }
}
