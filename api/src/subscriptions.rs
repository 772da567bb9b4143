//! Subscriptions over `/graphql/ws` (the graphql-transport-ws protocol; the older
//! subscriptions-transport-ws is accepted too).
//!
//! * **Who.** The token comes in `connection_init`'s payload (`{"Authorization": "Bearer …"}`,
//!   or `{"token": "…"}`), or else from the upgrade request's `Authorization` header. It is
//!   checked as on `POST /graphql`; a connection without a valid one is closed with its reason.
//!   When the token expires, every subscription of the connection ends with UNAUTHENTICATED.
//! * **What.** `taskEvents` sends an event when a task the caller may see is created, edited or
//!   extended, or when a progress report the caller may see is submitted or reviewed on it
//!   (`events.rs` says where events come from). Each event's task and report are read again
//!   with the caller's scope before anything is sent, so a subscriber sees what `task(id)`
//!   would show it then, and nothing about rows it may not see.
//! * **Limits.** Only subscriptions run over the socket (queries and mutations use
//!   `POST /graphql`, with its rate limits); each operation passes the same document limits as
//!   over HTTP; at most [`MAX_CONNECTIONS`] sockets are open at once (more get 503).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{
    Context, Data, ErrorExtensions, ID, InputObject, Object, Request, ServerResult,
    Subscription as SubscriptionRoot,
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State as AxState;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Scope;
use crate::context::{Caller, State};
use crate::error::ApiError;
use crate::events::{Event, EventKind, Notice};
use crate::http::App;
use crate::loaders::Loaders;
use crate::relay::{NodeKind, decode_id};
use crate::reports::ProgressReport;
use crate::tasks::Task;

/// Open sockets at most.
pub const MAX_CONNECTIONS: usize = 512;
/// Subscriptions running on one socket at most.
pub const MAX_PER_SOCKET: usize = 20;
/// How long a socket may stay open without a successful `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// A WebSocket close reason holds at most 123 bytes.
const CLOSE_REASON_BYTES: usize = 123;

/// The subscription root.
pub struct Subscription;

/// The root of every subscription (over `/graphql/ws`, graphql-transport-ws).
#[SubscriptionRoot]
impl Subscription {
    /// Changes to the tasks the caller may see, as they are committed: a task created, edited
    /// or given a new deadline, a progress report on it submitted or reviewed. The event
    /// carries the task as it is when the event is sent. A subscriber that falls more than
    /// 1,024 events behind gets an EVENTS_MISSED error and the subscription ends: read the
    /// tasks again and subscribe anew.
    async fn task_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskEventFilter>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<TaskEvent>> + use<>> {
        let caller = Caller::of(ctx);
        caller.scope.require_rows()?;
        let socket = ctx.data_opt::<Socket>();
        if socket.is_some_and(|s| s.expires <= tokio::time::Instant::now()) {
            return Err(expired().into());
        }
        let filter = filter.unwrap_or_default().parse()?;
        let slot = match socket {
            Some(s) => Some(Slot::take(&s.open)?),
            None => None,
        };
        let state = ctx.data_unchecked::<Arc<State>>().clone();
        let feed = Feed {
            rx: state.events.subscribe(),
            state,
            scope: caller.scope.clone(),
            filter,
            expires: socket.map(|s| s.expires),
            auth: socket.map(|s| s.auth.clone()),
            checked: tokio::time::Instant::now(),
            _slot: slot,
            done: false,
        };
        Ok(futures::stream::unfold(feed, Feed::next))
    }
}

/// Which events `taskEvents` sends.
#[derive(InputObject, Default)]
pub struct TaskEventFilter {
    /// Only tasks of this directive.
    pub directive_id: Option<ID>,
    /// Only tasks this agency holds an assignment on (lead or coordinator), or the directive
    /// named it for.
    pub agency_id: Option<ID>,
    /// Only these kinds of event (default: all).
    pub kinds: Option<Vec<EventKind>>,
}

struct Filter {
    directive_id: Option<i32>,
    agency_id: Option<i32>,
    kinds: Option<Vec<EventKind>>,
}

impl TaskEventFilter {
    fn parse(self) -> Result<Filter, ApiError> {
        Ok(Filter {
            directive_id: self
                .directive_id
                .map(|id| decode_id(&id, NodeKind::Directive, "filter.directiveId"))
                .transpose()?,
            agency_id: self
                .agency_id
                .map(|id| decode_id(&id, NodeKind::Agency, "filter.agencyId"))
                .transpose()?,
            kinds: match self.kinds {
                Some(k) if k.is_empty() => {
                    return Err(ApiError::bad_input(
                        "filter.kinds",
                        "`kinds` rỗng thì không sự kiện nào khớp; bỏ trường này để nhận mọi loại",
                    ));
                }
                k => k,
            },
        })
    }
}

