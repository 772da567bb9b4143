//! Whole query answers kept on PostgreSQL (`api::http::answers`) until a write commits to a
//! table they read; never another caller's; never on SQLite; none with reuse off.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, pg_url, postgres_only};

const Q: &str = r#"query($n: String!, $k: Int!) { directive(number: $n) { number title
    tasks(first: $k, asOf: "2026-11-23") { totalCount nodes { code title status } } } }"#;

const INDICATOR: &str = r#"{ indicators(first: 1) { nodes { id code name } } }"#;

/// Statements one request runs, and its data.
async fn counted(app: &TestApp, q: &str, vars: Value) -> (u64, Value) {
    let before = app.statements.get();
    let d = app.data(q, vars).await;
    (app.statements.get() - before, d)
}

/// Asks `q` until its answer differs from `old` (a write beside the service reaches this
/// instance when PostgreSQL's notification arrives), for at most 10 s.
async fn until_changed(app: &TestApp, q: &str, vars: &Value, old: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = app.data(q, vars.clone()).await;
        if &now != old {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "a write beside the service was not seen in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn answers_are_reused_until_a_write_to_a_table_they_read_commits() {
    let app = TestApp::spawn().await;
    let pg = pg_url().is_some();
    let vars = json!({ "n": "10/CT-UBND", "k": 5 });
    let (ran, first) = counted(&app, Q, vars.clone()).await;
    assert!(ran >= 2, "computed: {ran} statements");
    let (again, same) = counted(&app, Q, vars.clone()).await;
    assert_eq!(same, first);
    if !pg {
        // SQLite has no change feed: every answer is computed.
        assert_eq!(again, ran, "SQLite computes every answer");
        return;
    }
    assert_eq!(again, 0, "reused: no statement");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"chidao_answers_reused_total{answer="graphql",result="hit"} 1"#),
        "{metrics}"
    );
    // Other variables are another answer.
    let (other, d) = counted(&app, Q, json!({ "n": "10/CT-UBND", "k": 2 })).await;
    assert!(other >= 1 && d != first, "{d}");

    // A write beside the service to a table the answer did not read leaves it kept. The
    // indicator query reads that table: once it shows the write, the notification of that
    // commit has arrived.
    let ind = app.data(INDICATOR, json!({})).await;
    let id = &ind["indicators"]["nodes"][0]["code"];
    app.db
        .execute_unprepared(&format!(
            "UPDATE indicators SET name = name || ' (sửa)' WHERE code = '{}'",
            id.as_str().expect("code")
        ))
        .await
        .expect("write beside the service");
    let changed = until_changed(&app, INDICATOR, &json!({}), &ind).await;
    assert!(text(&changed["indicators"]["nodes"][0]["name"]).ends_with("(sửa)"));
    let (kept, same) = counted(&app, Q, vars.clone()).await;
    assert_eq!(
        (kept, &same),
        (0, &first),
        "a write to indicators does not drop it"
    );

    // A write beside the service to a table it read: seen once the notification arrives.
    app.db
        .execute_unprepared(
            "UPDATE directives SET title = 'Về tăng cường kỷ cương (đã sửa)' WHERE number = '10/CT-UBND'",
        )
        .await
        .expect("write beside the service");
    let seen = until_changed(&app, Q, &vars, &first).await;
    assert_eq!(seen["directive"]["title"], "Về tăng cường kỷ cương (đã sửa)");
    assert_eq!(seen["directive"]["tasks"], first["directive"]["tasks"]);

    // A write through the service: seen on the very next request, kept again after.
    let (_, tasks) = counted(&app, Q, vars.clone()).await;
    let code = text(&tasks["directive"]["tasks"]["nodes"][0]["code"]).to_owned();
    let task = app
        .data(
            r#"query($n: String!) { directive(number: $n) { tasks(first: 1) { nodes { id } } } }"#,
            json!({ "n": "10/CT-UBND" }),
        )
        .await;
    let task_id = task["directive"]["tasks"]["nodes"][0]["id"].clone();
    app.data(
        "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } } }",
        json!({ "i": { "id": task_id, "title": "Tiêu đề mới của nhiệm vụ" } }),
    )
    .await;
    let (ran, after) = counted(&app, Q, vars.clone()).await;
    assert!(ran >= 1, "computed after the write");
    let titles: Vec<&str> = after["directive"]["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["code"] == code.as_str())
        .map(|n| text(&n["title"]))
        .collect();
    assert_eq!(titles, ["Tiêu đề mới của nhiệm vụ"], "{after}");
    // This instance's own commit also reaches it as PostgreSQL's notifications, a little
    // after the mutation returned; an answer computed before they arrive is dropped by them.
    // Once they have arrived the answer is kept, and it is the one after the write.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (ran, again) = counted(&app, Q, vars.clone()).await;
        assert_eq!(again, after, "the answer after the write, computed or kept");
        if ran == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the answer after the write was not kept again in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("text: {v}"))
}

