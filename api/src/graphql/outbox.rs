//! The webhook outbox: a committed event's message to every endpoint that asked for its kind,
//! written in the transaction of the change (`Write::publish`), so a crash after COMMIT loses
//! nothing and a rollback sends nothing. The delivery workers (`crate::webhooks::worker`) send
//! the rows; whether an endpoint may see the rows an event names is decided then, with the
//! endpoint's scope, as for a subscriber.
//!
//! The body is a Standard Webhooks envelope: `{"type", "timestamp", "data"}`, `data` holding
//! the global ids a client reads the rest with (no tokens, no secrets, no text of the rows).
//! Changes that are not about one task (a directive created, an indicator value recorded, an
//! agency reorganised) are written with [`enqueue_other`].

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
use serde_json::json;

use super::relay::{NodeKind, global_id};
use crate::events::{Event, OtherEvent, WebhookEventKind};

/// The envelope's `type` for a kind.
pub fn event_type(kind: WebhookEventKind) -> &'static str {
    use WebhookEventKind as K;
    match kind {
        K::TaskCreated => "task.created",
        K::TaskUpdated => "task.updated",
        K::DeadlineExtended => "task.deadline_extended",
        K::ReportSubmitted => "task.report_submitted",
        K::ReportReviewed => "task.report_reviewed",
        K::AssignmentsReassigned => "task.assignments_reassigned",
        K::MilestoneRecorded => "task.milestone_recorded",
        K::ReportDueSoon => "duty.due_soon",
        K::ReportOverdue => "duty.overdue",
        K::DirectiveCreated => "directive.created",
        K::IndicatorValueRecorded => "indicator.value_recorded",
        K::AgencyReorganised => "agency.reorganised",
    }
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

fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn gid(k: NodeKind, i: i32) -> String {
    global_id(k, i).to_string()
}

/// The JSON body of a message: `data` and the envelope around it.
fn wrap(kind: WebhookEventKind, data: serde_json::Value, at: DateTime<Utc>) -> String {
    json!({ "type": event_type(kind), "timestamp": millis(at), "data": data }).to_string()
}

/// The JSON body of a task event's message.
pub fn envelope(event: &Event, at: DateTime<Utc>) -> String {
    let kind = WebhookEventKind::from(event.kind);
    let mut data = json!({
        "kind": kind.name(),
        "taskId": gid(NodeKind::Task, event.task_id),
        "at": millis(event.at),
    });
    if let Some(r) = event.report_id {
        data["reportId"] = json!(gid(NodeKind::ProgressReport, r));
    }
    if let Some(d) = &event.duty {
        data["duty"] = json!({
            "assignmentId": gid(NodeKind::Assignment, d.assignment_id),
            "period": d.period,
        });
    }
    wrap(kind, data, at)
}

/// The JSON body of another change's message, written at `at` (just before its COMMIT).
pub fn other_envelope(event: &OtherEvent, at: DateTime<Utc>) -> String {
    let kind = event.kind();
    let mut data = json!({ "kind": kind.name(), "at": millis(at) });
    match event {
        OtherEvent::DirectiveCreated { directive_id } => {
            data["directiveId"] = json!(gid(NodeKind::Directive, *directive_id));
        }
        OtherEvent::IndicatorValueRecorded {
            indicator_id,
            value_id,
            period,
        } => {
            data["indicatorId"] = json!(gid(NodeKind::Indicator, *indicator_id));
            data["indicatorValueId"] = json!(gid(NodeKind::IndicatorValue, *value_id));
            data["period"] = json!(period);
        }
        OtherEvent::AgencyReorganised {
            agency_id,
            successor_ids,
            last_day,
        } => {
            data["agencyId"] = json!(gid(NodeKind::Agency, *agency_id));
            data["successorIds"] = json!(
                successor_ids
                    .iter()
                    .map(|s| gid(NodeKind::Agency, *s))
                    .collect::<Vec<_>>()
            );
            data["lastDay"] = json!(last_day.to_string());
        }
    }
    wrap(kind, data, at)
}

/// Writes a task event's message for every enabled endpoint that asked for its kind, in
/// `txn`. Returns how many rows it wrote.
pub async fn enqueue(txn: &impl ConnectionTrait, event: &Event) -> Result<u64, DbErr> {
    let now = Utc::now();
    write(txn, event.kind.into(), envelope(event, now), now).await
}

/// The same for a change that is not about one task.
pub async fn enqueue_other(txn: &impl ConnectionTrait, event: &OtherEvent) -> Result<u64, DbErr> {
    let now = Utc::now();
    write(txn, event.kind(), other_envelope(event, now), now).await
}

/// One statement whatever the number of endpoints.
async fn write(
    txn: &impl ConnectionTrait,
    kind: WebhookEventKind,
    body: String,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let backend = txn.get_database_backend();
    let p = |n: usize| crate::db::placeholder(backend, n);
    let sql = format!(
        "INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, payload, state, attempts, \
         next_attempt_at, created_at) SELECT id, {}, {}, {}, 'PENDING', 0, {}, {} FROM webhook_endpoints \
         WHERE enabled = {} AND events LIKE {}",
        p(1),
        p(2),
        p(3),
        p(4),
        p(4),
        p(5),
        p(6)
    );
    let values: Vec<Value> = vec![
        new_msg_id().into(),
        event_type(kind).into(),
        body.into(),
        now.into(),
        true.into(),
        format!("%,{},%", kind.name()).into(),
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
