//! Progress reports: submitting (lead and coordinator), validation, idempotent retries,
//! drafts edited by version, review (accept, return, concurrent), and who may read or write
//! whose reports and their internal fields.

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_audit_len, audit_len, code_and_message, count, gid, list, text, token};
use crate::scope::{STC, YTE, holders, own_lead, visible_to};

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
    let d = app
        .agency(agency)
        .data(
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

#[tokio::test]
async fn a_lead_report_accepted_completes_the_assignment_and_the_task() {
    let app = TestApp::spawn().await;
    let (assignment, task) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = app.agency("so-tai-chinh");
    let monitor = app.monitor();

    let d = agency
        .data(
            SUBMIT,
            report_input(&assignment, json!({ "done": true, "percentComplete": 100 })),
        )
        .await;
    let r = &d["submitProgressReport"]["progressReport"];
    assert_eq!(r["state"], "SUBMITTED");
    assert_eq!(d["submitProgressReport"]["replayed"], false);
    let id = r["id"].clone();

    let d = monitor
        .data(REVIEW, json!({ "input": { "id": id, "decision": "ACCEPT" } }))
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
    assert_eq!(api_audit_len(&app).await, 4, "{log:#?}");
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
        agency
            .error_code(SUBMIT, report_input(&assignment, json!({})))
            .await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn a_coordinator_contributes_but_cannot_mark_done() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "COORDINATOR").await;
    let agency = app.agency("so-tai-chinh");
    let e = agency
        .first_error(
            SUBMIT,
            report_input(&assignment, json!({ "done": true, "percentComplete": 100 })),
        )
        .await;
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(e["extensions"]["field"], "input.done");
    assert_eq!(api_audit_len(&app).await, 0, "nothing written");
    // The same report without `done` is a contribution.
    let d = agency.data(SUBMIT, report_input(&assignment, json!({}))).await;
    assert_eq!(d["submitProgressReport"]["progressReport"]["done"], false);
}

#[tokio::test]
async fn invalid_input_names_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = app.agency("so-tai-chinh");
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
        let e = agency
            .first_error(SUBMIT, report_input(&assignment, extra.clone()))
            .await;
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
    assert_eq!(api_audit_len(&app).await, 0);
}

#[tokio::test]
async fn a_retried_submission_creates_one_report_even_when_the_tries_race() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = app.agency("so-tai-chinh");
    let input = report_input(&assignment, json!({ "idempotencyKey": "3f1c-retry" }));

    let first = agency.data(SUBMIT, input.clone()).await;
    let again = agency.data(SUBMIT, input.clone()).await;
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
    assert_eq!(agency.error_code(SUBMIT, other).await, "CONFLICT");

    // Twelve tries of one new report at once: one row, every try answered with it.
    let input = report_input(
        &assignment,
        json!({ "idempotencyKey": "race-7", "percentComplete": 65 }),
    );
    let tries = (0..12).map(|_| agency.gql(SUBMIT, input.clone()));
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
    assert_eq!(api_audit_len(&app).await, 2, "one audit entry per report created");
}