/// One agency's kept answer never reaches another agency, another person of the same agency,
/// or another role; each still reuses its own.
#[tokio::test]
async fn a_kept_answer_is_never_another_callers() {
    const MINE: &str = r#"{ tasks(first: 50) { totalCount nodes { id } } }"#;
    let app = TestApp::spawn().await;
    let pg = pg_url().is_some();
    let finance = app.agency("so-tai-chinh");
    let health = app.agency("so-y-te");
    let a = finance.data(MINE, json!({})).await;
    let before = app.statements.get();
    let b = health.data(MINE, json!({})).await;
    assert!(app.statements.get() > before, "computed for the second agency");
    assert_ne!(a, b);
    // Each equals its own rows, asked in a document nobody asked before.
    let own = |v: &Value| v["tasks"]["totalCount"].clone();
    let fresh_a = finance.data(&format!("{MINE} # mine"), json!({})).await;
    assert_eq!(own(&a), own(&fresh_a));
    assert_eq!(a, fresh_a);
    let fresh_b = health.data(&format!("{MINE} # mine"), json!({})).await;
    assert_eq!(b, fresh_b);
    // Someone else of the same agency computes their own.
    let colleague = app.with_token(
        api::auth::jwt::sign(
            crate::helpers::SECRET,
            "nguyen-van-b",
            api::auth::Role::Agency,
            Some("so-tai-chinh"),
            Duration::from_secs(600),
            None,
            None,
        )
        .expect("sign"),
    );
    let before = app.statements.get();
    assert_eq!(colleague.data(MINE, json!({})).await, a);
    assert!(app.statements.get() > before, "computed for another subject");
    // A viewer (every row) does not get an agency's answer.
    let before = app.statements.get();
    let all = app.viewer().data(MINE, json!({})).await;
    assert!(app.statements.get() > before);
    assert!(own(&all).as_i64() > own(&a).as_i64());
    // Each caller's second request is its own kept answer (on PostgreSQL): it runs only
    // what authenticating an agency's token runs (its agency looked up), as a request that
    // reads nothing does.
    let before = app.statements.get();
    finance.data("{ __typename }", json!({})).await;
    let auth = app.statements.get() - before;
    let before = app.statements.get();
    assert_eq!(finance.data(MINE, json!({})).await, a);
    assert_eq!(health.data(MINE, json!({})).await, b);
    let ran = app.statements.get() - before;
    if pg {
        assert_eq!(ran, 2 * auth, "both reused");
    } else {
        assert!(ran > 2 * auth, "SQLite computes every answer");
    }
}

/// An answer with an error is not kept; with `CHIDAO_STATISTICS_REUSE_SECS=0` nothing is.
#[tokio::test]
async fn errors_and_reuse_off_are_computed_every_time() {
    let app = TestApp::spawn().await;
    let missing = r#"{ directive(number: "999/CT-UBND") { title } }"#;
    for _ in 0..2 {
        let before = app.statements.get();
        let res = app.gql(missing, json!({})).await;
        assert_eq!(res["errors"][0]["extensions"]["code"], "NOT_FOUND", "{res}");
        assert!(
            app.statements.get() > before,
            "an error answer is computed each time"
        );
    }
    let off = TestApp::spawn_with(|s| s.statistics_reuse_secs = 0).await;
    let vars = json!({ "n": "10/CT-UBND", "k": 5 });
    let (first, a) = counted(&off, Q, vars.clone()).await;
    let (second, b) = counted(&off, Q, vars).await;
    assert_eq!(a, b);
    assert!(
        first >= 2 && second == first,
        "{first} then {second}: computed both times"
    );
    assert!(
        !off.metrics()
            .await
            .contains(r#"answer="graphql",result="hit"} 1"#),
        "no reuse"
    );
}

/// Every table chidao keeps data in announces its changes, and is one `db::touched` knows:
/// a table added without either would let a kept answer outlive a write.
#[tokio::test]
async fn every_table_announces_its_changes() {
    if postgres_only("every_table_announces_its_changes").is_none() {
        return;
    }
    let app = TestApp::spawn().await;
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT c.relname AS name, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid \
               AND t.tgname = c.relname || '_notify_change' AND NOT t.tgisinternal) AS announced \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm') \
               AND c.relname NOT IN ('seaql_migrations', 'reporting_calendar') ORDER BY 1",
        ))
        .await
        .expect("tables");
    let mut tables = Vec::new();
    for r in rows {
        let name: String = r.try_get("", "name").expect("name");
        let announced: bool = r.try_get("", "announced").expect("announced");
        assert!(announced, "{name} has no chidao_notify_change trigger");
        tables.push(name);
    }
    assert_eq!(
        tables,
        api::db::touched::TABLES,
        "db::touched::TABLES is every table"
    );
}
