//! Deadline extensions: `extendTaskDeadline` moves the due date and keeps its history, status
//! follows, concurrent extensions chain, and an extension is visible only with its task.

use serde_json::json;

use crate::helpers::{EXTEND, TestApp, code_and_message, gid, text};
use crate::scope::{STC, visible_to};

#[tokio::test]
async fn an_extension_moves_the_due_date_keeps_history_and_status_follows() {
    let app = TestApp::spawn().await;
    // A task with a fixed due date, unfinished.
    let d = app
        .data(
            r#"{ tasks(first: 1, filter: { dueBefore: "2025-03-31", directiveNumber: "10/CT-UBND" }) {
                nodes { id dueOn originalDueOn } } }"#,
            json!({}),
        )
        .await;
    let t = d["tasks"]["nodes"][0].clone();
    let id = t["id"].clone();
    let due = t["dueOn"].as_str().expect("due").to_owned();
    let status = |as_of: &'static str| {
        let id = id.clone();
        let app = &app;
        async move {
            app.data(
                "query($id: ID!, $d: Date) { task(id: $id) { status(asOf: $d) } }",
                json!({ "id": id, "d": as_of }),
            )
            .await["task"]["status"]
                .as_str()
                .expect("status")
                .to_owned()
        }
    };
    assert_eq!(status("2025-06-01").await, "IN_PROGRESS_OVERDUE");

    let monitor = app.monitor();
    let extend = r#"mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) {
        task { dueOn originalDueOn extensions { previousDueOn newDueOn reason grantedBy } }
        extension { newDueOn } } }"#;
    let d = monitor
        .data(
            extend,
            json!({ "input": { "taskId": id, "newDueOn": "2025-06-30", "reason": "Công văn 123/UBND-TH cho lùi hạn" } }),
        )
        .await;
    let task = &d["extendTaskDeadline"]["task"];
    assert_eq!(task["dueOn"], "2025-06-30");
    assert_eq!(task["originalDueOn"], due.as_str(), "the original date stays");
    assert_eq!(task["extensions"][0]["previousDueOn"], due.as_str());
    assert_eq!(task["extensions"][0]["grantedBy"], "test-monitor");
    assert_eq!(status("2025-06-01").await, "IN_PROGRESS_ON_TIME");

    // Not earlier than the current date; a reason is required; history grows.
    let e = monitor
        .first_error(
            extend,
            json!({ "input": { "taskId": id, "newDueOn": "2025-05-01", "reason": "x" } }),
        )
        .await;
    assert_eq!(e["extensions"]["field"], "input.newDueOn");
    let e = monitor
        .first_error(
            extend,
            json!({ "input": { "taskId": id, "newDueOn": "2025-09-30", "reason": " " } }),
        )
        .await;
    assert_eq!(e["extensions"]["field"], "input.reason");
    let d = monitor
        .data(
            extend,
            json!({ "input": { "taskId": id, "newDueOn": "2025-09-30", "reason": "Lần 2" } }),
        )
        .await;
    assert_eq!(
        d["extendTaskDeadline"]["task"]["extensions"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn concurrent_extensions_chain_instead_of_overwriting() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ tasks(first: 1, filter: { dueBefore: "2025-03-31", directiveNumber: "10/CT-UBND" }) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    let id = d["tasks"]["nodes"][0]["id"].clone();
    let monitor = app.monitor();
    let tries = ["2025-09-30", "2025-12-31"].map(|date| {
        monitor.gql(
            EXTEND,
            json!({ "input": { "taskId": id, "newDueOn": date, "reason": "Lùi hạn" } }),
        )
    });
    futures::future::join_all(tries).await;
    let d = app
        .data(
            "query($id: ID!) { task(id: $id) { dueOn originalDueOn extensions { previousDueOn newDueOn } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        d["task"]["dueOn"], "2025-12-31",
        "the later date wins whatever the order"
    );
    let ext = d["task"]["extensions"].as_array().expect("extensions");
    let mut previous = d["task"]["originalDueOn"].clone();
    for e in ext {
        assert_eq!(
            e["previousDueOn"], previous,
            "each extension starts where the last ended: {ext:?}"
        );
        previous = e["newDueOn"].clone();
    }
}

#[tokio::test]
async fn an_extension_is_visible_only_with_its_task() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let hidden = tasks
        .iter()
        .find(|t| !visible.contains(&t.id))
        .expect("a hidden task");
    let d = app
        .gql(
            r#"mutation($t: ID!) { extendTaskDeadline(input: { taskId: $t, newDueOn: "2027-06-30",
                reason: "Theo Văn bản số 1/UBND" }) { extension { id } } }"#,
            json!({ "t": hidden.id }),
        )
        .await;
    let extension = text(&d["data"]["extendTaskDeadline"]["extension"]["id"]);
    let q = "query($id: ID!) { node(id: $id) { id ... on DeadlineExtension { reason } } }";
    let seen = app.viewer().data(q, json!({ "id": extension })).await;
    assert_eq!(
        seen["node"]["reason"], "Theo Văn bản số 1/UBND",
        "control: the viewer reads it"
    );
    let stc = app.agency(STC);
    let a = stc.gql(q, json!({ "id": extension })).await;
    let b = stc
        .gql(q, json!({ "id": gid("DeadlineExtension", 999_999) }))
        .await;
    assert_eq!(code_and_message(&a).0, "NOT_FOUND", "{a:#}");
    assert_eq!(code_and_message(&a), code_and_message(&b));
    assert!(!a.to_string().contains("Theo Văn bản"), "{a}");
    let a = app.analyst().gql(q, json!({ "id": extension })).await;
    assert_eq!(code_and_message(&a).0, "FORBIDDEN", "{a:#}");
}
