//! The read API over HTTP on the seed data: pagination, filters, search, derived status,
//! statistics consistent with lists, `node`, and flat statement counts.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{TestApp, by_due, check_agency_due_order, count_rows, task_ids_in_order};

const TASK_IDS: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $filter: TaskFilter) {
  tasks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    edges { cursor node { id code } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

fn ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn total(app: &TestApp, filter: Value) -> i64 {
    let d = app.data(TASK_IDS, json!({ "first": 1, "filter": filter })).await;
    d["tasks"]["totalCount"].as_i64().expect("count")
}

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
async fn directive_10_ct_ubnd_with_its_tasks_and_assignments() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ directive(number: "10/CT-UBND") {
                number kind issuedOn signer
                tasks(first: 100) { totalCount nodes { code title deadline { text kind dueOn }
                  assignments { role agency { code } originalAgency { code } } } } } }"#,
            json!({}),
        )
        .await;
    let dir = &d["directive"];
    assert_eq!(dir["kind"], "CHI_THI");
    assert_eq!(dir["issuedOn"], "2024-12-25");
    assert_eq!(dir["tasks"]["totalCount"], 50);
    let tasks = dir["tasks"]["nodes"].as_array().expect("nodes");
    let t = tasks.iter().find(|t| t["code"] == "II.1.1-3.2").expect("task");
    assert_eq!(
        t["deadline"],
        json!({"text": "trước ngày 15/01/2025", "kind": "DATE", "dueOn": "2025-01-14"})
    );
    assert_eq!(t["assignments"][0]["role"], "LEAD");
    assert_eq!(t["assignments"][0]["agency"]["code"], "ban-quan-ly-khu-kinh-te");
    // After the merger Sở Tài chính holds what the directive gave Sở KH&ĐT; history names both.
    let khdt = tasks.iter().find(|t| t["code"] == "II.1.2-1").expect("task");
    let lead = &khdt["assignments"][0];
    assert_eq!(lead["agency"]["code"], "so-tai-chinh");
    assert_eq!(lead["originalAgency"]["code"], "so-ke-hoach-dau-tu");
}

#[tokio::test]
async fn pagination_visits_every_row_once_both_ways() {
    let app = TestApp::spawn().await;
    let all = total(&app, json!({})).await;
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
    .insert(&app.db)
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
    // Sở Y tế leads its five items, and the tasks given to groups it belongs to.
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
            "II.1.4-2", "II.1.4-3", "II.4-1.1", "II.4-1.2", "II.6-1", "III.1-1",
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

    assert_eq!(total(&app, ct10(json!({"section": "II.1"}))).await, 30);
    assert_eq!(total(&app, ct10(json!({"section": "II.1.1"}))).await, 16);
    assert_eq!(total(&app, json!({"requiresReport": true})).await, 12);
    assert_eq!(total(&app, json!({"directiveNumber": "10/CT-UBND"})).await, 50);
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
    // Recurring duties are due at the end of each period, never overdue while reported.
    let monthly = task_status(&app, "III.3-1", "2025-02-10").await;
    assert_eq!(monthly["status"], "IN_PROGRESS_ON_TIME");
    assert_eq!(monthly["dueOn"], "2025-02-28");
    let ongoing = task_status(&app, "II.5-2", "2025-02-10").await;
    assert_eq!(ongoing["status"], "IN_PROGRESS_NO_DEADLINE");
    // The status filter uses the same date.
    let overdue = codes(&app, json!({"status": ["IN_PROGRESS_OVERDUE"]})).await;
    assert!(overdue.contains("II.1.1-3.2"));
}

const STATS: &str = r#"
query($f: TaskFilter, $asOf: Date) {
  taskStatistics(filter: $f, asOf: $asOf) {
    total overdueShare
    counts { completedOnTime completedLate completedNoDeadline inProgressOnTime inProgressOverdue
             inProgressNoDeadline fallenDue overdueOver30Days overdueOver60Days overdueOver120Days }
    byStatus { status count }
  }
}"#;

