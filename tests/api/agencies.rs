//! The agency directory: filters by kind, activity and succession, and a merger performed
//! through the API (open tasks move, history stays, the dissolved agency's token is refused).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, api_audit_len, by_due, check_agency_due_order, seeds_before_the_khdt_merger, task_ids_in_order,
};

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
    // Sở TN&MT and Sở NN&PTNT merged into it; Sở LĐ-TB&XH's poverty reduction split to it.
    assert_eq!(d["agency"]["predecessors"].as_array().map(Vec::len), Some(3));
    let d = app
        .data(
            r#"{ agencies(filter: {search: "ke hoach dau tu"}) { nodes { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["agencies"]["nodes"][0]["name"], "Sở Kế hoạch và Đầu tư");
}

#[tokio::test]
async fn merging_ke_hoach_dau_tu_into_tai_chinh_moves_its_open_tasks_and_keeps_history() {
    // The seed already records this 2025 merger; start from before it so the API performs it.
    let app = TestApp::spawn_with_seeds(seeds_before_the_khdt_merger()).await;
    let tai_chinh = app.agency("so-tai-chinh");
    let count = "{ tasks(filter: { directiveNumber: \"10/CT-UBND\" }) { totalCount } }";
    let before = tai_chinh.data(count, json!({})).await["tasks"]["totalCount"]
        .as_i64()
        .expect("count");
    let khdt = app.agency("so-ke-hoach-dau-tu");
    let khdt_tasks = khdt.data(count, json!({})).await["tasks"]["totalCount"]
        .as_i64()
        .expect("count");
    assert!(khdt_tasks > 0, "before the merger Sở KH&ĐT holds its own tasks");

    let merge = r#"mutation($input: MergeAgenciesInput!) { mergeAgencies(input: $input) {
        movedAssignments successor { code } dissolved { code validTo successors { agency { code } effectiveOn } } } }"#;
    let input = |codes: Value| {
        json!({ "input": { "dissolvedAgencyCodes": codes, "successorCode": "so-tai-chinh",
                           "effectiveOn": "2025-03-01", "note": "Nghị quyết 05/NQ-HĐND" } })
    };
    // All or nothing: an unknown second code leaves the first agency untouched.
    let e = app
        .first_error(merge, input(json!(["so-ke-hoach-dau-tu", "khong-co"])))
        .await;
    assert_eq!(e["extensions"]["field"], "input.dissolvedAgencyCodes[1]");
    khdt.data(count, json!({})).await;
    assert_eq!(api_audit_len(&app).await, 0);

    let d = app.data(merge, input(json!(["so-ke-hoach-dau-tu"]))).await;
    let m = &d["mergeAgencies"];
    assert!(m["movedAssignments"].as_i64().expect("moved") > 0);
    assert_eq!(m["dissolved"][0]["validTo"], "2025-02-28");
    assert_eq!(
        m["dissolved"][0]["successors"][0]["agency"]["code"],
        "so-tai-chinh"
    );

    // Sở Tài chính now sees the tasks 10/CT-UBND gave Sở KH&ĐT, and each still names it.
    let after = tai_chinh.data(count, json!({})).await["tasks"]["totalCount"]
        .as_i64()
        .expect("count");
    assert!(after > before, "{before} -> {after}");
    let d = tai_chinh
        .data(
            r#"{ agency(code: "so-tai-chinh") { assignments(first: 100) { nodes { originalAgency { code } transferredOn } } } }"#,
            json!({}),
        )
        .await;
    let inherited: Vec<&Value> = d["agency"]["assignments"]["nodes"]
        .as_array()
        .expect("assignments")
        .iter()
        .filter(|a| a["originalAgency"]["code"] == "so-ke-hoach-dau-tu")
        .collect();
    assert!(!inherited.is_empty());
    assert!(inherited.iter().all(|a| a["transferredOn"] == "2025-03-01"));

    // Both agencies' lists by due date: the successor's read through its assignments (some
    // now twice on a task), the dissolved one's through the agency the directive named.
    let admin = app.admin();
    for code in ["so-tai-chinh", "so-ke-hoach-dau-tu"] {
        for desc in [false, true] {
            let (all, _) = task_ids_in_order(&admin, &by_due(desc), &json!({}), 100).await;
            let filter = json!({ "agencyCode": code });
            assert!(check_agency_due_order(&admin, filter, desc, &all, true).await > 0);
        }
    }

    // A token for the dissolved agency is refused with the successor's name.
    let body = khdt.gql(count, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("Sở Tài chính")
    );
    // Merging it again is a conflict.
    assert_eq!(
        app.error_code(merge, input(json!(["so-ke-hoach-dau-tu"]))).await,
        "CONFLICT"
    );
}
