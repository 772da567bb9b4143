//! Who may see and do what: every role against every root field, nested path and mutation.

use std::collections::BTreeSet;

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

/// The agency most tests act as: it succeeded Sở KH&ĐT on 1/3/2025.
const STC: &str = "so-tai-chinh";
/// Its predecessor, dissolved on 28/02/2025.
const KHDT: &str = "so-ke-hoach-dau-tu";
/// Another agency, whose tasks Sở Tài chính mostly does not share.
const YTE: &str = "so-y-te";

/// URL-safe base64 without padding (the encoding of global ids and of JWT parts).
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The global id of row `n` of `kind`, as the API encodes it.
fn gid(kind: &str, n: i64) -> String {
    b64url(format!("{kind}:{n}").as_bytes())
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string: {v}"))
        .to_owned()
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("expected a list: {v}"))
}

fn count(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("expected a number: {v}"))
}

/// The first error of a response: (code, message).
fn first_error(body: &Value) -> (String, String) {
    let e = &body["errors"][0];
    assert!(e.is_object(), "expected an error: {body:#}");
    (text(&e["extensions"]["code"]), text(&e["message"]))
}

/// A task as the administrator sees it.
#[derive(Debug, Clone)]
struct TaskRow {
    id: String,
    title: String,
    /// The directive's code, and its number when it has one.
    directive: String,
    directive_number: Option<String>,
    /// (assignment id, role, holder agency code).
    assignments: Vec<(String, String, String)>,
}

impl TaskRow {
    fn held_by_any(&self, agencies: &BTreeSet<String>) -> bool {
        self.assignments.iter().any(|(_, _, a)| agencies.contains(a))
    }
    fn lead_is(&self, agency: &str) -> bool {
        self.assignments
            .iter()
            .any(|(_, r, a)| r == "LEAD" && a == agency)
    }
}

/// Every task of the seed, read as the administrator.
async fn all_tasks(app: &TestApp) -> Vec<TaskRow> {
    let d = app
        .data(
            r#"{ tasks(first: 100) { totalCount nodes { id title directive { code number }
                assignments { id role agency { code } } } } }"#,
            json!({}),
        )
        .await;
    let rows: Vec<TaskRow> = list(&d["tasks"]["nodes"])
        .iter()
        .map(|t| TaskRow {
            id: text(&t["id"]),
            title: text(&t["title"]),
            directive: text(&t["directive"]["code"]),
            directive_number: t["directive"]["number"].as_str().map(str::to_owned),
            assignments: list(&t["assignments"])
                .iter()
                .map(|a| (text(&a["id"]), text(&a["role"]), text(&a["agency"]["code"])))
                .collect(),
        })
        .collect();
    assert_eq!(
        count(&d["tasks"]["totalCount"]),
        rows.len() as i64,
        "one page holds every task"
    );
    rows
}

/// An agency and the agencies it succeeded (whose duties it carries), read as the admin.
async fn holders(app: &TestApp, code: &str) -> BTreeSet<String> {
    let d = app
        .data(
            "query($c: String!) { agency(code: $c) { code predecessors { agency { code } } } }",
            json!({ "c": code }),
        )
        .await;
    let mut set: BTreeSet<String> = list(&d["agency"]["predecessors"])
        .iter()
        .map(|p| text(&p["agency"]["code"]))
        .collect();
    set.insert(code.to_owned());
    set
}

/// The ids of the tasks `agency`'s token should see.
async fn visible_to(app: &TestApp, agency: &str) -> (Vec<TaskRow>, BTreeSet<String>) {
    let tasks = all_tasks(app).await;
    let holders = holders(app, agency).await;
    let visible = tasks
        .iter()
        .filter(|t| t.held_by_any(&holders))
        .map(|t| t.id.clone())
        .collect();
    (tasks, visible)
}

fn ids_of(nodes: &Value) -> BTreeSet<String> {
    list(nodes).iter().map(|n| text(&n["id"])).collect()
}

/// The audit log's length, as the administrator reads it.
async fn audit_len(app: &TestApp) -> i64 {
    let d = app.data("{ auditLog(first: 1) { totalCount } }", json!({})).await;
    count(&d["auditLog"]["totalCount"])
}

/// POSTs `{ me { role } }` with the raw `Authorization` header (none when `None`).
async fn post_with_header(app: &TestApp, authorization: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ me { role } }" }));
    if let Some(h) = authorization {
        req = req.header("Authorization", h);
    }
    let res = req.send().await.expect("send");
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, challenge, res.json().await.expect("json body"))
}

/// Asserts a 401 with exactly one UNAUTHENTICATED error, no data, and a message that does not
/// echo the credential; returns the message.
fn assert_refused(
    label: &str,
    (status, challenge, body): &(u16, Option<String>, Value),
    secret: &str,
) -> String {
    assert_eq!(*status, 401, "{label}: status, body {body:#}");
    assert!(
        challenge.as_deref().is_some_and(|c| c.starts_with("Bearer")),
        "{label}: WWW-Authenticate {challenge:?}"
    );
    assert!(
        body.get("data").is_none(),
        "{label}: no data on a refused token: {body:#}"
    );
    let errors = list(&body["errors"]);
    assert_eq!(errors.len(), 1, "{label}: one error: {body:#}");
    assert_eq!(
        errors[0]["extensions"]["code"], "UNAUTHENTICATED",
        "{label}: {body:#}"
    );
    let message = text(&errors[0]["message"]);
    assert!(!message.trim().is_empty(), "{label}: the message says why");
    if !secret.is_empty() {
        assert!(
            !message.contains(secret),
            "{label}: the message echoes the token: {message}"
        );
    }
    message
}

