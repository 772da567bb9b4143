//! Fields answered in place (`graphql::plain`) give what their resolvers give: every document
//! here runs twice in process, once as served and once with `ThroughResolvers` in the request
//! (every field through async-graphql's own walk), and the two responses, data and errors
//! alike, must be the same.

use api::auth::Role;
use api::graphql::plain::{Splice, ThroughResolvers, Walks};
use async_graphql::{Request, Variables};
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

pub(crate) async fn run(
    app: &api::Application,
    role: Role,
    query: &str,
    vars: &Value,
    resolvers: bool,
) -> Value {
    run_as(app, &token(role, None), query, vars, resolvers).await
}

async fn run_as(app: &api::Application, jwt: &str, query: &str, vars: &Value, resolvers: bool) -> Value {
    run_counted(app, jwt, query, vars, resolvers).await.0
}

/// The response, and how many selections `graphql::plain` answered.
async fn run_counted(
    app: &api::Application,
    jwt: &str,
    query: &str,
    vars: &Value,
    resolvers: bool,
) -> (Value, usize) {
    let who = format!("Bearer {jwt}");
    let walks = Walks::default();
    let mut req = Request::new(query)
        .variables(Variables::from_json(vars.clone()))
        .data(walks.clone());
    if resolvers {
        req = req.data(ThroughResolvers);
    }
    let res = app
        .execute(&who, req)
        .await
        .unwrap_or_else(|e| panic!("refused: {}", e.message()));
    let n = walks.0.load(std::sync::atomic::Ordering::Relaxed);
    (serde_json::to_value(&res).expect("json"), n)
}

