//! Hostile and clumsy clients: limits refused before execution (and fast), the
//! GraphQL-over-HTTP status codes and media types, rate limits, metrics, CORS, and a database
//! outage in the middle of writes.

use std::time::{Duration, Instant};

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, admin, pg_url, split_pg, token};

/// Sends a raw POST and returns (status, headers, body, best elapsed of three tries).
async fn post_raw(
    app: &TestApp,
    token: Option<&str>,
    content_type: &str,
    accept: &str,
    body: Vec<u8>,
) -> (u16, reqwest::header::HeaderMap, Value, Duration) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..3 {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("content-type", content_type)
            .header("accept", accept)
            .body(body.clone());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let started = Instant::now();
        let res = req.send().await.expect("send");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        best = best.min(started.elapsed());
        last = Some((
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ));
    }
    let (s, h, b) = last.expect("a response");
    (s, h, b, best)
}

fn gql_body(query: &str) -> Vec<u8> {
    json!({ "query": query }).to_string().into_bytes()
}

#[tokio::test]
async fn abuse_shapes_are_refused_before_execution_and_fast() {
    let app = TestApp::spawn().await;
    let depth = format!(
        "{{ {}id{} }}",
        "agency(code: \"so-y-te\") { parent { ".repeat(25),
        " } }".repeat(25)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..1000)
            .map(|i| format!("a{i}: me {{ role }} "))
            .collect::<String>()
    );
    let directives = format!("{{ me {} {{ role }} }}", "@include(if: true) ".repeat(500));
    let batch = serde_json::to_vec(&vec![json!({ "query": "{ me { role } }" }); 100]).expect("json");
    let huge = json!({ "query": format!("{{ me {{ role }} }} # {}", "x".repeat(1024 * 1024)) })
        .to_string()
        .into_bytes();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("depth 50", gql_body(&depth), 400, "TOO_COMPLEX"),
        ("1,000 aliases", gql_body(&aliases), 400, "TOO_COMPLEX"),
        ("500 directives", gql_body(&directives), 400, "TOO_COMPLEX"),
        (
            "first: 100000",
            gql_body("{ tasks(first: 100000) { nodes { id } } }"),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "cost",
            gql_body(
                "{ agencies(first: 100) { nodes { assignments(first: 100) { nodes { task { reports(first: 100) { nodes { period } } } } } } } }",
            ),
            400,
            "TOO_COMPLEX",
        ),
        ("batch of 100", batch, 400, "BAD_USER_INPUT"),
        ("1 MB body", huge, 413, ""),
    ];
    let admin = app.admin.clone();
    for (name, body, status, code) in cases {
        let (s, _, b, took) = post_raw(
            &app,
            Some(&admin),
            "application/json",
            "application/graphql-response+json",
            body,
        )
        .await;
        assert_eq!(s, status, "{name}: {b}");
        if !code.is_empty() {
            assert_eq!(b["errors"][0]["extensions"]["code"], code, "{name}: {b}");
            let msg = b["errors"][0]["message"].as_str().expect("message");
            assert!(
                msg.contains("max") || msg.contains("tối đa") || msg.contains("batching"),
                "{name} names the limit: {msg}"
            );
        }
        assert!(took < Duration::from_millis(50), "{name} refused in {took:?}");
    }
    // A mutation by GET: 405 and nothing written.
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", r#"mutation { createDirective(input: { code: "x", kind: CHI_THI, title: "x" }) { directive { id } } }"#)])
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
}

