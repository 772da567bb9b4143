//! The one input layer, across capabilities (finding 5, 6, 11 of the security test): NUL and
//! other control characters in any text (arguments, filters, variables, token claims), text of
//! only invisible characters, dates outside 1900–2100, decimals with a thousands separator:
//! each refused with BAD_USER_INPUT naming the field (or 401 for a token), nothing written, no
//! database text in any answer.

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_audit_len, seeds_before_the_khdt_merger};

/// No error of `body` carries a database's own words.
fn no_database_text(body: &Value) {
    let text = body.to_string();
    for leak in [
        "invalid byte sequence",
        "sqlx",
        "SQLSTATE",
        "syntax error",
        "SELECT",
        "violates",
    ] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

fn first(body: &Value) -> (&str, &str) {
    let e = &body["errors"][0]["extensions"];
    (
        e["code"].as_str().unwrap_or("-"),
        e["field"].as_str().unwrap_or("-"),
    )
}

#[tokio::test]
async fn a_nul_byte_is_refused_in_every_kind_of_text_input() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // Arguments and filters, written in the document and sent as variables.
    let cases: Vec<(&str, Value, &str)> = vec![
        (r#"{ agency(code: "so-y-te\u0000") { name } }"#, json!({}), "code"),
        (
            r#"{ tasks(filter: { agencyCode: "so-y-te\u0000" }) { totalCount } }"#,
            json!({}),
            "filter.agencyCode",
        ),
        (
            r#"{ tasks(filter: { directiveNumber: "10/CT-UBND\u0000" }) { totalCount } }"#,
            json!({}),
            "filter.directiveNumber",
        ),
        (
            r#"{ tasks(filter: { search: "ke\u0000hoach" }) { totalCount } }"#,
            json!({}),
            "filter.search",
        ),
        (
            "query($c: [String!]) { indicators(filter: { codes: $c }) { totalCount } }",
            json!({ "c": ["2025.09", "2025.18\u{0}"] }),
            "filter.codes[1]",
        ),
        (
            "query($a: String) { auditLog(filter: { actor: $a }) { totalCount } }",
            json!({ "a": "test\u{0}" }),
            "filter.actor",
        ),
        (
            r#"{ directive(number: "10/CT\u001b[31m") { title } }"#,
            json!({}),
            "number",
        ),
    ];
    for (q, vars, field) in cases {
        let body = admin.gql(q, vars).await;
        assert_eq!(first(&body), ("BAD_USER_INPUT", field), "{q}: {body}");
        assert!(
            body["data"].is_null() || body.get("data").is_none(),
            "{q}: nothing ran: {body}"
        );
        no_database_text(&body);
    }
    // A token whose agency claim holds a NUL is refused as unknown (401), not an error of ours.
    let token = api::auth::jwt::sign(
        crate::helpers::SECRET,
        "x",
        Role::Agency,
        Some("so-y-te\u{0}"),
        std::time::Duration::from_secs(600),
        None,
        None,
    )
    .expect("sign");
    let res = app.with_token(token).send("{ me { role } }", json!({})).await;
    assert_eq!(res.status().as_u16(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(first(&body).0, "UNAUTHENTICATED", "{body}");
    no_database_text(&body);
}

#[tokio::test]
async fn a_report_of_control_or_invisible_characters_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let stc = app.agency("so-tai-chinh");
    let d = stc
        .data(
            "{ me { agency { assignments(first: 1, filter: { open: true }) { nodes { id } } } } }",
            json!({}),
        )
        .await;
    let assignment = d["me"]["agency"]["assignments"]["nodes"][0]["id"].clone();
    let submit = r#"mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { progressReport { id } } }"#;
    for (summary, why) in [
        ("a\u{0}b", "NUL"),
        ("\u{200B}\u{FEFF}\u{2060}", "only zero-width characters"),
        ("\u{7}\u{8}", "control characters"),
        ("  \u{00AD} ", "a soft hyphen and spaces"),
    ] {
        let body = stc
            .gql(
                submit,
                json!({ "i": { "assignmentId": assignment, "period": "2026Q4", "percentComplete": 10, "summary": summary } }),
            )
            .await;
        assert_eq!(first(&body), ("BAD_USER_INPUT", "input.summary"), "{why}: {body}");
        no_database_text(&body);
    }
    let n = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(n["progressReports"]["totalCount"], 0);
    assert_eq!(api_audit_len(&app).await, 0);
    // Text pasted decomposed (NFD) is kept composed.
    let ok = stc
        .data(
            submit,
            json!({ "i": { "assignmentId": assignment, "period": "2026Q4", "percentComplete": 10,
                           "summary": "Quy\u{0301} IV\r\nđã xong" } }),
        )
        .await;
    let id = ok["submitProgressReport"]["progressReport"]["id"].clone();
    let r = stc
        .data(
            "query($id: ID!) { node(id: $id) { ... on ProgressReport { summary } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["node"]["summary"], "Qu\u{00fd} IV\nđã xong");
}

#[tokio::test]
async fn dates_outside_1900_to_2100_and_loose_decimals_are_refused_before_any_write() {
    let app = TestApp::spawn_with_seeds(seeds_before_the_khdt_merger()).await;
    let admin = app.admin();
    let merge = r#"mutation($d: Date!) { mergeAgencies(input: { dissolvedAgencyCodes: ["so-ke-hoach-dau-tu"],
        successorCode: "so-tai-chinh", effectiveOn: $d }) { movedAssignments } }"#;
    for day in ["-262143-01-01", "0001-01-01", "1899-12-31"] {
        let body = admin.gql(merge, json!({ "d": day })).await;
        assert_eq!(
            first(&body),
            ("BAD_USER_INPUT", "input.effectiveOn"),
            "{day}: {body}"
        );
        no_database_text(&body);
    }
    // Half of nothing: the agency is still active and holds its tasks.
    let a = admin
        .data(
            r#"{ agency(code: "so-ke-hoach-dau-tu") { active validTo assignments { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(a["agency"]["active"], true, "{a}");
    assert!(a["agency"]["assignments"]["totalCount"].as_i64() > Some(0), "{a}");
    assert_eq!(api_audit_len(&app).await, 0);

    let create = r#"mutation($d: Date) { createDirective(input: { code: "ngay-sai", kind: CONG_VAN, title: "T", issuedOn: $d }) { directive { id } } }"#;
    for day in ["0001-01-01", "9999-12-31", "2101-01-01"] {
        let body = admin.gql(create, json!({ "d": day })).await;
        assert_eq!(
            first(&body),
            ("BAD_USER_INPUT", "input.issuedOn"),
            "{day}: {body}"
        );
    }
    let task = admin
        .data(
            "{ tasks(first: 1, filter: { overdue: true }) { nodes { id } } }",
            json!({}),
        )
        .await;
    let task = task["tasks"]["nodes"][0]["id"].clone();
    let extend = r#"mutation($t: ID!) { extendTaskDeadline(input: { taskId: $t, newDueOn: "9999-12-31", reason: "r" }) { task { id } } }"#;
    let body = admin.gql(extend, json!({ "t": task })).await;
    assert_eq!(first(&body), ("BAD_USER_INPUT", "input.newDueOn"), "{body}");
    assert_eq!(api_audit_len(&app).await, 0);

    // "1_000" is not a thousand: a thousands separator is a mistake in a machine's number.
    let id = admin
        .data(r#"{ indicator(code: "2025.09") { id } }"#, json!({}))
        .await["indicator"]["id"]
        .clone();
    let record = r#"mutation($i: ID!, $v: Decimal!) { recordIndicatorValue(input: { indicatorId: $i, period: "2025Q1", value: $v, kind: ESTIMATE }) { indicatorValue { value } } }"#;
    let body = app.monitor().gql(record, json!({ "i": id, "v": "1_000" })).await;
    assert_eq!(first(&body), ("BAD_USER_INPUT", "input.value"), "{body}");
}
