//! The province after the 2025 reorganisation, on the seeds: orphaned work is listed and
//! counted, a district's work can be given to the communes of its area (and then completed),
//! an agency holds a task once, per-agency numbers count tasks and agree with the lists, the
//! split of Sở LĐ-TB&XH, the names that hold no assignment, and `reassignAssignments`' rules.

use std::collections::{BTreeMap, BTreeSet};

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_audit_len, count, count_rows, list, seeds_with, text, token};

/// The date the issue's figures are stated for.
const ON: &str = "2026-12-01";

/// The nine districts of the old tỉnh Lào Cai (ended 30/6/2025).
const DISTRICTS: [&str; 9] = [
    "ubnd-thanh-pho-lao-cai",
    "ubnd-thi-xa-sa-pa",
    "ubnd-huyen-bat-xat",
    "ubnd-huyen-muong-khuong",
    "ubnd-huyen-si-ma-cai",
    "ubnd-huyen-bac-ha",
    "ubnd-huyen-bao-thang",
    "ubnd-huyen-bao-yen",
    "ubnd-huyen-van-ban",
];

/// The 12 tasks of 10/CT-UBND that cannot complete while the districts' work is orphaned; the
/// first three have no other lead.
const STUCK: [&str; 12] = [
    "II.1.3-2",
    "II.1.3-4.1",
    "II.1.3-4.2",
    "II.1.1-1",
    "II.1.2-3",
    "II.1.4-2",
    "II.1.4-3",
    "II.3-2",
    "II.4-1.1",
    "II.4-1.2",
    "II.6-1",
    "III.1-1",
];

const ORPHANS: &str = r#"query($after: String, $on: Date) {
    orphanedAssignments(first: 100, after: $after, asOf: $on) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id role agency { code validTo } task { id code } } } }"#;

const REASSIGN: &str = r#"mutation($input: ReassignAssignmentsInput!) {
    reassignAssignments(input: $input) {
        from { code validTo successors { agency { code } } }
        moved shared merged kept reassignedCount
        reassigned { id role task { code } agency { code } originalAgency { code }
            transfers { kind role originalAgency { code } fromAgency { code } toAgency { code } effectiveOn reason recordedBy } } } }"#;

