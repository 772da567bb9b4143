//! The delivery workers: they take due rows of the outbox (`webhook_deliveries`), check that
//! the endpoint's role may see what the event names (`tasks::subscription::seen_by`, the
//! subscribers' rule), sign the body (Standard Webhooks), POST it, and keep the attempt.
//!
//! - **Once per attempt across instances.** A worker leases rows with one `UPDATE … WHERE id IN
//!   (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` (PostgreSQL; SQLite runs one worker under its
//!   write lock): another instance skips them, and a crash leaves them to the next worker when
//!   the lease ends (at least once).
//! - **Retries** after `CHIDAO_WEBHOOK_RETRY_SECS` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
//!   each ±20 %), then FAILED. 410 Gone disables the endpoint. Failures in a row make it read as
//!   failing; a success resets them.
//! - **Safety.** The host must still be on the allow-list; its addresses are resolved once and
//!   the request goes to those (no second lookup to rebind), never to a loopback, link-local or
//!   unspecified address unless the allow-list names the host exactly; redirects are not followed;
//!   an attempt has `CHIDAO_WEBHOOK_TIMEOUT_SECS`. One endpoint holds at most a quarter of the
//!   workers, so a slow receiver cannot starve the others.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::webhook_endpoint;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement, TransactionTrait, Value,
};

use crate::auth::{Role, Scope};
use crate::config::WebhookSettings;
use crate::error::ApiResult;
use crate::events::{DutyRef, Event, EventKind, OtherEvent, WebhookEventKind};
use crate::graphql::outbox::signature;
use crate::graphql::relay::{NodeKind, decode_id};
use crate::state::State;

/// How long a worker owns a leased row beyond the attempt's timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// How often the workers look for due rows when nothing woke them.
const POLL: Duration = Duration::from_secs(1);
/// How often the queue's depth and oldest row are read for `/metrics`.
const MEASURE: Duration = Duration::from_secs(5);
/// The most of a receiver's answer kept in an attempt's error.
const MAX_ERROR: usize = 300;

/// A leased row.
#[derive(Debug, Clone)]
struct Leased {
    id: i32,
    endpoint_id: i32,
    msg_id: String,
    payload: String,
    attempts: i32,
}

/// Starts this instance's workers. They lease and record on a connection of their own (the
/// outbox's idle polling is not a request's statement), under SQLite's write lock.
pub fn start(state: Arc<State>, database_url: String) {
    tokio::spawn(async move {
        let conn = loop {
            match crate::db::connect_aside(&database_url).await {
                Ok(c) => break Arc::new(c),
                Err(e) => {
                    tracing::warn!(error = %e, "webhook outbox: no connection; trying again");
                    tokio::time::sleep(POLL * 5).await;
                }
            }
        };
        let settings = state.webhooks.clone();
        let permits = Arc::new(tokio::sync::Semaphore::new(settings.workers.max(1)));
        let per_endpoint = (settings.workers / 4).max(1);
        let busy: Arc<Mutex<HashMap<i32, usize>>> = Arc::default();
        // A finished delivery frees a worker (and maybe its endpoint's share): lease again then,
        // not at the next poll.
        let freed = Arc::new(tokio::sync::Notify::new());
        let mut measured: Option<Instant> = None;
        loop {
            if measured.is_none_or(|t| t.elapsed() >= MEASURE) {
                measured = Some(Instant::now());
                if let Err(e) = measure(&state, &conn).await {
                    tracing::warn!(error = ?e, "webhook outbox: could not measure the queue");
                }
            }
            let free = permits.available_permits();
            let in_flight = busy
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let leased = if free == 0 {
                Vec::new()
            } else {
                match lease(&state, &conn, free, &in_flight, per_endpoint, &settings).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::warn!(error = ?e, "webhook outbox: could not lease deliveries");
                        Vec::new()
                    }
                }
            };
            if leased.is_empty() {
                tokio::select! {
                    _ = state.events.outbox_woken() => {}
                    _ = freed.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
                continue;
            }
            for row in leased {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                *busy
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(row.endpoint_id)
                    .or_default() += 1;
                let (state, busy, conn, freed) = (state.clone(), busy.clone(), conn.clone(), freed.clone());
                tokio::spawn(async move {
                    let endpoint = row.endpoint_id;
                    if let Err(e) = deliver(&state, &conn, row).await {
                        tracing::warn!(error = ?e, "webhook delivery: could not record the attempt");
                    }
                    let mut b = busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(n) = b.get_mut(&endpoint) {
                        *n -= 1;
                        if *n == 0 {
                            b.remove(&endpoint);
                        }
                    }
                    drop(b);
                    drop(permit);
                    freed.notify_one();
                });
            }
        }
    });
}

