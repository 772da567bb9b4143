//! The write side: each mutation's effect, validation, transactions and audit entries.

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, by_due, check_agency_due_order, seeds_with, task_ids_in_order, token};

const SUBMIT: &str = r#"mutation($input: SubmitProgressReportInput!) {
    submitProgressReport(input: $input) { replayed progressReport { id state version done percentComplete period } } }"#;
const REVIEW: &str = r#"mutation($input: ReviewProgressReportInput!) {
    reviewProgressReport(input: $input) {
        progressReport { state reviewComment }
        assignment { completedOn }
        task { completedOn status } } }"#;
const UPDATE: &str = r#"mutation($input: UpdateProgressReportInput!) {
    updateProgressReport(input: $input) { progressReport { id state version summary percentComplete } } }"#;

/// An assignment of `agency` in `role` whose task has that agency as its only lead (for
/// LEAD), found through the agency's own token.
async fn assignment_of(app: &TestApp, agency: &str, role: &str) -> (String, String) {
    let t = token(Role::Agency, Some(agency));
    let d = app
        .data_as(
            &t,
            r#"query($a: String!, $r: RoleFilter!) { tasks(first: 100, filter: { agencyCode: $a, role: $r }) {
                nodes { id code leads { code } assignments { id role agency { code } } } } }"#,
            json!({ "a": agency, "r": role }),
        )
        .await;
    for task in d["tasks"]["nodes"].as_array().expect("tasks") {
        let leads = task["leads"].as_array().expect("leads");
        if role == "LEAD" && leads.len() != 1 {
            continue;
        }
        for a in task["assignments"].as_array().expect("assignments") {
            if a["role"] == role && a["agency"]["code"] == agency {
                return (
                    a["id"].as_str().expect("id").to_owned(),
                    task["id"].as_str().expect("id").to_owned(),
                );
            }
        }
    }
    panic!("no {role} assignment of {agency} in the seed");
}

fn report_input(assignment: &str, extra: Value) -> Value {
    let mut input = json!({
        "assignmentId": assignment,
        "period": "2026Q4",
        "percentComplete": 60,
        "summary": "Đã triển khai tới các phòng chuyên môn",
        "obstacles": "Thiếu kinh phí",
    });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            i.insert(k.clone(), v.clone());
        }
    }
    json!({ "input": input })
}

/// Audit entries written through the API (the seed loader writes its own, actor `seed`).
async fn audit_count(app: &TestApp) -> i64 {
    let d = app
        .data("{ auditLog(first: 100) { nodes { actor } } }", json!({}))
        .await;
    d["auditLog"]["nodes"]
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["actor"] != "seed")
        .count() as i64
}

/// The whole first error, for checking `extensions.field` too.
async fn first_error(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let body = app.gql_as(token, query, vars).await;
    assert!(body["errors"][0].is_object(), "expected an error: {body:#}");
    body["errors"][0].clone()
}