/// Every page of `orphanedAssignments` as of `on`: (total, nodes).
async fn orphans(client: &crate::helpers::Client<'_>, on: &str) -> (i64, Vec<Value>) {
    let mut after = Value::Null;
    let mut nodes = Vec::new();
    loop {
        let d = client.data(ORPHANS, json!({ "after": after, "on": on })).await;
        let page = &d["orphanedAssignments"];
        nodes.extend(list(&page["nodes"]).iter().cloned());
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return (count(&page["totalCount"]), nodes);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// The global ids of 10/CT-UBND's tasks by code.
async fn task_ids(app: &TestApp) -> BTreeMap<String, String> {
    let d = app
        .data(
            r#"{ directive(number: "10/CT-UBND") { tasks(first: 100) { nodes { id code } } } }"#,
            json!({}),
        )
        .await;
    list(&d["directive"]["tasks"]["nodes"])
        .iter()
        .map(|t| (text(&t["code"]), text(&t["id"])))
        .collect()
}

#[tokio::test]
async fn every_open_assignment_of_an_ended_agency_is_listed_and_counted() {
    let app = TestApp::spawn().await;
    // What the database holds: unfinished on 2026-12-01, held by an agency ended before it.
    let expected = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM assignments a JOIN agencies g ON g.id = a.agency_id \
         WHERE g.valid_to < '2026-12-01' AND (a.completed_on IS NULL OR a.completed_on > '2026-12-01')",
    )
    .await;
    assert_eq!(
        expected, 256,
        "the nine districts' open work (100 lead, 156 coordinator)"
    );
    let (total, nodes) = orphans(&app.monitor(), ON).await;
    assert_eq!(total, expected);
    assert_eq!(nodes.len() as i64, expected, "the pages hold every one once");
    let ids: BTreeSet<String> = nodes.iter().map(|n| text(&n["id"])).collect();
    assert_eq!(ids.len() as i64, expected);
    let leads = nodes.iter().filter(|n| n["role"] == "LEAD").count();
    assert_eq!((leads, nodes.len() - leads), (100, 156));
    for n in &nodes {
        let holder = text(&n["agency"]["code"]);
        assert!(DISTRICTS.contains(&holder.as_str()), "{holder}");
        assert!(text(&n["agency"]["validTo"]).as_str() < ON);
    }
    // Each of the 12 stuck tasks has an orphaned lead.
    let stuck_with_orphan_lead: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n["role"] == "LEAD")
        .map(|n| text(&n["task"]["code"]))
        .collect();
    for code in STUCK {
        assert!(stuck_with_orphan_lead.contains(code), "{code}");
    }

    // Before the districts ended nothing was orphaned.
    assert_eq!(orphans(&app.admin(), "2025-06-30").await.0, 0);

    // The statistics count the tasks involved, over the same rows.
    let tasks: BTreeSet<String> = nodes.iter().map(|n| text(&n["task"]["id"])).collect();
    let d = app
        .monitor()
        .data(
            r#"{ taskStatistics(asOf: "2026-12-01") { counts { orphaned } }
                 byAgency: taskStatistics(asOf: "2026-12-01", groupBy: [AGENCY]) { groups { agency { code } counts { orphaned total } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        count(&d["taskStatistics"]["counts"]["orphaned"]),
        tasks.len() as i64
    );
    let per_district: i64 = list(&d["byAgency"]["groups"])
        .iter()
        .map(|g| count(&g["counts"]["orphaned"]))
        .sum();
    assert_eq!(
        per_district, expected,
        "per agency, each orphaned assignment is its holder's"
    );

    // Only the roles that follow up the province may list them.
    for who in [app.viewer(), app.analyst(), app.agency("so-tai-chinh")] {
        assert_eq!(who.error_code(ORPHANS, json!({ "on": ON })).await, "FORBIDDEN");
    }
}

/// Seeds with two communes per former district (valid from 1/7/2025) and a group of them per
/// district, optionally named as the district's `successor_group`.
fn seeds_with_communes(as_successors: bool) -> std::path::PathBuf {
    seeds_with("agencies.yaml", |mut text| {
        let mut agencies = String::new();
        let mut groups = String::new();
        for d in DISTRICTS {
            let area = d.trim_start_matches("ubnd-");
            let members: Vec<String> = (1..=2).map(|i| format!("ubnd-xa-{area}-{i}")).collect();
            for (i, m) in members.iter().enumerate() {
                agencies.push_str(&format!(
                    "  - code: {m}\n    name: UBND xã {} số {}\n    kind: COMMUNE\n    valid_from: 2025-07-01\n\n",
                    area,
                    i + 1
                ));
            }
            groups.push_str(&format!(
                "  - code: xa-phuong-khu-vuc-{area}\n    name: Các xã, phường khu vực {area}\n    members: [{}]\n\n",
                members.join(", ")
            ));
            if as_successors {
                let line = format!("  - code: {d}\n");
                let at = text.find(&line).expect("district in agencies.yaml") + line.len();
                let end = at + text[at..].find("    successors: []\n").expect("successors line");
                let tail = end + "    successors: []\n".len();
                text.replace_range(
                    end..tail,
                    &format!("    successor_group: xa-phuong-khu-vuc-{area}\n"),
                );
            }
        }
        let at = text.find("\ngroups:\n").expect("groups section");
        text.insert_str(at + 1, &agencies);
        let at = text.find("\ngroups:\n").expect("groups section") + "\ngroups:\n".len();
        text.insert_str(at, &groups);
        text
    })
}

#[tokio::test]
async fn reassigning_the_districts_work_to_their_communes_lets_the_stuck_tasks_complete() {
    let app = TestApp::spawn_with_seeds(seeds_with_communes(false)).await;
    let ids = task_ids(&app).await;
    assert_eq!(orphans(&app.admin(), ON).await.0, 256);
    let audit_before = api_audit_len(&app).await;

    let mut shared = 0;
    for d in DISTRICTS {
        let area = d.trim_start_matches("ubnd-");
        let r = app
            .data(
                REASSIGN,
                json!({ "input": {
                    "fromAgencyCode": d,
                    "toGroupCode": format!("xa-phuong-khu-vuc-{area}"),
                    "effectiveOn": "2025-07-01",
                    "reason": "Quyết định giao nhiệm vụ của huyện cho các xã, phường khu vực (kiểm thử)",
                } }),
            )
            .await;
        let r = &r["reassignAssignments"];
        let moved = count(&r["moved"]);
        assert!(moved >= 28, "{d}: {r}");
        assert_eq!(count(&r["reassignedCount"]), 2 * moved, "{d}");
        assert_eq!(list(&r["reassigned"]).len() as i64, 2 * moved, "{d}");
        assert_eq!(
            count(&r["shared"]),
            moved,
            "{d}: the second commune gets its own row of each"
        );
        assert_eq!((count(&r["merged"]), count(&r["kept"])), (0, 0), "{d}");
        for a in list(&r["reassigned"]) {
            let holder = text(&a["agency"]["code"]);
            assert!(holder.starts_with(&format!("ubnd-xa-{area}-")), "{holder}");
            assert_eq!(text(&a["originalAgency"]["code"]), d);
            let t = list(&a["transfers"]).last().expect("a transfer").clone();
            assert_eq!(text(&t["fromAgency"]["code"]), d);
            assert_eq!(t["toAgency"]["code"], a["agency"]["code"]);
            assert_eq!(t["effectiveOn"], "2025-07-01");
            assert!(["MOVED", "SHARED"].contains(&t["kind"].as_str().expect("kind")));
            assert_eq!(t["recordedBy"], "test-admin");
        }
        shared += count(&r["shared"]);
    }
    assert_eq!(shared, 256);
    assert_eq!(
        orphans(&app.admin(), ON).await.0,
        0,
        "nothing is orphaned any more"
    );
    assert_eq!(
        api_audit_len(&app).await,
        audit_before + 9,
        "one audit entry per reassignment"
    );

    // Every lead of the 12 tasks is now held by an agency that exists (its token works).
    for code in STUCK {
        let d = app
            .data(
                r#"query($id: ID!) { task(id: $id) { assignments(role: LEAD) { completedOn agency { code active(on: "2026-12-01") } } } }"#,
                json!({ "id": ids[code] }),
            )
            .await;
        let leads = list(&d["task"]["assignments"]);
        assert!(!leads.is_empty(), "{code} has leads");
        for l in leads {
            assert_eq!(l["agency"]["active"], true, "{code}: {l}");
        }
    }

    // The three tasks only districts led: each commune reports done, the office accepts, and
    // the task completes.
    for code in &STUCK[..3] {
        let d = app
            .data(
                r#"query($id: ID!) { task(id: $id) { assignments(role: LEAD) { id agency { code } } } }"#,
                json!({ "id": ids[*code] }),
            )
            .await;
        let leads = list(&d["task"]["assignments"]).clone();
        let mut last = Value::Null;
        for l in &leads {
            let holder = app.with_token(token(Role::Agency, Some(&text(&l["agency"]["code"]))));
            let r = holder
                .data(
                    r#"mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { progressReport { id } } }"#,
                    json!({ "i": { "assignmentId": l["id"], "period": "2026Q4", "percentComplete": 100, "done": true,
                                   "summary": "Đã hoàn thành phần việc của xã" } }),
                )
                .await;
            last = app
                .monitor()
                .data(
                    r#"mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { task { completedOn } } }"#,
                    json!({ "i": { "id": r["submitProgressReport"]["progressReport"]["id"], "decision": "ACCEPT" } }),
                )
                .await;
        }
        assert!(
            last["reviewProgressReport"]["task"]["completedOn"].is_string(),
            "{code} completes once its {} communes are done: {last}",
            leads.len()
        );
    }
}

#[tokio::test]
async fn a_district_with_a_successor_group_hands_its_work_to_each_commune_in_the_seed() {
    let dir = seeds_with_communes(true);
    let app = TestApp::spawn_with_seeds(dir.clone()).await;
    assert_eq!(orphans(&app.admin(), ON).await.0, 0);
    let d = app
        .data(
            r#"{ agency(code: "ubnd-huyen-bat-xat") { successors { agency { code } effectiveOn } }
                 a: agency(code: "ubnd-xa-huyen-bat-xat-1") { assignments(first: 1) { totalCount } }
                 b: agency(code: "ubnd-xa-huyen-bat-xat-2") { assignments(first: 1) { totalCount } } }"#,
            json!({}),
        )
        .await;
    let heirs: BTreeSet<String> = list(&d["agency"]["successors"])
        .iter()
        .map(|s| text(&s["agency"]["code"]))
        .collect();
    assert_eq!(
        heirs,
        BTreeSet::from([
            "ubnd-xa-huyen-bat-xat-1".to_owned(),
            "ubnd-xa-huyen-bat-xat-2".to_owned()
        ])
    );
    assert_eq!(d["agency"]["successors"][0]["effectiveOn"], "2025-07-01");
    let held = count(&d["a"]["assignments"]["totalCount"]);
    assert_eq!(held, count(&d["b"]["assignments"]["totalCount"]));
    assert_eq!(held, 28, "Bát Xát's open work, each commune its own row");
    // A second run over the same files writes nothing.
    let set = api::seed::SeedSet::read(&dir).expect("read");
    let report = api::seed::load(&app.db, &set).await.expect("reseed");
    assert!(!report.changed(), "second run wrote: {report}");
}

#[tokio::test]
async fn per_agency_numbers_count_tasks_and_agree_with_the_lists() {
    let app = TestApp::spawn().await;
    let agencies = app
        .data(
            r#"{ agencies(first: 100) { totalCount nodes { code } } }"#,
            json!({}),
        )
        .await;
    let codes: Vec<String> = list(&agencies["agencies"]["nodes"])
        .iter()
        .map(|a| text(&a["code"]))
        .collect();
    assert_eq!(codes.len() as i64, count(&agencies["agencies"]["totalCount"]));
    let held_in_db: BTreeMap<String, i64> = {
        use sea_orm::{ConnectionTrait, Statement};
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT g.code AS code, COUNT(DISTINCT a.task_id) AS n FROM assignments a \
                 JOIN agencies g ON g.id = a.agency_id GROUP BY g.code",
            ))
            .await
            .expect("held");
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "code").expect("code"),
                    r.try_get::<i64>("", "n").expect("n"),
                )
            })
            .collect()
    };
    let mut groups: BTreeMap<(String, String), i64> = BTreeMap::new();
    for on in ["2025-02-01", "2025-07-15", ON] {
        let d = app
            .data(
                r#"query($on: Date!) { taskStatistics(asOf: $on, groupBy: [AGENCY]) { groups { agency { code } total } } }"#,
                json!({ "on": on }),
            )
            .await;
        for g in list(&d["taskStatistics"]["groups"]) {
            let key = (on.to_owned(), text(&g["agency"]["code"]));
            assert!(
                groups.insert(key.clone(), count(&g["total"])).is_none(),
                "{key:?} twice"
            );
        }
    }
    let query = r#"query($a: String!, $on: Date!) {
        stats: taskStatistics(filter: { agencyCode: $a }, asOf: $on) { total counts { inProgressOverdue completedOnTime inProgressNoDeadline } }
        all: tasks(first: 1, filter: { agencyCode: $a }, asOf: $on) { totalCount }
        overdue: tasks(first: 1, filter: { agencyCode: $a, status: [IN_PROGRESS_OVERDUE] }, asOf: $on) { totalCount }
        onTime: tasks(first: 1, filter: { agencyCode: $a, status: [COMPLETED_ON_TIME] }, asOf: $on) { totalCount }
        ongoing: tasks(first: 1, filter: { agencyCode: $a, status: [IN_PROGRESS_NO_DEADLINE] }, asOf: $on) { totalCount }
        agency(code: $a) { assignments(first: 1) { totalCount } } }"#;
    for code in &codes {
        for on in ["2025-02-01", "2025-07-15", ON] {
            let d = app.data(query, json!({ "a": code, "on": on })).await;
            let s = &d["stats"];
            assert_eq!(count(&s["total"]), count(&d["all"]["totalCount"]), "{code} {on}");
            assert_eq!(
                count(&s["counts"]["inProgressOverdue"]),
                count(&d["overdue"]["totalCount"]),
                "{code} {on}"
            );
            assert_eq!(
                count(&s["counts"]["completedOnTime"]),
                count(&d["onTime"]["totalCount"]),
                "{code} {on}"
            );
            assert_eq!(
                count(&s["counts"]["inProgressNoDeadline"]),
                count(&d["ongoing"]["totalCount"]),
                "{code} {on}"
            );
            // Per agency (grouped), the tasks it holds: each once, as its assignments list says.
            let held = held_in_db.get(code).copied().unwrap_or(0);
            assert_eq!(count(&d["agency"]["assignments"]["totalCount"]), held, "{code}");
            assert_eq!(
                groups.get(&(on.to_owned(), code.clone())).copied().unwrap_or(0),
                held,
                "{code} {on}"
            );
        }
    }
    // The five largest holders, as the note reports them.
    for (code, n) in [
        ("so-tai-chinh", 24),
        ("so-nong-nghiep-moi-truong", 24),
        ("so-xay-dung", 22),
        ("so-khoa-hoc-cong-nghe", 20),
        ("so-noi-vu", 20),
    ] {
        assert_eq!(held_in_db[code], n, "{code}");
    }
}

