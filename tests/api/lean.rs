//! A query's loaders leave out the columns no field of its document reads (`db::lean`), and no
//! field's answer changes for it: every leaf field of every type with droppable columns, asked
//! alone on each path that reads that type (a page, by id, by parent, joined, latest), answers
//! what it answers beside all the others (where every column is read).

use std::collections::HashMap;

use api::auth::Role;
use async_graphql::{Request, Variables};
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};
use crate::plain::{leaves, run};

/// Every object of `v` (at any depth) that has an `id`, by id.
fn by_id<'a>(v: &'a Value, out: &mut HashMap<String, &'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("id") {
                out.insert(id.clone(), v);
            }
            m.values().for_each(|x| by_id(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| by_id(x, out)),
        _ => {}
    }
}

/// Up to `n` open assignments of the caller's agency (at least one).
async fn open_assignments(app: &api::Application, who: &str, n: usize) -> Vec<Value> {
    let q = format!(
        "{{ me {{ agency {{ assignments(first: {n}, filter: {{ open: true }}) {{ nodes {{ id }} }} }} }} }}"
    );
    let mine = serde_json::to_value(app.execute(who, Request::new(q)).await.expect("runs")).expect("json");
    let nodes = mine["data"]["me"]["agency"]["assignments"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{mine}"))
        .clone();
    assert!(
        !nodes.is_empty() && nodes.iter().all(|a| a["id"].is_string()),
        "{mine}"
    );
    nodes
}

/// The response's data and the SQL of every statement it ran.
async fn traced(app: &api::Application, query: &str) -> (Value, Vec<String>) {
    let who = format!("Bearer {}", token(Role::Admin, None));
    let req = Request::new(query).variables(Variables::from_json(json!({})));
    let (res, sql) = api::db::statements_of(app.execute(&who, req)).await;
    let res = serde_json::to_value(res.unwrap_or_else(|e| panic!("refused: {}", e.message()))).expect("json");
    assert!(res["errors"].is_null(), "{query}: {res}");
    (res, sql)
}

#[tokio::test]
async fn every_field_alone_answers_what_it_answers_beside_all_the_others() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    // Rows for the droppable columns to hold: reports with obstacles and proposals, a value
    // with a note.
    let stc = token(Role::Agency, Some("so-tai-chinh"));
    let who = format!("Bearer {stc}");
    let submit = r#"mutation($i: SubmitProgressReportInput!) {
        submitProgressReport(input: $i) { progressReport { id } } }"#;
    let mut submitted = Vec::new();
    for a in &open_assignments(&app, &who, 3).await {
        let i = json!({ "i": { "assignmentId": a["id"], "period": "2025Q4", "percentComplete": 40,
            "summary": "Đã triển khai", "obstacles": "Thiếu kinh phí", "proposals": "Bổ sung dự toán" } });
        let r = app
            .execute(&who, Request::new(submit).variables(Variables::from_json(i)))
            .await
            .expect("runs");
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let r = serde_json::to_value(r).expect("json");
        submitted.push(r["data"]["submitProgressReport"]["progressReport"]["id"].clone());
    }
    // One reviewed, for the reviewer's columns.
    let review = json!({ "i": { "id": submitted[0], "decision": "ACCEPT", "comment": "Đạt yêu cầu" } });
    let r = run(
        &app,
        Role::Admin,
        "mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { progressReport { id } } }",
        &review,
        false,
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    let ind = run(
        &app,
        Role::Admin,
        "{ indicators(first: 1) { nodes { id } } }",
        &json!({}),
        false,
    )
    .await;
    let record = json!({ "i": { "indicatorId": ind["data"]["indicators"]["nodes"][0]["id"],
        "period": "2025Q1", "value": "1", "kind": "ESTIMATE", "note": "Ước tính" } });
    let r = run(
        &app,
        Role::Admin,
        "mutation($i: RecordIndicatorValueInput!) { recordIndicatorValue(input: $i) { indicatorValue { id } } }",
        &record,
        false,
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    let first = run(
        &app,
        Role::Admin,
        "{ tasks(first: 1) { nodes { id } } }",
        &json!({}),
        false,
    )
    .await;
    let task_id = first["data"]["tasks"]["nodes"][0]["id"]
        .as_str()
        .expect("a task")
        .to_owned();

    // Each path that reads the type, with `SEL` for the selection on it.
    let paths: Vec<(&str, String)> = vec![
        ("Task", "{ tasks(first: 60) { nodes { SEL } } }".into()),
        (
            "Task",
            "{ tasks(first: 60, orderBy: { field: DUE_ON }) { nodes { SEL } } }".into(),
        ),
        ("Task", format!(r#"{{ task(id: "{task_id}") {{ SEL }} }}"#)),
        (
            "Task",
            format!(r#"{{ task(id: "{task_id}") {{ SEL leads {{ code }} }} }}"#),
        ),
        (
            "Task",
            format!(r#"{{ node(id: "{task_id}") {{ ... on Task {{ SEL }} }} }}"#),
        ),
        (
            "Directive",
            "{ tasks(first: 60) { nodes { directive { SEL } } } }".into(),
        ),
        ("Directive", "{ directives { nodes { SEL } } }".into()),
        (
            "Agency",
            "{ tasks(first: 60) { nodes { assignments { agency { SEL } } } } }".into(),
        ),
        (
            "Agency",
            "{ tasks(first: 60) { nodes { leads { SEL } } } }".into(),
        ),
        (
            "Agency",
            format!(r#"{{ task(id: "{task_id}") {{ leads {{ SEL }} coordinators {{ SEL }} }} }}"#),
        ),
        (
            "ProgressReport",
            "{ tasks(first: 60) { nodes { assignments { latestReport { SEL } } } } }".into(),
        ),
        ("ProgressReport", "{ progressReports { nodes { SEL } } }".into()),
        ("Indicator", "{ indicators(first: 100) { nodes { SEL } } }".into()),
        (
            "IndicatorValue",
            "{ indicators(first: 100) { nodes { values(history: true) { SEL } } } }".into(),
        ),
    ];
    let mut filled: HashMap<String, usize> = HashMap::new();
    for (type_name, path) in &paths {
        let every = leaves(&app, type_name).await;
        let all = run(&app, Role::Admin, &path.replace("SEL", &every), &json!({}), false).await;
        assert!(all["errors"].is_null(), "{path}: {all}");
        let mut whole = HashMap::new();
        by_id(&all["data"], &mut whole);
        assert!(!whole.is_empty(), "{path}: some {type_name} answered: {all}");
        for field in every.split(' ').filter(|f| *f != "id") {
            let doc = path.replace("SEL", &format!("id {field}"));
            let alone = run(&app, Role::Admin, &doc, &json!({}), false).await;
            assert!(alone["errors"].is_null(), "{doc}: {alone}");
            let mut lean = HashMap::new();
            by_id(&alone["data"], &mut lean);
            assert_eq!(lean.len(), whole.len(), "{doc}: the same {type_name}s");
            for (id, obj) in &lean {
                assert_eq!(obj[field], whole[id][field], "{doc}: {type_name} {id}.{field}");
                if !(obj[field].is_null() || obj[field] == "") {
                    *filled.entry(format!("{type_name}.{field}")).or_default() += 1;
                }
            }
        }
    }
    // The comparisons could fail: the droppable columns hold something here.
    for f in [
        "Task.fullText",
        "Directive.title",
        "Directive.issuer",
        "Directive.signer",
        "ProgressReport.summary",
        "ProgressReport.obstacles",
        "ProgressReport.proposals",
        "ProgressReport.reviewComment",
        "ProgressReport.reviewedAt",
        "Agency.shortName",
        "Directive.signerTitle",
        "IndicatorValue.note",
        "IndicatorValue.recordedBy",
        "Indicator.sourceText",
    ] {
        assert!(
            filled.get(f).is_some_and(|n| *n > 0),
            "{f} is empty in every row: {filled:?}"
        );
    }
}

/// The statements of a document that shows a few columns leave the others out; asking for
/// them brings them back. A mutation reads whole rows. (Fields are matched by name under any
/// type: the tasks' `title` keeps the directives' title too.)
#[tokio::test]
async fn the_statements_read_only_what_the_document_shows() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    let q2 = "{ tasks(first: 50, orderBy: { field: DUE_ON }) { nodes { code title
        directive { number } leads { name }
        assignments { role agency { code } latestReport { period percentComplete state } } } } }";
    let (d, sql) = traced(&app, q2).await;
    assert!(!d["data"]["tasks"]["nodes"].as_array().expect("tasks").is_empty());
    let all = sql.join("\n");
    for table in ["tasks", "directives", "agencies", "progress_reports"] {
        assert!(
            all.contains(&format!(r#"FROM "{table}""#)) || all.contains(&format!(r#"JOIN "{table}""#)),
            "{table} read:\n{all}"
        );
    }
    for column in [
        r#""tasks"."full_text""#,
        r#""tasks"."search_text""#,
        r#""directives"."search_text""#,
        r#""directives"."signer""#,
        r#""agencies"."search_text""#,
        r#""progress_reports"."summary""#,
        r#""progress_reports"."author""#,
    ] {
        assert!(!all.contains(column), "{column} left out:\n{all}");
    }
    let asked = q2
        .replace("code title", "code title fullText")
        .replace("number", "number signer")
        .replace("percentComplete state", "percentComplete state summary");
    let (_, sql) = traced(&app, &asked).await;
    let all = sql.join("\n");
    for column in [
        r#""tasks"."full_text""#,
        r#""directives"."signer""#,
        r#""progress_reports"."summary""#,
    ] {
        assert!(all.contains(column), "{column} read when asked:\n{all}");
    }
    // Never shown, never read by a query.
    assert!(!all.contains(r#""progress_reports"."author""#), "{all}");

    // A mutation's loaders read whole rows.
    let stc = format!("Bearer {}", token(Role::Agency, Some("so-tai-chinh")));
    let id = &open_assignments(&app, &stc, 1).await[0]["id"];
    let submit = Request::new(
        r#"mutation($i: SubmitProgressReportInput!) {
            submitProgressReport(input: $i) { progressReport { period assignment { task { title } } } } }"#,
    )
    .variables(Variables::from_json(
        json!({ "i": { "assignmentId": id, "period": "2025Q4",
        "percentComplete": 10, "summary": "Đang làm" } }),
    ));
    let (res, sql) = api::db::statements_of(app.execute(&stc, submit)).await;
    let res = res.expect("runs");
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    let all = sql.join("\n");
    assert!(all.contains(r#""tasks"."search_text""#), "{all}");
}

/// Two agencies, and an admin, alternately read through the same loaders: on PostgreSQL each
/// reads through its own kept statement (`db::kept`, keyed by scope). Each agency's every task
/// shows its own assignment (the holder's), and each answer stays what it was the first time.
#[tokio::test]
async fn kept_statements_never_serve_one_scope_to_another() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    let doc = "{ tasks(first: 100) { nodes { id assignments { id agency { code } latestReport { id } } } } }";
    let agencies = ["so-tai-chinh", "so-y-te"];
    let mut callers: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for code in agencies {
        // The agency and those it succeeded: whose assignments it holds.
        let d = run(
            &app,
            Role::Admin,
            "query($c: String!) { agency(code: $c) { predecessors { agency { code } } } }",
            &json!({ "c": code }),
            false,
        )
        .await;
        let mut holders: Vec<String> = d["data"]["agency"]["predecessors"]
            .as_array()
            .unwrap_or_else(|| panic!("{d}"))
            .iter()
            .map(|p| p["agency"]["code"].as_str().expect("code").to_owned())
            .collect();
        holders.push(code.to_owned());
        callers.push((
            format!("Bearer {}", token(Role::Agency, Some(code))),
            Some(holders),
        ));
    }
    callers.push((format!("Bearer {}", token(Role::Admin, None)), None));
    let ask = |who: String| {
        let app = &app;
        async move {
            let res = app.execute(&who, Request::new(doc)).await.expect("runs");
            assert!(res.errors.is_empty(), "{:?}", res.errors);
            serde_json::to_value(res.data).expect("json")
        }
    };
    let mut first = Vec::new();
    for (who, holders) in &callers {
        let d = ask(who.clone()).await;
        let tasks = d["tasks"]["nodes"].as_array().expect("tasks");
        assert!(!tasks.is_empty(), "{who} sees some tasks");
        if let Some(holders) = holders {
            for t in tasks {
                let own = t["assignments"]
                    .as_array()
                    .expect("assignments")
                    .iter()
                    .any(|a| holders.iter().any(|h| a["agency"]["code"] == h.as_str()));
                assert!(
                    own,
                    "{holders:?}: task {} shows its holder's assignment: {t}",
                    t["id"]
                );
            }
        }
        first.push(d);
    }
    assert_ne!(first[0], first[1], "the two agencies see different rows");
    for _ in 0..2 {
        for ((who, _), before) in callers.iter().zip(&first).rev() {
            assert_eq!(
                &ask(who.clone()).await,
                before,
                "{who}: the same answer every time"
            );
        }
    }
}