#[tokio::test]
async fn a_lead_report_accepted_completes_the_assignment_and_the_task() {
    let app = TestApp::spawn().await;
    let (assignment, task) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    let monitor = token(Role::Monitor, None);

    let d = app
        .data_as(
            &agency,
            SUBMIT,
            report_input(&assignment, json!({ "done": true, "percentComplete": 100 })),
        )
        .await;
    let r = &d["submitProgressReport"]["progressReport"];
    assert_eq!(r["state"], "SUBMITTED");
    assert_eq!(d["submitProgressReport"]["replayed"], false);
    let id = r["id"].clone();

    let d = app
        .data_as(
            &monitor,
            REVIEW,
            json!({ "input": { "id": id, "decision": "ACCEPT" } }),
        )
        .await;
    let p = &d["reviewProgressReport"];
    assert_eq!(p["progressReport"]["state"], "ACCEPTED");
    let done_on = p["assignment"]["completedOn"]
        .as_str()
        .expect("assignment completed")
        .to_owned();
    assert_eq!(
        p["task"]["completedOn"],
        done_on.as_str(),
        "its only lead is done"
    );
    assert!(
        p["task"]["status"]
            .as_str()
            .expect("status")
            .starts_with("COMPLETED")
    );

    // The portal sees the same through a plain read.
    let d = app
        .data(
            "query($id: ID!) { task(id: $id) { completedOn assignments { id completedOn latestReport { state } } } }",
            json!({ "id": task }),
        )
        .await;
    assert_eq!(d["task"]["completedOn"], done_on.as_str());
    let mine = d["task"]["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["id"] == assignment.as_str())
        .expect("the assignment")
        .clone();
    assert_eq!(mine["latestReport"]["state"], "ACCEPTED");

    // Who, when, what: one entry for the report, one per changed row.
    let d = app
        .data(
            r#"{ auditLog(first: 10, filter: { actor: "test-monitor" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        d["auditLog"]["totalCount"], 3,
        "the review changed the report, the assignment and the task"
    );
    let d = app
        .data(
            "{ auditLog(first: 10) { nodes { action entity actor actorRole actorAgency { code } before after } } }",
            json!({}),
        )
        .await;
    let log = d["auditLog"]["nodes"].as_array().expect("log");
    assert_eq!(audit_count(&app).await, 4, "{log:#?}");
    let submit = log
        .iter()
        .find(|e| e["action"] == "submitProgressReport")
        .expect("submit entry");
    assert_eq!(submit["actor"], "test-agency-so-tai-chinh");
    assert_eq!(submit["actorAgency"]["code"], "so-tai-chinh");
    assert!(submit["before"].is_null());
    assert_eq!(submit["after"]["percent_complete"], 100);
    let task_entry = log
        .iter()
        .find(|e| e["action"] == "reviewProgressReport" && e["entity"] == "task")
        .expect("task entry");
    assert!(task_entry["before"]["completed_on"].is_null());
    assert_eq!(task_entry["after"]["completed_on"], done_on.as_str());
    assert_eq!(task_entry["actorRole"], "monitor");

    // A completed assignment takes no more reports.
    assert_eq!(
        app.error_code_as(&agency, SUBMIT, report_input(&assignment, json!({})))
            .await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn a_coordinator_contributes_but_cannot_mark_done() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "COORDINATOR").await;
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    let e = first_error(
        &app,
        &agency,
        SUBMIT,
        report_input(&assignment, json!({ "done": true, "percentComplete": 100 })),
    )
    .await;
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(e["extensions"]["field"], "input.done");
    assert_eq!(audit_count(&app).await, 0, "nothing written");
    // The same report without `done` is a contribution.
    let d = app
        .data_as(&agency, SUBMIT, report_input(&assignment, json!({})))
        .await;
    assert_eq!(d["submitProgressReport"]["progressReport"]["done"], false);
}

#[tokio::test]
async fn invalid_input_names_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    for (extra, field) in [
        (json!({ "percentComplete": 101 }), "input.percentComplete"),
        (json!({ "percentComplete": -1 }), "input.percentComplete"),
        (json!({ "period": "2026Q5" }), "input.period"),
        (json!({ "period": "2030Q1" }), "input.period"),
        (json!({ "period": "hôm qua" }), "input.period"),
        (json!({ "summary": "   " }), "input.summary"),
        (json!({ "summary": "x".repeat(8001) }), "input.summary"),
        (
            json!({ "done": true, "percentComplete": 90 }),
            "input.percentComplete",
        ),
        (
            json!({ "idempotencyKey": "k".repeat(101) }),
            "input.idempotencyKey",
        ),
        (json!({ "assignmentId": "bm9wZQ" }), "input.assignmentId"),
    ] {
        let e = first_error(&app, &agency, SUBMIT, report_input(&assignment, extra.clone())).await;
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{extra}: {e}");
        assert_eq!(e["extensions"]["field"], field, "{extra}: {e}");
        let message = e["message"].as_str().expect("message");
        assert!(
            !message.contains("sqlx") && !message.contains("SELECT"),
            "no internals: {message}"
        );
    }
    let d = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(d["progressReports"]["totalCount"], 0);
    assert_eq!(audit_count(&app).await, 0);
}