#[tokio::test]
async fn an_agency_holds_a_task_once_and_keeps_every_origin() {
    let app = TestApp::spawn().await;
    let duplicates = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM (SELECT task_id, agency_id FROM assignments GROUP BY task_id, agency_id HAVING COUNT(*) > 1) d",
    )
    .await;
    assert_eq!(duplicates, 0);
    let d = app
        .data(
            r#"{ tasks(first: 100) { nodes { code leads { code } coordinators { code } } } }"#,
            json!({}),
        )
        .await;
    for t in list(&d["tasks"]["nodes"]) {
        let leads: Vec<String> = list(&t["leads"]).iter().map(|a| text(&a["code"])).collect();
        let coordinators: Vec<String> = list(&t["coordinators"])
            .iter()
            .map(|a| text(&a["code"]))
            .collect();
        let distinct: BTreeSet<&String> = leads.iter().chain(&coordinators).collect();
        assert_eq!(
            distinct.len(),
            leads.len() + coordinators.len(),
            "{}: {leads:?} {coordinators:?}",
            t["code"]
        );
    }
    let ids = task_ids(&app).await;
    // II.6-1 names the 2024 departments and their successors: 30 leads, each once.
    let d = app
        .data(
            r#"query($id: ID!) { task(id: $id) { leads { code } assignments(role: LEAD) { agency { code }
                   transfers { kind role originalAgency { code } fromAgency { code } toAgency { code } } } } }"#,
            json!({ "id": ids["II.6-1"] }),
        )
        .await;
    assert_eq!(list(&d["task"]["leads"]).len(), 30);
    // Sở Tài chính's lead carries its own duty and Sở KH&ĐT's, joined on 1/3/2025.
    let stc = list(&d["task"]["assignments"])
        .iter()
        .find(|a| a["agency"]["code"] == "so-tai-chinh")
        .expect("Sở Tài chính leads II.6-1")
        .clone();
    let origins: BTreeSet<String> = list(&stc["transfers"])
        .iter()
        .map(|t| text(&t["originalAgency"]["code"]))
        .collect();
    assert!(origins.contains("so-ke-hoach-dau-tu"), "{stc}");
    assert!(
        list(&stc["transfers"])
            .iter()
            .any(|t| t["kind"] == "MERGED" && t["fromAgency"]["code"] == "so-ke-hoach-dau-tu"),
        "{stc}"
    );
    // The dissolved agency's filter still finds the task it was given.
    let d = app
        .data(
            r#"{ tasks(first: 100, filter: { agencyCode: "so-ke-hoach-dau-tu" }) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    assert!(
        list(&d["tasks"]["nodes"])
            .iter()
            .any(|t| t["id"] == json!(ids["II.6-1"]))
    );
}