#[tokio::test]
async fn statistics_agree_with_the_lists() {
    let app = TestApp::spawn().await;
    for filter in [
        json!({}),
        json!({"directiveNumber": "10/CT-UBND"}),
        json!({"agencyCode": "so-tai-chinh", "role": "LEAD"}),
        json!({"section": "II.1"}),
        json!({"search": "bao cao"}),
        json!({"requiresReport": true}),
    ] {
        for as_of in ["2025-01-10", "2025-04-01", "2026-11-23"] {
            let s = app.data(STATS, json!({ "f": filter, "asOf": as_of })).await;
            let stats = &s["taskStatistics"];
            let list = app
                .data(
                    "query($f: TaskFilter, $a: Date) { tasks(first: 100, filter: $f, asOf: $a) { totalCount nodes { status } } }",
                    json!({ "f": filter, "a": as_of }),
                )
                .await;
            assert_eq!(stats["total"], list["tasks"]["totalCount"], "{filter} {as_of}");
            // The SQL status and the Rust status of each row agree.
            let mut tally: BTreeMap<String, i64> = BTreeMap::new();
            for n in list["tasks"]["nodes"].as_array().expect("nodes") {
                *tally
                    .entry(n["status"].as_str().expect("s").to_owned())
                    .or_default() += 1;
            }
            for bs in stats["byStatus"].as_array().expect("byStatus") {
                let status = bs["status"].as_str().expect("status");
                assert_eq!(
                    bs["count"].as_i64().unwrap_or(0),
                    tally.get(status).copied().unwrap_or(0),
                    "{status} for {filter} as of {as_of}"
                );
                let filtered = total(&app, {
                    let mut f = filter.clone();
                    f["status"] = json!([status]);
                    f
                })
                .await;
                if as_of == "2026-11-23" {
                    assert_eq!(
                        filtered,
                        bs["count"].as_i64().unwrap_or(0),
                        "status filter {status}"
                    );
                }
            }
        }
    }
    let s = app.data(STATS, json!({ "asOf": "2025-06-01" })).await;
    let c = &s["taskStatistics"]["counts"];
    assert_eq!(
        c["inProgressOverdue"], c["fallenDue"],
        "nothing completed yet in the seed data"
    );
    assert_eq!(s["taskStatistics"]["overdueShare"], 1.0);
    assert!(c["overdueOver120Days"].as_i64() <= c["overdueOver30Days"].as_i64());
}

#[tokio::test]
async fn statistics_group_by_agency_directive_and_section() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ taskStatistics(asOf: "2025-06-01", groupBy: [DIRECTIVE]) { total groups { directive { number } total } } }"#,
            json!({}),
        )
        .await;
    let groups = d["taskStatistics"]["groups"].as_array().expect("groups");
    let sum: i64 = groups.iter().map(|g| g["total"].as_i64().unwrap_or(0)).sum();
    assert_eq!(sum, d["taskStatistics"]["total"].as_i64().unwrap_or(-1));
    let d = app
        .data(
            r#"{ taskStatistics(filter: {directiveNumber: "10/CT-UBND"}, groupBy: [SECTION]) { groups { section total } } }"#,
            json!({}),
        )
        .await;
    let ii11 = d["taskStatistics"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["section"] == "II.1.1")
        .cloned()
        .expect("II.1.1");
    assert_eq!(ii11["total"], 16);
    let d = app
        .data(
            r#"{ taskStatistics(filter: {role: LEAD, agencyCode: "so-y-te"}, groupBy: [AGENCY]) { total groups { agency { code } total } } }"#,
            json!({}),
        )
        .await;
    let groups = d["taskStatistics"]["groups"].as_array().expect("groups");
    let yte = groups
        .iter()
        .find(|g| g["agency"]["code"] == "so-y-te")
        .expect("so-y-te group");
    assert_eq!(
        yte["total"], d["taskStatistics"]["total"],
        "every listed task has a Sở Y tế lead"
    );
    assert_eq!(
        yte["total"],
        total(&app, json!({"agencyCode": "so-y-te", "role": "LEAD"})).await
    );
}