#[tokio::test]
async fn a_retried_submission_creates_one_report_even_when_the_tries_race() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    let input = report_input(&assignment, json!({ "idempotencyKey": "3f1c-retry" }));

    let first = app.data_as(&agency, SUBMIT, input.clone()).await;
    let again = app.data_as(&agency, SUBMIT, input.clone()).await;
    assert_eq!(
        first["submitProgressReport"]["progressReport"]["id"],
        again["submitProgressReport"]["progressReport"]["id"]
    );
    assert_eq!(again["submitProgressReport"]["replayed"], true);

    // The same key for a different report is a mistake the client must hear about.
    let other = report_input(
        &assignment,
        json!({ "idempotencyKey": "3f1c-retry", "percentComplete": 70 }),
    );
    assert_eq!(app.error_code_as(&agency, SUBMIT, other).await, "CONFLICT");

    // Twelve tries of one new report at once: one row, every try answered with it.
    let input = report_input(
        &assignment,
        json!({ "idempotencyKey": "race-7", "percentComplete": 65 }),
    );
    let tries = (0..12).map(|_| app.gql_as(&agency, SUBMIT, input.clone()));
    let bodies = futures::future::join_all(tries).await;
    let mut ids: Vec<String> = bodies
        .iter()
        .map(|b| {
            assert!(b.get("errors").is_none(), "every try succeeds: {b:#}");
            b["data"]["submitProgressReport"]["progressReport"]["id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one report for one key: {ids:?}");
    let created = bodies
        .iter()
        .filter(|b| b["data"]["submitProgressReport"]["replayed"] == false)
        .count();
    assert_eq!(created, 1, "exactly one try created it");
    let d = app
        .data(
            "query($a: ID!) { progressReports(filter: { assignmentId: $a }) { totalCount } }",
            json!({ "a": assignment }),
        )
        .await;
    assert_eq!(d["progressReports"]["totalCount"], 2);
    assert_eq!(audit_count(&app).await, 2, "one audit entry per report created");
}

#[tokio::test]
async fn drafts_are_edited_by_version_and_hidden_from_other_roles() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    let d = app
        .data_as(
            &agency,
            SUBMIT,
            report_input(&assignment, json!({ "submit": false })),
        )
        .await;
    let r = &d["submitProgressReport"]["progressReport"];
    assert_eq!(
        (r["state"].as_str(), r["version"].as_i64()),
        (Some("DRAFT"), Some(1))
    );
    let id = r["id"].clone();

    // Only its agency (and an admin) sees a draft.
    for (role, seen) in [(Role::Monitor, 0), (Role::Viewer, 0), (Role::Admin, 1)] {
        let d = app
            .data_as(
                &token(role, None),
                "{ progressReports { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(d["progressReports"]["totalCount"], seen, "{role:?}");
    }
    let d = app
        .data_as(&agency, "{ progressReports { totalCount } }", json!({}))
        .await;
    assert_eq!(d["progressReports"]["totalCount"], 1);

    let edit = |version: i64, summary: &str| json!({ "input": { "id": id, "version": version, "summary": summary, "percentComplete": 75 } });
    let d = app.data_as(&agency, UPDATE, edit(1, "Bản sửa lần 1")).await;
    let r = &d["updateProgressReport"]["progressReport"];
    assert_eq!(
        (r["version"].as_i64(), r["summary"].as_str()),
        (Some(2), Some("Bản sửa lần 1"))
    );
    // A second editor who read version 1 is told, not silently overwritten.
    assert_eq!(
        app.error_code_as(&agency, UPDATE, edit(1, "Bản cũ")).await,
        "CONFLICT"
    );
    // Another agency cannot reach it at all.
    let other = token(Role::Agency, Some("so-y-te"));
    assert_eq!(app.error_code_as(&other, UPDATE, edit(2, "x")).await, "NOT_FOUND");

    // Submitted, then returned with a comment, then edited and submitted again.
    let submit = json!({ "input": { "id": id, "version": 2, "submit": true } });
    let d = app.data_as(&agency, UPDATE, submit).await;
    assert_eq!(d["updateProgressReport"]["progressReport"]["state"], "SUBMITTED");
    assert_eq!(
        app.error_code_as(&agency, UPDATE, edit(3, "sau khi nộp")).await,
        "CONFLICT"
    );
    let monitor = token(Role::Monitor, None);
    let e = first_error(
        &app,
        &monitor,
        REVIEW,
        json!({ "input": { "id": id, "decision": "RETURN" } }),
    )
    .await;
    assert_eq!(e["extensions"]["field"], "input.comment");
    let d = app
        .data_as(
            &monitor,
            REVIEW,
            json!({ "input": { "id": id, "decision": "RETURN", "comment": "Bổ sung số liệu quý IV" } }),
        )
        .await;
    assert_eq!(d["reviewProgressReport"]["progressReport"]["state"], "RETURNED");
    assert!(d["reviewProgressReport"]["assignment"]["completedOn"].is_null());
    assert_eq!(
        app.error_code_as(
            &monitor,
            REVIEW,
            json!({ "input": { "id": id, "decision": "ACCEPT" } })
        )
        .await,
        "CONFLICT",
        "only submitted reports are reviewed"
    );
    let d = app
        .data_as(
            &agency,
            UPDATE,
            json!({ "input": { "id": id, "version": 4, "summary": "Đã bổ sung", "submit": true } }),
        )
        .await;
    assert_eq!(d["updateProgressReport"]["progressReport"]["state"], "SUBMITTED");
}

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

    let monitor = token(Role::Monitor, None);
    let extend = r#"mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) {
        task { dueOn originalDueOn extensions { previousDueOn newDueOn reason grantedBy } }
        extension { newDueOn } } }"#;
    let d = app
        .data_as(
            &monitor,
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
    let e = first_error(
        &app,
        &monitor,
        extend,
        json!({ "input": { "taskId": id, "newDueOn": "2025-05-01", "reason": "x" } }),
    )
    .await;
    assert_eq!(e["extensions"]["field"], "input.newDueOn");
    let e = first_error(
        &app,
        &monitor,
        extend,
        json!({ "input": { "taskId": id, "newDueOn": "2025-09-30", "reason": " " } }),
    )
    .await;
    assert_eq!(e["extensions"]["field"], "input.reason");
    let d = app
        .data_as(
            &monitor,
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
async fn an_admin_creates_a_directive_and_a_task_and_reassigns_it() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"mutation { createDirective(input: { code: "15-ct-ubnd-2026", number: "15/CT-UBND",
                kind: CHI_THI, title: "Về tăng cường kỷ luật hành chính", issuedOn: "2026-11-02" }) {
                directive { id number issuer } } }"#,
            json!({}),
        )
        .await;
    let directive = d["createDirective"]["directive"].clone();
    assert_eq!(directive["issuer"], "UBND tỉnh");
    assert_eq!(
        app.error_code(
            r#"mutation { createDirective(input: { code: "another", number: "15/CT-UBND", kind: CHI_THI, title: "x" }) { directive { id } } }"#,
            json!({})
        )
        .await,
        "CONFLICT"
    );

    // A document without a number (like the seeded 2025 plan) is not a duplicate of another.
    let d = app
        .data(
            r#"mutation { createDirective(input: { code: "cv-khong-so", kind: CONG_VAN, title: "Công văn chưa có số" }) {
                directive { number } } }"#,
            json!({}),
        )
        .await;
    assert!(d["createDirective"]["directive"]["number"].is_null());

    let create = r#"mutation($input: CreateTaskInput!) { createTask(input: $input) {
        task { id code dueOn deadline { kind text } leads { code } coordinators { code } } } }"#;
    let input = |leads: Value, deadline: &str| {
        json!({ "input": {
            "directiveId": directive["id"], "code": "1", "section": "1",
            "title": "Rà soát thủ tục hành chính", "fullText": "Sở Y tế chủ trì rà soát thủ tục hành chính.",
            "deadlineText": deadline, "leadAgencyCodes": leads, "coordinatorAgencyCodes": ["so-tai-chinh"] } })
    };
    for (leads, deadline, field) in [
        (
            json!(["so-y-te", "khong-co"]),
            "trước ngày 15/01/2027",
            "input.leadAgencyCodes[1]",
        ),
        (
            json!(["so-ke-hoach-dau-tu"]),
            "trước ngày 15/01/2027",
            "input.leadAgencyCodes[0]",
        ),
        (json!([]), "trước ngày 15/01/2027", "input.leadAgencyCodes"),
        (
            json!(["so-tai-chinh"]),
            "trước ngày 15/01/2027",
            "input.coordinatorAgencyCodes[0]",
        ),
        (json!(["so-y-te"]), "khi nào xong thì thôi", "input.deadlineText"),
    ] {
        let e = first_error(&app, &app.admin, create, input(leads.clone(), deadline)).await;
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{leads}");
        assert_eq!(e["extensions"]["field"], field, "{leads}: {e}");
    }
    assert_eq!(audit_count(&app).await, 2, "only the two directives were written");

    let d = app
        .data(create, input(json!(["so-y-te"]), "trước ngày 15/01/2027"))
        .await;
    let task = d["createTask"]["task"].clone();
    assert_eq!(
        task["dueOn"], "2027-01-14",
        "before the 15th: the 14th is the last day on time"
    );
    assert_eq!(task["deadline"]["kind"], "DATE");
    assert_eq!(task["leads"][0]["code"], "so-y-te");
    assert_eq!(task["coordinators"][0]["code"], "so-tai-chinh");
    assert_eq!(
        app.error_code(create, input(json!(["so-y-te"]), "")).await,
        "CONFLICT",
        "task codes are unique within a directive"
    );

    // The lead agency sees it; after reassignment it no longer does and the new lead does.
    let read = "query($id: ID!) { task(id: $id) { code } }";
    let y_te = token(Role::Agency, Some("so-y-te"));
    let xay_dung = token(Role::Agency, Some("so-xay-dung"));
    app.data_as(&y_te, read, json!({ "id": task["id"] })).await;
    assert_eq!(
        app.error_code_as(&xay_dung, read, json!({ "id": task["id"] }))
            .await,
        "NOT_FOUND"
    );
    let d = app
        .data(
            r#"mutation($id: ID!) { updateTask(input: { id: $id, leadAgencyCodes: ["so-xay-dung"], title: "Rà soát TTHC" }) {
                task { title leads { code } coordinators { code } } } }"#,
            json!({ "id": task["id"] }),
        )
        .await;
    assert_eq!(d["updateTask"]["task"]["leads"][0]["code"], "so-xay-dung");
    assert_eq!(
        d["updateTask"]["task"]["coordinators"][0]["code"], "so-tai-chinh",
        "kept"
    );
    assert_eq!(
        app.error_code_as(&y_te, read, json!({ "id": task["id"] })).await,
        "NOT_FOUND"
    );
    app.data_as(&xay_dung, read, json!({ "id": task["id"] })).await;
}