#[tokio::test]
async fn drafts_are_edited_by_version_and_hidden_from_other_roles() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, "so-tai-chinh", "LEAD").await;
    let agency = app.agency("so-tai-chinh");
    let d = agency
        .data(SUBMIT, report_input(&assignment, json!({ "submit": false })))
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
            .with_token(token(role, None))
            .data("{ progressReports { totalCount } }", json!({}))
            .await;
        assert_eq!(d["progressReports"]["totalCount"], seen, "{role:?}");
    }
    let d = agency.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(d["progressReports"]["totalCount"], 1);

    let edit = |version: i64, summary: &str| json!({ "input": { "id": id, "version": version, "summary": summary, "percentComplete": 75 } });
    let d = agency.data(UPDATE, edit(1, "Bản sửa lần 1")).await;
    let r = &d["updateProgressReport"]["progressReport"];
    assert_eq!(
        (r["version"].as_i64(), r["summary"].as_str()),
        (Some(2), Some("Bản sửa lần 1"))
    );
    // A second editor who read version 1 is told, not silently overwritten.
    assert_eq!(agency.error_code(UPDATE, edit(1, "Bản cũ")).await, "CONFLICT");
    // Another agency cannot reach it at all.
    let other = app.agency("so-y-te");
    assert_eq!(other.error_code(UPDATE, edit(2, "x")).await, "NOT_FOUND");

    // Submitted, then returned with a comment, then edited and submitted again.
    let submit = json!({ "input": { "id": id, "version": 2, "submit": true } });
    let d = agency.data(UPDATE, submit).await;
    assert_eq!(d["updateProgressReport"]["progressReport"]["state"], "SUBMITTED");
    assert_eq!(
        agency.error_code(UPDATE, edit(3, "sau khi nộp")).await,
        "CONFLICT"
    );
    let monitor = app.monitor();
    let e = monitor
        .first_error(REVIEW, json!({ "input": { "id": id, "decision": "RETURN" } }))
        .await;
    assert_eq!(e["extensions"]["field"], "input.comment");
    let d = monitor
        .data(
            REVIEW,
            json!({ "input": { "id": id, "decision": "RETURN", "comment": "Bổ sung số liệu quý IV" } }),
        )
        .await;
    assert_eq!(d["reviewProgressReport"]["progressReport"]["state"], "RETURNED");
    assert!(d["reviewProgressReport"]["assignment"]["completedOn"].is_null());
    assert_eq!(
        monitor
            .error_code(REVIEW, json!({ "input": { "id": id, "decision": "ACCEPT" } }))
            .await,
        "CONFLICT",
        "only submitted reports are reviewed"
    );
    let d = agency
        .data(
            UPDATE,
            json!({ "input": { "id": id, "version": 4, "summary": "Đã bổ sung", "submit": true } }),
        )
        .await;
    assert_eq!(d["updateProgressReport"]["progressReport"]["state"], "SUBMITTED");
}

