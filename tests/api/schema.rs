//! The committed SDL is what the code generates: every API change shows in review. And
//! schema-level checks that need no server: requests executed in process
//! (`Application::execute`), with the caller a token makes, as `POST /graphql` would run them.

use api::auth::Role;
use async_graphql::{Request, Variables};
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

fn bearer(role: Role, agency: Option<&str>) -> String {
    format!("Bearer {}", token(role, agency))
}

/// Runs `query` in process as `who`, returning the response as JSON.
async fn run(app: &api::Application, who: &str, query: &str, vars: Value) -> Value {
    let res = app
        .execute(who, Request::new(query).variables(Variables::from_json(vars)))
        .await
        .unwrap_or_else(|e| panic!("refused: {}", e.message()));
    serde_json::to_value(&res).expect("json")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// One role mechanism: a kind an analyst may not read is FORBIDDEN by its root field, by
/// `node(id)` and by a list alike; an agency's rows are its own; a viewer's field guard holds.
#[tokio::test]
async fn roles_and_rows_hold_without_http() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    let admin = bearer(Role::Admin, None);
    let all = run(
        &app,
        &admin,
        "{ tasks(first: 1) { totalCount nodes { id } } }",
        json!({}),
    )
    .await;
    let task = all["data"]["tasks"]["nodes"][0]["id"].clone();
    let total = all["data"]["tasks"]["totalCount"].as_i64().expect("count");
    let analyst = bearer(Role::Analyst, None);
    for q in [
        "query($t: ID!) { task(id: $t) { id } }",
        "query($t: ID!) { node(id: $t) { id } }",
        "{ tasks { totalCount } }",
    ] {
        let body = run(&app, &analyst, q, json!({ "t": task })).await;
        assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
        assert!(
            !body["data"].to_string().contains(task.as_str().unwrap_or("-")),
            "{q}: {body}"
        );
    }
    let stats = run(&app, &analyst, "{ taskStatistics { total } }", json!({})).await;
    assert_eq!(
        stats["data"]["taskStatistics"]["total"].as_i64(),
        Some(total),
        "{stats}"
    );

    let own = run(
        &app,
        &bearer(Role::Agency, Some("so-y-te")),
        "{ tasks(first: 100) { totalCount nodes { leads { code } coordinators { code } } } }",
        json!({}),
    )
    .await;
    let mine = own["data"]["tasks"]["totalCount"].as_i64().expect("count");
    assert!(0 < mine && mine < total, "{mine} of {total}");
    for t in own["data"]["tasks"]["nodes"].as_array().expect("nodes") {
        assert!(
            t.to_string().contains("\"so-y-te\""),
            "a task Sở Y tế holds no assignment on: {t}"
        );
    }

    // A field guard asks the same table: the audit log is the administrator's alone.
    let log = "{ auditLog(first: 1) { totalCount } }";
    let monitor = run(&app, &bearer(Role::Monitor, None), log, json!({})).await;
    assert_eq!(code(&monitor), "FORBIDDEN", "{monitor}");
    let admin_log = run(&app, &admin, log, json!({})).await;
    assert!(
        admin_log["data"]["auditLog"]["totalCount"].as_i64() > Some(0),
        "{admin_log}"
    );
}

/// A token the service refuses over HTTP is refused in process too, with the same code.
#[tokio::test]
async fn a_refused_token_is_refused_in_process() {
    let (_t, app) = TestApp::unstarted(|_| {}).await;
    for (who, expected) in [
        ("Bearer not-a-token".to_owned(), "UNAUTHENTICATED"),
        (bearer(Role::Agency, Some("khong-co")), "UNAUTHENTICATED"),
        (bearer(Role::Agency, Some("So Y Te")), "UNAUTHENTICATED"),
    ] {
        let Err(e) = app.execute(&who, Request::new("{ me { role } }")).await else {
            panic!("{who} accepted");
        };
        assert_eq!(e.code(), expected, "{who}: {}", e.message());
    }
    let me = run(&app, &bearer(Role::Monitor, None), "{ me { role } }", json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "MONITOR", "{me}");
}

#[test]
fn committed_sdl_matches_the_code() {
    let generated = api::schema::sdl();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        if std::env::var("UPDATE_SCHEMA").is_ok() {
            std::fs::write(&path, &generated).expect("write schema");
            return;
        }
        panic!(
            "schema/schema.graphql differs from the code. Regenerate it with \
             `cargo run -q -- schema > schema/schema.graphql` (or UPDATE_SCHEMA=1 cargo test schema) \
             and review the diff."
        );
    }
}

#[test]
fn every_type_and_field_is_described() {
    let sdl = api::schema::sdl();
    // A field or type line not preceded by a description ("""…""" or "…") is undocumented.
    let lines: Vec<&str> = sdl.lines().collect();
    let mut missing = Vec::new();
    let mut in_block = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with("\"\"\"") {
            // A block opening and closing on one line has two markers.
            if !(t.len() > 3 && t.ends_with("\"\"\"")) {
                in_block = !in_block;
            }
            continue;
        }
        if in_block || t.is_empty() || t == "}" || t.starts_with('"') || t.starts_with("schema") {
            continue;
        }
        let declares = t.starts_with("type ")
            || t.starts_with("enum ")
            || t.starts_with("input ")
            || t.starts_with("interface ")
            || t.starts_with("scalar ")
            || (line.starts_with("\t") || line.starts_with("  ")) && !t.starts_with("directive");
        if !declares
            || t.starts_with("query:")
            || t.starts_with("mutation:")
            || t.starts_with("subscription:")
        {
            continue;
        }
        let prev = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim())
            .unwrap_or("");
        if !(prev.ends_with('"')) {
            missing.push(t.to_owned());
        }
    }
    assert!(missing.is_empty(), "undescribed SDL items: {missing:#?}");
}