#[tokio::test]
async fn indicator_values_by_the_monitor_or_the_responsible_agency() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            "{ indicators(first: 100) { nodes { id code qualitative responsibleAgency { code } } } }",
            json!({}),
        )
        .await;
    let all = d["indicators"]["nodes"].as_array().expect("indicators").clone();
    let owned = all
        .iter()
        .find(|i| i["responsibleAgency"]["code"] == "so-tai-chinh" && i["qualitative"] == false)
        .expect("an indicator of Sở Tài chính");
    let other = all
        .iter()
        .find(|i| {
            i["responsibleAgency"]["code"] != "so-tai-chinh"
                && !i["responsibleAgency"].is_null()
                && i["qualitative"] == false
        })
        .expect("an indicator of another agency");
    let record = r#"mutation($input: RecordIndicatorValueInput!) { recordIndicatorValue(input: $input) {
        indicatorValue { period value kind } indicator { latestValue { value } } } }"#;
    let input = |id: &Value, period: &str| json!({ "input": { "indicatorId": id, "period": period, "value": "5230.5", "kind": "ESTIMATE" } });
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    let d = app.data_as(&agency, record, input(&owned["id"], "2025Q1")).await;
    assert_eq!(d["recordIndicatorValue"]["indicatorValue"]["value"], "5230.5");
    assert_eq!(
        d["recordIndicatorValue"]["indicator"]["latestValue"]["value"],
        "5230.5"
    );
    // Another agency's indicator does not exist for this token.
    assert_eq!(
        app.error_code_as(&agency, record, input(&other["id"], "2025Q1"))
            .await,
        "NOT_FOUND"
    );
    // The monitor records anyone's; the period must be in the indicator's year.
    let monitor = token(Role::Monitor, None);
    app.data_as(&monitor, record, input(&other["id"], "202503")).await;
    let e = first_error(&app, &monitor, record, input(&other["id"], "2024Q4")).await;
    assert_eq!(e["extensions"]["field"], "input.period");
    if let Some(q) = all.iter().find(|i| i["qualitative"] == true) {
        let e = first_error(&app, &monitor, record, input(&q["id"], "2025")).await;
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    }
    assert_eq!(
        app.error_code_as(&token(Role::Analyst, None), record, input(&owned["id"], "2025"))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn merging_ke_hoach_dau_tu_into_tai_chinh_moves_its_open_tasks_and_keeps_history() {
    // The seed already records this 2025 merger; undo it so the API can perform it.
    let seeds = seeds_with("agencies.yaml", |text| {
        text.replace("    valid_to: 2025-02-28\n    successors: [so-tai-chinh]\n", "")
    });
    let app = TestApp::spawn_with_seeds(seeds).await;
    let tai_chinh = token(Role::Agency, Some("so-tai-chinh"));
    let count = "{ tasks(filter: { directiveNumber: \"10/CT-UBND\" }) { totalCount } }";
    let before = app.data_as(&tai_chinh, count, json!({})).await["tasks"]["totalCount"]
        .as_i64()
        .expect("count");
    let khdt = token(Role::Agency, Some("so-ke-hoach-dau-tu"));
    let khdt_tasks = app.data_as(&khdt, count, json!({})).await["tasks"]["totalCount"]
        .as_i64()
        .expect("count");
    assert!(khdt_tasks > 0, "before the merger Sở KH&ĐT holds its own tasks");

    let merge = r#"mutation($input: MergeAgenciesInput!) { mergeAgencies(input: $input) {
        movedAssignments successor { code } dissolved { code validTo successors { agency { code } effectiveOn } } } }"#;
    let input = |codes: Value| {
        json!({ "input": { "dissolvedAgencyCodes": codes, "successorCode": "so-tai-chinh",
                           "effectiveOn": "2025-03-01", "note": "Nghị quyết 05/NQ-HĐND" } })
    };
    // All or nothing: an unknown second code leaves the first agency untouched.
    let e = first_error(
        &app,
        &app.admin,
        merge,
        input(json!(["so-ke-hoach-dau-tu", "khong-co"])),
    )
    .await;
    assert_eq!(e["extensions"]["field"], "input.dissolvedAgencyCodes[1]");
    app.data_as(&khdt, count, json!({})).await;
    assert_eq!(audit_count(&app).await, 0);

    let d = app.data(merge, input(json!(["so-ke-hoach-dau-tu"]))).await;
    let m = &d["mergeAgencies"];
    assert!(m["movedAssignments"].as_i64().expect("moved") > 0);
    assert_eq!(m["dissolved"][0]["validTo"], "2025-02-28");
    assert_eq!(
        m["dissolved"][0]["successors"][0]["agency"]["code"],
        "so-tai-chinh"
    );

    // Sở Tài chính now sees the tasks 10/CT-UBND gave Sở KH&ĐT, and each still names it.
    let after = app.data_as(&tai_chinh, count, json!({})).await["tasks"]["totalCount"]
        .as_i64()
        .expect("count");
    assert!(after > before, "{before} -> {after}");
    let d = app
        .data_as(
            &tai_chinh,
            r#"{ agency(code: "so-tai-chinh") { assignments(first: 100) { nodes { originalAgency { code } transferredOn } } } }"#,
            json!({}),
        )
        .await;
    let inherited: Vec<&Value> = d["agency"]["assignments"]["nodes"]
        .as_array()
        .expect("assignments")
        .iter()
        .filter(|a| a["originalAgency"]["code"] == "so-ke-hoach-dau-tu")
        .collect();
    assert!(!inherited.is_empty());
    assert!(inherited.iter().all(|a| a["transferredOn"] == "2025-03-01"));

    // Both agencies' lists by due date: the successor's read through its assignments (some
    // now twice on a task), the dissolved one's through the agency the directive named.
    for code in ["so-tai-chinh", "so-ke-hoach-dau-tu"] {
        for desc in [false, true] {
            let (all, _) = task_ids_in_order(&app, &app.admin, &by_due(desc), &json!({}), 100).await;
            let filter = json!({ "agencyCode": code });
            assert!(check_agency_due_order(&app, &app.admin, filter, desc, &all, true).await > 0);
        }
    }

    // A token for the dissolved agency is refused with the successor's name.
    let body = app.gql_as(&khdt, count, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("Sở Tài chính")
    );
    // Merging it again is a conflict.
    assert_eq!(
        app.error_code(merge, input(json!(["so-ke-hoach-dau-tu"]))).await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn an_agencys_tasks_by_due_date_follow_extensions_and_new_tasks() {
    // The list reads a copy of each task's due date kept on its assignments by triggers
    // (migration m20261130_000004); a write through any path must move the task in it.
    let app = TestApp::spawn().await;
    let filter = json!({ "agencyCode": "so-tai-chinh" });
    let first_due = || async {
        let (all, _) = task_ids_in_order(&app, &app.admin, &by_due(false), &json!({}), 100).await;
        check_agency_due_order(&app, &app.admin, filter.clone(), false, &all, true).await;
        let (all, _) = task_ids_in_order(&app, &app.admin, &by_due(true), &json!({}), 100).await;
        check_agency_due_order(&app, &app.admin, filter.clone(), true, &all, false).await;
        let (mine, _) = task_ids_in_order(&app, &app.admin, &by_due(false), &filter, 100).await;
        mine
    };
    let before = first_due().await;
    assert!(before.len() > 5, "{before:?}");
    let earliest = before[0].clone();

    let extend = r#"mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) { task { dueOn } } }"#;
    app.data(
        extend,
        json!({ "input": { "taskId": earliest, "newDueOn": "2026-12-30", "reason": "Công văn 45/UBND-TH" } }),
    )
    .await;
    let after = first_due().await;
    assert_ne!(after[0], earliest, "the extended task is no longer first");
    assert!(after.contains(&earliest));

    let d = app
        .data(r#"{ directives(first: 1) { nodes { id } } }"#, json!({}))
        .await;
    let create = r#"mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id dueOn } } }"#;
    let d = app
        .data(
            create,
            json!({ "input": {
                "directiveId": d["directives"]["nodes"][0]["id"], "code": "99", "section": "99",
                "title": "Rà soát nợ đọng", "fullText": "Sở Tài chính chủ trì rà soát nợ đọng.",
                "deadlineText": "trước ngày 02/01/2025", "leadAgencyCodes": ["so-y-te"],
                "coordinatorAgencyCodes": ["so-tai-chinh"] } }),
        )
        .await;
    let created = d["createTask"]["task"]["id"].clone();
    assert_eq!(d["createTask"]["task"]["dueOn"], "2025-01-01");
    let now = first_due().await;
    assert_eq!(now[0], created, "due 2025-01-01, the earliest of all: {now:?}");
    assert_eq!(now.len(), after.len() + 1);
}

#[tokio::test]
async fn update_task_changes_only_the_role_it_is_given_on_seeded_tasks() {
    let app = TestApp::spawn().await;
    // Seeded tasks keep dissolved districts as holders and, after the mergers, successors
    // holding several inherited rows; editing one role must leave all that alone.
    let d = app
        .data(
            r#"{ tasks(first: 100, filter: { directiveNumber: "10/CT-UBND" }) {
                nodes { id code leads { code } coordinators { code } assignments { id } } } }"#,
            json!({}),
        )
        .await;
    let tasks = d["tasks"]["nodes"].as_array().expect("tasks");
    let task = tasks
        .iter()
        .find(|t| {
            t["coordinators"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|a| a["code"].as_str().is_some_and(|s| s.starts_with("ubnd-huyen")))
            })
        })
        .expect("a task coordinated by districts");
    let leads_before = task["leads"].clone();
    let mut codes: Vec<String> = task["coordinators"]
        .as_array()
        .expect("coordinators")
        .iter()
        .map(|a| a["code"].as_str().expect("code").to_owned())
        .collect();
    let rows_before = task["assignments"].as_array().map(Vec::len).expect("rows");
    codes.push("so-y-te".into());
    let update = r#"mutation($id: ID!, $c: [String!]) { updateTask(input: { id: $id, coordinatorAgencyCodes: $c }) {
        task { leads { code } coordinators { code } assignments { id } } } }"#;
    let d = app.data(update, json!({ "id": task["id"], "c": codes })).await;
    let t = &d["updateTask"]["task"];
    assert_eq!(t["leads"], leads_before, "leads untouched");
    let already = task["coordinators"]
        .as_array()
        .expect("coordinators")
        .iter()
        .any(|a| a["code"] == "so-y-te");
    let added = usize::from(!already);
    assert_eq!(
        t["assignments"].as_array().map(Vec::len),
        Some(rows_before + added)
    );
    // Adding a dissolved agency is refused, naming the entry.
    let e = app
        .gql(update, json!({ "id": task["id"], "c": ["so-ke-hoach-dau-tu"] }))
        .await;
    assert_eq!(
        e["errors"][0]["extensions"]["field"],
        "input.coordinatorAgencyCodes[0]"
    );
}