#[tokio::test]
async fn concurrent_reviews_of_the_last_two_leads_complete_the_task() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ directive(number: "10/CT-UBND") { id } }"#, json!({}))
        .await;
    let monitor = app.monitor();
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
            let agency = app.agency(a["agency"]["code"].as_str().expect("code"));
            let r = agency
                .data(
                    SUBMIT,
                    report_input(
                        a["id"].as_str().expect("id"),
                        json!({ "done": true, "percentComplete": 100 }),
                    ),
                )
                .await;
            reports.push(r["submitProgressReport"]["progressReport"]["id"].clone());
        }
        let reviews = reports
            .iter()
            .map(|id| monitor.gql(REVIEW, json!({ "input": { "id": id, "decision": "ACCEPT" } })));
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
async fn internal_notes_and_drafts_are_not_shown_to_viewers() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let (assignment, task_id) = own_lead(&tasks, &visible);
    let stc = app.agency(STC);
    let submit = r#"mutation($input: SubmitProgressReportInput!) {
        submitProgressReport(input: $input) { progressReport { id state } } }"#;
    let input = |submit: bool, summary: &str| {
        json!({ "input": {
            "assignmentId": assignment, "period": "2025Q4", "percentComplete": 40,
            "summary": summary, "obstacles": "Thiếu kinh phí", "proposals": "Bổ sung dự toán",
            "submit": submit } })
    };
    let sent = stc.data(submit, input(true, "Đã gửi")).await;
    let sent = text(&sent["submitProgressReport"]["progressReport"]["id"]);
    let draft = stc.data(submit, input(false, "Bản nháp")).await;
    let draft = text(&draft["submitProgressReport"]["progressReport"]["id"]);
    // The monitoring office returns the submitted one with a comment.
    let monitor = app.monitor();
    monitor
        .data(
            r#"mutation($id: ID!) { reviewProgressReport(input: { id: $id, decision: RETURN,
            comment: "Bổ sung số liệu" }) { progressReport { state } } }"#,
            json!({ "id": sent }),
        )
        .await;

    let viewer = app.viewer();
    // Public fields of submitted reports: yes, drafts: no.
    let d = viewer
        .data(
            "{ progressReports { totalCount nodes { id summary state } } }",
            json!({}),
        )
        .await;
    assert_eq!(count(&d["progressReports"]["totalCount"]), 1);
    assert_eq!(d["progressReports"]["nodes"][0]["id"], sent.as_str());
    assert_eq!(d["progressReports"]["nodes"][0]["summary"], "Đã gửi");

    // Internal fields are refused by every path that reaches a report.
    let paths: Vec<(&str, &str, Value)> = vec![
        (
            "obstacles",
            "{ progressReports { nodes { obstacles } } }",
            json!({}),
        ),
        (
            "proposals",
            "{ progressReports { nodes { proposals } } }",
            json!({}),
        ),
        (
            "reviewComment",
            "{ progressReports { nodes { reviewComment } } }",
            json!({}),
        ),
        (
            "node",
            "query($r: ID!) { node(id: $r) { ... on ProgressReport { obstacles } } }",
            json!({ "r": sent }),
        ),
        (
            "task.reports",
            "query($t: ID!) { task(id: $t) { reports { nodes { proposals } } } }",
            json!({ "t": task_id }),
        ),
        (
            "latestReport",
            "query($t: ID!) { task(id: $t) { assignments { latestReport { reviewComment } } } }",
            json!({ "t": task_id }),
        ),
    ];
    for (label, q, vars) in &paths {
        let body = viewer.gql(q, vars.clone()).await;
        assert_eq!(code_and_message(&body).0, "FORBIDDEN", "viewer {label}: {body:#}");
        let data = body["data"].to_string();
        for secret in ["Thiếu kinh phí", "Bổ sung dự toán", "Bổ sung số liệu"] {
            assert!(!data.contains(secret), "viewer {label} leaks {secret}: {data}");
        }
    }
    // The monitoring office reads them (and the control that the query itself is sound).
    let d = monitor
        .data(
            "{ progressReports { totalCount nodes { obstacles proposals reviewComment } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["progressReports"],
        json!({ "totalCount": 1, "nodes": [{ "obstacles": "Thiếu kinh phí",
            "proposals": "Bổ sung dự toán", "reviewComment": "Bổ sung số liệu" }] })
    );

    // A draft: its agency and the administrator see it; the monitor and the viewer do not.
    let q = "query($r: ID!) { node(id: $r) { id } }";
    for (who, client, expected) in [
        ("viewer", &viewer, Some("NOT_FOUND")),
        ("monitor", &monitor, Some("NOT_FOUND")),
        ("analyst", &app.analyst(), Some("FORBIDDEN")),
        ("other agency", &app.agency(YTE), Some("NOT_FOUND")),
        ("own agency", &stc, None),
        ("admin", &app.admin(), None),
    ] {
        let body = client.gql(q, json!({ "r": draft })).await;
        match expected {
            Some(code) => assert_eq!(code_and_message(&body).0, code, "{who}: {body:#}"),
            None => assert_eq!(body["data"]["node"]["id"], draft.as_str(), "{who}: {body:#}"),
        }
    }
    let drafts = "query($t: ID!) { progressReports(filter: { state: [DRAFT] }) { totalCount }
        task(id: $t) { reports { totalCount } } }";
    for (who, client, n) in [
        ("viewer", &viewer, 0),
        ("monitor", &monitor, 0),
        ("own agency", &stc, 1),
    ] {
        let d = client.data(drafts, json!({ "t": task_id })).await;
        assert_eq!(count(&d["progressReports"]["totalCount"]), n, "{who}: drafts");
        assert_eq!(
            count(&d["task"]["reports"]["totalCount"]),
            1 + n,
            "{who}: task.reports"
        );
    }
    let reports = "{ progressReports { totalCount } }";
    for (who, client, n) in [
        ("monitor", &monitor, 1),
        ("own agency", &stc, 2),
        ("admin", &app.admin(), 2),
        ("other agency", &app.agency(YTE), 0),
    ] {
        let d = client.data(reports, json!({})).await;
        assert_eq!(count(&d["progressReports"]["totalCount"]), n, "{who}");
    }
}

