//! The webhook outbox: a committed event's message to every endpoint that asked for its kind,
//! written in the transaction of the change (`Write::publish`), so a crash after COMMIT loses
//! nothing and a rollback sends nothing. The delivery workers (`crate::webhooks::worker`) send
//! the rows; whether an endpoint may see the rows an event names is decided then, with the
//! endpoint's scope, as for a subscriber.
//!
//! The body is a Standard Webhooks envelope: `{"type", "timestamp", "data"}`, `data` holding
//! the global ids a client reads the rest with (no tokens, no secrets, no text of the rows).

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use serde_json::json;

use super::relay::{NodeKind, global_id};
use crate::events::{Event, EventKind};

/// The envelope's `type` for an event kind.
pub fn event_type(kind: EventKind) -> &'static str {
    match kind {
        EventKind::TaskCreated => "task.created",
        EventKind::TaskUpdated => "task.updated",
        EventKind::DeadlineExtended => "task.deadline_extended",
        EventKind::ReportSubmitted => "task.report_submitted",
        EventKind::ReportReviewed => "task.report_reviewed",
        EventKind::AssignmentsReassigned => "task.assignments_reassigned",
        EventKind::MilestoneRecorded => "task.milestone_recorded",
        EventKind::ReportDueSoon => "duty.due_soon",
        EventKind::ReportOverdue => "duty.overdue",
    }
}

/// The name endpoints store for a kind (`REPORT_SUBMITTED`).
pub fn kind_name(kind: EventKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A message id: `msg_` and 26 random base32 characters (130 bits).
pub fn new_msg_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut out = String::from("msg_");
    for _ in 0..26 {
        out.push(ALPHABET[(rand::random::<u8>() & 31) as usize] as char);
    }
    out
}

/// The JSON body of an event's message.
pub fn envelope(event: &Event, at: DateTime<Utc>) -> String {
    let id = |k: NodeKind, i: i32| global_id(k, i).to_string();
    let mut data = json!({
        "kind": kind_name(event.kind),
        "taskId": id(NodeKind::Task, event.task_id),
        "at": event.at.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    if let Some(r) = event.report_id {
        data["reportId"] = json!(id(NodeKind::ProgressReport, r));
    }
    if let Some(d) = &event.duty {
        data["duty"] = json!({
            "assignmentId": id(NodeKind::Assignment, d.assignment_id),
            "period": d.period,
        });
    }
    json!({
        "type": event_type(event.kind),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// Writes the event's message for every enabled endpoint that asked for its kind, in `txn`
/// (one statement whatever the number of endpoints). Returns how many rows it wrote.
pub async fn enqueue(txn: &impl ConnectionTrait, event: &Event) -> Result<u64, DbErr> {
    let backend = txn.get_database_backend();
    let now = Utc::now();
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let sql = format!(
        "INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, payload, state, attempts, \
         next_attempt_at, created_at) SELECT id, {}, {}, {}, 'PENDING', 0, {}, {} FROM webhook_endpoints \
         WHERE enabled = {} AND events LIKE {}",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7)
    );
    let values: Vec<Value> = vec![
        new_msg_id().into(),
        event_type(event.kind).into(),
        envelope(event, now).into(),
        now.into(),
        now.into(),
        true.into(),
        format!("%,{},%", kind_name(event.kind)).into(),
    ];
    let done = txn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(done.rows_affected())
}

/// The Standard Webhooks signature header for a message: `v1,<base64 HMAC-SHA256>` of
/// `id.timestamp.body` under each secret (`whsec_…`), space-separated. A secret that does not
/// decode signs nothing.
pub fn signature(secrets: &[&str], msg_id: &str, timestamp: i64, body: &str) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let content = format!("{msg_id}.{timestamp}.{body}");
    secrets
        .iter()
        .filter_map(|s| b64.decode(s.strip_prefix("whsec_").unwrap_or(s)).ok())
        .filter_map(|key| {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
            mac.update(content.as_bytes());
            Some(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    use base64::Engine as _;
    let key: [u8; 32] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's example (its reference libraries' test vector).
    #[test]
    fn signs_as_the_specification_does() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn the_allow_list_matches_hosts_and_domains() {
        let s = crate::config::WebhookSettings {
            allow_hosts: vec![
                "portal.laocai.gov.vn".into(),
                "*.sotc.laocai".into(),
                "127.0.0.1".into(),
            ],
            workers: 4,
            timeout: std::time::Duration::from_secs(1),
            retry_after: vec![],
            failing_after: 5,
        };
        assert!(s.allows("portal.laocai.gov.vn"));
        assert!(s.allows("PORTAL.laocai.gov.vn."));
        assert!(s.allows("api.sotc.laocai"));
        assert!(!s.allows("sotc.laocai.evil.com"));
        assert!(!s.allows("evil-portal.laocai.gov.vn"));
        assert!(s.allows("127.0.0.1"));
        assert!(!s.allows("localhost"));
    }
}