#[tokio::test]
async fn statement_count_does_not_grow_with_page_size() {
    // A batch closes when its level's resolvers have all asked (`api::graphql::loaders`), after at most
    // a few yields; a debug build on a busy machine resolving ~700 assignment objects once
    // split a level in two (1 failure in ~10 full runs). A 5 ms wait before each batch
    // closes removes that noise, so the count shows the structure: one statement per level,
    // whatever the page size. (`benchmark_operations_run_a_fixed_number_of_statements`
    // checks exact counts with the default of no wait.)
    let app = TestApp::spawn_with(|s| s.loader_delay_ms = 5).await;
    let query = r#"query($n: Int) { tasks(first: $n) { totalCount nodes {
        id code status dueOn directive { number title }
        leads { name } coordinators { code }
        milestones { label } extensions { newDueOn }
        assignments { role status agency { code } originalAgency { code } latestReport { period } }
    } } }"#;
    let mut counts = Vec::new();
    for n in [10, 54] {
        // Warm nothing: each request builds its own loaders.
        let before = app.statements.get();
        let d = app.data(query, json!({ "n": n })).await;
        assert_eq!(d["tasks"]["nodes"].as_array().map(Vec::len), Some(n as usize));
        counts.push(app.statements.get() - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for first:10 vs first:54: {counts:?}"
    );
    assert!(counts[0] <= 15, "a bounded number of statements: {counts:?}");
}