#[tokio::test]
async fn reporting_on_someone_elses_assignment_does_not_leak() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let holders = holders(&app, STC).await;
    let stc = app.agency(STC);
    // Hidden: an assignment of a task Sở Tài chính has no part in.
    let hidden = tasks
        .iter()
        .find(|t| !visible.contains(&t.id))
        .map(|t| t.assignments[0].0.clone())
        .expect("a hidden assignment");
    // Visible but not its own: a co-assignee's assignment on a shared task.
    let (shared, co_held) = tasks
        .iter()
        .filter(|t| visible.contains(&t.id))
        .find_map(|t| {
            t.assignments
                .iter()
                .find(|(_, _, a)| !holders.contains(a))
                .map(|(id, _, _)| (t.id.clone(), id.clone()))
        })
        .expect("a task Sở Tài chính shares with another agency");
    let (own, _) = own_lead(&tasks, &visible);
    let submit = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { progressReport { id agency { code } } } }";
    let input = |a: &str| {
        json!({ "i": { "assignmentId": a, "period": "2025Q4", "percentComplete": 20,
            "summary": "Đang triển khai", "idempotencyKey": format!("sec-{a}") } })
    };
    let before = audit_len(&app).await;

    let body = stc.gql(submit, input(&hidden)).await;
    let (code, message) = code_and_message(&body);
    assert_eq!(code, "NOT_FOUND", "hidden assignment: {body:#}");
    let missing = stc.gql(submit, input(&gid("Assignment", 999_999))).await;
    assert_eq!(
        code_and_message(&missing),
        (code, message),
        "hidden and missing read the same"
    );

    let body = stc.gql(submit, input(&co_held)).await;
    assert_eq!(
        code_and_message(&body).0,
        "FORBIDDEN",
        "co-assignee's assignment on {shared}: {body:#}"
    );

    // Control: the same input on its own assignment is accepted, written as Sở Tài chính.
    assert_eq!(audit_len(&app).await, before, "refusals write nothing");
    let d = stc.data(submit, input(&own)).await;
    assert_eq!(d["submitProgressReport"]["progressReport"]["agency"]["code"], STC);
    assert_eq!(audit_len(&app).await, before + 1);

    // The co-assignee's reports stay its own: Sở Y tế does not read Sở Tài chính's report.
    let yte = app.agency(YTE);
    let d = yte.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(count(&d["progressReports"]["totalCount"]), 0);

    // Another agency's draft: Sở Y tế cannot edit it, the monitor cannot review it; both are
    // told it does not exist, exactly as for a made-up id.
    let mut draft_input = input(&own);
    draft_input["i"]["submit"] = json!(false);
    draft_input["i"]["idempotencyKey"] = json!("sec-draft");
    let d = stc.data(submit, draft_input).await;
    let draft = text(&d["submitProgressReport"]["progressReport"]["id"]);
    let missing = gid("ProgressReport", 999_999);
    let update = "mutation($i: UpdateProgressReportInput!) { updateProgressReport(input: $i) { progressReport { id } } }";
    let review = "mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { progressReport { id } } }";
    let monitor = app.monitor();
    let attempts = [
        (
            "other agency edits",
            &yte,
            update,
            json!({ "version": 1, "summary": "Sửa hộ" }),
        ),
        (
            "monitor reviews a draft",
            &monitor,
            review,
            json!({ "decision": "ACCEPT" }),
        ),
    ];
    let written = audit_len(&app).await;
    for (label, client, op, fields) in attempts {
        let with = |id: &str| {
            let mut i = fields.clone();
            i["id"] = json!(id);
            json!({ "i": i })
        };
        let a = client.gql(op, with(&draft)).await;
        let b = client.gql(op, with(&missing)).await;
        assert_eq!(code_and_message(&a).0, "NOT_FOUND", "{label}: {a:#}");
        assert_eq!(
            code_and_message(&a),
            code_and_message(&b),
            "{label}: hidden and missing read the same"
        );
    }
    assert_eq!(audit_len(&app).await, written, "refusals write nothing");
    let d = stc
        .data(
            "query($r: ID!) { node(id: $r) { ... on ProgressReport { summary state version } } }",
            json!({ "r": draft }),
        )
        .await;
    assert_eq!(
        d["node"],
        json!({ "summary": "Đang triển khai", "state": "DRAFT", "version": 1 })
    );

    // Recording a value of another agency's indicator is NOT_FOUND; its own is accepted.
    let q = r#"{ indicators(first: 100) { nodes { id qualitative year responsibleAgency { code } } } }"#;
    let all = app.data(q, json!({})).await;
    let pick = |agency: &str| {
        list(&all["indicators"]["nodes"])
            .iter()
            .find(|i| {
                i["responsibleAgency"]["code"] == agency && i["qualitative"] == false && i["year"] == 2025
            })
            .map(|i| text(&i["id"]))
            .expect("a quantitative 2025 indicator")
    };
    let record = "mutation($i: RecordIndicatorValueInput!) { recordIndicatorValue(input: $i) { indicatorValue { period } } }";
    let value = |id: String| json!({ "i": { "indicatorId": id, "period": "2025Q3", "value": "1", "kind": "ESTIMATE" } });
    let body = stc.gql(record, value(pick(YTE))).await;
    assert_eq!(
        code_and_message(&body).0,
        "NOT_FOUND",
        "another agency's indicator: {body:#}"
    );
    let d = stc.data(record, value(pick(STC))).await;
    assert_eq!(d["recordIndicatorValue"]["indicatorValue"]["period"], "2025Q3");
}