/// Every field of `type_name` that is a scalar or an enum (or a list of them) and needs no
/// argument, as a selection: read from the schema, so a field added later is compared too.
pub(crate) async fn leaves(app: &api::Application, type_name: &str) -> String {
    let d = run(
        app,
        Role::Admin,
        "query($t: String!) { __type(name: $t) { fields { name
            args { type { kind } defaultValue }
            type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
        &json!({ "t": type_name }),
        false,
    )
    .await;
    let fields = d["data"]["__type"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{d}"));
    let leaf = |mut t: &Value| loop {
        match t["kind"].as_str() {
            Some("NON_NULL" | "LIST") => t = &t["ofType"],
            Some(k) => break k == "SCALAR" || k == "ENUM",
            None => break false,
        }
    };
    let names: Vec<&str> = fields
        .iter()
        .filter(|f| leaf(&f["type"]))
        .filter(|f| {
            f["args"]
                .as_array()
                .expect("args")
                .iter()
                .all(|a| a["type"]["kind"] != "NON_NULL" || !a["defaultValue"].is_null())
        })
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert!(names.len() >= 3, "{type_name}: {names:?}");
    names.join(" ")
}

/// Runs `query` both ways as `role` and returns the (equal) response. `ThroughResolvers` must
/// keep the walk out; the served run is counted by [`walked`].
async fn same_both_ways(app: &api::Application, role: Role, query: &str, vars: Value) -> Value {
    same_both_ways_walked(app, role, query, vars).await.0
}

async fn same_both_ways_walked(
    app: &api::Application,
    role: Role,
    query: &str,
    vars: Value,
) -> (Value, usize) {
    let jwt = token(role, None);
    let (served, walks) = run_counted(app, &jwt, query, &vars, false).await;
    let (resolved, none) = run_counted(app, &jwt, query, &vars, true).await;
    assert_eq!(none, 0, "ThroughResolvers keeps the walk out");
    assert_eq!(
        serde_json::to_string_pretty(&served).expect("json"),
        serde_json::to_string_pretty(&resolved).expect("json"),
        "{query}"
    );
    // As HTTP serves it: the lists answered wholly in place written as JSON text.
    let (spliced, _) = run_spliced(app, &jwt, query, &vars).await;
    assert_eq!(
        serde_json::to_string_pretty(&spliced).expect("json"),
        serde_json::to_string_pretty(&served).expect("json"),
        "spliced: {query}"
    );
    (served, walks)
}

/// The response with [`Splice`] in the request, written by `plain::to_json` as HTTP writes it
/// (and read back), and how many lists went out as JSON text.
async fn run_spliced(app: &api::Application, jwt: &str, query: &str, vars: &Value) -> (Value, usize) {
    let req = Request::new(query)
        .variables(Variables::from_json(vars.clone()))
        .data(Splice);
    let res = app
        .execute(&format!("Bearer {jwt}"), req)
        .await
        .unwrap_or_else(|e| panic!("refused: {}", e.message()));
    let bytes = api::graphql::plain::to_json(&res).expect("json");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (value, spliced_lists(&res.data))
}

fn spliced_lists(v: &async_graphql::Value) -> usize {
    use async_graphql::Value as V;
    match v {
        V::Binary(_) => 1,
        V::List(items) => items.iter().map(spliced_lists).sum(),
        V::Object(map) => map.values().map(spliced_lists).sum(),
        _ => 0,
    }
}

/// Values to answer for three indicators with a target: an estimate later made official (so one
/// superseded), several periods, one with a note, below and above the target.
async fn record_values(app: &api::Application) {
    let list = run(
        app,
        Role::Admin,
        "{ indicators(first: 100) { nodes { id code qualitative target } } }",
        &json!({}),
        false,
    )
    .await;
    let nodes = list["data"]["indicators"]["nodes"]
        .as_array()
        .expect("indicators")
        .clone();
    let numeric: Vec<&Value> = nodes
        .iter()
        .filter(|i| i["qualitative"] == false && !i["target"].is_null())
        .take(3)
        .collect();
    assert_eq!(numeric.len(), 3, "three indicators with a target");
    // Values to answer: an estimate later made official (so one superseded), several periods,
    // one with a note, below and above the target.
    let record = r#"mutation($input: RecordIndicatorValueInput!) {
        recordIndicatorValue(input: $input) { indicatorValue { id } } }"#;
    for (n, ind) in numeric.iter().enumerate() {
        let target: f64 = ind["target"].as_str().expect("target").parse().expect("a number");
        for (period, kind, factor, note) in [
            ("2025Q1", "ESTIMATE", 0.2, None),
            ("2025Q1", "OFFICIAL", 0.26, Some("Số liệu Cục Thống kê")),
            ("202506", "ESTIMATE", 0.5, None),
            ("2025", "ESTIMATE", 1.1 - 0.2 * n as f64, None),
        ] {
            let mut input = json!({ "indicatorId": ind["id"], "period": period,
                "value": format!("{:.2}", target * factor), "kind": kind });
            if let Some(note) = note {
                input["note"] = json!(note);
            }
            let r = run(app, Role::Admin, record, &json!({ "input": input }), false).await;
            assert!(r["errors"].is_null(), "{r}");
        }
    }
}