/// Reads the outbox's PENDING rows and the oldest's age into the metrics.
async fn measure(state: &State, conn: &DatabaseConnection) -> ApiResult<()> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries WHERE state = 'PENDING'",
        ))
        .await?;
    let (n, oldest): (i64, Option<DateTime<Utc>>) = match row {
        Some(r) => (r.try_get("", "n")?, r.try_get("", "oldest")?),
        None => (0, None),
    };
    let age = oldest.map_or(0, |t| (Utc::now() - t).num_seconds().max(0));
    state.metrics.set_webhook_queue(n, age);
    Ok(())
}

/// A transaction on the workers' connection, under SQLite's write lock.
async fn begin<'a>(
    state: &'a State,
    conn: &DatabaseConnection,
) -> ApiResult<(Option<tokio::sync::MutexGuard<'a, ()>>, DatabaseTransaction)> {
    let lock = match &state.write_lock {
        Some(m) => Some(m.lock().await),
        None => None,
    };
    Ok((lock, conn.begin().await?))
}

/// Leases up to `most` due rows, at most `cap` of each endpoint counting those it has in
/// flight (`busy`): one lease cannot give an endpoint with a long queue every free worker.
async fn lease(
    state: &State,
    conn: &DatabaseConnection,
    most: usize,
    busy: &HashMap<i32, usize>,
    cap: usize,
    settings: &WebhookSettings,
) -> ApiResult<Vec<Leased>> {
    let backend = conn.get_database_backend();
    let now = Utc::now();
    let p = |n| crate::db::placeholder(backend, n);
    // A read first: an idle poll takes no write lock (SQLite's would block other writers).
    let due = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT 1 AS due FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= {} LIMIT 1",
                p(1)
            ),
            [now.into()],
        ))
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let (_lock, txn) = begin(state, conn).await?;
    let until = now + chrono::Duration::from_std(settings.timeout + LEASE_MARGIN).unwrap_or_default();
    // Candidates are locked (SKIP LOCKED: another instance's are passed over) in a scan a few
    // times the lease, then cut to each endpoint's allowance; PostgreSQL allows no window
    // function beside FOR UPDATE, hence the two levels.
    let scan = (most * 4).clamp(16, 1000) as i64;
    let mut values: Vec<Value> = vec![until.into(), now.into(), (most as i64).into(), scan.into()];
    let (mut not_in, mut allowance) = (Vec::new(), Vec::new());
    for (endpoint, n) in busy {
        values.push((*endpoint).into());
        let at = values.len();
        if *n >= cap {
            not_in.push(p(at));
        } else {
            values.push(((cap - n) as i64).into());
            allowance.push(format!("WHEN {} THEN {}", p(at), p(at + 1)));
        }
    }
    let not_in = if not_in.is_empty() {
        String::new()
    } else {
        format!(" AND d.endpoint_id NOT IN ({})", not_in.join(", "))
    };
    let allowed = if allowance.is_empty() {
        cap.to_string()
    } else {
        format!("CASE c.endpoint_id {} ELSE {cap} END", allowance.join(" "))
    };
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = {until}, attempts = attempts + 1 WHERE id IN \
         (SELECT r.id FROM (SELECT c.id, c.next_attempt_at, c.rn, {allowed} AS allowed FROM \
         (SELECT s.id, s.endpoint_id, s.next_attempt_at, ROW_NUMBER() OVER (PARTITION BY s.endpoint_id \
         ORDER BY s.next_attempt_at, s.id) AS rn FROM (SELECT d.id, d.endpoint_id, d.next_attempt_at \
         FROM webhook_deliveries d WHERE d.state = 'PENDING' AND d.next_attempt_at <= {now} \
         AND (d.lease_until IS NULL OR d.lease_until < {now}){not_in} ORDER BY d.next_attempt_at, d.id \
         LIMIT {scan}{lock}) s) c) r WHERE r.rn <= r.allowed ORDER BY r.next_attempt_at, r.id LIMIT {most}) \
         RETURNING id, endpoint_id, msg_id, payload, attempts",
        until = p(1),
        now = p(2),
        most = p(3),
        scan = p(4),
    );
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Leased {
            id: r.try_get("", "id")?,
            endpoint_id: r.try_get("", "endpoint_id")?,
            msg_id: r.try_get("", "msg_id")?,
            payload: r.try_get("", "payload")?,
            attempts: r.try_get("", "attempts")?,
        });
    }
    txn.commit().await?;
    Ok(out)
}

