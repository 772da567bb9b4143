//! Webhook endpoints through GraphQL (the administrator's, checked, audited) and the outbox:
//! a committed change writes one delivery per endpoint that asked for its kind, in its own
//! transaction. Delivery itself, with the official verifier, is `tests/webhooks/run.sh`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, count_rows};

const CREATE: &str = r#"mutation($i: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $i) { secret endpoint { id url events role agencyCode enabled failing } } }"#;

fn input(url: &str, events: Value, role: &str, agency: Option<&str>) -> Value {
    json!({ "i": { "url": url, "description": "Cổng thông tin", "events": events, "role": role, "agencyCode": agency } })
}

async fn allowed() -> TestApp {
    TestApp::spawn_with(|s| {
        s.webhook_allow_hosts = vec!["127.0.0.1".into(), "*.laocai.gov.vn".into()];
        // Nothing listens on port 9; one slow retry keeps the rows PENDING for the test.
        s.webhook_retry_secs = vec![3600];
    })
    .await
}

#[tokio::test]
async fn endpoints_are_the_administrators_and_checked() {
    let app = allowed().await;
    let ok = input(
        "https://cong.laocai.gov.vn/hooks/chidao",
        json!(["REPORT_SUBMITTED"]),
        "VIEWER",
        None,
    );
    assert_eq!(app.monitor().error_code(CREATE, ok.clone()).await, "FORBIDDEN");
    assert_eq!(
        app.agency("so-tai-chinh").error_code(CREATE, ok.clone()).await,
        "FORBIDDEN"
    );
    for (bad, why) in [
        (
            input("https://example.com/x", json!(["TASK_CREATED"]), "ADMIN", None),
            "a host not allowed",
        ),
        (
            input("http://localhost:9/x", json!(["TASK_CREATED"]), "ADMIN", None),
            "localhost not named",
        ),
        (
            input("ftp://127.0.0.1/x", json!(["TASK_CREATED"]), "ADMIN", None),
            "ftp",
        ),
        (
            input("http://a:b@127.0.0.1/x", json!(["TASK_CREATED"]), "ADMIN", None),
            "credentials",
        ),
        (
            input("not a url", json!(["TASK_CREATED"]), "ADMIN", None),
            "no URL",
        ),
        (
            input("http://127.0.0.1:9/x", json!([]), "ADMIN", None),
            "no events",
        ),
        (
            input("http://127.0.0.1:9/x", json!(["TASK_CREATED"]), "ANALYST", None),
            "an analyst sees no task",
        ),
        (
            input("http://127.0.0.1:9/x", json!(["TASK_CREATED"]), "AGENCY", None),
            "an agency endpoint needs its agency",
        ),
        (
            input(
                "http://127.0.0.1:9/x",
                json!(["TASK_CREATED"]),
                "MONITOR",
                Some("so-tai-chinh"),
            ),
            "only agencies have codes",
        ),
        (
            input(
                "http://127.0.0.1:9/x",
                json!(["TASK_CREATED"]),
                "AGENCY",
                Some("khong-co"),
            ),
            "an unknown agency",
        ),
    ] {
        assert_eq!(app.error_code(CREATE, bad).await, "BAD_USER_INPUT", "{why}");
    }
    let d = app.data(CREATE, ok).await;
    let made = &d["createWebhookEndpoint"];
    let secret = made["secret"].as_str().expect("secret");
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    assert_eq!(made["endpoint"]["events"], json!(["REPORT_SUBMITTED"]));
    assert_eq!(made["endpoint"]["role"], "VIEWER");
    let id = made["endpoint"]["id"].clone();
    // The secret is shown once: not in the list, not in the audit log.
    let list = app
        .data("{ webhookEndpoints { id url enabled } }", json!({}))
        .await;
    assert_eq!(list["webhookEndpoints"][0]["id"], id);
    assert!(!list.to_string().contains(secret));
    let audit = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'createWebhookEndpoint'",
    )
    .await;
    assert_eq!(audit, 1);
    let leaked = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM audit_log WHERE after LIKE '%whsec_%'",
    )
    .await;
    assert_eq!(leaked, 0, "no secret in the audit log");

    // Rotation: a new secret, the old one signing for the grace period.
    const ROTATE: &str = r#"mutation($i: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $i) {
        secret endpoint { previousSecretUntil } } }"#;
    assert_eq!(
        app.error_code(ROTATE, json!({ "i": { "id": id, "graceHours": 500 } }))
            .await,
        "BAD_USER_INPUT"
    );
    let r = app.data(ROTATE, json!({ "i": { "id": id } })).await;
    assert_ne!(r["rotateWebhookSecret"]["secret"], json!(secret));
    assert!(r["rotateWebhookSecret"]["endpoint"]["previousSecretUntil"].is_string());

    // Disable, enable, delete.
    const UPDATE: &str = r#"mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) {
        endpoint { enabled disabledReason events } } }"#;
    let u = app
        .data(
            UPDATE,
            json!({ "i": { "id": id, "enabled": false, "events": ["TASK_CREATED", "REPORT_OVERDUE"] } }),
        )
        .await;
    assert_eq!(u["updateWebhookEndpoint"]["endpoint"]["enabled"], false);
    assert_eq!(
        u["updateWebhookEndpoint"]["endpoint"]["events"],
        json!(["REPORT_OVERDUE", "TASK_CREATED"]),
        "by name"
    );
    assert_eq!(
        app.error_code(
            UPDATE,
            json!({ "i": { "id": id, "url": "https://evil.example/x" } })
        )
        .await,
        "BAD_USER_INPUT"
    );
    const DELETE: &str = r#"mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }"#;
    assert_eq!(
        app.data(DELETE, json!({ "id": id })).await["deleteWebhookEndpoint"]["deleted"],
        true
    );
    assert_eq!(
        app.data(DELETE, json!({ "id": id })).await["deleteWebhookEndpoint"]["deleted"],
        false
    );
}