#[tokio::test]
async fn refused_credentials_get_401_unauthenticated_without_echoing_the_token() {
    let app = TestApp::spawn().await;
    let viewer = token(Role::Viewer, None);
    let mut parts = viewer.split('.');
    let (header, _, signature) = (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    );
    let exp = chrono::Utc::now().timestamp() + 3600;
    let admin_claims = b64url(
        json!({ "sub": "mallory", "role": "admin", "exp": exp })
            .to_string()
            .as_bytes(),
    );
    // A viewer's signature under an admin's claims.
    let tampered = format!("{header}.{admin_claims}.{signature}");
    // No signature at all.
    let unsigned = format!(
        "{}.{admin_claims}.",
        b64url(json!({ "alg": "none", "typ": "JWT" }).to_string().as_bytes())
    );
    let other_key = api::auth::jwt::sign(
        "another-secret-of-at-least-32-bytes!!",
        "mallory",
        Role::Admin,
        None,
        std::time::Duration::from_secs(3600),
        None,
        None,
    )
    .expect("sign");
    let garbage = "not-a-jwt-at-all.xyz".to_owned();

    // (label, Authorization header, the secret part that must not be echoed, a word of the reason)
    let cases: Vec<(&str, Option<String>, String, &str)> = vec![
        ("no header", None, String::new(), "Authorization"),
        (
            "basic scheme",
            Some(format!("Basic {viewer}")),
            viewer.clone(),
            "Bearer",
        ),
        ("empty bearer", Some("Bearer ".into()), String::new(), "Bearer"),
        (
            "garbage",
            Some(format!("Bearer {garbage}")),
            garbage.clone(),
            "JWT",
        ),
        (
            "other key",
            Some(format!("Bearer {other_key}")),
            other_key.clone(),
            "Chữ ký",
        ),
        (
            "tampered claims",
            Some(format!("Bearer {tampered}")),
            tampered.clone(),
            "Chữ ký",
        ),
        (
            "alg none",
            Some(format!("Bearer {unsigned}")),
            unsigned.clone(),
            "JWT",
        ),
    ];
    for (label, header, secret, reason) in &cases {
        let res = post_with_header(&app, header.as_deref()).await;
        let message = assert_refused(label, &res, secret);
        assert!(
            message.contains(reason),
            "{label}: message should say why ({reason}): {message}"
        );
    }

    // GET (queries by GET) is guarded the same way.
    let res = app
        .client
        .get(format!(
            "{}/graphql?query=%7B%20me%20%7B%20role%20%7D%20%7D",
            app.address
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // The control: the same request with the good token is answered.
    let ok = post_with_header(&app, Some(&format!("Bearer {viewer}"))).await;
    assert_eq!(ok.0, 200, "{:#}", ok.2);
    assert_eq!(ok.2["data"]["me"]["role"], "VIEWER");
}

#[tokio::test]
async fn agency_tokens_for_unknown_or_dissolved_agencies_are_refused() {
    let app = TestApp::spawn().await;
    let bearer = |t: &str| format!("Bearer {t}");

    let unknown = token(Role::Agency, Some("so-khong-ton-tai"));
    let res = post_with_header(&app, Some(&bearer(&unknown))).await;
    let message = assert_refused("unknown agency", &res, &unknown);
    assert!(message.contains("so-khong-ton-tai"), "names the code: {message}");

    let dissolved = token(Role::Agency, Some(KHDT));
    let res = post_with_header(&app, Some(&bearer(&dissolved))).await;
    let message = assert_refused("dissolved agency", &res, &dissolved);
    assert!(message.contains("Sở Tài chính"), "names the successor: {message}");
    assert!(message.contains(STC), "gives the successor's code: {message}");

    let without = token(Role::Agency, None);
    let res = post_with_header(&app, Some(&bearer(&without))).await;
    let message = assert_refused("agency token without agency", &res, &without);
    assert!(message.contains("agency"), "{message}");

    // The successor's token is accepted.
    let ok = post_with_header(&app, Some(&bearer(&token(Role::Agency, Some(STC))))).await;
    assert_eq!(ok.0, 200, "{:#}", ok.2);
    assert_eq!(ok.2["data"]["me"]["role"], "AGENCY");
}

#[tokio::test]
async fn me_reflects_the_token() {
    let app = TestApp::spawn().await;
    let cases = [
        (Role::Admin, None, "ADMIN"),
        (Role::Monitor, None, "MONITOR"),
        (Role::Agency, Some(STC), "AGENCY"),
        (Role::Agency, Some(YTE), "AGENCY"),
        (Role::Viewer, None, "VIEWER"),
        (Role::Analyst, None, "ANALYST"),
    ];
    for (role, agency, name) in cases {
        let d = app
            .data_as(
                &token(role, agency),
                "{ me { role subject agency { code } } }",
                json!({}),
            )
            .await;
        let subject = format!(
            "test-{}{}",
            role.as_str(),
            agency.map(|a| format!("-{a}")).unwrap_or_default()
        );
        let expected_agency = match agency {
            Some(code) => json!({ "code": code }),
            None => Value::Null,
        };
        assert_eq!(
            d["me"],
            json!({ "role": name, "subject": subject, "agency": expected_agency }),
            "{name} {agency:?}"
        );
    }
}

/// What a role gets from a query.
#[derive(Debug, Clone, Copy)]
enum Exp {
    /// Data, no errors.
    Ok,
    /// Data, no errors, and the same data as the administrator gets.
    Same,
    /// An error with this code.
    Err(&'static str),
}

#[tokio::test]
async fn read_matrix_by_role() {
    use Exp::{Err, Ok, Same};
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let task = tasks
        .iter()
        .find(|t| visible.contains(&t.id))
        .expect("a task of Sở Tài chính");
    let indicator = app
        .data(
            r#"{ indicators(first: 100) { nodes { code responsibleAgency { code } } } }"#,
            json!({}),
        )
        .await;
    let indicator = list(&indicator["indicators"]["nodes"])
        .iter()
        .find(|i| i["responsibleAgency"]["code"] == STC)
        .map(|i| text(&i["code"]))
        .expect("an indicator of Sở Tài chính");
    let vars = json!({ "t": task.id, "i": indicator });

    // Columns: admin, monitor, agency (Sở Tài chính), viewer, analyst.
    let matrix: Vec<(&str, &str, [Exp; 5])> = vec![
        ("me", "{ me { role } }", [Ok, Ok, Ok, Ok, Ok]),
        (
            "agencies",
            "{ agencies(first: 100) { totalCount nodes { code } } }",
            [Ok, Same, Same, Same, Same],
        ),
        (
            "directives",
            "{ directives { totalCount nodes { number } } }",
            [Ok, Same, Ok, Same, Same],
        ),
        (
            "indicators",
            "{ indicators(first: 100) { totalCount nodes { code } } }",
            [Ok, Same, Ok, Same, Same],
        ),
        (
            "indicator(code)",
            "query($i: String!) { indicator(code: $i) { code target } }",
            [Ok, Same, Same, Same, Same],
        ),
        (
            "taskStatistics",
            "{ taskStatistics(asOf: \"2025-06-30\") { total counts { inProgressOverdue completedOnTime } } }",
            [Ok, Same, Ok, Same, Same],
        ),
        (
            "tasks",
            "{ tasks(first: 100) { totalCount nodes { id } } }",
            [Ok, Same, Ok, Same, Err("FORBIDDEN")],
        ),
        (
            "task(id)",
            "query($t: ID!) { task(id: $t) { id code title assignments { role agency { code } } } }",
            [Ok, Same, Same, Same, Err("FORBIDDEN")],
        ),
        (
            "node(task)",
            "query($t: ID!) { node(id: $t) { id ... on Task { code } } }",
            [Ok, Same, Same, Same, Err("FORBIDDEN")],
        ),
        (
            "progressReports",
            "{ progressReports(first: 10) { totalCount } }",
            [Ok, Same, Ok, Same, Err("FORBIDDEN")],
        ),
        (
            "directive.tasks",
            r#"{ directive(number: "10/CT-UBND") { number tasks(first: 100) { totalCount nodes { id } } } }"#,
            [Ok, Same, Ok, Same, Err("FORBIDDEN")],
        ),
        (
            "agency.assignments",
            r#"{ agency(code: "so-tai-chinh") { assignments(first: 100) { totalCount nodes { id } } } }"#,
            [Ok, Same, Same, Same, Err("FORBIDDEN")],
        ),
        (
            "indicator.responsibleAgency.assignments",
            "query($i: String!) { indicator(code: $i) { responsibleAgency { assignments { totalCount } } } }",
            [Ok, Same, Same, Same, Err("FORBIDDEN")],
        ),
        (
            "auditLog",
            "{ auditLog(first: 5) { totalCount } }",
            [
                Ok,
                Err("FORBIDDEN"),
                Err("FORBIDDEN"),
                Err("FORBIDDEN"),
                Err("FORBIDDEN"),
            ],
        ),
    ];
    let tokens = [
        token(Role::Admin, None),
        token(Role::Monitor, None),
        token(Role::Agency, Some(STC)),
        token(Role::Viewer, None),
        token(Role::Analyst, None),
    ];
    let names = ["admin", "monitor", "agency", "viewer", "analyst"];
    let mut failures = Vec::new();
    for (label, query, expected) in &matrix {
        let admin = app.gql_as(&tokens[0], query, vars.clone()).await;
        for ((tok, name), exp) in tokens.iter().zip(names).zip(expected) {
            let body = app.gql_as(tok, query, vars.clone()).await;
            let got_error = body.get("errors").map(|_| first_error(&body));
            let ok = match (exp, &got_error) {
                (Ok, None) => body["data"].is_object(),
                (Same, None) => body["data"] == admin["data"],
                (Err(code), Some((c, _))) => c == code,
                _ => false,
            };
            if !ok {
                failures.push(format!("{label} as {name}: expected {exp:?}, got {body}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Rows the province-wide readers see are every row, not an empty page that merely
    // matches: the administrator's counts are the whole seed.
    let d = app.data("{ tasks { totalCount } }", json!({})).await;
    assert_eq!(count(&d["tasks"]["totalCount"]), tasks.len() as i64);
    assert!(
        tasks.len() > visible.len(),
        "Sở Tài chính sees fewer tasks than the administrator"
    );
}

#[tokio::test]
async fn analyst_counts_every_task_but_reads_no_rows() {
    let app = TestApp::spawn().await;
    let analyst = token(Role::Analyst, None);
    let tasks = all_tasks(&app).await;
    let stats = r#"{ taskStatistics(asOf: "2025-09-30", groupBy: [DIRECTIVE]) {
        total counts { completedOnTime inProgressOnTime inProgressOverdue inProgressNoDeadline fallenDue }
        groups { directive { number } total } } }"#;
    let mine = app.data_as(&analyst, stats, json!({})).await;
    let admins = app.data(stats, json!({})).await;
    assert_eq!(
        count(&mine["taskStatistics"]["total"]),
        tasks.len() as i64,
        "counts over all tasks"
    );
    assert_eq!(mine, admins, "the analyst's aggregates are the administrator's");

    let d = app
        .data_as(&analyst, "{ indicators(first: 100) { totalCount } }", json!({}))
        .await;
    let all = app
        .data("{ indicators(first: 100) { totalCount } }", json!({}))
        .await;
    assert!(count(&all["indicators"]["totalCount"]) > 0);
    assert_eq!(d, all, "every indicator");

    // Rows are refused, by whichever path.
    let task = &tasks[0];
    let (assignment, _, _) = task.assignments[0].clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("{ tasks { totalCount } }", json!({}), "FORBIDDEN"),
        (
            "query($t: ID!) { task(id: $t) { id } }",
            json!({ "t": task.id }),
            "FORBIDDEN",
        ),
        (
            "query($t: ID!) { node(id: $t) { id } }",
            json!({ "t": task.id }),
            "FORBIDDEN",
        ),
        (
            "query($a: ID!) { node(id: $a) { id } }",
            json!({ "a": assignment }),
            "FORBIDDEN",
        ),
        ("{ progressReports { totalCount } }", json!({}), "FORBIDDEN"),
        (
            r#"{ directive(number: "10/CT-UBND") { tasks { totalCount } } }"#,
            json!({}),
            "FORBIDDEN",
        ),
        (
            r#"{ directives { nodes { tasks(first: 1) { nodes { id } } } } }"#,
            json!({}),
            "FORBIDDEN",
        ),
        (
            r#"{ agency(code: "so-y-te") { assignments { totalCount } } }"#,
            json!({}),
            "FORBIDDEN",
        ),
        (
            r#"{ tasks(filter: { search: "ke hoach" }) { nodes { id } } }"#,
            json!({}),
            "FORBIDDEN",
        ),
    ];
    for (q, vars, code) in cases {
        let body = app.gql_as(&analyst, q, vars).await;
        assert_eq!(first_error(&body).0, code, "{q}: {body:#}");
        // No row slipped into the data alongside the error.
        let data = body["data"].to_string();
        assert!(!data.contains(task.id.as_str()), "{q}: {data}");
    }
}

/// Sở Tài chính's lead assignment on a task only it leads.
fn own_lead(tasks: &[TaskRow], visible: &BTreeSet<String>) -> (String, String) {
    tasks
        .iter()
        .filter(|t| visible.contains(&t.id))
        .find_map(|t| {
            t.assignments
                .iter()
                .find(|(_, r, a)| r == "LEAD" && a == STC)
                .map(|(id, _, _)| (id.clone(), t.id.clone()))
        })
        .expect("a lead assignment of Sở Tài chính")
}

#[tokio::test]
async fn internal_notes_and_drafts_are_not_shown_to_viewers() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let (assignment, task_id) = own_lead(&tasks, &visible);
    let stc = token(Role::Agency, Some(STC));
    let submit = r#"mutation($input: SubmitProgressReportInput!) {
        submitProgressReport(input: $input) { progressReport { id state } } }"#;
    let input = |submit: bool, summary: &str| {
        json!({ "input": {
            "assignmentId": assignment, "period": "2025Q4", "percentComplete": 40,
            "summary": summary, "obstacles": "Thiếu kinh phí", "proposals": "Bổ sung dự toán",
            "submit": submit } })
    };
    let sent = app.data_as(&stc, submit, input(true, "Đã gửi")).await;
    let sent = text(&sent["submitProgressReport"]["progressReport"]["id"]);
    let draft = app.data_as(&stc, submit, input(false, "Bản nháp")).await;
    let draft = text(&draft["submitProgressReport"]["progressReport"]["id"]);
    // The monitoring office returns the submitted one with a comment.
    let monitor = token(Role::Monitor, None);
    app.data_as(
        &monitor,
        r#"mutation($id: ID!) { reviewProgressReport(input: { id: $id, decision: RETURN,
            comment: "Bổ sung số liệu" }) { progressReport { state } } }"#,
        json!({ "id": sent }),
    )
    .await;

    let viewer = token(Role::Viewer, None);
    // Public fields of submitted reports: yes, drafts: no.
    let d = app
        .data_as(
            &viewer,
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
        let body = app.gql_as(&viewer, q, vars.clone()).await;
        assert_eq!(first_error(&body).0, "FORBIDDEN", "viewer {label}: {body:#}");
        let data = body["data"].to_string();
        for secret in ["Thiếu kinh phí", "Bổ sung dự toán", "Bổ sung số liệu"] {
            assert!(!data.contains(secret), "viewer {label} leaks {secret}: {data}");
        }
    }
    // The monitoring office reads them (and the control that the query itself is sound).
    let d = app
        .data_as(
            &monitor,
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
    for (who, tok, expected) in [
        ("viewer", &viewer, Some("NOT_FOUND")),
        ("monitor", &monitor, Some("NOT_FOUND")),
        ("analyst", &token(Role::Analyst, None), Some("FORBIDDEN")),
        ("other agency", &token(Role::Agency, Some(YTE)), Some("NOT_FOUND")),
        ("own agency", &stc, None),
        ("admin", &app.admin, None),
    ] {
        let body = app.gql_as(tok, q, json!({ "r": draft })).await;
        match expected {
            Some(code) => assert_eq!(first_error(&body).0, code, "{who}: {body:#}"),
            None => assert_eq!(body["data"]["node"]["id"], draft.as_str(), "{who}: {body:#}"),
        }
    }
    let drafts = "query($t: ID!) { progressReports(filter: { state: [DRAFT] }) { totalCount }
        task(id: $t) { reports { totalCount } } }";
    for (who, tok, n) in [
        ("viewer", &viewer, 0),
        ("monitor", &monitor, 0),
        ("own agency", &stc, 1),
    ] {
        let d = app.data_as(tok, drafts, json!({ "t": task_id })).await;
        assert_eq!(count(&d["progressReports"]["totalCount"]), n, "{who}: drafts");
        assert_eq!(
            count(&d["task"]["reports"]["totalCount"]),
            1 + n,
            "{who}: task.reports"
        );
    }
    let reports = "{ progressReports { totalCount } }";
    for (who, tok, n) in [
        ("monitor", &monitor, 1),
        ("own agency", &stc, 2),
        ("admin", &app.admin, 2),
        ("other agency", &token(Role::Agency, Some(YTE)), 0),
    ] {
        let d = app.data_as(tok, reports, json!({})).await;
        assert_eq!(count(&d["progressReports"]["totalCount"]), n, "{who}");
    }
}