/// Spliced answers are the bytes of the value tree put in order as HTTP puts it
/// (`graphql::order`): keys in selection order, values as `serde_json` writes them, nested
/// objects from loaders and resolvers, an object of no field `null`; and a selection that
/// holds one key twice is left to the tree.
#[tokio::test]
async fn spliced_answers_are_the_ordered_trees_bytes() {
    use api::graphql::order::{Types, reorder};
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    record_values(&app).await;
    let types = Types::of_sdl(&api::schema::sdl());
    let jwt = token(Role::Admin, None);
    let who = format!("Bearer {jwt}");
    let task = run(
        &app,
        Role::Admin,
        "{ tasks(first: 1) { nodes { id } } }",
        &json!({}),
        false,
    )
    .await;
    let task = task["data"]["tasks"]["nodes"][0]["id"].clone();
    for query in [
        "{ indicators(first: 100) { nodes { values { value period kind note } } } }",
        "{ indicators(first: 100) { nodes { code values { period __typename value superseded } name } } }",
        "{ indicators(first: 100) { nodes { values { ... on IndicatorValue { value } period } } } }",
        "{ indicators(first: 100) { nodes { values { ...V value } } } } fragment V on IndicatorValue { period }",
        "query($id: ID!) { task(id: $id) { id code title dueOn status directive { number } leads { code name } } }",
        "{ tasks(first: 30, orderBy: { field: DUE_ON }) { totalCount nodes { id code title dueOn status
            directive { number } leads { name } coordinators { name }
            assignments { role agency { code } latestReport { period percentComplete state } } } } }",
    ] {
        let vars = Variables::from_json(json!({ "id": task }));
        let doc = async_graphql::parser::parse_query(query).expect("a document");
        let req = Request::new(query).variables(vars.clone()).data(Splice);
        let mut spliced = app.execute(&who, req).await.expect("ran");
        let mut tree = app
            .execute(&who, Request::new(query).variables(vars))
            .await
            .expect("ran");
        assert!(tree.errors.is_empty(), "{query}: {:?}", tree.errors);
        assert_eq!(spliced_lists(&tree.data), 0, "no JSON text unless asked");
        assert!(
            spliced_lists(&spliced.data) > 0,
            "{query}: nothing went out as text"
        );
        reorder(&mut tree.data, &doc, None, &types);
        reorder(&mut spliced.data, &doc, None, &types);
        let tree = serde_json::to_string(&tree).expect("json");
        if query.contains("values") {
            let n = tree.matches(r#""period""#).count();
            assert!(n >= 9, "{query}: {n} values to answer");
        }
        assert_eq!(
            String::from_utf8(api::graphql::plain::to_json(&spliced).expect("json")).expect("utf-8"),
            tree,
            "{query}"
        );
    }
    // A key asked twice: async-graphql's own walk answers the values, as a tree, and the
    // indicators holding them stay maps.
    let query = "{ indicators(first: 100) { nodes { values { period period } } } }";
    let (answer, lists) = run_spliced(&app, &jwt, query, &json!({})).await;
    assert!(answer.to_string().contains(r#""period""#), "{answer}");
    // Only the indicators without values (`[]`, nothing for the order pass) went out as text.
    let empty = answer.to_string().matches(r#""values":[]"#).count();
    assert!(empty < 100, "some indicators have values");
    assert_eq!(lists, empty, "{query}");
}

#[tokio::test]
async fn plain_fields_answer_what_their_resolvers_answer() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    record_values(&app).await;

    let every = leaves(&app, "IndicatorValue").await;
    assert!(
        every.contains("recordedBy") && every.contains("superseded"),
        "{every}"
    );
    let doc =
        format!("{{ indicators(first: 100) {{ nodes {{ code values(history: true) {{ {every} }} }} }} }}");
    let (d, walks) = same_both_ways_walked(&app, Role::Admin, &doc, json!({})).await;
    assert!(
        walks >= 2,
        "the walk answered the indicators and their values: {walks}"
    );
    let values: Vec<&Value> = d["data"]["indicators"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .flat_map(|i| i["values"].as_array().expect("values"))
        .collect();
    assert_eq!(values.len(), 12, "every value recorded: {d}");
    assert!(values.iter().any(|v| v["superseded"] == true));
    assert!(values.iter().any(|v| v["note"].is_string()));
    assert!(values.iter().any(|v| v["met"] == true) && values.iter().any(|v| v["met"] == false));

    // A guarded field among plain ones: the viewer's errors, with their paths, are the same.
    let d = same_both_ways(&app, Role::Viewer, &doc, json!({})).await;
    assert!(
        !d["errors"]
            .as_array()
            .expect("FORBIDDEN for recordedBy")
            .is_empty()
    );

    // Aliases, a key asked twice, __typename, fragments (named and inline, on the type and not)
    // and a field with arguments besides.
    let shapes = [
        "{ indicators(first: 100) { nodes { values { p: period period v: value __typename kind period } } } }",
        "{ indicators(first: 100) { nodes { values { p: period v: value __typename kind @include(if: true) note @skip(if: true) } } } }",
        "{ indicators(first: 100) { nodes { values { ...V ... on IndicatorValue { met id } ... { note } } } } }
         fragment V on IndicatorValue { period value superseded }",
        "{ indicators(first: 100) { nodes { values(from: \"2025Q1\", to: \"2025Q2\") { period value } } } }",
    ];
    for doc in shapes {
        let d = same_both_ways(&app, Role::Admin, doc, json!({})).await;
        assert!(d["errors"].is_null(), "{d}");
        let n: usize = d["data"]["indicators"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|i| i["values"].as_array().expect("values").len())
            .sum();
        assert!(n > 0, "{doc}: some values answered");
    }
}

/// Tasks, their assignments, agencies, directives and reports, as lists and as one object
/// (`task(id:)`, `directive`, `agency`, `latestReport`), with loader fields among the plain
/// ones, a fragment on an interface, and a field's argument.
#[tokio::test]
async fn plain_rows_of_every_kind_answer_what_their_resolvers_answer() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    let stc = token(Role::Agency, Some("so-tai-chinh"));
    let d = run_as(
        &app,
        &stc,
        "{ me { agency { assignments(first: 2, filter: { open: true }) { nodes { id } } } } }",
        &json!({}),
        false,
    )
    .await;
    let submit = r#"mutation($i: SubmitProgressReportInput!) {
        submitProgressReport(input: $i) { progressReport { id } } }"#;
    for (n, a) in d["data"]["me"]["agency"]["assignments"]["nodes"]
        .as_array()
        .expect("assignments")
        .iter()
        .enumerate()
    {
        let i = json!({ "i": { "assignmentId": a["id"], "period": "2025Q4", "percentComplete": 40 + n,
            "summary": "Đã triển khai", "obstacles": "Thiếu kinh phí" } });
        let r = run_as(&app, &stc, submit, &i, false).await;
        assert!(r["errors"].is_null(), "{r}");
    }

    let task = leaves(&app, "Task").await;
    let agency = leaves(&app, "Agency").await + r#" activeThen: active(on: "2025-01-01")"#;
    let report = leaves(&app, "ProgressReport").await;
    let directive = leaves(&app, "Directive").await;
    let indicator = leaves(&app, "Indicator").await;
    let assignment = leaves(&app, "Assignment").await;
    let docs = [
        format!(
            "{{ tasks(first: 60) {{ nodes {{ {task} __typename ... on Node {{ nodeId: id }}
               due: dueOn(asOf: \"2025-03-01\") directive {{ {directive} }} leads {{ {agency} }}
               coordinators {{ code name }}
               assignments {{ {assignment} agency {{ {agency} }}
                 latestReport {{ {report} }} }} }} }} }}"
        ),
        format!("{{ agencies(first: 100) {{ nodes {{ {agency} parent {{ code }} }} }} }}"),
        format!("{{ progressReports {{ nodes {{ {report} agency {{ code }} }} }} }}"),
        format!("{{ directives {{ nodes {{ {directive} }} }} }}"),
        format!("{{ indicators(first: 100) {{ nodes {{ {indicator} children {{ code }} }} }} }}"),
    ];
    for role in [Role::Admin, Role::Viewer] {
        for doc in &docs {
            let d = same_both_ways(&app, role, doc, json!({})).await;
            let data = d["data"]
                .as_object()
                .unwrap_or_else(|| panic!("{role:?} {doc}: {d}"));
            let nodes = data.values().next().expect("a list")["nodes"]
                .as_array()
                .expect("nodes");
            assert!(!nodes.is_empty(), "{doc}");
        }
    }
    // The two reports, through their assignments (an agency's connection, one object each).
    let mine = format!(
        "{{ me {{ agency {{ code assignments(first: 2, filter: {{ open: true }}) {{ nodes {{
           role writtenAs task {{ code dueOn }} latestReport {{ {report} }} }} }} }} }} }}"
    );
    let served = run_as(&app, &stc, &mine, &json!({}), false).await;
    assert_eq!(served, run_as(&app, &stc, &mine, &json!({}), true).await);
    let nodes = served["data"]["me"]["agency"]["assignments"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert_eq!(nodes.len(), 2, "{served}");
    assert!(
        nodes
            .iter()
            .all(|a| a["latestReport"]["summary"] == "Đã triển khai"),
        "{served}"
    );
    // Errors in the order they fall, a failing field asked twice, a list's date as the
    // default of `dueOn`.
    for (role, doc) in [
        (
            Role::Viewer,
            "{ progressReports { nodes { obstacles period assignment { role latestReport { obstacles summary } } } } }",
        ),
        (
            Role::Viewer,
            "{ progressReports { nodes { obstacles obstacles period } } }",
        ),
        (
            Role::Admin,
            "{ tasks(first: 60, asOf: \"2025-03-01\") { nodes { code dueOn status assignments { role status } } } }",
        ),
    ] {
        let (d, walks) = same_both_ways_walked(&app, role, doc, json!({})).await;
        assert!(d["data"].is_object(), "{doc}: {d}");
        if !doc.contains("obstacles obstacles") {
            assert!(walks > 0, "{doc}: the walk answered");
        }
    }
    let (_, walks) = same_both_ways_walked(&app, Role::Admin, &docs[0], json!({})).await;
    assert!(walks >= 4, "tasks, agencies, assignments, reports: {walks}");
    let d = same_both_ways(&app, Role::Viewer, &docs[2], json!({})).await;
    assert_eq!(
        d["data"]["progressReports"]["nodes"]
            .as_array()
            .expect("reports")
            .len(),
        2
    );
    assert!(
        d["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "obstacles is internal: {d}"
    );

    // One object: task(id:), with an agency's token (its own rows only).
    let id = run_as(
        &app,
        &stc,
        "{ tasks(first: 1) { nodes { id } } }",
        &json!({}),
        false,
    )
    .await["data"]["tasks"]["nodes"][0]["id"]
        .clone();
    let one = format!(
        "query($id: ID!) {{ task(id: $id) {{ {task} ... on Node {{ nodeId: id }} directive {{ number }} leads {{ code name }} }} }}"
    );
    for resolvers in [false, true] {
        let d = run_as(&app, &stc, &one, &json!({ "id": id }), resolvers).await;
        assert!(d["errors"].is_null(), "{d}");
        assert_eq!(d["data"]["task"]["id"], id);
    }
    let served = run_as(&app, &stc, &one, &json!({ "id": id }), false).await;
    let resolved = run_as(&app, &stc, &one, &json!({ "id": id }), true).await;
    assert_eq!(served, resolved);
}

/// `plain::to_json` writes every `Value::Binary` as it stands, which is sound while the walk's
/// JSON text is the only `Binary` a response holds: no output of the schema is bytes. Its
/// scalars are these, each read to output a string (`Date`, `DateTime`, `DocumentText`),
/// a number, string or null (`Decimal::of_text`) or what a `serde_json::Value` holds (`JSON`,
/// which has no bytes). A scalar added later fails here until it is read the same way.
#[test]
fn no_scalar_of_the_schema_outputs_bytes() {
    let sdl = api::schema::sdl();
    let scalars: Vec<&str> = sdl
        .lines()
        .filter_map(|l| l.strip_prefix("scalar "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(scalars, ["Date", "DateTime", "Decimal", "DocumentText", "JSON"]);
    for text in ["12.5", "-0.001", "1e400", "abc"] {
        let v = api::graphql::scalars::Decimal::of_text(text);
        assert!(!matches!(v, async_graphql::Value::Binary(_)), "{text}: {v:?}");
    }
}