#[tokio::test]
async fn the_labour_department_splits_by_function() {
    let app = TestApp::spawn().await;
    let ids = task_ids(&app).await;
    let q = r#"query($id: ID!) { task(id: $id) { leads { code }
        assignments(role: LEAD) { agency { code } originalAgency { code } transfers { kind fromAgency { code } toAgency { code } effectiveOn } } } }"#;
    let d = app.data(q, json!({ "id": ids["II.2-2.1"] })).await;
    assert_eq!(
        d["task"]["leads"],
        json!([{ "code": "so-giao-duc-dao-tao" }]),
        "vocational training"
    );
    let a = &d["task"]["assignments"][0];
    assert_eq!(a["originalAgency"]["code"], "so-lao-dong-tbxh");
    assert_eq!(
        a["transfers"],
        json!([{ "kind": "MOVED", "fromAgency": { "code": "so-lao-dong-tbxh" },
                 "toAgency": { "code": "so-giao-duc-dao-tao" }, "effectiveOn": "2025-03-01" }])
    );
    let d = app.data(q, json!({ "id": ids["II.2-2.2"] })).await;
    let leads: BTreeSet<String> = list(&d["task"]["leads"])
        .iter()
        .map(|a| text(&a["code"]))
        .collect();
    assert_eq!(
        leads,
        BTreeSet::from(["so-y-te".to_owned(), "so-nong-nghiep-moi-truong".to_owned()]),
        "social protection and poverty reduction"
    );
    let kinds: BTreeSet<String> = list(&d["task"]["assignments"])
        .iter()
        .map(|a| text(&a["transfers"][0]["kind"]))
        .collect();
    assert_eq!(kinds, BTreeSet::from(["MOVED".to_owned(), "SHARED".to_owned()]));
    // The rest (its coordinator duties of the sở, ban, ngành group) went to Sở Nội vụ, the primary.
    let rest = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM assignments a JOIN agencies g ON g.id = a.agency_id \
         JOIN agencies o ON o.id = a.original_agency_id \
         WHERE o.code = 'so-lao-dong-tbxh' AND g.code NOT IN ('so-noi-vu', 'so-giao-duc-dao-tao', 'so-y-te', 'so-nong-nghiep-moi-truong')",
    )
    .await;
    assert_eq!(rest, 0, "nothing stays with the dissolved department");
    let to_noi_vu = count_rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM assignment_transfers t JOIN agencies f ON f.id = t.from_agency_id \
         JOIN agencies g ON g.id = t.to_agency_id WHERE f.code = 'so-lao-dong-tbxh' AND g.code = 'so-noi-vu'",
    )
    .await;
    assert!(to_noi_vu >= 10, "Sở Nội vụ took the rest: {to_noi_vu}");
}

