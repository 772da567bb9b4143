//! Tasks: pagination and cursors, filters, search, derived status, every ordering (an agency's
//! list by due date above all), nested connections, `updateTask`, and an agency's scope: what
//! it sees through every path, and another agency's tasks and assignments it does not.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{
    EXTEND, TASK_IDS, TestApp, by_due, check_agency_due_order, code_and_message, count, count_rows, gid,
    ids_of, list, task_ids_in_order, task_total, text,
};
use crate::scope::{KHDT, STC, YTE, holders, visible_to};

/// The ids of a `TASK_IDS` page, in order.
fn ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The codes of the tasks `tasks(filter)` lists to the administrator.
async fn codes(app: &TestApp, filter: Value) -> BTreeSet<String> {
    let d = app
        .data(
            "query($f: TaskFilter) { tasks(first: 100, filter: $f) { nodes { code } } }",
            json!({ "f": filter }),
        )
        .await;
    d["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["code"].as_str().expect("code").to_owned())
        .collect()
}

#[tokio::test]
async fn pagination_visits_every_row_once_both_ways() {
    let app = TestApp::spawn().await;
    let all = task_total(&app, json!({})).await;
    assert_eq!(all, 54);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = app.data(TASK_IDS, json!({ "first": 7, "after": after })).await;
        let page = &d["tasks"];
        seen.extend(ids(page));
        if !page["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len() as i64, all);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        seen.len(),
        "no row twice"
    );

    let mut back = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let d = app.data(TASK_IDS, json!({ "last": 10, "before": before })).await;
        let page = &d["tasks"];
        let mut chunk = ids(page);
        chunk.extend(back);
        back = chunk;
        if !page["pageInfo"]["hasPreviousPage"].as_bool().expect("bool") {
            break;
        }
        before = page["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(back, seen, "backward paging gives the same order");
}

#[tokio::test]
async fn cursors_stay_valid_when_rows_are_added() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            TASK_IDS,
            json!({ "first": 5, "filter": {"directiveNumber": "10/CT-UBND"} }),
        )
        .await;
    let cursor = d["tasks"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let expected = app
        .data(
            TASK_IDS,
            json!({ "first": 5, "after": cursor, "filter": {"directiveNumber": "10/CT-UBND"} }),
        )
        .await;
    // A new directive sorts after 10/CT-UBND in document order; the next page is unchanged.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    app.beside(
        entity::directive::ActiveModel {
            code: Set("kh-moi".into()),
            number: Set(Some("99/KH-UBND".into())),
            kind: Set(entity::enums::DirectiveKind::KeHoach),
            title: Set("Kế hoạch mới".into()),
            issued_on: Set(None),
            issuer: Set("UBND tỉnh Lào Cai".into()),
            signer: Set(None),
            signer_title: Set(None),
            search_title: Set("ke hoach moi".into()),
            search_text: Set("ke hoach moi".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db),
    )
    .await
    .expect("insert");
    let again = app
        .data(
            TASK_IDS,
            json!({ "first": 5, "after": cursor, "filter": {"directiveNumber": "10/CT-UBND"} }),
        )
        .await;
    assert_eq!(ids(&again["tasks"]), ids(&expected["tasks"]));
}

#[tokio::test]
async fn page_size_over_100_and_bad_cursors_are_rejected() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.error_code(TASK_IDS, json!({ "first": 101 })).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(TASK_IDS, json!({ "first": -1 })).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(TASK_IDS, json!({ "first": 5, "after": "not-a-cursor" }))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code("{ agencies(first: 500) { totalCount } }", json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    let body = app.gql(TASK_IDS, json!({ "first": 101 })).await;
    let msg = body["errors"][0]["message"].as_str().expect("message");
    assert!(msg.contains("100"), "the message names the limit: {msg}");
}

#[tokio::test]
async fn task_filters_on_the_seed_data() {
    let app = TestApp::spawn().await;
    // Sở Y tế leads its five items, the tasks given to groups it belongs to, and social
    // protection (II.2-2.2), split to it from Sở LĐ-TB&XH.
    let ct10 = |extra: Value| {
        let mut f = json!({"directiveNumber": "10/CT-UBND"});
        for (k, v) in extra.as_object().expect("object") {
            f[k] = v.clone();
        }
        f
    };
    let health = codes(&app, ct10(json!({"agencyCode": "so-y-te", "role": "LEAD"}))).await;
    let mut expected: BTreeSet<String> = (1..=5).map(|i| format!("II.2-4.{i}")).collect();
    expected.extend(
        [
            "II.1.4-2", "II.1.4-3", "II.2-2.2", "II.4-1.1", "II.4-1.2", "II.6-1", "III.1-1",
        ]
        .map(String::from),
    );
    assert_eq!(health, expected);
    let coordinating = codes(
        &app,
        ct10(json!({"agencyCode": "so-y-te", "role": "COORDINATOR"})),
    )
    .await;
    assert!(
        coordinating.contains("II.2-1") && coordinating.is_disjoint(&health),
        "{coordinating:?}"
    );
    let any = codes(&app, ct10(json!({"agencyCode": "so-y-te"}))).await;
    assert_eq!(any, health.union(&coordinating).cloned().collect());

    // What the directive gave Sở KH&ĐT is now Sở Tài chính's.
    let khdt = codes(&app, json!({"agencyCode": "so-ke-hoach-dau-tu", "role": "LEAD"})).await;
    let tc = codes(&app, json!({"agencyCode": "so-tai-chinh", "role": "LEAD"})).await;
    assert!(khdt.len() >= 6 && khdt.is_subset(&tc), "{khdt:?} ⊆ {tc:?}");

    assert_eq!(task_total(&app, ct10(json!({"section": "II.1"}))).await, 30);
    assert_eq!(task_total(&app, ct10(json!({"section": "II.1.1"}))).await, 16);
    assert_eq!(task_total(&app, json!({"requiresReport": true})).await, 12);
    assert_eq!(
        task_total(&app, json!({"directiveNumber": "10/CT-UBND"})).await,
        50
    );
    let jan = codes(&app, json!({"dueAfter": "2025-01-01", "dueBefore": "2025-01-31"})).await;
    assert!(
        jan.contains("II.1.1-1") && jan.contains("II.1.1-3.2") && !jan.contains("II.1.2-1"),
        "{jan:?}"
    );
    assert_eq!(
        app.error_code(
            TASK_IDS,
            json!({"first": 1, "filter": {"dueAfter": "2025-02-01", "dueBefore": "2025-01-01"}})
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(TASK_IDS, json!({"first": 1, "filter": {"agencyId": "bm9wZQ"}}))
            .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn search_finds_vietnamese_with_or_without_diacritics() {
    let app = TestApp::spawn().await;
    for (with, without) in [
        ("kế hoạch đầu tư", "ke hoach dau tu"),
        ("Bệnh viện", "benh vien"),
        ("Đề án 86", "DE AN 86"),
        ("nhà ở xã hội", "nha o xa hoi"),
    ] {
        let a = codes(&app, json!({"search": with})).await;
        let b = codes(&app, json!({"search": without})).await;
        assert!(!a.is_empty(), "{with} finds something");
        assert_eq!(a, b, "{with} ~ {without}");
    }
    assert!(
        codes(&app, json!({"search": "benh vien"}))
            .await
            .contains("II.2-4.1")
    );
    assert!(
        codes(&app, json!({"search": "de an 86"}))
            .await
            .contains("II.3-2")
    );
    // Ranked: a title hit comes before a text-only hit.
    let d = app
        .data(
            r#"{ tasks(first: 3, filter: {search: "nha o xa hoi"}) { nodes { code title } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["tasks"]["nodes"][0]["code"], "II.1.3-3", "{d:#}");
    // Directives too.
    let d = app
        .data(
            r#"{ directives(filter: {search: "du toan ngan sach"}) { nodes { number } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["directives"]["nodes"][0]["number"], "10/CT-UBND");
}

async fn task_status(app: &TestApp, code: &str, as_of: &str) -> Value {
    let d = app
        .data(
            r#"query($asOf: Date) { tasks(first: 100, asOf: $asOf, filter: {directiveNumber: "10/CT-UBND"}) {
                nodes { code status dueOn daysOverdue } } }"#,
            json!({ "asOf": as_of }),
        )
        .await;
    d["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|t| t["code"] == code)
        .cloned()
        .expect("task")
}

#[tokio::test]
async fn as_of_moves_a_task_to_overdue_the_day_after_its_due_date() {
    let app = TestApp::spawn().await;
    // "trước ngày 15/01/2025": due 14/01/2025.
    let on = task_status(&app, "II.1.1-3.2", "2025-01-14").await;
    assert_eq!(on["status"], "IN_PROGRESS_ON_TIME");
    assert_eq!(on["daysOverdue"], Value::Null);
    let after = task_status(&app, "II.1.1-3.2", "2025-01-15").await;
    assert_eq!(after["status"], "IN_PROGRESS_OVERDUE");
    assert_eq!(after["daysOverdue"], 1);
    // A recurring duty is due at the end of each period, and overdue once a period's report
    // falls due unsent (III.3: January's on 20/01/2025; see `duties.rs`).
    let monthly = task_status(&app, "III.3-1", "2025-01-15").await;
    assert_eq!(monthly["status"], "IN_PROGRESS_ON_TIME");
    assert_eq!(monthly["dueOn"], "2025-01-31");
    let missed = task_status(&app, "III.3-1", "2025-02-10").await;
    assert_eq!(missed["status"], "IN_PROGRESS_OVERDUE");
    assert_eq!(missed["dueOn"], "2025-02-28");
    let ongoing = task_status(&app, "II.5-2", "2025-02-10").await;
    assert_eq!(ongoing["status"], "IN_PROGRESS_NO_DEADLINE");
    // The status filter uses the same date.
    let overdue = codes(&app, json!({"status": ["IN_PROGRESS_OVERDUE"]})).await;
    assert!(overdue.contains("II.1.1-3.2"));
}

/// Pages through `tasks` under `order` as the administrator and returns the ids in order.
async fn page_through(app: &TestApp, order: Value, filter: Value, size: i64) -> Vec<String> {
    task_ids_in_order(&app.admin(), &order, &filter, size).await.0
}

#[tokio::test]
async fn every_ordering_pages_consistently() {
    let app = TestApp::spawn().await;
    let ct10 = json!({"directiveNumber": "10/CT-UBND"});
    for order in [
        json!({"field": "DOCUMENT"}),
        json!({"field": "DOCUMENT", "direction": "DESC"}),
        json!({"field": "DUE_ON"}),
        json!({"field": "DUE_ON", "direction": "DESC"}),
    ] {
        let small = page_through(&app, order.clone(), ct10.clone(), 4).await;
        let whole = page_through(&app, order.clone(), ct10.clone(), 100).await;
        assert_eq!(small, whole, "paging by 4 equals one page for {order}");
        assert_eq!(whole.len(), 50, "{order}");
    }
    // Due dates ascend, and tasks without one come last.
    let d = app
        .data(
            r#"{ tasks(first: 100, orderBy: {field: DUE_ON}, filter: {directiveNumber: "10/CT-UBND"}) { nodes { dueOn } } }"#,
            json!({}),
        )
        .await;
    let dues: Vec<Option<String>> = d["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["dueOn"].as_str().map(str::to_owned))
        .collect();
    let dated: Vec<&String> = dues.iter().flatten().collect();
    assert!(dated.windows(2).all(|w| w[0] <= w[1]), "ascending: {dated:?}");
    let first_undated = dues.iter().position(Option::is_none).unwrap_or(dues.len());
    // The recurring task shows its period's due date but sorts with the undated ones.
    assert!(dues[..first_undated].iter().all(Option::is_some));

    let search = json!({"search": "bao cao"});
    let small = page_through(&app, json!({"field": "RELEVANCE"}), search.clone(), 3).await;
    let whole = page_through(&app, json!({"field": "RELEVANCE"}), search, 100).await;
    assert_eq!(small, whole, "relevance paging is stable");
    assert!(whole.len() > 3);
    assert_eq!(
        app.error_code(
            r#"{ tasks(orderBy: {field: RELEVANCE}) { totalCount } }"#,
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn every_agency_lists_its_tasks_by_due_date_through_its_assignments() {
    // An agency's list by due date is read from its assignments in due-date order (migration
    // m20261130_000004), except for an agency whose assignments moved to a successor. Every
    // agency of the seed, every role and both directions must list exactly what the general
    // condition lists, in the order of the whole list: the seed has agencies holding a task
    // twice (lead and coordinator; successors holding the rows of several merged agencies),
    // dissolved agencies, and tasks without a due date.
    let app = TestApp::spawn().await;
    let d = app
        .data("{ agencies(first: 100) { nodes { code } } }", json!({}))
        .await;
    let agencies: Vec<String> = d["agencies"]["nodes"]
        .as_array()
        .expect("agencies")
        .iter()
        .map(|a| a["code"].as_str().expect("code").to_owned())
        .collect();
    assert!(agencies.len() > 30, "{}", agencies.len());
    let admin = app.admin();
    let mut listed = 0;
    for desc in [false, true] {
        let (all, _) = task_ids_in_order(&admin, &by_due(desc), &json!({}), 100).await;
        for code in &agencies {
            for role in ["ANY", "LEAD", "COORDINATOR"] {
                let filter = json!({ "agencyCode": code, "role": role });
                let thorough = role == "ANY";
                listed += check_agency_due_order(&admin, filter, desc, &all, thorough).await;
            }
        }
    }
    assert!(listed > 200, "the seed's agencies hold tasks: {listed}");
    // By id, and through an agency's own token (its scope is one more condition).
    let d = app
        .data(r#"{ agency(code: "so-tai-chinh") { id } }"#, json!({}))
        .await;
    let (all, _) = task_ids_in_order(&admin, &by_due(false), &json!({}), 100).await;
    let by_id = json!({ "agencyId": d["agency"]["id"] });
    check_agency_due_order(&admin, by_id, false, &all, true).await;
    let own = app.agency("so-tai-chinh");
    for desc in [false, true] {
        let (all, _) = task_ids_in_order(&own, &by_due(desc), &json!({}), 100).await;
        for code in ["so-tai-chinh", "so-y-te"] {
            // Another agency's tasks through this token: only those both hold.
            let filter = json!({ "agencyCode": code });
            check_agency_due_order(&own, filter, desc, &all, true).await;
        }
    }
}

#[tokio::test]
async fn an_agencys_list_by_due_date_reads_the_key_its_assignments_carry() {
    // Which way the list is read: the copy of the due date on assignments is changed behind
    // the triggers' back, and only a list read through it moves the task. An agency none of
    // whose assignments moved is read that way; a dissolved one (its rows now held by a
    // successor) is not.
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let q = r#"query($f: TaskFilter) { tasks(first: 100, filter: $f, orderBy: {field: DUE_ON}) { nodes { id } } }"#;
    let list = |code: &'static str| {
        let app = &app;
        async move {
            let d = app.data(q, json!({ "f": { "agencyCode": code } })).await;
            d["tasks"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let drop_triggers = match app.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "DROP TRIGGER assignments_due_key ON assignments",
        _ => "DROP TRIGGER assignments_due_key_update",
    };
    app.db.execute_unprepared(drop_triggers).await.expect("drop");
    // The agency's list before, and after its last task's key is set before every date.
    let move_last_first = |code: &'static str| {
        let (app, list) = (&app, &list);
        async move {
            let before = list(code).await;
            let last = before.last().expect("tasks");
            let task = api::graphql::relay::decode_any(last).expect("a global id").1;
            let sql = format!(
                "UPDATE assignments SET task_due_key = '1900-01-01' WHERE task_id = {task} AND \
                 (SELECT id FROM agencies WHERE code = '{code}') IN (agency_id, original_agency_id)"
            );
            app.beside(app.db.execute_unprepared(&sql)).await.expect("update");
            (before, list(code).await)
        }
    };

    let (before, after) = move_last_first("so-y-te").await;
    assert_eq!(
        after[0],
        before[before.len() - 1],
        "read through the key on assignments"
    );

    let moved = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM assignments JOIN agencies ON agencies.id = original_agency_id \
         WHERE agencies.code = 'so-ke-hoach-dau-tu' AND agency_id <> original_agency_id",
    )
    .await;
    assert!(moved > 0, "the seed moved its assignments");
    let (before, after) = move_last_first("so-ke-hoach-dau-tu").await;
    assert_eq!(after, before, "read through the task's own date");
}

#[tokio::test]
async fn an_agencys_tasks_by_due_date_follow_extensions_and_new_tasks() {
    // The list reads a copy of each task's due date kept on its assignments by triggers
    // (migration m20261130_000004); a write through any path must move the task in it.
    let app = TestApp::spawn().await;
    let filter = json!({ "agencyCode": "so-tai-chinh" });
    let admin = app.admin();
    let first_due = || async {
        let (all, _) = task_ids_in_order(&admin, &by_due(false), &json!({}), 100).await;
        check_agency_due_order(&admin, filter.clone(), false, &all, true).await;
        let (all, _) = task_ids_in_order(&admin, &by_due(true), &json!({}), 100).await;
        check_agency_due_order(&admin, filter.clone(), true, &all, false).await;
        let (mine, _) = task_ids_in_order(&admin, &by_due(false), &filter, 100).await;
        mine
    };
    let before = first_due().await;
    assert!(before.len() > 5, "{before:?}");
    let earliest = before[0].clone();

    app.data(
        EXTEND,
        json!({ "input": { "taskId": earliest, "newDueOn": "2026-12-30", "reason": "Công văn 45/UBND-TH" } }),
    )
    .await;
    let after = first_due().await;
    assert_ne!(after[0], earliest, "the extended task is no longer first");
    assert!(after.contains(&earliest));

    let d = app
        .data(r#"{ directives(first: 1) { nodes { id } } }"#, json!({}))
        .await;
    let create = r#"mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id dueOn } } }"#;
    let d = app
        .data(
            create,
            json!({ "input": {
                "directiveId": d["directives"]["nodes"][0]["id"], "code": "99", "section": "99",
                "title": "Rà soát nợ đọng", "fullText": "Sở Tài chính chủ trì rà soát nợ đọng.",
                "deadlineText": "trước ngày 02/01/2025", "leadAgencyCodes": ["so-y-te"],
                "coordinatorAgencyCodes": ["so-tai-chinh"] } }),
        )
        .await;
    let created = d["createTask"]["task"]["id"].clone();
    assert_eq!(d["createTask"]["task"]["dueOn"], "2025-01-01");
    let now = first_due().await;
    assert_eq!(now[0], created, "due 2025-01-01, the earliest of all: {now:?}");
    assert_eq!(now.len(), after.len() + 1);
}

#[tokio::test]
async fn nested_pages_match_the_root_list_and_page_through_every_row() {
    let app = TestApp::spawn().await;
    let nested = app
        .data(
            r#"{ directives(first: 10) { nodes { id
                byDue: tasks(first: 7, orderBy: { field: DUE_ON, direction: DESC }) {
                    totalCount pageInfo { hasNextPage } nodes { code } }
                found: tasks(first: 5, filter: { search: "ke hoach" }) { totalCount nodes { code } }
            } } }"#,
            json!({}),
        )
        .await;
    let directives = nested["directives"]["nodes"].as_array().expect("directives");
    assert_eq!(directives.len(), 2);
    for d in directives {
        let root = app
            .data(
                r#"query($d: ID!) {
                    byDue: tasks(first: 7, filter: { directiveId: $d }, orderBy: { field: DUE_ON, direction: DESC }) {
                        totalCount pageInfo { hasNextPage } nodes { code } }
                    found: tasks(first: 5, filter: { directiveId: $d, search: "ke hoach" }) { totalCount nodes { code } }
                }"#,
                json!({ "d": d["id"] }),
            )
            .await;
        assert_eq!(d["byDue"], root["byDue"], "directive {}", d["id"]);
        assert_eq!(d["found"], root["found"], "directive {}", d["id"]);
    }

    // Page through one directive's tasks under the directive: every task exactly once.
    let id = directives[0]["id"].clone();
    let total = directives[0]["byDue"]["totalCount"].as_i64().expect("totalCount");
    assert!(total > 20, "the first directive has many tasks");
    let (mut seen, mut after) = (Vec::<String>::new(), serde_json::Value::Null);
    loop {
        let d = app
            .data(
                r#"query($id: ID!, $after: String) { directive(id: $id) {
                    tasks(first: 20, after: $after) { pageInfo { hasNextPage endCursor } nodes { code } } } }"#,
                json!({ "id": id, "after": after }),
            )
            .await;
        let c = &d["directive"]["tasks"];
        seen.extend(
            c["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["code"].as_str().expect("code").to_owned()),
        );
        if !c["pageInfo"]["hasNextPage"].as_bool().expect("hasNextPage") {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len() as i64, total);
    assert_eq!(unique.len(), seen.len(), "no task twice");
}

#[tokio::test]
async fn update_task_changes_only_the_role_it_is_given_on_seeded_tasks() {
    let app = TestApp::spawn().await;
    // Seeded tasks keep dissolved districts as holders and, after the mergers, successors
    // holding several inherited rows; editing one role must leave all that alone.
    let d = app
        .data(
            r#"{ tasks(first: 100, filter: { directiveNumber: "10/CT-UBND" }) {
                nodes { id code leads { code } coordinators { code } assignments { id } } } }"#,
            json!({}),
        )
        .await;
    let tasks = d["tasks"]["nodes"].as_array().expect("tasks");
    let task = tasks
        .iter()
        .find(|t| {
            t["coordinators"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|a| a["code"].as_str().is_some_and(|s| s.starts_with("ubnd-huyen")))
            })
        })
        .expect("a task coordinated by districts");
    let leads_before = task["leads"].clone();
    let mut codes: Vec<String> = task["coordinators"]
        .as_array()
        .expect("coordinators")
        .iter()
        .map(|a| a["code"].as_str().expect("code").to_owned())
        .collect();
    let rows_before = task["assignments"].as_array().map(Vec::len).expect("rows");
    codes.push("so-y-te".into());
    let update = r#"mutation($id: ID!, $c: [String!]) { updateTask(input: { id: $id, coordinatorAgencyCodes: $c }) {
        task { leads { code } coordinators { code } assignments { id } } } }"#;
    let d = app.data(update, json!({ "id": task["id"], "c": codes })).await;
    let t = &d["updateTask"]["task"];
    assert_eq!(t["leads"], leads_before, "leads untouched");
    let already = task["coordinators"]
        .as_array()
        .expect("coordinators")
        .iter()
        .any(|a| a["code"] == "so-y-te");
    let added = usize::from(!already);
    assert_eq!(
        t["assignments"].as_array().map(Vec::len),
        Some(rows_before + added)
    );
    // Adding a dissolved agency is refused, naming the entry.
    let e = app
        .gql(update, json!({ "id": task["id"], "c": ["so-ke-hoach-dau-tu"] }))
        .await;
    assert_eq!(
        e["errors"][0]["extensions"]["field"],
        "input.coordinatorAgencyCodes[0]"
    );
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
    let stc = app.agency(STC);
    for (who, client) in [("admin", app.admin()), ("agency", stc)] {
        let mut compared = 0;
        for t in &tasks {
            let vars = json!({ "id": t.id });
            let one = client.gql(&by_task, vars.clone()).await;
            let two = client.gql(&by_node, vars).await;
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
    let stc = app.agency(STC);

    let d = stc
        .data(
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
    let d = stc
        .data(
            r#"{ directives { nodes { tasks(first: 100) { totalCount nodes { id } } } }
                 agencies(first: 100) { nodes { assignments(first: 50) { totalCount nodes { id task { id } } } } } }"#,
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
        let mine = stc.data(q, json!({ "s": words })).await;
        let expected: BTreeSet<String> = all.intersection(&visible).cloned().collect();
        assert_eq!(ids_of(&mine["tasks"]["nodes"]), expected, "search {words}");
        assert_eq!(
            count(&mine["tasks"]["totalCount"]),
            expected.len() as i64,
            "search {words}"
        );
        let stats = stc
            .data(
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
    let d = stc.data("{ directives { nodes { code } } }", json!({})).await;
    let got: BTreeSet<String> = list(&d["directives"]["nodes"])
        .iter()
        .map(|n| text(&n["code"]))
        .collect();
    assert_eq!(got, expected);

    // Per-agency statistics of an agency token show its own rows only.
    let d = stc
        .data(
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
    let stc = app.agency(STC);
    let yte = app.agency(YTE);

    // Control: Sở Y tế and the administrator do see it.
    for client in [&yte, &app.admin()] {
        let d = client
            .data(
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
        let a = stc.gql(q, json!({ "id": hidden_id })).await;
        let b = stc.gql(q, json!({ "id": missing_id })).await;
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
        let (code_a, msg_a) = code_and_message(&a);
        let (code_b, msg_b) = code_and_message(&b);
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
    let found = stc.data(q, json!({ "s": hidden.title })).await;
    assert!(!ids_of(&found["tasks"]["nodes"]).contains(&hidden.id));
    // Nor through a filter naming its lead.
    let found = stc
        .data(
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
    let client = app.agency(&agency);
    let missing = gid("Directive", 999_999);
    for q in [
        "query($d: ID!) { directive(id: $d) { code } }",
        "query($d: ID!) { node(id: $d) { ... on Directive { code } } }",
    ] {
        let a = client.gql(q, json!({ "d": directive })).await;
        let b = client.gql(q, json!({ "d": missing })).await;
        assert_eq!(code_and_message(&a).0, "NOT_FOUND", "{agency} {q}: {a:#}");
        assert_eq!(
            code_and_message(&a),
            code_and_message(&b),
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

    let d = app.agency(STC).data(q, json!({})).await;
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
