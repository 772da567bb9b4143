//! What an agency's token should see, worked out from the administrator's reads of the seed:
//! the tasks it (or an agency it succeeded) holds. Tests of scope compare the API against it.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::{TestApp, count, list, text};

/// The agency most tests act as: it succeeded Sở KH&ĐT on 1/3/2025.
pub const STC: &str = "so-tai-chinh";

/// Its predecessor, dissolved on 28/02/2025.
pub const KHDT: &str = "so-ke-hoach-dau-tu";

/// Another agency, whose tasks Sở Tài chính mostly does not share.
pub const YTE: &str = "so-y-te";

/// A task as the administrator sees it.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub id: String,
    pub title: String,
    /// The directive's code, and its number when it has one.
    pub directive: String,
    pub directive_number: Option<String>,
    /// (assignment id, role, holder agency code).
    pub assignments: Vec<(String, String, String)>,
}

impl TaskRow {
    pub fn held_by_any(&self, agencies: &BTreeSet<String>) -> bool {
        self.assignments.iter().any(|(_, _, a)| agencies.contains(a))
    }
    pub fn lead_is(&self, agency: &str) -> bool {
        self.assignments
            .iter()
            .any(|(_, r, a)| r == "LEAD" && a == agency)
    }
}

/// Every task of the seed, read as the administrator.
pub async fn all_tasks(app: &TestApp) -> Vec<TaskRow> {
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
pub async fn holders(app: &TestApp, code: &str) -> BTreeSet<String> {
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
pub async fn visible_to(app: &TestApp, agency: &str) -> (Vec<TaskRow>, BTreeSet<String>) {
    let tasks = all_tasks(app).await;
    let holders = holders(app, agency).await;
    let visible = tasks
        .iter()
        .filter(|t| t.held_by_any(&holders))
        .map(|t| t.id.clone())
        .collect();
    (tasks, visible)
}

/// Sở Tài chính's lead assignment on a task only it leads.
pub fn own_lead(tasks: &[TaskRow], visible: &BTreeSet<String>) -> (String, String) {
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
