//! The database failing underneath the service (PostgreSQL only): killed connections during
//! writes and reads, and a read cancelled mid-statement.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, pg_cluster, postgres_only, split_pg};

#[tokio::test]
async fn a_dropped_database_connection_fails_fast_and_loses_no_accepted_write() {
    // PostgreSQL only: kill every server connection of the test database mid-run. The pools
    // replace dead connections, and a BEGIN or a read that meets one is retried, so at most
    // a request in flight may fail (INTERNAL, quickly); the full server restart is
    // tests/fault/pg_restart.sh.
    let Some(url) = postgres_only("a_dropped_database_connection_fails_fast_and_loses_no_accepted_write")
    else {
        return;
    };
    let app = TestApp::spawn().await;
    let db_name = current_database(&app).await;
    let cluster = pg_cluster(&url).await;
    let create = |i: usize| json!({ "input": { "code": format!("fault-{i}"), "kind": "CONG_VAN", "title": format!("Công văn {i}") } });
    let q =
        "mutation($input: CreateDirectiveInput!) { createDirective(input: $input) { directive { code } } }";
    let mut accepted = Vec::new();
    let mut failed = 0;
    for i in 0..30 {
        if i == 10 || i == 20 {
            kill_sessions(&cluster, &db_name).await;
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
async fn kill_sessions(cluster: &sea_orm::DatabaseConnection, db_name: &str) {
    use sea_orm::ConnectionTrait;
    cluster
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
    let Some(url) = postgres_only("reads_survive_killed_connections_and_the_read_pool_is_reported") else {
        return;
    };
    let app = TestApp::spawn().await;
    let q = r#"{ tasks(first: 5) { nodes { code directive { number } leads { code } } } }"#;
    let before = app.data(q, json!({})).await;
    let db_name = current_database(&app).await;
    let cluster = pg_cluster(&url).await;
    for round in 0..3 {
        kill_sessions(&cluster, &db_name).await;
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
        .monitor()
        .get("/metrics")
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
    let Some(url) = postgres_only("a_cancelled_read_closes_its_connection_instead_of_returning_it") else {
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