#[tokio::test]
async fn task_by_id_with_its_agencies_in_one_statement_matches_the_separate_loaders() {
    // `task(id)` asking for leads, coordinators or assignments reads the task, its directive
    // and its assignments in one joined statement; `node(id)` reads them with the separate
    // loaders. Both must give the same answer for every task, as the administrator and as an
    // agency (whose invisible tasks are NOT_FOUND either way, and whose assignment scope is
    // part of the join).
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let fields = "code dueOn status directive { number } leads { code } coordinators { code }
        assignments { id role agency { code name } originalAgency { code } }";
    let by_task = format!("query($id: ID!) {{ task(id: $id) {{ {fields} }} }}");
    let by_node = format!("query($id: ID!) {{ node(id: $id) {{ ... on Task {{ {fields} }} }} }}");
    let stc = token(Role::Agency, Some(STC));
    for (who, bearer) in [("admin", app.admin.clone()), ("agency", stc)] {
        let mut compared = 0;
        for t in &tasks {
            let vars = json!({ "id": t.id });
            let one = app.gql_as(&bearer, &by_task, vars.clone()).await;
            let two = app.gql_as(&bearer, &by_node, vars).await;
            if who == "agency" && !visible.contains(&t.id) {
                assert_eq!(
                    one["errors"][0]["extensions"]["code"], "NOT_FOUND",
                    "{who} {}: {one}",
                    t.id
                );
                assert_eq!(
                    two["errors"][0]["extensions"]["code"], "NOT_FOUND",
                    "{who} {}: {two}",
                    t.id
                );
                continue;
            }
            assert!(one["errors"].is_null(), "{who} {}: {one}", t.id);
            assert_eq!(one["data"]["task"], two["data"]["node"], "{who}, task {}", t.id);
            compared += 1;
        }
        assert!(compared > 0, "{who} compared some tasks");
    }
}