#[tokio::test]
async fn node_fetches_every_kind_by_global_id() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ tasks(first: 1) { nodes { id assignments { id agency { id } } directive { id } } }
                 indicators(first: 1) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    let t = &d["tasks"]["nodes"][0];
    for (id, typename) in [
        (&t["id"], "Task"),
        (&t["assignments"][0]["id"], "Assignment"),
        (&t["assignments"][0]["agency"]["id"], "Agency"),
        (&t["directive"]["id"], "Directive"),
        (&d["indicators"]["nodes"][0]["id"], "Indicator"),
    ] {
        let n = app
            .data(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n["node"]["__typename"], typename);
        assert_eq!(&n["node"]["id"], id);
    }
    // An id of the right shape for a row that does not exist: NOT_FOUND.
    let missing = base64_id("Task:999999");
    assert_eq!(
        app.error_code(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": missing })
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.error_code(r#"{ node(id: "%%%") { id } }"#, json!({})).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ directive(number: "1/XX") { id } }"#, json!({}))
            .await,
        "NOT_FOUND"
    );
}

fn base64_id(raw: &str) -> String {
    // URL-safe base64 without padding, as the API encodes ids.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let b = raw.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn agency_filters_kind_active_on_and_successions() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ agencies(filter: {kind: [DISTRICT]}) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["agencies"]["totalCount"], 9);
    let d = app
        .data(
            r#"{ before: agencies(first: 100, filter: {activeOn: "2025-02-01"}) { nodes { code } }
                 after: agencies(first: 100, filter: {activeOn: "2025-07-01"}) { nodes { code } } }"#,
            json!({}),
        )
        .await;
    let set = |k: &str| -> BTreeSet<String> {
        d[k]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["code"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert!(set("before").contains("so-ke-hoach-dau-tu") && !set("after").contains("so-ke-hoach-dau-tu"));
    assert!(set("after").contains("so-tai-chinh") && !set("after").contains("ubnd-huyen-bat-xat"));

    let d = app
        .data(
            r#"{ agency(code: "so-ke-hoach-dau-tu") { id active(on: "2025-03-01") validTo
                 successors { agency { code } effectiveOn } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["agency"]["active"], false);
    assert_eq!(
        d["agency"]["successors"],
        json!([{"agency": {"code": "so-tai-chinh"}, "effectiveOn": "2025-03-01"}])
    );
    let id = d["agency"]["id"].clone();
    let d = app
        .data(
            "query($id: ID) { agencies(filter: {successorOf: $id}) { nodes { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(d["agencies"]["nodes"], json!([{"code": "so-tai-chinh"}]));
    let d = app
        .data(
            r#"{ agency(code: "so-nong-nghiep-moi-truong") { predecessors { agency { code } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["agency"]["predecessors"].as_array().map(Vec::len), Some(2));
    let d = app
        .data(
            r#"{ agencies(filter: {search: "ke hoach dau tu"}) { nodes { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["agencies"]["nodes"][0]["name"], "Sở Kế hoạch và Đầu tư");
}

#[tokio::test]
async fn indicators_with_values_and_achievement() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ indicators(filter: {topLevel: true}) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["indicators"]["totalCount"], 28);

    let id_of = |code: &'static str| {
        let db = app.db.clone();
        async move {
            entity::indicator::Entity::find()
                .filter(entity::indicator::Column::Code.eq(code))
                .one(&db)
                .await
                .expect("q")
                .expect("indicator")
                .id
        }
    };
    let record = |indicator_id: i32, period: &'static str, value: &'static str| {
        let db = app.db.clone();
        async move {
            entity::indicator_value::ActiveModel {
                indicator_id: Set(indicator_id),
                period: Set(period.into()),
                value: Set(value.into()),
                kind: Set(entity::enums::ValueKind::Official),
                note: Set(None),
                recorded_by: Set("test".into()),
                recorded_at: Set(chrono::Utc::now()),
                ..Default::default()
            }
            .insert(&db)
            .await
            .expect("insert value");
        }
    };
    record(id_of("2025.09").await, "2025Q1", "5000").await;
    record(id_of("2025.09").await, "2025", "21000").await;
    record(id_of("2025.18").await, "2025", "2.70").await;
    record(id_of("2025.25").await, "2025", "55.35").await;

    let d = app
        .data(
            r#"{ revenue: indicator(code: "2025.09") { target targetText unit achievement latestValue { period value }
                   values(from: "2025Q1", to: "2025Q4") { period value achievement } }
                 poverty: indicator(code: "2025.18") { achievement latestValue { met } }
                 structure: indicator(code: "2025.02") { target childrenTargetSum children { code target } }
                 qualitative: indicator(code: "2025.28") { achievement }
                 below: indicators(filter: {achievementBelow: 0.95}) { nodes { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["revenue"]["target"], "21000");
    assert_eq!(d["revenue"]["targetText"], "21.000");
    assert_eq!(d["revenue"]["unit"], "tỷ đồng");
    assert_eq!(d["revenue"]["achievement"], 1.0);
    assert_eq!(d["revenue"]["latestValue"]["period"], "2025");
    assert_eq!(
        d["revenue"]["values"],
        json!([
            {"period": "2025Q1", "value": "5000", "achievement": 0.238095},
            {"period": "2025", "value": "21000", "achievement": 1.0}
        ]),
        "periods inside the range, oldest start first"
    );
    let poverty = d["poverty"]["achievement"].as_f64().expect("ratio");
    assert!(poverty > 1.0 && poverty < 1.01, "2.70 of 2.68: {poverty}");
    assert_eq!(d["poverty"]["latestValue"]["met"], true);
    assert_eq!(d["structure"]["target"], Value::Null);
    assert_eq!(d["structure"]["childrenTargetSum"], "99.96");
    assert_eq!(d["structure"]["children"].as_array().map(Vec::len), Some(4));
    assert_eq!(d["qualitative"]["achievement"], Value::Null);
    assert_eq!(
        d["below"]["nodes"],
        json!([{"code": "2025.25"}]),
        "55.35 of 61.5 is 0.9"
    );
}

/// Pages through `tasks` under `order` as the administrator and returns the ids in order.
async fn page_through(app: &TestApp, order: Value, filter: Value, size: i64) -> Vec<String> {
    task_ids_in_order(app, &app.admin, &order, &filter, size).await.0
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
    let mut listed = 0;
    for desc in [false, true] {
        let (all, _) = task_ids_in_order(&app, &app.admin, &by_due(desc), &json!({}), 100).await;
        for code in &agencies {
            for role in ["ANY", "LEAD", "COORDINATOR"] {
                let filter = json!({ "agencyCode": code, "role": role });
                let thorough = role == "ANY";
                listed += check_agency_due_order(&app, &app.admin, filter, desc, &all, thorough).await;
            }
        }
    }
    assert!(listed > 200, "the seed's agencies hold tasks: {listed}");
    // By id, and through an agency's own token (its scope is one more condition).
    let d = app
        .data(r#"{ agency(code: "so-tai-chinh") { id } }"#, json!({}))
        .await;
    let (all, _) = task_ids_in_order(&app, &app.admin, &by_due(false), &json!({}), 100).await;
    let by_id = json!({ "agencyId": d["agency"]["id"] });
    check_agency_due_order(&app, &app.admin, by_id, false, &all, true).await;
    let own = crate::helpers::token(api::auth::Role::Agency, Some("so-tai-chinh"));
    for desc in [false, true] {
        let (all, _) = task_ids_in_order(&app, &own, &by_due(desc), &json!({}), 100).await;
        for code in ["so-tai-chinh", "so-y-te"] {
            // Another agency's tasks through this token: only those both hold.
            let filter = json!({ "agencyCode": code });
            check_agency_due_order(&app, &own, filter, desc, &all, true).await;
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
            app.db.execute_unprepared(&sql).await.expect("update");
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
async fn nested_connections_are_batched_across_parents() {
    let app = TestApp::spawn_with(|s| s.loader_delay_ms = 0).await;
    let query = r#"query($n: Int) { agencies(first: $n) { nodes { code
        assignments(first: 5, filter: { role: LEAD }) { totalCount pageInfo { hasNextPage endCursor }
            nodes { role task { code reports(first: 3) { totalCount nodes { period } } } } }
    } } }"#;
    let mut counts = Vec::new();
    for n in [5, 40] {
        let before = app.statements.get();
        let d = app.data(query, json!({ "n": n })).await;
        assert_eq!(d["agencies"]["nodes"].as_array().map(Vec::len), Some(n as usize));
        counts.push(app.statements.get() - before);
    }
    assert_eq!(counts[0], counts[1], "statements for 5 vs 40 parents: {counts:?}");
    assert!(counts[0] <= 8, "a bounded number of statements: {counts:?}");
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
async fn benchmark_operations_run_a_fixed_number_of_statements() {
    // The four operations of bench/ (README "Performance") in their documents' shapes. How
    // many statements each runs is part of its cost: one per level, with an assignment's
    // agency and a task's directive loaded in the statement of the row that names them.
    let app = TestApp::spawn().await;
    let seen = app
        .data(
            r#"{ tasks(first: 1) { nodes { id directive { number } leads { code } } } }"#,
            json!({}),
        )
        .await;
    let t = &seen["tasks"]["nodes"][0];
    let (id, number, agency) = (&t["id"], &t["directive"]["number"], &t["leads"][0]["code"]);
    let cases = [
        (
            "Q1 task, directive, leads: task+directive+assignments+agencies in one join",
            r#"query($id: ID!) { task(id: $id) { id code title dueOn status
                directive { number } leads { code name } } }"#,
            json!({ "id": id }),
            1,
        ),
        (
            "Q2 an agency's tasks: agency id, page, directives, assignments+agencies, latest reports",
            r#"query($agency: String!) { tasks(first: 50, filter: { agencyCode: $agency },
                orderBy: { field: DUE_ON }) { nodes { id code title dueOn status
                directive { number } leads { name } coordinators { name }
                assignments { role agency { code } latestReport { period percentComplete state } } } } }"#,
            json!({ "agency": agency }),
            5,
        ),
        (
            "Q3 indicators with values: page, values",
            r#"{ indicators(first: 50) { nodes { code name values { period value } } } }"#,
            json!({}),
            2,
        ),
        (
            "Q4 counts by status: one aggregate",
            r#"query($number: String!) { taskStatistics(filter: { directiveNumber: $number }) {
                total counts { completedOnTime completedLate completedNoDeadline
                inProgressOnTime inProgressOverdue inProgressNoDeadline } } }"#,
            json!({ "number": number }),
            1,
        ),
    ];
    for (what, query, vars, expected) in cases {
        let before = app.statements.get();
        let d = app.data(query, vars).await;
        assert!(!d.is_null(), "{what}");
        assert_eq!(app.statements.get() - before, expected, "{what}: {d}");
    }
}