#[tokio::test]
async fn concurrent_reviews_of_the_last_two_leads_complete_the_task() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ directive(number: "10/CT-UBND") { id } }"#, json!({}))
        .await;
    let monitor = token(Role::Monitor, None);
    for round in 0..4 {
        let d = app
            .data(
                r#"mutation($d: ID!, $code: String!) { createTask(input: { directiveId: $d, code: $code, section: "IV",
                    title: "Hai cơ quan chủ trì", fullText: "Sở Y tế và Sở Xây dựng cùng chủ trì.",
                    deadlineText: "trong năm 2026", leadAgencyCodes: ["so-y-te", "so-xay-dung"] }) {
                    task { id assignments { id agency { code } } } } }"#,
                json!({ "d": d["directive"]["id"], "code": format!("IV.{round}") }),
            )
            .await;
        let task = d["createTask"]["task"].clone();
        let mut reports = Vec::new();
        for a in task["assignments"].as_array().expect("assignments") {
            let agency = token(Role::Agency, a["agency"]["code"].as_str());
            let r = app
                .data_as(
                    &agency,
                    SUBMIT,
                    report_input(
                        a["id"].as_str().expect("id"),
                        json!({ "done": true, "percentComplete": 100 }),
                    ),
                )
                .await;
            reports.push(r["submitProgressReport"]["progressReport"]["id"].clone());
        }
        let reviews = reports.iter().map(|id| {
            app.gql_as(
                &monitor,
                REVIEW,
                json!({ "input": { "id": id, "decision": "ACCEPT" } }),
            )
        });
        for body in futures::future::join_all(reviews).await {
            assert!(body.get("errors").is_none(), "{body:#}");
        }
        let d = app
            .data(
                "query($id: ID!) { task(id: $id) { completedOn } }",
                json!({ "id": task["id"] }),
            )
            .await;
        assert!(
            !d["task"]["completedOn"].is_null(),
            "round {round}: both leads done, so the task is"
        );
    }
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
    let monitor = token(Role::Monitor, None);
    let extend = r#"mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) { task { dueOn } } }"#;
    let tries = ["2025-09-30", "2025-12-31"].map(|date| {
        app.gql_as(
            &monitor,
            extend,
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