#[tokio::test]
async fn an_agency_sees_the_same_tasks_through_every_path() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let holders = holders(&app, STC).await;
    assert!(
        holders.contains(KHDT),
        "Sở Tài chính succeeded Sở KH&ĐT: {holders:?}"
    );
    // Some of what it sees came from Sở KH&ĐT (Chỉ thị 10 named it).
    let in_10 = tasks
        .iter()
        .filter(|t| visible.contains(&t.id) && t.directive_number.as_deref() == Some("10/CT-UBND"))
        .count() as i64;
    assert!(in_10 > 0 && (visible.len() as i64) < tasks.len() as i64);
    let stc = token(Role::Agency, Some(STC));

    let d = app
        .data_as(
            &stc,
            r#"{ tasks(first: 100) { totalCount nodes { id } }
                 taskStatistics { total }
                 directive(number: "10/CT-UBND") { tasks(first: 100) { totalCount } }
                 agency(code: "so-tai-chinh") { assignments(first: 100) { nodes { task { id } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(ids_of(&d["tasks"]["nodes"]), visible, "tasks");
    assert_eq!(
        count(&d["tasks"]["totalCount"]),
        visible.len() as i64,
        "tasks.totalCount"
    );
    assert_eq!(
        count(&d["taskStatistics"]["total"]),
        visible.len() as i64,
        "taskStatistics.total"
    );
    assert_eq!(
        count(&d["directive"]["tasks"]["totalCount"]),
        in_10,
        "directive.tasks"
    );
    let own: BTreeSet<String> = list(&d["agency"]["assignments"]["nodes"])
        .iter()
        .map(|a| text(&a["task"]["id"]))
        .collect();
    assert_eq!(own, visible, "its own assignments cover exactly what it sees");

    // The same through nested lists, which load in batches across parents.
    let d = app
        .data_as(
            &stc,
            r#"{ directives { nodes { tasks(first: 100) { totalCount nodes { id } } } }
                 agencies(first: 100) { nodes { assignments(first: 100) { totalCount nodes { id task { id } } } } } }"#,
            json!({}),
        )
        .await;
    let mut via_directives = BTreeSet::new();
    for dir in list(&d["directives"]["nodes"]) {
        let ids = ids_of(&dir["tasks"]["nodes"]);
        assert_eq!(count(&dir["tasks"]["totalCount"]), ids.len() as i64);
        via_directives.extend(ids);
    }
    assert_eq!(via_directives, visible, "directives.tasks");
    let expected: BTreeSet<String> = tasks
        .iter()
        .filter(|t| visible.contains(&t.id))
        .flat_map(|t| t.assignments.iter().map(|(id, _, _)| id.clone()))
        .collect();
    let mut via_agencies = BTreeSet::new();
    for a in list(&d["agencies"]["nodes"]) {
        let conn = &a["assignments"];
        assert_eq!(count(&conn["totalCount"]), list(&conn["nodes"]).len() as i64);
        for n in list(&conn["nodes"]) {
            assert!(
                visible.contains(&text(&n["task"]["id"])),
                "agencies.assignments leaks {n}"
            );
            via_agencies.insert(text(&n["id"]));
        }
    }
    assert_eq!(
        via_agencies, expected,
        "agencies.assignments: every assignment of its tasks"
    );

    // Search: what the administrator finds, within what the agency sees.
    for words in ["ke hoach", "ngân sách", "dau tu cong", "bao cao"] {
        let q =
            "query($s: String!) { tasks(first: 100, filter: { search: $s }) { totalCount nodes { id } } }";
        let all = app.data(q, json!({ "s": words })).await;
        let all = ids_of(&all["tasks"]["nodes"]);
        let mine = app.data_as(&stc, q, json!({ "s": words })).await;
        let expected: BTreeSet<String> = all.intersection(&visible).cloned().collect();
        assert_eq!(ids_of(&mine["tasks"]["nodes"]), expected, "search {words}");
        assert_eq!(
            count(&mine["tasks"]["totalCount"]),
            expected.len() as i64,
            "search {words}"
        );
        let stats = app
            .data_as(
                &stc,
                "query($s: String!) { taskStatistics(filter: { search: $s }) { total } }",
                json!({ "s": words }),
            )
            .await;
        assert_eq!(
            count(&stats["taskStatistics"]["total"]),
            expected.len() as i64,
            "stats {words}"
        );
    }

    // Directives: those that gave it a task.
    let expected: BTreeSet<String> = tasks
        .iter()
        .filter(|t| visible.contains(&t.id))
        .map(|t| t.directive.clone())
        .collect();
    let d = app
        .data_as(&stc, "{ directives { nodes { code } } }", json!({}))
        .await;
    let got: BTreeSet<String> = list(&d["directives"]["nodes"])
        .iter()
        .map(|n| text(&n["code"]))
        .collect();
    assert_eq!(got, expected);

    // Per-agency statistics of an agency token show its own rows only.
    let d = app
        .data_as(
            &stc,
            "{ taskStatistics(groupBy: [AGENCY]) { groups { agency { code } total } } }",
            json!({}),
        )
        .await;
    let groups = list(&d["taskStatistics"]["groups"]);
    assert!(!groups.is_empty());
    for g in groups {
        let code = text(&g["agency"]["code"]);
        assert!(holders.contains(&code), "statistics of another agency leak: {g}");
    }
}

#[tokio::test]
async fn another_agencys_task_is_not_found_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let hidden = tasks
        .iter()
        .find(|t| !visible.contains(&t.id) && t.lead_is(YTE))
        .expect("a task of Sở Y tế that Sở Tài chính has no part in");
    // The id encoding used below for made-up ids is the API's.
    assert!(
        (1..=1000).any(|n| gid("Task", n) == hidden.id),
        "global ids are base64url(\"Task:<n>\")"
    );
    let missing_task = gid("Task", 999_999);
    let (hidden_assignment, _, _) = hidden.assignments[0].clone();
    let missing_assignment = gid("Assignment", 999_999);
    let stc = token(Role::Agency, Some(STC));
    let yte = token(Role::Agency, Some(YTE));

    // Control: Sở Y tế and the administrator do see it.
    for tok in [&yte, &app.admin] {
        let d = app
            .data_as(
                tok,
                "query($t: ID!) { task(id: $t) { id } }",
                json!({ "t": hidden.id }),
            )
            .await;
        assert_eq!(d["task"]["id"], hidden.id.as_str());
    }

    let cases = [
        (
            "task(id)",
            "query($id: ID!) { task(id: $id) { id title } }",
            &hidden.id,
            &missing_task,
        ),
        (
            "node(task)",
            "query($id: ID!) { node(id: $id) { id } }",
            &hidden.id,
            &missing_task,
        ),
        (
            "node(assignment)",
            "query($id: ID!) { node(id: $id) { id ... on Assignment { task { title } } } }",
            &hidden_assignment,
            &missing_assignment,
        ),
        (
            "progressReports(taskId)",
            "query($id: ID!) { progressReports(filter: { taskId: $id }) { totalCount } }",
            &hidden.id,
            &missing_task,
        ),
    ];
    for (label, q, hidden_id, missing_id) in cases {
        let a = app.gql_as(&stc, q, json!({ "id": hidden_id })).await;
        let b = app.gql_as(&stc, q, json!({ "id": missing_id })).await;
        assert!(
            !a.to_string().contains(&hidden.title),
            "{label} leaks the title: {a}"
        );
        if label.starts_with("progressReports") {
            // A list: empty either way, with the same shape.
            assert_eq!(a, b, "{label}");
            assert_eq!(a["data"]["progressReports"]["totalCount"], 0, "{label}: {a}");
            continue;
        }
        let (code_a, msg_a) = first_error(&a);
        let (code_b, msg_b) = first_error(&b);
        assert_eq!(code_a, "NOT_FOUND", "{label} of a hidden row: {a:#}");
        assert_eq!(
            (code_a, msg_a),
            (code_b, msg_b),
            "{label}: hidden and missing read the same"
        );
        assert_eq!(a["data"], b["data"], "{label}");
    }

    // Search by its own words: the administrator finds it, Sở Tài chính does not.
    let q = "query($s: String!) { tasks(first: 100, filter: { search: $s }) { nodes { id } } }";
    let found = app.data(q, json!({ "s": hidden.title })).await;
    assert!(
        ids_of(&found["tasks"]["nodes"]).contains(&hidden.id),
        "control: the title finds it"
    );
    let found = app.data_as(&stc, q, json!({ "s": hidden.title })).await;
    assert!(!ids_of(&found["tasks"]["nodes"]).contains(&hidden.id));
    // Nor through a filter naming its lead.
    let found = app
        .data_as(
            &stc,
            "{ tasks(first: 100, filter: { agencyCode: \"so-y-te\" }) { nodes { id } } }",
            json!({}),
        )
        .await;
    let found = ids_of(&found["tasks"]["nodes"]);
    assert!(
        found.is_subset(&visible),
        "filter by another agency stays within scope"
    );
    assert!(!found.contains(&hidden.id));

    // A directive that gave an agency no task is not found by that agency's token.
    let d = app
        .data(
            "{ directives { nodes { id code } } agencies(first: 100) { nodes { code } } }",
            json!({}),
        )
        .await;
    let directives: Vec<(String, String)> = list(&d["directives"]["nodes"])
        .iter()
        .map(|n| (text(&n["id"]), text(&n["code"])))
        .collect();
    let mut case = None;
    for code in list(&d["agencies"]["nodes"]).iter().map(|n| text(&n["code"])) {
        let hs = holders(&app, &code).await;
        let gave: BTreeSet<&String> = tasks
            .iter()
            .filter(|t| t.held_by_any(&hs))
            .map(|t| &t.directive)
            .collect();
        if gave.is_empty() {
            continue;
        }
        if let Some((id, _)) = directives.iter().find(|(_, c)| !gave.contains(c)) {
            case = Some((code, id.clone()));
            break;
        }
    }
    let (agency, directive) = case.expect("an agency that one directive gave no task");
    let tok = token(Role::Agency, Some(&agency));
    let missing = gid("Directive", 999_999);
    for q in [
        "query($d: ID!) { directive(id: $d) { code } }",
        "query($d: ID!) { node(id: $d) { ... on Directive { code } } }",
    ] {
        let a = app.gql_as(&tok, q, json!({ "d": directive })).await;
        let b = app.gql_as(&tok, q, json!({ "d": missing })).await;
        assert_eq!(first_error(&a).0, "NOT_FOUND", "{agency} {q}: {a:#}");
        assert_eq!(
            first_error(&a),
            first_error(&b),
            "{q}: hidden and missing read the same"
        );
    }
}

#[tokio::test]
async fn another_agencys_assignments_are_listed_only_on_shared_tasks() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let of_yte: Vec<(String, String)> = tasks
        .iter()
        .flat_map(|t| {
            t.assignments
                .iter()
                .filter(|(_, _, a)| a == YTE)
                .map(|(id, _, _)| (id.clone(), t.id.clone()))
        })
        .collect();
    let expected: BTreeSet<String> = of_yte
        .iter()
        .filter(|(_, task)| visible.contains(task))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        of_yte.len() > expected.len(),
        "Sở Y tế holds assignments Sở Tài chính does not share"
    );
    let q =
        r#"{ agency(code: "so-y-te") { assignments(first: 100) { totalCount nodes { id task { id } } } } }"#;

    let admin = app.data(q, json!({})).await;
    assert_eq!(
        count(&admin["agency"]["assignments"]["totalCount"]),
        of_yte.len() as i64
    );

    let d = app.data_as(&token(Role::Agency, Some(STC)), q, json!({})).await;
    let conn = &d["agency"]["assignments"];
    assert_eq!(ids_of(&conn["nodes"]), expected);
    assert_eq!(count(&conn["totalCount"]), expected.len() as i64);
    for n in list(&conn["nodes"]) {
        assert!(
            visible.contains(&text(&n["task"]["id"])),
            "assignment of a hidden task: {n}"
        );
    }
}