/// One committed change to a task.
pub struct TaskEvent {
    kind: EventKind,
    at: chrono::DateTime<chrono::Utc>,
    task: Task,
    report: Option<ProgressReport>,
}

/// One committed change to a task the subscriber may see.
#[Object]
impl TaskEvent {
    /// What happened.
    async fn kind(&self) -> EventKind {
        self.kind
    }
    /// When the change was made (the writing instance's clock, just before it committed).
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.at
    }
    /// The task, as it is now.
    async fn task(&self) -> &Task {
        &self.task
    }
    /// For REPORT_SUBMITTED and REPORT_REVIEWED: the report, as it is now.
    async fn report(&self) -> Option<&ProgressReport> {
        self.report.as_ref()
    }
}

/// What a socket's `connection_init` established, for its subscriptions.
struct Socket {
    /// When the token expires.
    expires: tokio::time::Instant,
    /// The `Authorization` (and `x-request-id`) the socket was opened with, to check again.
    auth: HeaderMap,
    /// Subscriptions running on the socket.
    open: Arc<std::sync::atomic::AtomicUsize>,
}

/// One of a socket's [`MAX_PER_SOCKET`] subscriptions, given back when the feed ends.
struct Slot(Arc<std::sync::atomic::AtomicUsize>);

impl Slot {
    fn take(open: &Arc<std::sync::atomic::AtomicUsize>) -> Result<Slot, ApiError> {
        use std::sync::atomic::Ordering;
        if open.fetch_add(1, Ordering::AcqRel) >= MAX_PER_SOCKET {
            open.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::BadUserInput {
                message: format!(
                    "Mỗi kết nối chạy tối đa {MAX_PER_SOCKET} subscription; hãy dừng bớt hoặc mở kết nối khác"
                ),
                field: None,
            });
        }
        Ok(Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The events of one subscription, filtered and read again with the subscriber's scope.
struct Feed {
    rx: tokio::sync::broadcast::Receiver<Notice>,
    state: Arc<State>,
    scope: Scope,
    filter: Filter,
    expires: Option<tokio::time::Instant>,
    /// The socket's credentials, checked again every `CHIDAO_WS_RECHECK_SECS`.
    auth: Option<HeaderMap>,
    checked: tokio::time::Instant,
    _slot: Option<Slot>,
    done: bool,
}

impl Feed {
    async fn next(mut self) -> Option<(async_graphql::Result<TaskEvent>, Feed)> {
        if self.done {
            return None;
        }
        loop {
            let received = match self.expires {
                Some(at) => tokio::select! {
                    r = self.rx.recv() => r,
                    () = tokio::time::sleep_until(at) => {
                        self.done = true;
                        return Some((Err(expired().into()), self));
                    }
                },
                None => self.rx.recv().await,
            };
            let event = match received {
                Ok(Notice::Event(event)) => event,
                Ok(Notice::Missed) | Err(RecvError::Lagged(_)) => {
                    self.done = true;
                    let e = async_graphql::Error::new(
                        "Có thể đã bỏ lỡ sự kiện; hãy đọc lại nhiệm vụ rồi đăng ký lại",
                    )
                    .extend_with(|_, x| x.set("code", "EVENTS_MISSED"));
                    return Some((Err(e), self));
                }
                Err(RecvError::Closed) => return None,
            };
            let checked = match self.recheck().await {
                Ok(()) => self.visible(&event).await,
                Err(e) => Err(e),
            };
            match checked {
                Ok(Some(e)) => return Some((Ok(e), self)),
                Ok(None) => continue,
                Err(e) => {
                    self.done = true;
                    return Some((Err(e.into()), self));
                }
            }
        }
    }

    /// Checks the socket's token again when `CHIDAO_WS_RECHECK_SECS` have passed: a token refused now
    /// (its agency merged away) or whose rows changed (a successor's new rows) ends the
    /// subscription; the client reconnects.
    async fn recheck(&mut self) -> Result<(), ApiError> {
        let Some(auth) = &self.auth else {
            return Ok(());
        };
        if self.checked.elapsed() < self.state.socket_recheck {
            return Ok(());
        }
        let now = crate::http::authenticate(&self.state, auth).await?;
        if now.scope != self.scope {
            return Err(ApiError::Unauthenticated(
                "Phạm vi của token đã thay đổi (sáp nhập cơ quan); hãy kết nối lại".into(),
            ));
        }
        self.checked = tokio::time::Instant::now();
        Ok(())
    }

    /// The event as this subscriber may see it, or `None` when it may not see the task (or
    /// the report) or the filter leaves it out.
    async fn visible(&self, event: &Event) -> Result<Option<TaskEvent>, ApiError> {
        let f = &self.filter;
        if f.kinds.as_ref().is_some_and(|k| !k.contains(&event.kind)) {
            return Ok(None);
        }
        // Fresh loaders: nothing read for an earlier event is reused.
        let loaders = Loaders::new(&self.state.reads, &self.scope, self.state.loader_delay, false);
        let load = crate::loaders::load_err;
        let Some(task) = loaders.task.load_one(event.task_id).await.map_err(load)? else {
            return Ok(None);
        };
        if f.directive_id.is_some_and(|d| d != task.directive_id) {
            return Ok(None);
        }
        if let Some(agency) = f.agency_id {
            let rows = loaders
                .assignments_of_task
                .load_one(task.id)
                .await
                .map_err(load)?
                .unwrap_or_default();
            if !rows
                .iter()
                .any(|a| a.agency_id == agency || a.original_agency_id == agency)
            {
                return Ok(None);
            }
        }
        let report = match event.report_id {
            Some(id) => match loaders.report.load_one(id).await.map_err(load)? {
                Some(r) => Some(ProgressReport::new(r)),
                None => return Ok(None),
            },
            None => None,
        };
        Ok(Some(TaskEvent {
            kind: event.kind,
            at: event.at,
            task: Task::new(task, None),
            report,
        }))
    }
}

fn expired() -> ApiError {
    ApiError::Unauthenticated("Token đã hết hạn; hãy kết nối lại với token mới".into())
}

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub(crate) async fn handler(
    AxState(app): AxState<App>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Ok(permit) = app.sockets.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("30"))],
            "Quá nhiều kết nối WebSocket; hãy thử lại sau",
        )
            .into_response();
    };
    let state = app.state.clone();
    let schema = app.ws_schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            // The socket may stay INIT_TIMEOUT until `connection_init` succeeds, then until a
            // moment after its token expires (its subscriptions have ended by then).
            let (ready, expiry) = tokio::sync::oneshot::channel();
            let serve = GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let (data, expires) = connect(&state, &headers, payload).await.map_err(|e| {
                        // Sent as the close frame's reason, which holds 123 bytes.
                        let mut e = async_graphql::Error::from(e);
                        e.message = close_reason(&e.message);
                        e
                    })?;
                    let _ = ready.send(expires + Duration::from_secs(2));
                    Ok(data)
                })
                .serve();
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
            drop(permit);
        })
        .into_response()
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
    let caller = crate::http::authenticate(state, &headers).await?;
    // When the token runs out, so do the subscriptions and the socket.
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let left = caller.expires_at.saturating_sub(now);
    if left == 0 {
        return Err(expired());
    }
    // A token's own lifetime beyond a day is not waited out: the socket closes after a day.
    let expires = tokio::time::Instant::now() + Duration::from_secs(left.min(24 * 3600));
    let mut data = Data::default();
    data.insert(Loaders::new(
        &state.reads,
        &caller.scope,
        state.loader_delay,
        false,
    ));
    data.insert(caller);
    data.insert(Socket {
        expires,
        auth: headers,
        open: Default::default(),
    });
    Ok((data, expires))
}

/// Checks each operation sent over the socket: a subscription, within the document limits.
pub(crate) struct SocketLimits;

impl ExtensionFactory for SocketLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SocketLimits)
    }
}

#[async_trait::async_trait]
impl Extension for SocketLimits {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        use async_graphql::parser::types::OperationType;
        let state = ctx.data_unchecked::<Arc<State>>();
        let refuse = |e: ApiError| async_graphql::Error::from(e).into_server_error(Default::default());
        crate::limits::check_tokens(&request.query, &state.limits).map_err(refuse)?;
        // A document that does not parse is left to async-graphql, which says where.
        if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
            let name = request.operation_name.as_deref();
            crate::limits::check_document(&doc, name, &request.variables, &state.limits).map_err(refuse)?;
            if crate::graphql_http::is_operation(&doc, name, OperationType::Query)
                || crate::graphql_http::is_operation(&doc, name, OperationType::Mutation)
            {
                return Err(refuse(ApiError::BadUserInput {
                    message:
                        "Qua WebSocket chỉ chạy subscription; truy vấn và mutation gửi bằng POST /graphql"
                            .into(),
                    field: None,
                }));
            }
            // Handed over parsed, as `POST /graphql` does.
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