/// What one attempt came to.
enum Outcome {
    Delivered(u16),
    /// The endpoint may not see the event's rows (now): not sent.
    Skipped(String),
    /// 410 Gone: the endpoint is disabled.
    Gone,
    /// The endpoint is disabled or was removed.
    Disabled,
    Failed(Option<u16>, String),
}

async fn deliver(state: &State, conn: &DatabaseConnection, row: Leased) -> ApiResult<()> {
    let admin = Scope::for_role(Role::Admin, None);
    let endpoint = admin
        .find_by_id::<webhook_endpoint::Entity>(row.endpoint_id)
        .one(&state.reads)
        .await?;
    let started = Instant::now();
    let outcome = match &endpoint {
        None => return Ok(()), // removed: its rows went with it
        Some(e) if !e.enabled => Outcome::Disabled,
        Some(e) => attempt(state, e, &row).await,
    };
    let latency = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    record(state, conn, &row, endpoint.as_ref(), outcome, latency).await
}

/// What a payload names.
enum Named {
    Task(Event),
    Other(OtherEvent),
}

/// The event a payload names (its ids decoded).
fn event_of(payload: &str) -> Option<Named> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    let d = &v["data"];
    let kind: WebhookEventKind = serde_json::from_value(d["kind"].clone()).ok()?;
    let id = |v: &serde_json::Value, k: NodeKind| -> Option<i32> {
        decode_id(&async_graphql::ID(v.as_str()?.to_owned()), k, "id").ok()
    };
    let other = match kind {
        WebhookEventKind::DirectiveCreated => Some(OtherEvent::DirectiveCreated {
            directive_id: id(&d["directiveId"], NodeKind::Directive)?,
        }),
        WebhookEventKind::IndicatorValueRecorded => Some(OtherEvent::IndicatorValueRecorded {
            indicator_id: id(&d["indicatorId"], NodeKind::Indicator)?,
            value_id: id(&d["indicatorValueId"], NodeKind::IndicatorValue)?,
            period: d["period"].as_str()?.to_owned(),
        }),
        WebhookEventKind::AgencyReorganised => Some(OtherEvent::AgencyReorganised {
            agency_id: id(&d["agencyId"], NodeKind::Agency)?,
            successor_ids: d["successorIds"]
                .as_array()?
                .iter()
                .map(|s| id(s, NodeKind::Agency))
                .collect::<Option<_>>()?,
            last_day: d["lastDay"].as_str()?.parse().ok()?,
        }),
        _ => None,
    };
    if let Some(o) = other {
        return Some(Named::Other(o));
    }
    let kind: EventKind = serde_json::from_value(d["kind"].clone()).ok()?;
    Some(Named::Task(Event {
        kind,
        task_id: id(&d["taskId"], NodeKind::Task)?,
        report_id: match d.get("reportId") {
            Some(r) => Some(id(r, NodeKind::ProgressReport)?),
            None => None,
        },
        duty: match d.get("duty") {
            Some(x) => Some(DutyRef {
                assignment_id: id(&x["assignmentId"], NodeKind::Assignment)?,
                period: x["period"].as_str()?.to_owned(),
            }),
            None => None,
        },
        at: DateTime::parse_from_rfc3339(d["at"].as_str()?)
            .ok()?
            .with_timezone(&Utc),
        origin: 0,
    }))
}