#[tokio::test]
async fn an_agency_sees_the_indicators_it_is_responsible_for() {
    let app = TestApp::spawn().await;
    let q = "{ indicators(first: 100) { totalCount nodes { id code responsibleAgency { code } } } }";
    let all = app.data(q, json!({})).await;
    let all = list(&all["indicators"]["nodes"]).clone();
    for agency in [STC, YTE] {
        let holders = holders(&app, agency).await;
        let expected: BTreeSet<String> = all
            .iter()
            .filter(|i| {
                i["responsibleAgency"]["code"]
                    .as_str()
                    .is_some_and(|c| holders.contains(c))
            })
            .map(|i| text(&i["code"]))
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < all.len(),
            "{agency}: {expected:?}"
        );
        let tok = token(Role::Agency, Some(agency));
        let d = app.data_as(&tok, q, json!({})).await;
        let got: BTreeSet<String> = list(&d["indicators"]["nodes"])
            .iter()
            .map(|i| text(&i["code"]))
            .collect();
        assert_eq!(got, expected, "{agency}");
        assert_eq!(
            count(&d["indicators"]["totalCount"]),
            expected.len() as i64,
            "{agency}"
        );

        // One it is not responsible for, by code: NOT_FOUND like an unknown code.
        let other = all
            .iter()
            .map(|i| text(&i["code"]))
            .find(|c| !expected.contains(c))
            .expect("another agency's indicator");
        let q1 = "query($c: String!) { indicator(code: $c) { code } }";
        let a = app.gql_as(&tok, q1, json!({ "c": other })).await;
        let b = app.gql_as(&tok, q1, json!({ "c": "9999.99" })).await;
        assert_eq!(first_error(&a).0, "NOT_FOUND", "{agency} reads {other}: {a:#}");
        assert_eq!(
            first_error(&a),
            first_error(&b),
            "hidden and missing read the same"
        );
        // And by id, through `indicator(id)` and `node(id)`.
        let other_id = all
            .iter()
            .find(|i| text(&i["code"]) == other)
            .map(|i| text(&i["id"]))
            .expect("id");
        let missing = gid("Indicator", 999_999);
        for q1 in [
            "query($i: ID!) { indicator(id: $i) { code } }",
            "query($i: ID!) { node(id: $i) { ... on Indicator { code } } }",
        ] {
            let a = app.gql_as(&tok, q1, json!({ "i": other_id })).await;
            let b = app.gql_as(&tok, q1, json!({ "i": missing })).await;
            assert_eq!(first_error(&a).0, "NOT_FOUND", "{agency} {q1}: {a:#}");
            assert_eq!(
                first_error(&a),
                first_error(&b),
                "{q1}: hidden and missing read the same"
            );
        }
    }
}

