//! Who is let in and what each role may do: refused and forged tokens (401), agency tokens of
//! unknown or dissolved agencies, `me`, the read matrix of every role, the analyst's
//! aggregates-only view, and mutations refused by role; the identity provider's keys fetched by
//! URL (a JWKS served by the test), and the secrets `serve` refuses; an agency token's lookup
//! kept until the agencies change.

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, audit_len, b64url, code_and_message, count, gid, list, text, token};
use crate::scope::{KHDT, STC, YTE, all_tasks, own_lead, visible_to};

/// POSTs `{ me { role } }` with the raw `Authorization` header (none when `None`).
async fn post_with_header(app: &TestApp, authorization: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = app.post("/graphql").json(&json!({ "query": "{ me { role } }" }));
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
            .with_token(token(role, agency))
            .data("{ me { role subject agency { code } } }", json!({}))
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
    let clients = [
        app.admin(),
        app.monitor(),
        app.agency(STC),
        app.viewer(),
        app.analyst(),
    ];
    let names = ["admin", "monitor", "agency", "viewer", "analyst"];
    let mut failures = Vec::new();
    for (label, query, expected) in &matrix {
        let admin = clients[0].gql(query, vars.clone()).await;
        for ((who, name), exp) in clients.iter().zip(names).zip(expected) {
            let body = who.gql(query, vars.clone()).await;
            let got_error = body.get("errors").map(|_| code_and_message(&body));
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
    let analyst = app.analyst();
    let tasks = all_tasks(&app).await;
    let stats = r#"{ taskStatistics(asOf: "2025-09-30", groupBy: [DIRECTIVE]) {
        total counts { completedOnTime inProgressOnTime inProgressOverdue inProgressNoDeadline fallenDue }
        groups { directive { number } total } } }"#;
    let mine = analyst.data(stats, json!({})).await;
    let admins = app.data(stats, json!({})).await;
    assert_eq!(
        count(&mine["taskStatistics"]["total"]),
        tasks.len() as i64,
        "counts over all tasks"
    );
    assert_eq!(mine, admins, "the analyst's aggregates are the administrator's");

    let d = analyst
        .data("{ indicators(first: 100) { totalCount } }", json!({}))
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
        let body = analyst.gql(q, vars).await;
        assert_eq!(code_and_message(&body).0, code, "{q}: {body:#}");
        // No row slipped into the data alongside the error.
        let data = body["data"].to_string();
        assert!(!data.contains(task.id.as_str()), "{q}: {data}");
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
        (
            "importDirective",
            "mutation($i: ImportDirectiveInput!) { importDirective(input: $i) { draft { code } } }",
            json!({ "text": "II. NHIỆM VỤ\n\n1. Sở Y tế chủ trì thực hiện.", "dryRun": false }),
        ),
        (
            "publishDirectiveDraft",
            "mutation($i: PublishDirectiveDraftInput!) { publishDirectiveDraft(input: $i) { taskCount } }",
            json!({ "yaml": "directive:\n  code: sec-test-3\n  kind: CHI_THI\n  title: Thử\n  issuer: UBND tỉnh\ntasks: []\n" }),
        ),
    ];
    let every: Vec<&str> = mutations.iter().map(|(n, _, _)| *n).collect();
    let refused = vec![
        ("viewer", app.viewer(), every.clone()),
        ("analyst", app.analyst(), every.clone()),
        (
            "agency",
            app.agency(STC),
            vec![
                "reviewProgressReport",
                "extendTaskDeadline",
                "createDirective",
                "createTask",
                "updateTask",
                "mergeAgencies",
                "importDirective",
                "publishDirectiveDraft",
            ],
        ),
        (
            "monitor",
            app.monitor(),
            vec![
                "createDirective",
                "createTask",
                "updateTask",
                "mergeAgencies",
                "submitProgressReport",
                "updateProgressReport",
                "importDirective",
                "publishDirectiveDraft",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (who, client, names) in &refused {
        for name in names {
            let (_, op, input) = mutations.iter().find(|(n, _, _)| n == name).expect("mutation");
            let body = client.gql(op, json!({ "i": input })).await;
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

// --- Keys ------------------------------------------------------------------------------------

fn jwt_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
}

/// Serves `tests/fixtures/jwt/jwks.json` (RS256 `rsa-1`, ES256 `ec-1`) at `/jwks` on a free
/// port, as an identity provider would; returns its URL.
async fn serve_fixture_jwks() -> String {
    let body = std::fs::read_to_string(jwt_fixture("jwks.json")).expect("fixture");
    let app = axum::Router::new().route("/jwks", axum::routing::get(move || async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A token the identity provider would sign: RS256 with `rsa-1` or ES256 with `ec-1`.
fn provider_token(alg: jsonwebtoken::Algorithm, kid: &str, role: &str, agency: Option<&str>) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let pem = |f: &str| std::fs::read(jwt_fixture(f)).expect("fixture");
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem("rsa-private.pem")),
        _ => EncodingKey::from_ec_pem(&pem("ec-private.pem")),
    }
    .expect("private key");
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    let mut claims = json!({
        "sub": format!("sso-{role}"), "role": role,
        "exp": chrono::Utc::now().timestamp() + 600,
    });
    if let Some(code) = agency {
        claims["agency"] = json!(code);
    }
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

#[tokio::test]
async fn identity_provider_tokens_verify_against_keys_fetched_by_url() {
    use jsonwebtoken::Algorithm::{ES256, RS256};
    let url = serve_fixture_jwks().await;
    let app = TestApp::spawn_with(|s| s.jwt_jwks_url = Some(url)).await;
    let me = "{ me { role subject agency { code } } }";

    let agency = app
        .with_token(provider_token(RS256, "rsa-1", "agency", Some(STC)))
        .data(me, json!({}))
        .await;
    assert_eq!(
        agency["me"],
        json!({ "role": "AGENCY", "subject": "sso-agency", "agency": { "code": STC } })
    );
    let monitor = app
        .with_token(provider_token(ES256, "ec-1", "monitor", None))
        .data(me, json!({}))
        .await;
    assert_eq!(monitor["me"]["role"], "MONITOR");
    // JWT_SECRET's own tokens still verify beside the provider's.
    assert_eq!(app.viewer().data(me, json!({})).await["me"]["role"], "VIEWER");

    let bearer = |t: &str| format!("Bearer {t}");
    let unknown = provider_token(RS256, "rsa-1", "agency", Some("so-khong-ton-tai"));
    let message = assert_refused(
        "unknown agency",
        &post_with_header(&app, Some(&bearer(&unknown))).await,
        &unknown,
    );
    assert!(message.contains("so-khong-ton-tai"), "{message}");
    // A kid the provider never published (the refetch it causes finds nothing new).
    let stranger = provider_token(RS256, "rsa-2", "admin", None);
    let message = assert_refused(
        "unknown kid",
        &post_with_header(&app, Some(&bearer(&stranger))).await,
        &stranger,
    );
    assert!(message.contains("kid"), "{message}");

    let ready: Value = app
        .get("/readyz")
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(
        ready,
        json!({ "status": "ready", "database": "ok", "keys": "ok" })
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chidao_jwks_fetches_total{result=\"ok\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn with_the_provider_down_at_start_up_chidao_serves_but_refuses_its_tokens_and_is_not_ready() {
    // A port nothing listens on: connections are refused at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let app = TestApp::spawn_with(|s| s.jwt_jwks_url = Some(format!("http://127.0.0.1:{closed}/jwks"))).await;

    let t = provider_token(jsonwebtoken::Algorithm::RS256, "rsa-1", "admin", None);
    let message = assert_refused(
        "no keys yet",
        &post_with_header(&app, Some(&format!("Bearer {t}"))).await,
        &t,
    );
    assert!(
        message.contains("JWKS") && message.contains("thử lại"),
        "{message}"
    );
    // HS256 tokens do not depend on the provider.
    assert_eq!(
        app.viewer().data("{ me { role } }", json!({})).await["me"]["role"],
        "VIEWER"
    );

    let res = app.get("/readyz").send().await.expect("readyz");
    assert_eq!(res.status().as_u16(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body,
        json!({ "status": "unavailable", "database": "ok", "keys": "unavailable" })
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chidao_jwks_fetches_total{result=\"error\"}"),
        "{metrics}"
    );
}

// --- Secrets ---------------------------------------------------------------------------------

#[tokio::test]
async fn serve_refuses_the_env_example_secret_and_other_placeholders() {
    // The value `.env.example` ships, read from the file itself: copying the file must not
    // give a deployment a signing key that is public.
    let example =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.example"))
            .expect(".env.example");
    let shipped = example
        .lines()
        .find_map(|l| l.strip_prefix("JWT_SECRET="))
        .expect(".env.example sets JWT_SECRET")
        .trim()
        .to_owned();
    assert_eq!(shipped, api::auth::secret::ENV_EXAMPLE_SECRET);
    for secret in [
        shipped.as_str(),
        "your-jwt-secret-goes-here-at-least-32-bytes",
        "CHANGEME-CHANGEME-CHANGEME-CHANGEME",
        "too-short",
    ] {
        let mut settings = api::config::Settings::for_tests("sqlite::memory:", secret);
        settings.seeds = crate::helpers::seeds_dir();
        let err = match api::Application::build(&settings).await {
            Ok(_) => panic!("{secret}: accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("openssl rand -base64 48"), "{secret}: {err}");
        assert!(
            !err.contains(secret),
            "{secret}: the message repeats the secret: {err}"
        );
    }
}

/// An agency token's agency and scope are kept on PostgreSQL until a write commits to what
/// their lookup read (SQLite looks them up for every request): the token's next request runs
/// no statement to learn who it is. A succession written beside the service widens the
/// scope, and an agency ended beside it refuses its tokens, once the notification arrives.
#[tokio::test]
async fn an_agency_tokens_lookup_is_kept_until_the_agencies_change() {
    use sea_orm::ConnectionTrait;

    const MINE: &str = "{ tasks(first: 1) { totalCount } }";
    let app = TestApp::spawn().await;
    let pg = crate::helpers::pg_url().is_some();
    let health = app.agency(YTE);
    let ran = |before: u64| app.statements.get() - before;

    let before = app.statements.get();
    health.data("{ __typename }", json!({})).await;
    let looked_up = ran(before);
    assert!(
        looked_up >= 2,
        "the agency by its code, then its predecessors: {looked_up}"
    );
    let before = app.statements.get();
    health.data("{ __typename }", json!({})).await;
    assert_eq!(
        ran(before),
        if pg { 0 } else { looked_up },
        "kept on PostgreSQL only"
    );
    // Another agency's token is looked up on its own, and gets its own scope.
    let before = app.statements.get();
    let finance = app.agency(STC);
    finance.data("{ __typename }", json!({})).await;
    assert_eq!(ran(before), looked_up, "another agency is looked up");
    let own = count(&health.data(MINE, json!({})).await["tasks"]["totalCount"]);
    let theirs = count(&finance.data(MINE, json!({})).await["tasks"]["totalCount"]);
    assert!(own > 0 && theirs > 0, "{own} {theirs}");

    // Sở Y tế takes over Sở Tài chính's duties (and, through it, Sở KH&ĐT's).
    app.beside(app.db.execute_unprepared(&format!(
        "INSERT INTO agency_successions (predecessor_id, successor_id, effective_on, note) \
         SELECT p.id, s.id, '2025-03-01', 'thử' FROM agencies p, agencies s \
         WHERE p.code = '{STC}' AND s.code = '{YTE}'"
    )))
    .await
    .expect("succession beside the service");
    let widened = count(&health.data(MINE, json!({})).await["tasks"]["totalCount"]);
    assert!(
        widened > own,
        "the successor sees its predecessor's tasks: {widened} vs {own}"
    );
    let before = app.statements.get();
    health.data("{ __typename }", json!({})).await;
    let now = ran(before);
    if pg {
        assert_eq!(now, 0, "kept again");
    } else {
        assert!(now > looked_up, "one more generation of predecessors: {now}");
    }
    // What may write is let in by the agencies as they are now: looked up afresh.
    let before = app.statements.get();
    health.data("mutation { __typename }", json!({})).await;
    let fresh = ran(before);
    assert!(fresh >= looked_up, "a mutation looks its agency up: {fresh}");

    // Sở Y tế ends: its tokens are refused from the next request after the notification.
    app.beside(app.db.execute_unprepared(&format!(
        "UPDATE agencies SET valid_to = '2025-06-30' WHERE code = '{YTE}'"
    )))
    .await
    .expect("end beside the service");
    let refused = post_with_header(&app, Some(&format!("Bearer {}", health.token()))).await;
    assert_eq!(refused.0, 401, "{:#}", refused.2);
    let (code, _) = code_and_message(&refused.2);
    assert_eq!(code, "UNAUTHENTICATED");
    // A refusal is not kept: it is looked up again, and refused again.
    let before = app.statements.get();
    let again = post_with_header(&app, Some(&format!("Bearer {}", health.token()))).await;
    assert_eq!(again.0, 401);
    assert!(ran(before) >= 1, "a refusal is looked up every time");
    // Sở Tài chính's token is still accepted.
    assert_eq!(
        count(&finance.data(MINE, json!({})).await["tasks"]["totalCount"]),
        theirs
    );
}
