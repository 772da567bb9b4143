//! GraphQL over HTTP (the GraphQL-over-HTTP spec), in front of async-graphql: content
//! negotiation, status codes, GET for queries only, JSON bodies only, batching off by
//! default, and the request limits of `limits.rs` checked before anything executes.
//!
//! * `Accept: application/graphql-response+json` gets that media type and spec status
//!   codes: 400 when the request or document is invalid (nothing executed), 200 otherwise.
//! * `Accept: application/json` (or none, or `*/*`) gets `application/json` and 200 for any
//!   well-formed GraphQL request, as the spec's legacy watershed requires; a request that
//!   is not GraphQL at all (bad JSON, no `query`) is 400.
//! * Anything else in `Accept` is 406. A body that is not `application/json` is 415 (a
//!   `text/plain` POST would otherwise be a CSRF door). A mutation by GET is 405.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ServerError, Variables};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use serde_json::{Value, json};

use super::{App, answers, unauthenticated};
use crate::auth::Caller;
use crate::auth::caller::authenticate;
use crate::error::ApiError;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The response media type the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `application/graphql-response+json`: spec status codes.
    GraphqlResponse,
    /// `application/json`: 200 for every well-formed GraphQL request.
    Json,
}

/// Picks the response media type from `Accept` (first acceptable in the client's order,
/// ignoring q-values below zero).
pub fn negotiate(headers: &HeaderMap) -> Option<Mode> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Mode::Json);
    };
    if accept.trim().is_empty() {
        return Some(Mode::Json);
    }
    let mut best: Option<(f32, usize, Mode)> = None;
    for (i, part) in accept.split(',').enumerate() {
        let mut bits = part.split(';');
        let media = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let mode = match media.as_str() {
            GRAPHQL_RESPONSE => Mode::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => Mode::Json,
            _ => continue,
        };
        if best.is_none_or(|(bq, _, _)| q > bq) {
            best = Some((q, i, mode));
        }
    }
    best.map(|(_, _, m)| m)
}

fn content_type(mode: Mode) -> HeaderValue {
    HeaderValue::from_static(match mode {
        Mode::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        Mode::Json => "application/json; charset=utf-8",
    })
}

/// A response made only of errors (nothing executed).
fn errors(
    mode: Mode,
    status: StatusCode,
    errs: Vec<ApiError>,
    extra: &[(header::HeaderName, &'static str)],
) -> Response {
    let errs: Vec<Value> = errs.iter().map(ApiError::to_json).collect();
    let mut res = (status, axum::Json(json!({ "errors": errs }))).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, content_type(mode));
    for (k, v) in extra {
        res.headers_mut().insert(k.clone(), HeaderValue::from_static(v));
    }
    res
}

/// A request that is not a GraphQL-over-HTTP request: 400 in both modes.
fn malformed(mode: Mode, msg: &str) -> Response {
    errors(
        mode,
        StatusCode::BAD_REQUEST,
        vec![ApiError::BadUserInput {
            message: msg.to_owned(),
            field: None,
        }],
        &[],
    )
}

/// The parameters of one GraphQL request, checked for shape.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<serde_json::Map<String, Value>>,
}

fn params(v: &Value) -> Result<Params, &'static str> {
    let Value::Object(o) = v else {
        return Err("Thân yêu cầu phải là một đối tượng JSON {\"query\": …}");
    };
    let query = match o.get("query") {
        Some(Value::String(q)) => q.clone(),
        Some(_) => return Err("`query` phải là chuỗi"),
        None => return Err("Thiếu `query`"),
    };
    let operation_name = match o.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`operationName` phải là chuỗi"),
    };
    let variables = match o.get("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err("`variables` phải là đối tượng JSON"),
    };
    match o.get("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("`extensions` phải là đối tượng JSON"),
    }
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

/// The documents parsed most recently, by their text. The portal, the departments' systems and
/// the BI tools send the same few documents over and over with different variables; parsing
/// one took a tenth of the server's CPU for a small query (README "Performance").
///
/// Only a document that passed the limits is kept (a refused one would otherwise take room),
/// and the cache is bounded by an estimate of the memory the parsed trees hold, not only by
/// count: a 3 KB document of 2,000 tokens parses into about 0.5 MB. The limits are checked on
/// every use (they depend on the variables) and async-graphql still validates every request.
pub(crate) struct Documents {
    kept: std::sync::Mutex<Kept>,
}