#[tokio::test]
async fn mutations_refused_by_role_write_nothing() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let (assignment, task_id) = own_lead(&tasks, &visible);
    let directive = app
        .data(r#"{ directive(number: "10/CT-UBND") { id } }"#, json!({}))
        .await;
    let directive = text(&directive["directive"]["id"]);
    let indicator = app
        .data(
            r#"{ indicators(first: 100) { nodes { id qualitative year responsibleAgency { code } } } }"#,
            json!({}),
        )
        .await;
    let indicator = list(&indicator["indicators"]["nodes"])
        .iter()
        .find(|i| i["responsibleAgency"]["code"] == STC && i["qualitative"] == false && i["year"] == 2025)
        .map(|i| text(&i["id"]))
        .expect("a quantitative 2025 indicator of Sở Tài chính");
    let report = gid("ProgressReport", 1);

    let before = audit_len(&app).await;
    let snapshot = r#"query($t: ID!) { directives { totalCount } task(id: $t) { title dueOn extensions { newDueOn } }
        agency(code: "so-y-te") { validTo } indicators(first: 100) { nodes { values { period } } }
        progressReports { totalCount } }"#;
    let state = app.data(snapshot, json!({ "t": task_id })).await;

    // (name, operation, input)
    let mutations: Vec<(&str, &str, Value)> = vec![
        (
            "submitProgressReport",
            "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { replayed } }",
            json!({ "assignmentId": assignment, "period": "2025Q4", "percentComplete": 10, "summary": "x" }),
        ),
        (
            "updateProgressReport",
            "mutation($i: UpdateProgressReportInput!) { updateProgressReport(input: $i) { progressReport { id } } }",
            json!({ "id": report, "version": 1, "summary": "x" }),
        ),
        (
            "reviewProgressReport",
            "mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { progressReport { id } } }",
            json!({ "id": report, "decision": "ACCEPT" }),
        ),
        (
            "extendTaskDeadline",
            "mutation($i: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $i) { task { id } } }",
            json!({ "taskId": task_id, "newDueOn": "2027-12-31", "reason": "Theo đề nghị của Sở" }),
        ),
        (
            "createDirective",
            "mutation($i: CreateDirectiveInput!) { createDirective(input: $i) { directive { id } } }",
            json!({ "code": "sec-test-1", "number": "98/CT-UBND", "kind": "CHI_THI", "title": "Thử" }),
        ),
        (
            "createTask",
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
            json!({ "directiveId": directive, "code": "SEC.1", "section": "II.9", "title": "Thử",
                    "fullText": "Thử", "leadAgencyCodes": [YTE] }),
        ),
        (
            "updateTask",
            "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } } }",
            json!({ "id": task_id, "title": "Đổi tên" }),
        ),
        (
            "recordIndicatorValue",
            "mutation($i: RecordIndicatorValueInput!) { recordIndicatorValue(input: $i) { indicator { id } } }",
            json!({ "indicatorId": indicator, "period": "2025Q3", "value": "1", "kind": "ESTIMATE" }),
        ),
        (
            "mergeAgencies",
            "mutation($i: MergeAgenciesInput!) { mergeAgencies(input: $i) { movedAssignments } }",
            json!({ "dissolvedAgencyCodes": [YTE], "successorCode": STC, "effectiveOn": "2026-01-01" }),
        ),
    ];
    let every: Vec<&str> = mutations.iter().map(|(n, _, _)| *n).collect();
    let refused: Vec<(&str, String, Vec<&str>)> = vec![
        ("viewer", token(Role::Viewer, None), every.clone()),
        ("analyst", token(Role::Analyst, None), every.clone()),
        (
            "agency",
            token(Role::Agency, Some(STC)),
            vec![
                "reviewProgressReport",
                "extendTaskDeadline",
                "createDirective",
                "createTask",
                "updateTask",
                "mergeAgencies",
            ],
        ),
        (
            "monitor",
            token(Role::Monitor, None),
            vec![
                "createDirective",
                "createTask",
                "updateTask",
                "mergeAgencies",
                "submitProgressReport",
                "updateProgressReport",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (who, tok, names) in &refused {
        for name in names {
            let (_, op, input) = mutations.iter().find(|(n, _, _)| n == name).expect("mutation");
            let body = app.gql_as(tok, op, json!({ "i": input })).await;
            let code = body["errors"][0]["extensions"]["code"].as_str().unwrap_or("none");
            if code != "FORBIDDEN" || !body["data"].is_null() {
                failures.push(format!("{who} {name}: {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "not refused:\n{}", failures.join("\n"));

    assert_eq!(
        audit_len(&app).await,
        before,
        "no audit entry from a refused mutation"
    );
    assert_eq!(
        app.data(snapshot, json!({ "t": task_id })).await,
        state,
        "nothing changed"
    );

    // The control: an allowed mutation does leave its entry.
    app.data(
        "mutation($i: CreateDirectiveInput!) { createDirective(input: $i) { directive { id } } }",
        json!({ "i": { "code": "sec-test-2", "number": "99/CT-UBND", "kind": "CHI_THI", "title": "Thử" } }),
    )
    .await;
    assert_eq!(audit_len(&app).await, before + 1);
}

#[tokio::test]
async fn reporting_on_someone_elses_assignment_does_not_leak() {
    let app = TestApp::spawn().await;
    let (tasks, visible) = visible_to(&app, STC).await;
    let holders = holders(&app, STC).await;
    let stc = token(Role::Agency, Some(STC));
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

    let body = app.gql_as(&stc, submit, input(&hidden)).await;
    let (code, message) = first_error(&body);
    assert_eq!(code, "NOT_FOUND", "hidden assignment: {body:#}");
    let missing = app.gql_as(&stc, submit, input(&gid("Assignment", 999_999))).await;
    assert_eq!(
        first_error(&missing),
        (code, message),
        "hidden and missing read the same"
    );

    let body = app.gql_as(&stc, submit, input(&co_held)).await;
    assert_eq!(
        first_error(&body).0,
        "FORBIDDEN",
        "co-assignee's assignment on {shared}: {body:#}"
    );

    // Control: the same input on its own assignment is accepted, written as Sở Tài chính.
    assert_eq!(audit_len(&app).await, before, "refusals write nothing");
    let d = app.data_as(&stc, submit, input(&own)).await;
    assert_eq!(d["submitProgressReport"]["progressReport"]["agency"]["code"], STC);
    assert_eq!(audit_len(&app).await, before + 1);

    // The co-assignee's reports stay its own: Sở Y tế does not read Sở Tài chính's report.
    let yte = token(Role::Agency, Some(YTE));
    let d = app
        .data_as(&yte, "{ progressReports { totalCount } }", json!({}))
        .await;
    assert_eq!(count(&d["progressReports"]["totalCount"]), 0);

    // Another agency's draft: Sở Y tế cannot edit it, the monitor cannot review it; both are
    // told it does not exist, exactly as for a made-up id.
    let mut draft_input = input(&own);
    draft_input["i"]["submit"] = json!(false);
    draft_input["i"]["idempotencyKey"] = json!("sec-draft");
    let d = app.data_as(&stc, submit, draft_input).await;
    let draft = text(&d["submitProgressReport"]["progressReport"]["id"]);
    let missing = gid("ProgressReport", 999_999);
    let update = "mutation($i: UpdateProgressReportInput!) { updateProgressReport(input: $i) { progressReport { id } } }";
    let review = "mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { progressReport { id } } }";
    let monitor = token(Role::Monitor, None);
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
    for (label, tok, op, fields) in attempts {
        let with = |id: &str| {
            let mut i = fields.clone();
            i["id"] = json!(id);
            json!({ "i": i })
        };
        let a = app.gql_as(tok, op, with(&draft)).await;
        let b = app.gql_as(tok, op, with(&missing)).await;
        assert_eq!(first_error(&a).0, "NOT_FOUND", "{label}: {a:#}");
        assert_eq!(
            first_error(&a),
            first_error(&b),
            "{label}: hidden and missing read the same"
        );
    }
    assert_eq!(audit_len(&app).await, written, "refusals write nothing");
    let d = app
        .data_as(
            &stc,
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
    let body = app.gql_as(&stc, record, value(pick(YTE))).await;
    assert_eq!(
        first_error(&body).0,
        "NOT_FOUND",
        "another agency's indicator: {body:#}"
    );
    let d = app.data_as(&stc, record, value(pick(STC))).await;
    assert_eq!(d["recordIndicatorValue"]["indicatorValue"]["period"], "2025Q3");
}

#[tokio::test]
async fn mutations_are_refused_over_get() {
    let app = TestApp::spawn().await;
    let before = audit_len(&app).await;
    let mutation = r#"mutation { createDirective(input: { code: "qua-get", number: "97/CT-UBND", kind: CHI_THI, title: "Qua GET" }) { directive { id } } }"#;
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", mutation)])
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let body = res.text().await.expect("body");
    assert!(
        status == 405 || (status < 500 && body.contains("errors") && !body.contains("\"directive\"")),
        "CONTRACT.md: mutations only by POST; a mutation by GET must not run: {status} {body}"
    );
    assert_eq!(
        audit_len(&app).await,
        before,
        "nothing written by GET: {status} {body}"
    );
    let d = app
        .data(
            r#"{ directives(filter: { search: "qua get" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        count(&d["directives"]["totalCount"]),
        0,
        "no directive created by GET"
    );

    // The same query by GET is answered (the refusal is about mutations, not GET).
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ me { role } }")])
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("send");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["me"]["role"], "ADMIN", "{body:#}");
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
    let seen = app
        .data_as(&token(Role::Viewer, None), q, json!({ "id": extension }))
        .await;
    assert_eq!(
        seen["node"]["reason"], "Theo Văn bản số 1/UBND",
        "control: the viewer reads it"
    );
    let stc = token(Role::Agency, Some(STC));
    let a = app.gql_as(&stc, q, json!({ "id": extension })).await;
    let b = app
        .gql_as(&stc, q, json!({ "id": gid("DeadlineExtension", 999_999) }))
        .await;
    assert_eq!(first_error(&a).0, "NOT_FOUND", "{a:#}");
    assert_eq!(first_error(&a), first_error(&b));
    assert!(!a.to_string().contains("Theo Văn bản"), "{a}");
    let a = app
        .gql_as(&token(Role::Analyst, None), q, json!({ "id": extension }))
        .await;
    assert_eq!(first_error(&a).0, "FORBIDDEN", "{a:#}");
}