/// The loaders read rows by column position (`api::db::positional`); every seeded row of every
/// table they load must decode exactly as sea-orm's by-name decoding does, on both databases,
/// including the LEFT JOIN side of `find_also_related`.
#[tokio::test]
async fn positional_decoding_matches_sea_orm() {
    use api::db::positional::{Positional, all_at};
    use entity::*;
    use sea_orm::{ConnectionTrait, EntityTrait, QueryTrait};

    async fn same<E>(db: &sea_orm::DatabaseConnection) -> usize
    where
        E: EntityTrait,
        E::Model: Positional + PartialEq + std::fmt::Debug,
    {
        let by_name = E::find().all(db).await.expect("by name");
        let stmt = E::find().build(db.get_database_backend());
        let rows = db.query_all_raw(stmt).await.expect("rows");
        let by_position: Vec<E::Model> = all_at(&rows).expect("by position");
        assert_eq!(by_position, by_name, "{}", std::any::type_name::<E>());
        by_name.len()
    }

    // The real seed has no reports or values yet: a small synthetic load beside it fills
    // every table (reports with obstacles, reviews and drafts; estimates and official values).
    let app = TestApp::spawn().await;
    let db = &app.db;
    let scale = api::seed::synthetic::Scale {
        agencies: 12,
        directives: 4,
        tasks: 60,
        indicators: 5,
        reports: 300,
    };
    api::seed::synthetic::load(db, scale)
        .await
        .expect("synthetic load");
    assert!(same::<agency::Entity>(db).await > 0);
    same::<agency_succession::Entity>(db).await;
    assert!(same::<directive::Entity>(db).await > 0);
    assert!(same::<task::Entity>(db).await > 0);
    same::<task_milestone::Entity>(db).await;
    same::<deadline_extension::Entity>(db).await;
    assert!(same::<assignment::Entity>(db).await > 0);
    assert!(same::<progress_report::Entity>(db).await > 0);
    assert!(same::<indicator::Entity>(db).await > 0);
    assert!(same::<indicator_value::Entity>(db).await > 0);

    // A LEFT JOIN read by position: the assignment's columns, then the agency's.
    let by_name = assignment::Entity::find()
        .find_also_related(agency::Entity)
        .all(db)
        .await
        .expect("by name");
    let stmt = assignment::Entity::find()
        .find_also_related(agency::Entity)
        .build(db.get_database_backend());
    let rows = db.query_all_raw(stmt).await.expect("rows");
    let width = <assignment::Model as Positional>::FIELDS.len();
    let by_position: Vec<(assignment::Model, Option<agency::Model>)> = rows
        .iter()
        .map(|r| {
            (
                assignment::Model::at(r, 0).expect("assignment"),
                agency::Model::joined_at(r, width).expect("agency"),
            )
        })
        .collect();
    assert_eq!(by_position, by_name);
    assert!(by_position.iter().all(|(_, g)| g.is_some()));
}