/// Whether `scope` may see (now) the rows the event names: a task event as a subscriber
/// would, another change by the scoped finder of its rows.
async fn seen(state: &State, scope: &Scope, named: &Named) -> ApiResult<bool> {
    use entity::{agency, directive, indicator_value};
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    Ok(match named {
        Named::Task(event) => crate::tasks::subscription::seen_by(state, scope, event)
            .await?
            .is_some(),
        Named::Other(OtherEvent::DirectiveCreated { directive_id }) => {
            scope
                .find_by_id::<directive::Entity>(*directive_id)
                .count(&state.reads)
                .await?
                > 0
        }
        // A value is visible with its indicator (an agency: those it is responsible for).
        Named::Other(OtherEvent::IndicatorValueRecorded {
            indicator_id,
            value_id,
            ..
        }) => {
            scope
                .find_by_id::<indicator_value::Entity>(*value_id)
                .filter(indicator_value::Column::IndicatorId.eq(*indicator_id))
                .count(&state.reads)
                .await?
                > 0
        }
        // The agency directory is public.
        Named::Other(OtherEvent::AgencyReorganised { agency_id, .. }) => {
            crate::auth::scope::public_by_id::<agency::Entity>(*agency_id)
                .count(&state.reads)
                .await?
                > 0
        }
    })
}

/// The endpoint's read rights, as a token of its role (and agency) would have them now.
async fn scope_of(state: &State, e: &webhook_endpoint::Model) -> ApiResult<Option<Scope>> {
    let Some(role) = Role::parse(&e.role) else {
        return Ok(None);
    };
    Ok(Some(
        crate::auth::directory::scope_of_role(&state.reads, role, e.agency_id).await?,
    ))
}