#[tokio::test]
async fn names_that_hold_no_assignment_are_kept_on_the_task() {
    let app = TestApp::spawn().await;
    let d = app
        .viewer()
        .data(
            r#"{ tasks(first: 100) { nodes { code directive { number } addressees { name role kind note }
                   assignments { agency { code } writtenAs } } } }"#,
            json!({}),
        )
        .await;
    let mut named: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let mut written = Vec::new();
    for t in list(&d["tasks"]["nodes"]) {
        for a in list(&t["addressees"]) {
            named.entry(text(&t["code"])).or_default().push((
                text(&a["name"]),
                text(&a["role"]),
                text(&a["kind"]),
            ));
        }
        for a in list(&t["assignments"]) {
            if !a["writtenAs"].is_null() {
                written.push((
                    text(&t["code"]),
                    text(&a["agency"]["code"]),
                    text(&a["writtenAs"]),
                ));
            }
        }
    }
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        named.get("II.1.4-2"),
        Some(&vec![s("các chủ đầu tư", "LEAD", "NOT_A_STATE_BODY")])
    );
    assert_eq!(
        named.get("II.1-1"),
        Some(&vec![
            s("tổ chức xã hội - nghề nghiệp", "LEAD", "NOT_A_STATE_BODY"),
            s("các doanh nghiệp", "LEAD", "NOT_A_STATE_BODY"),
        ])
    );
    assert_eq!(
        named.get("II.2-1"),
        Some(&vec![
            s(
                "Giám đốc các doanh nghiệp thuộc khối thi đua của tỉnh",
                "LEAD",
                "NOT_A_STATE_BODY"
            ),
            s("UBND các xã, phường", "LEAD", "GROUP_WITHOUT_MEMBERS"),
        ])
    );
    assert_eq!(
        named.get("II.3-1"),
        Some(&vec![s(
            "các cơ quan, đơn vị có liên quan",
            "COORDINATOR",
            "UNSPECIFIED"
        )])
    );
    assert_eq!(
        written,
        vec![s("II.2-4.5", "bao-hiem-xa-hoi-tinh", "Bảo hiểm xã hội Việt Nam")]
    );
    // Customs and tax as the seed records them now.
    let d = app
        .data(
            r#"{ hq: agency(code: "cuc-hai-quan-tinh") { validTo successors { agency { code } effectiveOn } }
                 thue: agency(code: "cuc-thue-tinh") { validTo successors { agency { code } effectiveOn } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["hq"]["validTo"], "2025-03-14");
    assert_eq!(
        d["hq"]["successors"][0]["agency"]["code"],
        "chi-cuc-hai-quan-khu-vuc-viii"
    );
    assert_eq!(d["thue"]["successors"][0]["effectiveOn"], "2025-07-01");
}