struct Kept {
    docs: lru::LruCache<String, (Parsed, usize)>,
    /// Sum of the entries' estimated sizes.
    bytes: usize,
}

impl Documents {
    const ENTRIES: usize = 512;
    /// Longer documents are parsed every time rather than kept.
    const MAX_LEN: usize = 16 * 1024;
    /// Estimated bytes of parsed tree per byte of document text (measured: 0.4-0.5 MB for
    /// 3 KB of dense tokens).
    const TREE_PER_BYTE: usize = 160;
    /// What all kept documents may hold together, by that estimate.
    const BUDGET: usize = 16 * 1024 * 1024;

    pub(crate) fn new() -> Self {
        let entries = std::num::NonZeroUsize::new(Self::ENTRIES).unwrap_or(std::num::NonZeroUsize::MIN);
        Documents {
            kept: std::sync::Mutex::new(Kept {
                docs: lru::LruCache::new(entries),
                bytes: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The document, from the cache (`true`) or freshly parsed (`false`).
    fn parse(&self, query: &str) -> async_graphql::parser::Result<(Parsed, bool)> {
        if let Some((parsed, _)) = self.lock().docs.get(query) {
            return Ok((parsed.clone(), true));
        }
        let mut doc = async_graphql::parser::parse_query(query)?;
        crate::graphql::order::mark(&mut doc);
        let fields = Arc::new(crate::db::lean::Fields::of(&doc));
        let splice = crate::graphql::plain::splice_safe(&doc);
        Ok((
            Parsed {
                doc: Arc::new(doc),
                fields,
                splice,
            },
            false,
        ))
    }

    /// Keeps a parsed document that passed the limits, evicting the least recently used ones
    /// while the estimate is over budget.
    fn keep(&self, query: &str, doc: &Parsed) {
        if query.len() > Self::MAX_LEN {
            return;
        }
        let size = query.len().saturating_mul(Self::TREE_PER_BYTE);
        let mut kept = self.lock();
        if let Some((_, (_, old))) = kept.docs.push(query.to_owned(), (doc.clone(), size)) {
            kept.bytes = kept.bytes.saturating_sub(old);
        }
        kept.bytes += size;
        while kept.bytes > Self::BUDGET {
            match kept.docs.pop_lru() {
                Some((_, (_, old))) => kept.bytes = kept.bytes.saturating_sub(old),
                None => {
                    kept.bytes = 0;
                    break;
                }
            }
        }
    }
}

/// A parsed document, with the names of the fields it selects (what its loaders read, `db::lean`).
#[derive(Clone)]
struct Parsed {
    doc: Arc<ExecutableDocument>,
    fields: Arc<crate::db::lean::Fields>,
    /// Whether its answer may be written as JSON text (`plain::splice_safe`).
    splice: bool,
}

/// A request ready to run: whether it is a mutation, and the parsed document (kept to put the
/// response in selection order, `graphql::order`).
struct Prepared {
    request: async_graphql::Request,
    mutation: bool,
    /// The estimated cost (`graphql::limits`), admitted against `State::in_flight`.
    cost: u64,
    document: Option<Arc<ExecutableDocument>>,
    /// The document's field names, for a query's lean loaders (`db::lean`).
    fields: Option<Arc<crate::db::lean::Fields>>,
    /// Whether the answer may be written as JSON text (`plain::Splice`).
    splice: bool,
    operation: Option<String>,
}

/// Checks limits and builds the async-graphql request; `Err` is a refusal (nothing runs).
fn prepare(
    app: &App,
    p: Params,
    method: &Method,
    op: &mut String,
    parse_failed: &mut bool,
) -> Result<Prepared, (StatusCode, ApiError)> {
    let limits = &app.limits;
    crate::graphql::limits::check_tokens(&p.query, limits).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    let mut vars = Variables::from_json(Value::Object(p.variables.unwrap_or_default()));
    let parsed = app.documents.parse(&p.query);
    *parse_failed = parsed.is_err();
    let mut mutation = false;
    let mut document = None;
    let mut fields = None;
    let mut splice = false;
    let mut cost = 1;
    if let Ok((parsed, cached)) = parsed {
        let doc = parsed.doc.clone();
        if op.is_empty()
            && let async_graphql::parser::types::DocumentOperations::Multiple(ops) = &doc.operations
            && ops.len() == 1
            && let Some(name) = ops.keys().next()
        {
            // The name a log or dashboard shows, for a single named operation.
            *op = name.to_string();
        }
        cost = crate::graphql::limits::check_document(
            &doc,
            p.operation_name.as_deref(),
            &vars,
            limits,
            &app.state.sizes,
        )
        .map_err(|e| (StatusCode::BAD_REQUEST, e))?;
        crate::graphql::values::check(&doc, p.operation_name.as_deref(), &mut vars, &app.types)
            .map_err(|e| (StatusCode::BAD_REQUEST, e))?;
        if !cached {
            app.documents.keep(&p.query, &parsed);
        }
        if is_operation(&doc, p.operation_name.as_deref(), OperationType::Subscription) {
            return Err((
                StatusCode::BAD_REQUEST,
                ApiError::BadUserInput {
                    message:
                        "Subscription chạy qua WebSocket tại /graphql/ws (giao thức graphql-transport-ws)"
                            .into(),
                    field: None,
                },
            ));
        }
        mutation = is_operation(&doc, p.operation_name.as_deref(), OperationType::Mutation);
        if method == Method::GET && mutation {
            return Err((
                StatusCode::METHOD_NOT_ALLOWED,
                ApiError::BadUserInput {
                    message: "Mutation chỉ gửi bằng POST (GET chỉ dùng cho truy vấn)".into(),
                    field: None,
                },
            ));
        }
        document = Some(doc);
        fields = (!mutation).then_some(parsed.fields);
        splice = parsed.splice;
    }
    // A document that does not parse goes on to async-graphql, which reports where; one
    // that does is handed over parsed (async-graphql would otherwise parse it again).
    let mut req = async_graphql::Request::new(p.query).variables(vars);
    if let Some(doc) = &document {
        req.set_parsed_query(ExecutableDocument::clone(doc));
    }
    if let Some(name) = &p.operation_name {
        req = req.operation_name(name.clone());
    }
    if !app.state.introspection {
        req = req.disable_introspection();
    }
    Ok(Prepared {
        request: req,
        mutation,
        cost,
        document,
        fields,
        splice,
        operation: p.operation_name,
    })
}

/// Whether the operation to run (the named one, or any when none is named) is of type `ty`.
pub(crate) fn is_operation(
    doc: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
    ty: OperationType,
) -> bool {
    doc.operations
        .iter()
        .any(|(n, op)| op.node.ty == ty && (name.is_none() || n.map(|n| n.as_str()) == name))
}

/// Gives every error a stable `extensions.code` (errors of the document itself, which
/// async-graphql leaves without one, get `fallback`) and INTERNAL errors the request id.
fn label_server_errors(errors: &mut [ServerError], fallback: Option<&str>, request_id: Option<&str>) {
    for e in errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        match ext.get("code") {
            Some(async_graphql::Value::String(code)) if code == "INTERNAL" => {
                if let Some(id) = request_id
                    && ext.get("requestId").is_none()
                {
                    ext.set("requestId", id);
                }
            }
            Some(_) => {}
            // An error raised while executing (it has a path) that no code of ours labelled:
            // something converted straight from a library's error, whose text (a database's,
            // say) is not for the client. It is INTERNAL, and the log has the text.
            None if !e.path.is_empty() => {
                tracing::error!(error = %e.message, path = ?e.path, "unlabelled error while executing");
                e.message = crate::error::ApiError::internal(std::io::Error::other("unlabelled")).message();
                let ext = e.extensions.get_or_insert_with(Default::default);
                ext.set("code", "INTERNAL");
                if let Some(id) = request_id {
                    ext.set("requestId", id);
                }
            }
            None => ext.set("code", fallback.unwrap_or("GRAPHQL_VALIDATION_FAILED")),
        }
    }
}

/// Whether a response is a request error (parse or validation: no data, no path).
fn is_request_error(res: &async_graphql::Response) -> bool {
    let internal = |e: &ServerError| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| matches!(c, async_graphql::Value::String(s) if s == "INTERNAL"))
    };
    // A caught panic also has no data and no path, but it is the server's fault, not the
    // request's: it stays a 200 with an INTERNAL error.
    !res.errors.is_empty()
        && matches!(res.data, async_graphql::Value::Null)
        && res.errors.iter().all(|e| e.path.is_empty() && !internal(e))
}

/// Runs one operation, catching a panic as an INTERNAL error (the worker survives).
async fn run(
    app: &App,
    caller: &Caller,
    mut req: async_graphql::Request,
    mutation: bool,
    kept: bool,
    fields: Option<Arc<crate::db::lean::Fields>>,
    splice: bool,
) -> async_graphql::Response {
    // A mutation changes rows that a query's loaders would otherwise keep for the rest of
    // the request: it gets loaders that keep nothing beyond one batch. An answer to be kept
    // reads the primary, whose changes its generations count (`answers`).
    let reads = if mutation || kept {
        app.state.reads.clone()
    } else {
        app.state.query_reads(&caller.principal.subject).await
    };
    let budget = crate::schema::request_data(
        &mut req.data,
        &app.state,
        reads,
        &caller.scope,
        !mutation,
        app.limits.max_nodes,
        fields,
    );
    let request_id = caller.request_id.clone();
    // Written by `plain::to_json` (`handle`), which splices what was answered as JSON text.
    let mut req = req.data(caller.clone());
    if splice {
        req = req.data(crate::graphql::plain::Splice);
    }
    let res = catching(app.schema.execute(req), request_id.as_deref()).await;
    if budget.exceeded() {
        // Refused whole, as a document over the estimated cost is: part of an answer cut by
        // the budget would look complete to a careless client. (A mutation's writes have
        // committed by then; its payload is small, so this is a query's fate.)
        return refusal(crate::graphql::loaders::over_budget());
    }
    res
}

/// A response of one refusal and no data.
fn refusal(e: ApiError) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![
        async_graphql::Error::from(e).into_server_error(Default::default()),
    ])
}