/// `taskStatistics` answers are kept on PostgreSQL until a write commits: through this
/// instance (seen on the next request) or anywhere else (seen when PostgreSQL's notification
/// arrives). SQLite computes every answer. A kept answer is never given to another caller.
#[tokio::test]
async fn statistics_are_reused_until_a_write_commits() {
    use api::auth::Role;
    use sea_orm::ConnectionTrait;

    use crate::helpers::{pg_url, token};

    const Q: &str = r#"query($n: String!) { taskStatistics(filter: { directiveNumber: $n }, asOf: "2026-11-23") {
        total counts { completedOnTime completedLate inProgressOnTime inProgressOverdue } } }"#;
    let app = TestApp::spawn().await;
    let vars = json!({ "n": "10/CT-UBND" });
    let count = |d: &Value, c: &str| d["taskStatistics"]["counts"][c].as_i64().expect("count");

    let first = app.data(Q, vars.clone()).await;
    let before = app.statements.get();
    assert_eq!(app.data(Q, vars.clone()).await, first);
    let ran = app.statements.get() - before;
    assert_eq!(
        ran,
        if pg_url().is_some() { 0 } else { 1 },
        "kept on PostgreSQL only"
    );

    // Another caller with the same filter gets its own rows' counts, not the kept answer.
    let agency = token(Role::Agency, Some("so-tai-chinh"));
    let own = app.data_as(&agency, Q, vars.clone()).await;
    let listed = app
        .data_as(
            &agency,
            "query($n: String!) { tasks(first: 1, filter: { directiveNumber: $n }) { totalCount } }",
            vars.clone(),
        )
        .await;
    assert_eq!(own["taskStatistics"]["total"], listed["tasks"]["totalCount"]);
    let total = |d: &Value| d["taskStatistics"]["total"].as_i64().expect("total");
    assert!(0 < total(&own) && total(&own) < total(&first), "{own} vs {first}");

    let overdue = app
        .data(
            r#"{ tasks(first: 2, asOf: "2026-11-23",
                 filter: { directiveNumber: "10/CT-UBND", status: [IN_PROGRESS_OVERDUE] }) {
                 nodes { id code } } }"#,
            json!({}),
        )
        .await;
    let nodes = overdue["tasks"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2, "the seed has overdue tasks in 10/CT-UBND");

    // Written elsewhere (another instance, an operator): seen once the notification arrives.
    let code = nodes[0]["code"].as_str().expect("code");
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-()".contains(c))
    );
    app.db
        .execute_unprepared(&format!(
            "UPDATE tasks SET completed_on = '2025-01-05' WHERE code = '{code}' \
             AND directive_id = (SELECT id FROM directives WHERE number = '10/CT-UBND')"
        ))
        .await
        .expect("write beside the service");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let seen = loop {
        let now = app.data(Q, vars.clone()).await;
        if now != first {
            break now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a write beside the service was not seen in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        count(&seen, "inProgressOverdue"),
        count(&first, "inProgressOverdue") - 1
    );
    assert_eq!(
        count(&seen, "completedOnTime") + count(&seen, "completedLate"),
        count(&first, "completedOnTime") + count(&first, "completedLate") + 1
    );

    // Written through the service: seen on the very next request.
    let monitor = token(Role::Monitor, None);
    app.data_as(
        &monitor,
        r#"mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) { task { dueOn } } }"#,
        json!({ "input": { "taskId": nodes[1]["id"], "newDueOn": "2027-01-31", "reason": "Công văn 45/UBND-TH cho lùi hạn" } }),
    )
    .await;
    let after = app.data(Q, vars).await;
    assert_eq!(
        count(&after, "inProgressOverdue"),
        count(&seen, "inProgressOverdue") - 1
    );
    assert_eq!(
        count(&after, "inProgressOnTime"),
        count(&seen, "inProgressOnTime") + 1
    );
}