#[tokio::test]
async fn reassigning_moves_shares_merges_and_refuses_what_it_cannot_do() {
    let app = TestApp::spawn().await;
    let ids = task_ids(&app).await;
    let before = (api_audit_len(&app).await, orphans(&app.admin(), ON).await.0);
    let input = |extra: Value| {
        let mut i = json!({
            "fromAgencyCode": "ubnd-huyen-bat-xat",
            "toAgencyCodes": ["so-xay-dung", "so-tai-chinh"],
            "taskIds": [ids["II.1.3-4.1"], ids["II.1.4-2"]],
            "effectiveOn": "2025-07-01",
            "reason": "Quyết định giao lại nhiệm vụ (kiểm thử)",
        });
        for (k, v) in extra.as_object().expect("object") {
            i[k] = v.clone();
        }
        json!({ "input": i })
    };

    // Refusals, each writing nothing.
    for who in [app.monitor(), app.viewer(), app.agency("so-xay-dung")] {
        assert_eq!(who.error_code(REASSIGN, input(json!({}))).await, "FORBIDDEN");
    }
    for (extra, field) in [
        (json!({ "fromAgencyCode": "khong-co" }), "input.fromAgencyCode"),
        (
            json!({ "toAgencyCodes": ["so-ke-hoach-dau-tu"] }),
            "input.toAgencyCodes[0]",
        ),
        (
            json!({ "toAgencyCodes": ["so-xay-dung", "so-xay-dung"] }),
            "input.toAgencyCodes[1]",
        ),
        (
            json!({ "toAgencyCodes": ["ubnd-huyen-bat-xat"] }),
            "input.toAgencyCodes[0]",
        ),
        (json!({ "toAgencyCodes": [] }), "input.toAgencyCodes"),
        (json!({ "effectiveOn": "2099-01-01" }), "input.effectiveOn"),
        (json!({ "reason": "  " }), "input.reason"),
        // Bát Xát holds nothing of II.1.1-2.1 (an industrial cluster of Lào Cai city): a
        // mistake to report, not to skip.
        (
            json!({ "taskIds": [ids["II.1.3-4.1"], ids["II.1.1-2.1"]] }),
            "input.taskIds",
        ),
        (
            json!({ "toGroupCode": "ubnd-cac-xa-phuong", "toAgencyCodes": [] }),
            "input.toGroupCode",
        ),
        (
            json!({ "parts": [{ "taskIds": [ids["II.1.3-4.1"]], "toAgencyCodes": ["so-y-te"] },
                              { "taskIds": [ids["II.1.3-4.1"]], "toAgencyCodes": ["so-cong-thuong"] }] }),
            "input.parts[1].taskIds",
        ),
    ] {
        let e = app.first_error(REASSIGN, input(extra.clone())).await;
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{extra}: {e}");
        assert_eq!(e["extensions"]["field"], field, "{extra}: {e}");
    }
    assert_eq!(
        (api_audit_len(&app).await, orphans(&app.admin(), ON).await.0),
        before,
        "nothing was written"
    );

    // II.1.3-4.1: only districts lead; Sở Xây dựng takes Bát Xát's row, Sở Tài chính gets its own.
    // II.1.4-2: both already lead it (through the 2024 group): the duty joins their rows.
    let r = app.data(REASSIGN, input(json!({}))).await;
    let r = &r["reassignAssignments"];
    assert_eq!(
        (
            count(&r["moved"]),
            count(&r["shared"]),
            count(&r["merged"]),
            count(&r["kept"])
        ),
        (1, 1, 2, 0),
        "{r}"
    );
    let rows: BTreeMap<(String, String), Value> = list(&r["reassigned"])
        .iter()
        .map(|a| ((text(&a["task"]["code"]), text(&a["agency"]["code"])), a.clone()))
        .collect();
    assert_eq!(rows.len(), 4);
    let moved = &rows[&("II.1.3-4.1".to_owned(), "so-xay-dung".to_owned())];
    assert_eq!(moved["role"], "LEAD");
    assert_eq!(moved["originalAgency"]["code"], "ubnd-huyen-bat-xat");
    assert_eq!(moved["transfers"][0]["kind"], "MOVED");
    assert_eq!(
        moved["transfers"][0]["reason"],
        "Quyết định giao lại nhiệm vụ (kiểm thử)"
    );
    let shared = &rows[&("II.1.3-4.1".to_owned(), "so-tai-chinh".to_owned())];
    assert_eq!(shared["transfers"][0]["kind"], "SHARED");
    let joined = &rows[&("II.1.4-2".to_owned(), "so-tai-chinh".to_owned())];
    assert_eq!(joined["role"], "LEAD");
    assert!(
        list(&joined["transfers"])
            .iter()
            .any(|t| t["kind"] == "MERGED" && t["originalAgency"]["code"] == "ubnd-huyen-bat-xat"),
        "{joined}"
    );
    assert_eq!(orphans(&app.admin(), ON).await.0, before.1 - 2);
    assert_eq!(api_audit_len(&app).await, before.0 + 1);
    // Sở Tài chính's token sees the task it was given and may report on it.
    let d = app
        .agency("so-tai-chinh")
        .data(
            r#"query($id: ID!) { task(id: $id) { code assignments(role: LEAD) { agency { code } } } }"#,
            json!({ "id": ids["II.1.3-4.1"] }),
        )
        .await;
    assert_eq!(d["task"]["code"], "II.1.3-4.1");

    // A coordinator that takes a lead duty becomes the lead: Sở Công Thương leads II.1.2-4 alone,
    // Sở Tài chính coordinates it. After the move Sở Tài chính holds the task once, as lead, and
    // its own coordinator duty stays in the history.
    let r = app
        .data(
            REASSIGN,
            json!({ "input": { "fromAgencyCode": "so-cong-thuong", "toAgencyCodes": ["so-tai-chinh"],
                               "taskIds": [ids["II.1.2-4"]], "role": "LEAD",
                               "effectiveOn": "2025-07-01", "reason": "Giao Sở Tài chính chủ trì (kiểm thử)" } }),
        )
        .await;
    let rows = list(&r["reassignAssignments"]["reassigned"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["role"], "LEAD");
    assert_eq!(rows[0]["originalAgency"]["code"], "so-cong-thuong");
    let duties: BTreeSet<(String, String)> = list(&rows[0]["transfers"])
        .iter()
        .map(|t| (text(&t["originalAgency"]["code"]), text(&t["role"])))
        .collect();
    assert!(
        duties.contains(&("so-tai-chinh".to_owned(), "COORDINATOR".to_owned())),
        "{duties:?}"
    );
    assert!(
        duties.contains(&("so-cong-thuong".to_owned(), "LEAD".to_owned())),
        "{duties:?}"
    );
    let d = app
        .data(
            r#"query($id: ID!) { task(id: $id) { leads { code } coordinators { code } } }"#,
            json!({ "id": ids["II.1.2-4"] }),
        )
        .await;
    assert_eq!(d["task"]["leads"], json!([{ "code": "so-tai-chinh" }]));
    assert!(
        !list(&d["task"]["coordinators"])
            .iter()
            .any(|a| a["code"] == "so-tai-chinh")
    );
    // The agency the directive named still finds its task.
    let d = app
        .data(
            r#"{ tasks(first: 100, filter: { agencyCode: "so-cong-thuong", role: LEAD }) { nodes { code } } }"#,
            json!({}),
        )
        .await;
    assert!(list(&d["tasks"]["nodes"]).iter().any(|t| t["code"] == "II.1.2-4"));

    // Ending the source: Sở Ngoại vụ's work to Sở Nội vụ, recorded as its successor; its
    // token is refused afterwards, naming the successor.
    let r = app
        .data(
            REASSIGN,
            json!({ "input": { "fromAgencyCode": "so-ngoai-vu", "toAgencyCodes": ["so-noi-vu"],
                               "effectiveOn": ON, "reason": "Sắp xếp bộ máy (kiểm thử)", "endSource": true } }),
        )
        .await;
    let from = &r["reassignAssignments"]["from"];
    assert_eq!(from["validTo"], "2026-11-30");
    assert_eq!(from["successors"], json!([{ "agency": { "code": "so-noi-vu" } }]));
    let e = app
        .agency("so-ngoai-vu")
        .first_error("{ me { subject } }", json!({}))
        .await;
    assert_eq!(e["extensions"]["code"], "UNAUTHENTICATED");
    assert!(text(&e["message"]).contains("Sở Nội vụ"), "{e}");
    // Ending it twice is a conflict.
    let e = app
        .first_error(
            REASSIGN,
            json!({ "input": { "fromAgencyCode": "so-ngoai-vu", "toAgencyCodes": ["so-noi-vu"],
                               "effectiveOn": ON, "reason": "Lần hai", "endSource": true } }),
        )
        .await;
    assert_eq!(
        e["extensions"]["code"], "BAD_USER_INPUT",
        "no open work is left to move: {e}"
    );
}