/// Awaits an execution, turning a panic into an INTERNAL error that carries the request id
/// (the detail goes to the log under the same id); the worker lives on.
pub(crate) async fn catching(
    fut: impl std::future::Future<Output = async_graphql::Response>,
    request_id: Option<&str>,
) -> async_graphql::Response {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request_id = request_id.unwrap_or(""), panic = %what, "resolver panicked");
            let mut err = ServerError::new(
                ApiError::Internal(Box::new(std::io::Error::other("panic"))).message(),
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "INTERNAL");
            if let Some(id) = request_id {
                ext.set("requestId", id);
            }
            err.extensions = Some(ext);
            async_graphql::Response::from_errors(vec![err])
        }
    }
}

fn respond(mode: Mode, body: Vec<u8>, request_error: bool) -> Response {
    let status = if request_error && mode == Mode::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, content_type(mode));
    res
}

/// Counts one operation in the metrics and writes its log line; `reused`: answered from
/// `answers`.
fn observed(app: &App, caller: &Caller, op: &str, codes: &[&str], started: Instant, reused: bool) {
    app.state
        .metrics
        .observe(op, caller.principal.role, codes, started);
    // The client's operation name, bounded before it reaches a log line.
    let logged: String = op.chars().filter(|c| !c.is_control()).take(64).collect();
    tracing::info!(
        request_id = caller.request_id.as_deref().unwrap_or(""),
        operation = logged.as_str(),
        role = caller.principal.role.as_str(),
        agency = caller.principal.agency_id.unwrap_or_default(),
        errors = ?codes,
        elapsed_ms = started.elapsed().as_millis() as u64,
        reused,
        "graphql"
    );
}