#[tokio::test]
async fn without_an_allow_list_no_endpoint_can_be_made() {
    let app = TestApp::spawn().await;
    let i = input("http://127.0.0.1:9/x", json!(["TASK_CREATED"]), "ADMIN", None);
    assert_eq!(app.error_code(CREATE, i).await, "BAD_USER_INPUT");
}

/// A committed change writes one delivery per enabled endpoint that asked for its kind (in its
/// transaction), none for the others.
#[tokio::test]
async fn a_change_writes_one_delivery_per_endpoint_that_asked() {
    let app = allowed().await;
    let make = |events: Value| input("http://127.0.0.1:9/x", events, "ADMIN", None);
    let wants = app.data(CREATE, make(json!(["DEADLINE_EXTENDED"]))).await;
    app.data(CREATE, make(json!(["DEADLINE_EXTENDED", "REPORT_SUBMITTED"])))
        .await;
    app.data(CREATE, make(json!(["REPORT_SUBMITTED"]))).await;
    let off = app.data(CREATE, make(json!(["DEADLINE_EXTENDED"]))).await;
    app.data(
        r#"mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { endpoint { enabled } } }"#,
        json!({ "i": { "id": off["createWebhookEndpoint"]["endpoint"]["id"], "enabled": false } }),
    )
    .await;
    let d = app
        .data(
            r#"{ tasks(first: 20) { nodes { id deadline { recurrence } } } }"#,
            json!({}),
        )
        .await;
    let task = d["tasks"]["nodes"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|n| n["deadline"]["recurrence"].is_null())
        .expect("a task with a date")["id"]
        .clone();
    let before = count_rows(&app.db, "SELECT COUNT(*) AS n FROM webhook_deliveries").await;
    assert_eq!(before, 0);
    // A refused change writes nothing.
    let refused = app
        .error_code(
            crate::helpers::EXTEND,
            json!({ "input": { "taskId": task, "newDueOn": "2020-01-01", "reason": "Công văn 77/UBND-TH" } }),
        )
        .await;
    assert_eq!(refused, "BAD_USER_INPUT");
    assert_eq!(
        count_rows(&app.db, "SELECT COUNT(*) AS n FROM webhook_deliveries").await,
        0
    );
    app.data(
        crate::helpers::EXTEND,
        json!({ "input": { "taskId": task, "newDueOn": "2027-03-31", "reason": "Công văn 77/UBND-TH" } }),
    )
    .await;
    assert_eq!(
        count_rows(&app.db, "SELECT COUNT(*) AS n FROM webhook_deliveries").await,
        2,
        "the two enabled endpoints that asked for DEADLINE_EXTENDED"
    );
    let ids = count_rows(
        &app.db,
        "SELECT COUNT(DISTINCT msg_id) AS n FROM webhook_deliveries",
    )
    .await;
    assert_eq!(ids, 1, "one message id for the event");
    let q = r#"query($e: ID!) { webhookDeliveries(endpointId: $e) { messageId eventType state payload } }"#;
    let got = app
        .data(
            q,
            json!({ "e": wants["createWebhookEndpoint"]["endpoint"]["id"] }),
        )
        .await;
    let row = &got["webhookDeliveries"][0];
    assert_eq!(row["eventType"], "task.deadline_extended");
    let body: Value = serde_json::from_str(row["payload"].as_str().expect("payload")).expect("json");
    assert_eq!(body["data"]["taskId"], task);
    assert_eq!(body["type"], "task.deadline_extended");
    assert_eq!(
        app.monitor()
            .error_code(
                q,
                json!({ "e": wants["createWebhookEndpoint"]["endpoint"]["id"] })
            )
            .await,
        "FORBIDDEN"
    );
    // Nothing listens on port 9: each delivery's first attempt fails and waits for its retry;
    // `/metrics` counts the attempts and shows the queue (read every 5 s).
    let failed = "chidao_webhook_attempts_total{result=\"failed\"} 2";
    let mut text = String::new();
    for _ in 0..100 {
        text = app.metrics().await;
        if text.contains(failed) && text.contains("chidao_webhook_queue_depth 2") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let shown: Vec<&str> = text.lines().filter(|l| l.contains("webhook")).collect();
    assert!(text.contains(failed), "{shown:#?}");
    assert!(text.contains("chidao_webhook_queue_depth 2"), "{shown:#?}");
    assert!(
        text.contains("chidao_webhook_oldest_pending_seconds"),
        "{shown:#?}"
    );
}

/// Changes that are not about one task reach the endpoints that asked for them: a directive
/// created, an indicator value recorded, an agency merged into another (one message per ended
/// agency). An ANALYST endpoint may ask for these, and for no task event.
#[tokio::test]
async fn directives_values_and_reorganisations_are_events_too() {
    let app = allowed().await;
    let others = json!([
        "DIRECTIVE_CREATED",
        "INDICATOR_VALUE_RECORDED",
        "AGENCY_REORGANISED"
    ]);
    let e = app
        .gql(
            CREATE,
            input(
                "http://127.0.0.1:9/x",
                json!(["INDICATOR_VALUE_RECORDED", "TASK_CREATED"]),
                "ANALYST",
                None,
            ),
        )
        .await;
    assert_eq!(e["errors"][0]["extensions"]["field"], "input.events", "{e}");
    let bi = app
        .data(
            CREATE,
            input("http://127.0.0.1:9/bi", others.clone(), "ANALYST", None),
        )
        .await;
    let bi = bi["createWebhookEndpoint"]["endpoint"]["id"].clone();
    let tasks_only = app
        .data(
            CREATE,
            input("http://127.0.0.1:9/t", json!(["TASK_CREATED"]), "ADMIN", None),
        )
        .await;
    let tasks_only = tasks_only["createWebhookEndpoint"]["endpoint"]["id"].clone();
    let q = r#"query($e: ID!) { webhookDeliveries(endpointId: $e) { eventType payload } }"#;
    let bodies = |d: &Value| -> Vec<Value> {
        let mut v: Vec<Value> = d["webhookDeliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .map(|x| serde_json::from_str(x["payload"].as_str().expect("payload")).expect("json"))
            .collect();
        v.sort_by_key(|b| b["type"].to_string());
        v
    };

    let d = app
        .data(
            r#"mutation { createDirective(input: { code: "15-ct-ubnd-2026", number: "15/CT-UBND",
                kind: CHI_THI, title: "Về tăng cường kỷ luật hành chính", issuedOn: "2026-11-02" }) {
                directive { id } } }"#,
            json!({}),
        )
        .await;
    let directive = d["createDirective"]["directive"]["id"].clone();
    let revenue = crate::helpers::indicator_id(&app, "2025.09").await;
    let v = app
        .monitor()
        .data(
            r#"mutation($i: RecordIndicatorValueInput!) { recordIndicatorValue(input: $i) { indicatorValue { id } } }"#,
            json!({ "i": { "indicatorId": revenue, "period": "2025Q1", "value": "5000", "kind": "OFFICIAL" } }),
        )
        .await;
    let value = v["recordIndicatorValue"]["indicatorValue"]["id"].clone();
    // A refused value (a quarter not begun) writes nothing.
    let refused = app
        .monitor()
        .error_code(
            r#"mutation($i: RecordIndicatorValueInput!) { recordIndicatorValue(input: $i) { indicatorValue { id } } }"#,
            json!({ "i": { "indicatorId": revenue, "period": "2025Q9", "value": "1", "kind": "OFFICIAL" } }),
        )
        .await;
    assert_eq!(refused, "BAD_USER_INPUT");
    let m = app
        .data(
            r#"mutation { mergeAgencies(input: { dissolvedAgencyCodes: ["so-y-te", "so-noi-vu"],
                successorCode: "so-tai-chinh", effectiveOn: "2026-11-01" }) {
                successor { id } dissolved { id } } }"#,
            json!({}),
        )
        .await;
    let successor = m["mergeAgencies"]["successor"]["id"].clone();
    let dissolved: Vec<Value> = m["mergeAgencies"]["dissolved"]
        .as_array()
        .expect("dissolved")
        .iter()
        .map(|a| a["id"].clone())
        .collect();

    let got = bodies(&app.data(q, json!({ "e": bi })).await);
    let types: Vec<&str> = got.iter().map(|b| b["type"].as_str().expect("type")).collect();
    assert_eq!(
        types,
        [
            "agency.reorganised",
            "agency.reorganised",
            "directive.created",
            "indicator.value_recorded"
        ],
        "{got:?}"
    );
    let mut ended: Vec<Value> = got[..2].iter().map(|b| b["data"]["agencyId"].clone()).collect();
    let mut want = dissolved.clone();
    ended.sort_by_key(Value::to_string);
    want.sort_by_key(Value::to_string);
    assert_eq!(ended, want);
    for b in &got[..2] {
        assert_eq!(b["data"]["successorIds"], json!([successor]));
        assert_eq!(b["data"]["lastDay"], "2026-10-31");
        assert_eq!(b["data"]["kind"], "AGENCY_REORGANISED");
    }
    assert_eq!(got[2]["data"]["directiveId"], directive);
    assert_eq!(got[3]["data"]["indicatorId"], revenue);
    assert_eq!(got[3]["data"]["indicatorValueId"], value);
    assert_eq!(got[3]["data"]["period"], "2025Q1");
    // The task-only endpoint heard none of these (the merge moved assignments: those are
    // ASSIGNMENTS_REASSIGNED, which it did not ask for either).
    let none = app.data(q, json!({ "e": tasks_only })).await;
    assert_eq!(none["webhookDeliveries"], json!([]));
}
