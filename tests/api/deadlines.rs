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

/// #20 point 5: a milestone has a status as of a date, and a missed one makes the unfinished task
/// (and its lead's part) overdue the next day, in the lists and counts as in the field.
#[tokio::test]
async fn a_missed_milestone_makes_its_task_overdue_before_its_own_date() {
    let app = TestApp::spawn().await;
    const Q: &str = r#"query($d: Date) {
        tasks(first: 100, asOf: $d, filter: { directiveNumber: "10/CT-UBND", status: [IN_PROGRESS_OVERDUE] }) {
          nodes { code } }
        taskStatistics(asOf: $d, filter: { directiveNumber: "10/CT-UBND" }) { counts { inProgressOverdue } }
        health: tasks(first: 1, asOf: $d, filter: { search: "Bệnh viện Đa khoa tỉnh giai đoạn 2" }) {
          nodes { id code status daysOverdue dueOn
            leads: assignments(role: LEAD) { status }
            milestones { id label status daysOverdue completedOn deadline { dueOn } } } } }"#;
    let at = |d: &'static str| app.data(Q, json!({ "d": d }));
    let jan31 = at("2025-01-31").await;
    let h = &jan31["health"]["nodes"][0];
    assert_eq!(h["code"], "II.2-4.1");
    assert_eq!(h["dueOn"], "2025-03-31");
    assert_eq!(h["milestones"][0]["deadline"]["dueOn"], "2025-01-31");
    assert_eq!(
        h["status"], "IN_PROGRESS_ON_TIME",
        "the milestone's own day is on time"
    );
    assert_eq!(h["milestones"][0]["status"], "IN_PROGRESS_ON_TIME");

    let feb1 = at("2025-02-01").await;
    let h = &feb1["health"]["nodes"][0];
    assert_eq!(h["status"], "IN_PROGRESS_OVERDUE", "{h}");
    assert_eq!(h["daysOverdue"], 1);
    assert_eq!(h["milestones"][0]["status"], "IN_PROGRESS_OVERDUE");
    assert_eq!(h["milestones"][0]["daysOverdue"], 1);
    assert_eq!(
        h["milestones"][1]["status"], "IN_PROGRESS_ON_TIME",
        "Quý I is still ahead"
    );
    assert!(
        h["leads"]
            .as_array()
            .expect("leads")
            .iter()
            .all(|l| l["status"] == "IN_PROGRESS_OVERDUE")
    );
    let overdue: Vec<String> = feb1["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| text(&n["code"]))
        .collect();
    assert!(
        overdue.contains(&"II.2-4.1".to_owned()),
        "the status filter agrees: {overdue:?}"
    );
    assert_eq!(
        feb1["taskStatistics"]["counts"]["inProgressOverdue"].as_i64(),
        Some(overdue.len() as i64),
        "and the counts"
    );

    // The monitoring office records the milestone reached on 5/2, late.
    let milestone = h["milestones"][0]["id"].clone();
    const DONE: &str = r#"mutation($i: CompleteMilestoneInput!) { completeMilestone(input: $i) {
        milestone { completedOn completedBy status(asOf: "2025-02-06") } task { code } } }"#;
    let r = app
        .monitor()
        .data(
            DONE,
            json!({ "i": { "milestoneId": milestone, "completedOn": "2025-02-05" } }),
        )
        .await;
    let m = &r["completeMilestone"]["milestone"];
    assert_eq!(m["completedOn"], "2025-02-05");
    assert_eq!(m["completedBy"], "test-monitor");
    assert_eq!(m["status"], "COMPLETED_LATE");
    assert_eq!(r["completeMilestone"]["task"]["code"], "II.2-4.1");
    let status_on = |d: &'static str| {
        let app = &app;
        async move { app.data(Q, json!({ "d": d })).await["health"]["nodes"][0]["status"].clone() }
    };
    assert_eq!(
        status_on("2025-02-04").await,
        "IN_PROGRESS_OVERDUE",
        "not reached yet on 4/2"
    );
    assert_eq!(
        status_on("2025-02-06").await,
        "IN_PROGRESS_ON_TIME",
        "reached: the task is back on time"
    );
    assert!(crate::helpers::audit_len(&app).await > 0);

    // Refused, with nothing written: an agency, a viewer, a day in the future, a wrong id.
    for client in [app.agency("so-y-te"), app.viewer()] {
        let e = client
            .error_code(
                DONE,
                json!({ "i": { "milestoneId": milestone, "completedOn": "2025-02-07" } }),
            )
            .await;
        assert_eq!(e, "FORBIDDEN");
    }
    let monitor = app.monitor();
    let e = monitor
        .first_error(
            DONE,
            json!({ "i": { "milestoneId": milestone, "completedOn": "2999-01-01" } }),
        )
        .await;
    assert_eq!(code_and_message(&json!({ "errors": [e] })).0, "BAD_USER_INPUT");
    let e = monitor
        .error_code(
            DONE,
            json!({ "i": { "milestoneId": gid("Task", 1), "completedOn": "2025-02-07" } }),
        )
        .await;
    assert_eq!(e, "BAD_USER_INPUT");
    let e = monitor
        .error_code(
            DONE,
            json!({ "i": { "milestoneId": gid("Milestone", 999_999), "completedOn": "2025-02-07" } }),
        )
        .await;
    assert_eq!(e, "NOT_FOUND");
    assert_eq!(
        status_on("2025-02-06").await,
        "IN_PROGRESS_ON_TIME",
        "nothing changed"
    );

    // Undone: the task is overdue again from 1/2.
    let r = monitor
        .data(
            DONE,
            json!({ "i": { "milestoneId": milestone, "completedOn": null } }),
        )
        .await;
    assert_eq!(
        r["completeMilestone"]["milestone"]["completedOn"],
        serde_json::Value::Null
    );
    assert_eq!(status_on("2025-02-06").await, "IN_PROGRESS_OVERDUE");
}