/// Handles one or more parsed request objects for an authenticated caller.
async fn handle(
    app: &App,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    mode: Mode,
    method: Method,
    body: Value,
) -> Response {
    let started = Instant::now();
    let batch = match &body {
        Value::Array(items) => {
            let max = app.limits.max_batch;
            if max == 0 {
                return errors(
                    mode,
                    StatusCode::BAD_REQUEST,
                    vec![ApiError::BadUserInput {
                        message: "Không hỗ trợ gửi nhiều truy vấn trong một yêu cầu (batching tắt)".into(),
                        field: None,
                    }],
                    &[],
                );
            }
            if items.is_empty() || items.len() > max {
                return errors(
                    mode,
                    StatusCode::BAD_REQUEST,
                    vec![ApiError::TooComplex(format!(
                        "Một lô có từ 1 đến {max} truy vấn (maxBatch)"
                    ))],
                    &[],
                );
            }
            true
        }
        _ => false,
    };
    let items: Vec<Value> = match body {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut prepared = Vec::with_capacity(items.len());
    for item in &items {
        match params(item) {
            Ok(p) => prepared.push(p),
            Err(msg) => return malformed(mode, msg),
        }
    }
    let limited = |key: String| app.rate_limit.as_ref()?.check(&key, &app.state.metrics);
    if !headers.contains_key(header::AUTHORIZATION)
        && let Some(res) = limited(format!("ip:{ip}"))
    {
        return res;
    }
    // What may write is let in by the agencies as they are now (`Directory::fresh_if`).
    let writes = prepared.iter().any(|p| crate::auth::caller::may_write(&p.query));
    let directory = app.state.directory().fresh_if(writes);
    let caller = match authenticate(&app.state.verifier, directory, headers).await {
        Ok(c) => c,
        // A refused token counts against its IP, as a request without one does: guessing
        // tokens is as rate-limited as anything else anonymous.
        Err(e) => return limited(format!("ip:{ip}")).unwrap_or_else(|| unauthenticated(e)),
    };
    if let Some(res) = limited(format!("sub:{}", caller.principal.subject)) {
        return res;
    }
    let mut out = Vec::with_capacity(prepared.len());
    let mut admitted = None;
    let mut request_error = false;
    for p in prepared {
        let mut op = p.operation_name.clone().unwrap_or_default();
        // An answer kept from before, if nothing it read has changed (`answers`).
        let key = if app.answers.enabled() && app.state.changes.current().is_some() {
            answers::Key::of(
                &p.query,
                p.operation_name.as_deref(),
                p.variables.as_ref(),
                &caller,
                crate::clock::today(),
            )
        } else {
            None
        };
        if let Some(answer) = key.as_ref().and_then(|k| app.answers.get(k, &app.state.changes)) {
            observed(app, &caller, &answer.operation, &[], started, true);
            out.push(answer.body.to_vec());
            continue;
        }
        // Read before computing: a write that commits meanwhile makes the answer unkeepable.
        let seen = key.as_ref().and_then(|_| app.state.changes.snapshot());
        let mut keep = None;
        let mut parse_failed = false;
        let res = match prepare(app, p, &method, &mut op, &mut parse_failed) {
            Ok(ready) => {
                // Held until this operation's answer is written (below).
                admitted = app.state.in_flight.admit(ready.cost).await;
                let kept = !ready.mutation && key.is_some() && seen.is_some();
                // Only an answer that may be kept needs the tables it read.
                let work = run(
                    app,
                    &caller,
                    ready.request,
                    ready.mutation,
                    kept,
                    ready.fields,
                    ready.splice,
                );
                let (mut res, tables) = if kept {
                    crate::db::touched::tracking(work).await
                } else {
                    (work.await, 0)
                };
                if kept && res.errors.is_empty() {
                    keep = key.zip(seen).map(|(k, s)| (k, s, tables));
                }
                if let Some(doc) = &ready.document {
                    crate::graphql::order::reorder(
                        &mut res.data,
                        doc,
                        ready.operation.as_deref(),
                        &app.types,
                    );
                }
                res
            }
            Err((status, e)) if !batch => {
                app.state
                    .metrics
                    .observe(&op, caller.principal.role, &[e.code()], started);
                return errors(
                    mode,
                    status,
                    vec![e],
                    if status == StatusCode::METHOD_NOT_ALLOWED {
                        &[(header::ALLOW, "POST")]
                    } else {
                        &[]
                    },
                );
            }
            Err((_, e)) => async_graphql::Response::from_errors(vec![
                async_graphql::Error::from(e).into_server_error(Default::default()),
            ]),
        };
        let this_request_error = is_request_error(&res);
        request_error |= this_request_error;
        let codes: Vec<&str> = res
            .errors
            .iter()
            .map(|e| {
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .and_then(|v| match v {
                        async_graphql::Value::String(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .unwrap_or("GRAPHQL_VALIDATION_FAILED")
            })
            .collect();
        observed(app, &caller, &op, &codes, started, false);
        let mut res = res;
        let kind = if parse_failed {
            "GRAPHQL_PARSE_FAILED"
        } else {
            "GRAPHQL_VALIDATION_FAILED"
        };
        label_server_errors(
            &mut res.errors,
            this_request_error.then_some(kind),
            caller.request_id.as_deref(),
        );
        // Serialised straight from async-graphql's value tree (no intermediate JSON tree).
        let json = if this_request_error && mode == Mode::GraphqlResponse {
            // Nothing executed: the spec wants no `data` entry at all.
            serde_json::to_vec(&json!({ "errors": res.errors }))
        } else {
            crate::graphql::plain::to_json(&res)
        };
        // The response-size cap (`maxResponseBytes`): the node budget bounds the rows read, this
        // what goes out.
        let json = match json {
            Ok(bytes) if bytes.len() > app.limits.max_response_bytes => {
                keep = None;
                serde_json::to_vec(&refusal(ApiError::TooComplex(format!(
                    "Kết quả quá lớn: {} byte, tối đa {} (maxResponseBytes); hãy chia nhỏ truy vấn",
                    bytes.len(),
                    app.limits.max_response_bytes
                ))))
            }
            other => other,
        };
        if let (Some((key, seen, tables)), Ok(body)) = (keep, &json)
            // Computed across midnight: it may mix two days.
            && crate::clock::today() == key.day()
        {
            let answer = answers::Answer {
                body: body.as_slice().into(),
                operation: op.as_str().into(),
            };
            app.answers.put(key, seen, tables, answer, &app.state.changes);
        }
        out.push(
            json.unwrap_or_else(|_| br#"{"errors":[{"message":"L\u1ed7i h\u1ec7 th\u1ed1ng"}]}"#.to_vec()),
        );
        drop(admitted.take());
    }
    let body = if batch {
        let mut all = Vec::with_capacity(out.iter().map(|b| b.len() + 1).sum::<usize>() + 1);
        all.push(b'[');
        for (i, b) in out.iter().enumerate() {
            if i > 0 {
                all.push(b',');
            }
            all.extend_from_slice(b);
        }
        all.push(b']');
        all
    } else {
        out.pop().unwrap_or_else(|| b"null".to_vec())
    };
    respond(mode, body, request_error && !batch)
}

/// `POST /graphql`.
pub(crate) async fn post(
    AxState(app): AxState<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(mode) = negotiate(&headers) else {
        return errors(
            Mode::Json,
            StatusCode::NOT_ACCEPTABLE,
            vec![ApiError::BadUserInput {
                message: format!("Chỉ trả về {GRAPHQL_RESPONSE} hoặc application/json"),
                field: None,
            }],
            &[],
        );
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ct != "application/json" {
        return errors(
            mode,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec![ApiError::BadUserInput {
                message: "Content-Type phải là application/json".into(),
                field: None,
            }],
            &[],
        );
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return malformed(mode, "Thân yêu cầu không phải JSON hợp lệ"),
    };
    handle(&app, &headers, peer.ip(), mode, Method::POST, body).await
}

/// `GET /graphql`: GraphiQL for a browser, queries for everyone else.
pub(crate) async fn get(
    AxState(app): AxState<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pairs = match uri.query() {
        Some(q) => match super::url_pairs(q) {
            Some(p) => p,
            None => return malformed(Mode::Json, "Chuỗi tham số không hợp lệ"),
        },
        None => Vec::new(),
    };
    let has_query = pairs.iter().any(|(k, _)| k == "query");
    if accept.contains("text/html") && !has_query {
        // Served by chidao itself, assets and all: the intranet has no Internet.
        return super::graphiql::page();
    }
    let Some(mode) = negotiate(&headers) else {
        return errors(
            Mode::Json,
            StatusCode::NOT_ACCEPTABLE,
            vec![ApiError::BadUserInput {
                message: format!("Chỉ trả về {GRAPHQL_RESPONSE} hoặc application/json"),
                field: None,
            }],
            &[],
        );
    };
    let mut obj = serde_json::Map::new();
    for (k, v) in pairs {
        let value = match k.as_str() {
            "query" | "operationName" => Value::String(v),
            "variables" | "extensions" => match serde_json::from_str(&v) {
                Ok(j) => j,
                Err(_) => return malformed(mode, "`variables` phải là JSON"),
            },
            _ => continue,
        };
        obj.insert(k, value);
    }
    handle(&app, &headers, peer.ip(), mode, Method::GET, Value::Object(obj)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> Option<Mode> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).expect("header"));
        negotiate(&h)
    }

    #[tokio::test]
    async fn a_panic_is_an_internal_error_with_the_request_id() {
        let res = catching(async { panic!("boom: secret detail") }, Some("req-42")).await;
        let body = serde_json::to_value(&res).expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
        assert_eq!(body["errors"][0]["extensions"]["requestId"], "req-42");
        assert!(
            !body.to_string().contains("secret detail"),
            "no detail leaks: {body}"
        );
        // The runtime is fine afterwards.
        let ok = catching(
            async { async_graphql::Response::new(async_graphql::Value::Null) },
            None,
        )
        .await;
        assert!(ok.errors.is_empty());
    }

    #[test]
    fn every_error_gets_a_code_and_internal_ones_the_request_id() {
        let err = |message: &str, code: Option<&str>| {
            let mut e = ServerError::new(message, None);
            if let Some(c) = code {
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", c);
                e.extensions = Some(ext);
            }
            e
        };
        let mut errors = vec![
            err("Unknown field \"nope\"", None),
            err("Lỗi hệ thống", Some("INTERNAL")),
            err("x", Some("NOT_FOUND")),
        ];
        label_server_errors(&mut errors, Some("GRAPHQL_VALIDATION_FAILED"), Some("req-7"));
        let body = serde_json::to_value(&errors).expect("json");
        assert_eq!(body[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        assert_eq!(body[1]["extensions"]["requestId"], "req-7");
        assert!(body[2]["extensions"].get("requestId").is_none());
    }

    #[test]
    fn documents_are_parsed_once_within_bounds() {
        let docs = Documents::new();
        let q = "query Q($id: ID!) { task(id: $id) { code } }";
        let (a, cached) = docs.parse(q).expect("parses");
        assert!(!cached, "nothing is kept before it passed the limits");
        assert!(!docs.parse(q).expect("parses").1);
        docs.keep(q, &a);
        let (b, cached) = docs.parse(q).expect("parses");
        assert!(cached && Arc::ptr_eq(&a.doc, &b.doc), "a kept document is reused");
        assert!(Arc::ptr_eq(&a.fields, &b.fields), "and its field names with it");
        assert!(docs.parse("{ task(id: ").is_err(), "a parse error stays an error");

        let long = format!("{{ {} }}", "__typename ".repeat(Documents::MAX_LEN / 10));
        let (c, _) = docs.parse(&long).expect("parses");
        docs.keep(&long, &c);
        assert!(
            !docs.parse(&long).expect("parses").1,
            "a document over MAX_LEN is not kept"
        );

        // The estimated memory stays within budget: big documents push out the oldest.
        let per = Documents::MAX_LEN;
        let fits = Documents::BUDGET / (per * Documents::TREE_PER_BYTE);
        for i in 0..fits + 3 {
            let text = format!("{{ a{i} {} }}", " ".repeat(per - 12));
            let (d, _) = docs.parse(&text).expect("parses");
            docs.keep(&text, &d);
        }
        let kept = docs.lock();
        assert!(kept.bytes <= Documents::BUDGET, "{} > budget", kept.bytes);
        assert!(kept.docs.len() <= fits + 1, "{} kept", kept.docs.len());
    }

    #[test]
    fn accept_is_negotiated() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Mode::Json));
        assert_eq!(accept("application/json"), Some(Mode::Json));
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(Mode::GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Mode::GraphqlResponse)
        );
        assert_eq!(
            accept("application/json;q=0.5, application/graphql-response+json"),
            Some(Mode::GraphqlResponse)
        );
        assert_eq!(accept("*/*"), Some(Mode::Json));
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }
}