/// The README's example works as written for the agency token `cargo run` prints (Sở Tài
/// chính): find an open lead assignment of its own, then report on it.
#[tokio::test]
async fn the_readmes_report_example_works_for_the_dev_agency_token() {
    let readme = include_str!("../../README.md");
    let blocks: Vec<&str> = readme
        .split("```graphql\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
        .collect();
    let find = blocks
        .iter()
        .find(|b| b.starts_with("query MyOpenLead"))
        .expect("the README's first step");
    let report = blocks
        .iter()
        .find(|b| b.starts_with("mutation Report"))
        .expect("the README's second step");
    let app = TestApp::spawn().await;
    let stc = app.agency("so-tai-chinh");
    let d = stc.data(find, json!({})).await;
    let id = d["me"]["agency"]["assignments"]["nodes"][0]["id"].clone();
    assert!(id.is_string(), "an open lead assignment of Sở Tài chính: {d}");
    let r = stc.data(report, json!({ "assignment": id })).await;
    assert_eq!(
        r["submitProgressReport"]["progressReport"]["state"], "SUBMITTED",
        "{r}"
    );
    assert_eq!(r["submitProgressReport"]["replayed"], false);
    let again = stc.data(report, json!({ "assignment": id })).await;
    assert_eq!(
        again["submitProgressReport"]["replayed"], true,
        "the idempotency key: {again}"
    );
}

/// Finding 7: the same idempotency key with other content, `submit` included, is CONFLICT (a
/// retry that would submit a draft kept under that key must not return the old draft as a
/// replay); and no report reaches a completed assignment through any mutation.
#[tokio::test]
async fn a_replay_never_hides_a_change_and_a_completed_assignment_takes_no_report() {
    let app = TestApp::spawn().await;
    let (assignment, _) = assignment_of(&app, STC, "LEAD").await;
    let agency = app.agency(STC);
    let draft = report_input(
        &assignment,
        json!({ "idempotencyKey": "k-submit", "submit": false }),
    );
    let first = agency.data(SUBMIT, draft.clone()).await;
    assert_eq!(first["submitProgressReport"]["progressReport"]["state"], "DRAFT");
    let submitted = report_input(
        &assignment,
        json!({ "idempotencyKey": "k-submit", "submit": true }),
    );
    assert_eq!(agency.error_code(SUBMIT, submitted).await, "CONFLICT");
    let other_notes = report_input(
        &assignment,
        json!({ "idempotencyKey": "k-submit", "submit": false, "obstacles": "Khác" }),
    );
    assert_eq!(agency.error_code(SUBMIT, other_notes).await, "CONFLICT");
    // The same request again is still a replay.
    let again = agency.data(SUBMIT, draft).await;
    assert_eq!(again["submitProgressReport"]["replayed"], true);

    // A done report accepted completes the assignment; after that nothing more is taken.
    let done = agency
        .data(
            SUBMIT,
            report_input(&assignment, json!({ "percentComplete": 100, "done": true })),
        )
        .await;
    let id = done["submitProgressReport"]["progressReport"]["id"].clone();
    let reviewed = app
        .monitor()
        .data(REVIEW, json!({ "input": { "id": id, "decision": "ACCEPT" } }))
        .await;
    assert!(reviewed["reviewProgressReport"]["assignment"]["completedOn"].is_string());
    assert_eq!(
        agency
            .error_code(SUBMIT, report_input(&assignment, json!({})))
            .await,
        "CONFLICT"
    );
    // The draft kept from before cannot be sent now either.
    let draft_id = first["submitProgressReport"]["progressReport"]["id"].clone();
    let version = first["submitProgressReport"]["progressReport"]["version"].clone();
    let e = agency
        .first_error(
            UPDATE,
            json!({ "input": { "id": draft_id, "version": version, "submit": true } }),
        )
        .await;
    assert_eq!(e["extensions"]["code"], "CONFLICT", "{e}");
}