async fn attempt(state: &State, e: &webhook_endpoint::Model, row: &Leased) -> Outcome {
    let Some(event) = event_of(&row.payload) else {
        return Outcome::Failed(None, "nội dung không đọc được".into());
    };
    let scope = match scope_of(state, e).await {
        Ok(Some(s)) => s,
        Ok(None) => return Outcome::Skipped(format!("vai trò không hợp lệ: {}", e.role)),
        Err(err) => {
            return Outcome::Failed(None, format!("không kiểm tra được quyền xem: {}", err.message()));
        }
    };
    match seen(state, &scope, &event).await {
        Ok(true) => {}
        Ok(false) => {
            return Outcome::Skipped("vai trò của endpoint không được xem các dòng của sự kiện".into());
        }
        Err(err) => {
            return Outcome::Failed(None, format!("không kiểm tra được quyền xem: {}", err.message()));
        }
    }
    let settings = &state.webhooks;
    let url = match reqwest::Url::parse(&e.url) {
        Ok(u) => u,
        Err(_) => return Outcome::Failed(None, "URL không hợp lệ".into()),
    };
    let Some(host) = url.host_str().map(str::to_owned) else {
        return Outcome::Failed(None, "URL thiếu máy chủ".into());
    };
    if !settings.allows(&host) {
        return Outcome::Failed(
            None,
            format!("máy chủ {host} không còn trong danh sách được phép"),
        );
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((bare.as_str(), port)).await {
        Ok(a) => a.collect(),
        Err(err) => return Outcome::Failed(None, format!("không phân giải được {host}: {err}")),
    };
    let named = settings
        .allow_hosts
        .iter()
        .any(|a| a.trim().eq_ignore_ascii_case(&host) || a.trim() == bare);
    let addrs: Vec<SocketAddr> = addrs.into_iter().filter(|a| named || !internal(a.ip())).collect();
    let Some(addr) = addrs.first().copied() else {
        return Outcome::Failed(None, format!("{host} trỏ tới địa chỉ nội bộ không được phép"));
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .resolve(&bare, addr)
        .no_proxy()
        .build()
    {
        Ok(c) => c,
        Err(err) => return Outcome::Failed(None, format!("không tạo được kết nối: {err}")),
    };
    let now = Utc::now();
    let timestamp = now.timestamp();
    let mut secrets = vec![e.secret.as_str()];
    if let (Some(p), Some(until)) = (&e.previous_secret, e.previous_secret_until)
        && until > now
    {
        secrets.push(p.as_str());
    }
    let sig = signature(&secrets, &row.msg_id, timestamp, &row.payload);
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("chidao-webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header("webhook-id", &row.msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(row.payload.clone())
        .send()
        .await;
    match sent {
        Ok(res) => {
            let status = res.status().as_u16();
            if res.status().is_success() {
                Outcome::Delivered(status)
            } else if status == 410 {
                Outcome::Gone
            } else {
                let text = res.text().await.unwrap_or_default();
                let text: String = text.chars().take(MAX_ERROR).collect();
                Outcome::Failed(Some(status), format!("HTTP {status}: {text}"))
            }
        }
        Err(err) => {
            let what = if err.is_timeout() {
                "hết thời gian chờ".to_owned()
            } else if err.is_connect() {
                "không kết nối được".to_owned()
            } else {
                "lỗi khi gửi".to_owned()
            };
            Outcome::Failed(None, what)
        }
    }
}

/// Loopback, link-local, unspecified, multicast: never a receiver unless named.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_loopback() || v.is_link_local() || v.is_unspecified() || v.is_multicast() || v.is_broadcast()
        }
        IpAddr::V6(v) => {
            if let Some(v4) = v.to_ipv4_mapped() {
                return internal(IpAddr::V4(v4));
            }
            v.is_loopback() || v.is_unspecified() || v.is_multicast() || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

async fn record(
    state: &State,
    conn: &DatabaseConnection,
    row: &Leased,
    endpoint: Option<&webhook_endpoint::Model>,
    outcome: Outcome,
    latency_ms: i32,
) -> ApiResult<()> {
    let settings = &state.webhooks;
    let (_lock, txn) = begin(state, conn).await?;
    let backend = txn.get_database_backend();
    let p = |n| crate::db::placeholder(backend, n);
    let now = Utc::now();
    let (status, error, state_after, next): (Option<i32>, Option<String>, &str, Option<DateTime<Utc>>) =
        match &outcome {
            Outcome::Delivered(s) => (Some(i32::from(*s)), None, "DELIVERED", None),
            Outcome::Skipped(why) => (None, Some(why.clone()), "SKIPPED", None),
            Outcome::Gone => (
                Some(410),
                Some("HTTP 410 Gone: endpoint bị tắt".into()),
                "FAILED",
                None,
            ),
            Outcome::Disabled => (None, Some("endpoint đã tắt".into()), "FAILED", None),
            Outcome::Failed(s, why) => match settings.retry_wait(row.attempts.max(1) as usize) {
                Some(wait) => (
                    s.map(i32::from),
                    Some(why.clone()),
                    "PENDING",
                    Some(now + chrono::Duration::from_std(wait).unwrap_or_default()),
                ),
                None => (s.map(i32::from), Some(why.clone()), "FAILED", None),
            },
        };
    txn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error) VALUES ({}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            [row.id.into(), now.into(), status.into(), latency_ms.into(), error.into()],
        ))
        .await?;
    state.metrics.webhook_attempt(match (&outcome, state_after) {
        (Outcome::Delivered(_), _) => "delivered",
        (Outcome::Skipped(_), _) => "skipped",
        (_, "PENDING") => "failed",
        _ => "given_up",
    });
    let delivered_at: Option<DateTime<Utc>> = matches!(outcome, Outcome::Delivered(_)).then_some(now);
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE webhook_deliveries SET state = {}, next_attempt_at = COALESCE({}, next_attempt_at), \
                 lease_until = NULL, delivered_at = COALESCE({}, delivered_at) WHERE id = {}",
            p(1),
            p(2),
            p(3),
            p(4)
        ),
        [
            state_after.into(),
            next.into(),
            delivered_at.into(),
            row.id.into(),
        ],
    ))
    .await?;
    if let Some(e) = endpoint {
        let sql = match outcome {
            Outcome::Delivered(_) => Some(format!(
                "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = {}",
                p(1)
            )),
            Outcome::Failed(..) => Some(format!(
                "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = {}",
                p(1)
            )),
            Outcome::Gone => Some(format!(
                "UPDATE webhook_endpoints SET enabled = FALSE, consecutive_failures = consecutive_failures + 1, \
                 disabled_reason = 'HTTP 410 Gone' WHERE id = {}",
                p(1)
            )),
            Outcome::Skipped(_) | Outcome::Disabled => None,
        };
        if let Some(sql) = sql {
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, [e.id.into()]))
                .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}