#[tokio::test]
async fn graphql_over_http_status_codes_and_media_types() {
    let app = TestApp::spawn().await;
    let t = app.admin.clone();
    let grj = "application/graphql-response+json";
    // A valid query: 200 in both media types, with the media type asked for.
    for accept in [grj, "application/json", "*/*"] {
        let (s, h, b, _) = post_raw(
            &app,
            Some(&t),
            "application/json",
            accept,
            gql_body("{ me { role } }"),
        )
        .await;
        assert_eq!(s, 200, "{accept}");
        assert_eq!(b["data"]["me"]["role"], "ADMIN");
        let ct = h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        let want = if accept == grj { grj } else { "application/json" };
        assert!(ct.starts_with(want), "{accept} -> {ct}");
    }
    // A document that fails validation: 400 with graphql-response+json, 200 with json.
    let (s, _, b, _) = post_raw(&app, Some(&t), "application/json", grj, gql_body("{ nope }")).await;
    assert_eq!(s, 400, "{b}");
    assert!(b.get("data").is_none() || b["data"].is_null());
    let (s, _, _, _) = post_raw(
        &app,
        Some(&t),
        "application/json",
        "application/json",
        gql_body("{ nope }"),
    )
    .await;
    assert_eq!(s, 200);
    // A syntax error likewise.
    let (s, _, _, _) = post_raw(&app, Some(&t), "application/json", grj, gql_body("{ me { ")).await;
    assert_eq!(s, 400);
    // An execution error (a missing row) is still 200: the request was fine.
    let (s, _, b, _) = post_raw(
        &app,
        Some(&t),
        "application/json",
        grj,
        gql_body(r#"{ agency(code: "khong-co") { name } }"#),
    )
    .await;
    assert_eq!(
        (s, b["errors"][0]["extensions"]["code"].as_str()),
        (200, Some("NOT_FOUND"))
    );
    // Not a GraphQL request at all: 400 in both media types.
    for body in [
        b"{not json".to_vec(),
        b"{}".to_vec(),
        br#"{"query": 5}"#.to_vec(),
        br#"{"query": "{ me { role } }", "variables": [1]}"#.to_vec(),
    ] {
        let (s, _, b, _) = post_raw(
            &app,
            Some(&t),
            "application/json",
            "application/json",
            body.clone(),
        )
        .await;
        assert_eq!(s, 400, "{}", String::from_utf8_lossy(&body));
        assert_eq!(b["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    // A JSON body sent as text/plain (a cross-site form can do that) is not executed.
    let (s, _, _, _) = post_raw(
        &app,
        Some(&t),
        "text/plain",
        "application/json",
        gql_body("{ me { role } }"),
    )
    .await;
    assert_eq!(s, 415);
    // Only JSON media types are produced.
    let (s, _, _, _) = post_raw(
        &app,
        Some(&t),
        "application/json",
        "text/html",
        gql_body("{ me { role } }"),
    )
    .await;
    assert_eq!(s, 406);
}

#[tokio::test]
async fn rate_limits_per_subject_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.rate_per_minute = 60;
        s.rate_burst = 3;
    })
    .await;
    let a = token(Role::Viewer, None);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&a)
            .json(&json!({ "query": "{ me { role } }" }))
            .send()
            .await
            .expect("send");
        statuses.push(res.status().as_u16());
        if res.status().as_u16() == 429 {
            let retry: u64 = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .expect("Retry-After seconds");
            assert!((1..=60).contains(&retry), "{retry}");
            let b: Value = res.json().await.expect("json");
            assert_eq!(b["errors"][0]["extensions"]["code"], "RATE_LIMITED");
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    // Another subject has its own bucket.
    let d = app
        .data_as(&token(Role::Analyst, None), "{ me { role } }", json!({}))
        .await;
    assert_eq!(d["me"]["role"], "ANALYST");
    // The refusals are counted.
    let m = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics");
    let text = m.text().await.expect("text");
    assert!(text.contains("chidao_rate_limited_total 2"), "{text}");
}

#[tokio::test]
async fn metrics_count_operations_errors_and_the_pool() {
    let app = TestApp::spawn().await;
    let t = app.admin.clone();
    for _ in 0..3 {
        app.gql_as(&t, "query Dashboard { taskStatistics { total } }", json!({}))
            .await;
    }
    app.gql_as(
        &t,
        r#"query Missing { agency(code: "khong-co") { name } }"#,
        json!({}),
    )
    .await;
    let res = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.expect("text");
    for needle in [
        r#"chidao_graphql_requests_total{operation="Dashboard",role="admin"} 3"#,
        r#"chidao_graphql_errors_total{code="NOT_FOUND"} 1"#,
        "chidao_graphql_request_duration_seconds_bucket",
        r#"chidao_db_pool_connections{state="max"}"#,
        "chidao_db_statements_total",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[tokio::test]
async fn cors_allows_only_the_configured_portals() {
    let app = TestApp::spawn_with(|s| s.cors_origins = vec!["https://dichvucong.laocai.gov.vn".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let ok = preflight("https://dichvucong.laocai.gov.vn")
        .await
        .expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://dichvucong.laocai.gov.vn")
    );
    let other = preflight("https://evil.example").await.expect("preflight");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_dropped_database_connection_fails_fast_and_loses_no_accepted_write() {
    // PostgreSQL only: kill every server connection of the test database mid-run. The pools
    // replace dead connections, and a BEGIN or a read that meets one is retried, so at most
    // a request in flight may fail (INTERNAL, quickly); the full server restart is
    // tests/fault/pg_restart.sh.
    let Some(url) = pg_url() else {
        return;
    };
    let app = TestApp::spawn().await;
    let db_name = current_database(&app).await;
    let admin = admin(&url).await;
    let create = |i: usize| json!({ "input": { "code": format!("fault-{i}"), "kind": "CONG_VAN", "title": format!("Công văn {i}") } });
    let q =
        "mutation($input: CreateDirectiveInput!) { createDirective(input: $input) { directive { code } } }";
    let mut accepted = Vec::new();
    let mut failed = 0;
    for i in 0..30 {
        if i == 10 || i == 20 {
            kill_sessions(&admin, &db_name).await;
        }
        let started = Instant::now();
        let b = app.gql(q, create(i)).await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "fails fast, not hangs"
        );
        if b["errors"].is_array() {
            failed += 1;
            let code = b["errors"][0]["extensions"]["code"].as_str().unwrap_or("");
            assert_eq!(code, "INTERNAL", "{b}");
            assert!(!b.to_string().contains("terminat"), "no internal detail: {b}");
        } else {
            accepted.push(format!("fault-{i}"));
        }
    }
    // A BEGIN or a read on a killed connection is retried on another, so only a request
    // that was already inside its transaction when the signal landed may fail (at most one
    // per kill: pg_terminate_backend does not wait for the backends to exit).
    assert!(
        accepted.len() >= 28,
        "service recovers after each outage: {} accepted, {failed} failed",
        accepted.len()
    );
    // Every write the API accepted is there.
    let d = app
        .data(
            r#"{ directives(first: 100, filter: { search: "cong van" }) { nodes { code } } }"#,
            json!({}),
        )
        .await;
    let stored: Vec<&str> = d["directives"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["code"].as_str())
        .collect();
    for code in &accepted {
        assert!(stored.contains(&code.as_str()), "accepted write {code} is stored");
    }
}

/// Terminates every server session of database `db_name` (as a restart would).
async fn kill_sessions(admin: &sea_orm::DatabaseConnection, db_name: &str) {
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db_name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("terminate");
}

/// The name of the test app's PostgreSQL database.
async fn current_database(app: &TestApp) -> String {
    use sea_orm::ConnectionTrait;
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_database()",
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index(0).expect("name")
}

#[tokio::test]
async fn reads_survive_killed_connections_and_the_read_pool_is_reported() {
    // PostgreSQL only. Queries read through a pool without sqlx's ping on release; a read
    // that meets a connection the server has dropped runs again on a fresh one, so a
    // restart or a killed backend costs no failed query.
    let Some(url) = pg_url() else {
        return;
    };
    let app = TestApp::spawn().await;
    let q = r#"{ tasks(first: 5) { nodes { code directive { number } leads { code } } } }"#;
    let before = app.data(q, json!({})).await;
    let db_name = current_database(&app).await;
    let admin = admin(&url).await;
    for round in 0..3 {
        kill_sessions(&admin, &db_name).await;
        // Several requests at once, so more than one pooled connection meets a dead socket.
        let answers = futures::future::join_all((0..4).map(|_| app.gql(q, json!({})))).await;
        for b in answers {
            assert!(
                b["errors"].is_null(),
                "round {round}: a read after the kill failed: {b}"
            );
            assert_eq!(b["data"], before, "round {round}: same answer");
        }
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(token(Role::Monitor, None))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"chidao_db_read_pool_connections{state="max"} 4"#),
        "read pool size reported: {metrics}"
    );
}

#[tokio::test]
async fn a_cancelled_read_closes_its_connection_instead_of_returning_it() {
    // PostgreSQL only: a read whose future is dropped mid-statement (a request timeout) must
    // not hand a connection with an unread answer to the next request.
    let Some(url) = pg_url() else {
        return;
    };
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let app = TestApp::spawn().await;
    let db_name = current_database(&app).await;
    let (base, _) = split_pg(&url);
    let counter = api::db::StatementCounter::default();
    let reads = api::db::reads::Reads::new(&format!("{base}/{db_name}"), &app.db, 1, counter.clone())
        .expect("read pool");
    assert!(matches!(reads, api::db::reads::Reads::Pg(_)));
    let pid = |r: Option<sea_orm::QueryResult>| -> i32 { r.expect("row").try_get_by_index(0).expect("pid") };
    let backend = || Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid()");
    let first = pid(reads.query_one_raw(backend()).await.expect("read"));
    // The same connection serves the next read (the pool holds one).
    assert_eq!(pid(reads.query_one_raw(backend()).await.expect("read")), first);
    let slow = reads.query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_sleep(30)"));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), slow)
            .await
            .is_err(),
        "the slow read is cancelled"
    );
    let started = Instant::now();
    let after = pid(reads
        .query_one_raw(backend())
        .await
        .expect("read after the cancel"));
    assert_ne!(
        after, first,
        "the cancelled read's connection was closed, not reused"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no wait for the slow statement"
    );
    assert_eq!(reads.pool_stats().map(|(size, _, max)| (size, max)), Some((1, 1)));
    // Three statements finished (the cancelled one never did).
    assert_eq!(counter.get(), 3, "reads are counted");
}

#[tokio::test]
async fn fuzz_findings_stay_fixed() {
    let app = TestApp::spawn().await;
    // A value at the edge of the decimal type is refused instead of stored (reading its
    // deviation used to panic for everyone).
    let id = app
        .data(r#"{ indicator(code: "2025.03") { id } }"#, json!({}))
        .await["indicator"]["id"]
        .clone();
    let e = app
        .gql(
            r#"mutation($id: ID!) { recordIndicatorValue(input: { indicatorId: $id, period: "2025Q2",
                value: "-79228162514264337593543950335", kind: OFFICIAL }) { indicatorValue { period } } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(e["errors"][0]["extensions"]["field"], "input.value", "{e}");
    // A bad literal refuses the whole operation at validation: the first alias must not run.
    let b = app
        .gql(
            r#"mutation { a: createDirective(input: { code: "fuzz-probe-1", kind: CHI_THI, title: "t" }) { directive { id } }
                b: createDirective(input: { code: "fuzz-probe-2", kind: CHI_THI, title: "t", issuedOn: "2025-02-30" }) { directive { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        b["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{b}"
    );
    let d = app
        .data(
            r#"{ directives(filter: { search: "t" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    let n = app.data("{ directives { totalCount } }", json!({})).await["directives"]["totalCount"].clone();
    assert_eq!(n, 2, "nothing created: {d}");
    let b = app
        .gql(
            r#"{ tasks(first: 1, filter: { dueBefore: "2025-13-01" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        b["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{b}"
    );
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight() {
    // A wide batch window makes a nested query take about a second: long enough to shut
    // down while it runs.
    let (app, server) = TestApp::unstarted(|s| s.loader_delay_ms = 300).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let q = "{ tasks(first: 5) { nodes { directive { number } leads { name } assignments { latestReport { period } } } } }";
    let in_flight = {
        let client = app.client.clone();
        let url = format!("{}/graphql", app.address);
        let token = app.admin.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": q }))
                .send()
                .await
                .expect("send")
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    let res = in_flight.await.expect("join");
    assert_eq!(res.status().as_u16(), 200, "the request in flight completes");
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body["data"]["tasks"]["nodes"].as_array().map(Vec::len),
        Some(5),
        "{body}"
    );
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops once drained")
        .expect("join")
        .expect("serve");
    // After the drain nothing listens.
    let after = app.client.get(format!("{}/healthz", app.address)).send().await;
    assert!(after.is_err(), "new connections are refused after shutdown");
}
