//! Directives: 10/CT-UBND read with its tasks and assignments, and an administrator creating a
//! directive and a task under it (validation, uniqueness) and reassigning the task.

use serde_json::{Value, json};

use crate::helpers::{TestApp, api_audit_len};

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
async fn an_admin_creates_a_directive_and_a_task_and_reassigns_it() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"mutation { createDirective(input: { code: "15-ct-ubnd-2026", number: "15/CT-UBND",
                kind: CHI_THI, title: "Về tăng cường kỷ luật hành chính", issuedOn: "2026-11-02" }) {
                directive { id number issuer } } }"#,
            json!({}),
        )
        .await;
    let directive = d["createDirective"]["directive"].clone();
    assert_eq!(directive["issuer"], "UBND tỉnh");
    assert_eq!(
        app.error_code(
            r#"mutation { createDirective(input: { code: "another", number: "15/CT-UBND", kind: CHI_THI, title: "x" }) { directive { id } } }"#,
            json!({})
        )
        .await,
        "CONFLICT"
    );

    // A document without a number (like the seeded 2025 plan) is not a duplicate of another.
    let d = app
        .data(
            r#"mutation { createDirective(input: { code: "cv-khong-so", kind: CONG_VAN, title: "Công văn chưa có số" }) {
                directive { number } } }"#,
            json!({}),
        )
        .await;
    assert!(d["createDirective"]["directive"]["number"].is_null());

    let create = r#"mutation($input: CreateTaskInput!) { createTask(input: $input) {
        task { id code dueOn deadline { kind text } leads { code } coordinators { code } } } }"#;
    let input = |leads: Value, deadline: &str| {
        json!({ "input": {
            "directiveId": directive["id"], "code": "1", "section": "1",
            "title": "Rà soát thủ tục hành chính", "fullText": "Sở Y tế chủ trì rà soát thủ tục hành chính.",
            "deadlineText": deadline, "leadAgencyCodes": leads, "coordinatorAgencyCodes": ["so-tai-chinh"] } })
    };
    for (leads, deadline, field) in [
        (
            json!(["so-y-te", "khong-co"]),
            "trước ngày 15/01/2027",
            "input.leadAgencyCodes[1]",
        ),
        (
            json!(["so-ke-hoach-dau-tu"]),
            "trước ngày 15/01/2027",
            "input.leadAgencyCodes[0]",
        ),
        (json!([]), "trước ngày 15/01/2027", "input.leadAgencyCodes"),
        (
            json!(["so-tai-chinh"]),
            "trước ngày 15/01/2027",
            "input.coordinatorAgencyCodes[0]",
        ),
        (json!(["so-y-te"]), "khi nào xong thì thôi", "input.deadlineText"),
    ] {
        let e = app.first_error(create, input(leads.clone(), deadline)).await;
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{leads}");
        assert_eq!(e["extensions"]["field"], field, "{leads}: {e}");
    }
    assert_eq!(
        api_audit_len(&app).await,
        2,
        "only the two directives were written"
    );

    let d = app
        .data(create, input(json!(["so-y-te"]), "trước ngày 15/01/2027"))
        .await;
    let task = d["createTask"]["task"].clone();
    assert_eq!(
        task["dueOn"], "2027-01-14",
        "before the 15th: the 14th is the last day on time"
    );
    assert_eq!(task["deadline"]["kind"], "DATE");
    assert_eq!(task["leads"][0]["code"], "so-y-te");
    assert_eq!(task["coordinators"][0]["code"], "so-tai-chinh");
    assert_eq!(
        app.error_code(create, input(json!(["so-y-te"]), "")).await,
        "CONFLICT",
        "task codes are unique within a directive"
    );

    // The lead agency sees it; after reassignment it no longer does and the new lead does.
    let read = "query($id: ID!) { task(id: $id) { code } }";
    let y_te = app.agency("so-y-te");
    let xay_dung = app.agency("so-xay-dung");
    y_te.data(read, json!({ "id": task["id"] })).await;
    assert_eq!(
        xay_dung.error_code(read, json!({ "id": task["id"] })).await,
        "NOT_FOUND"
    );
    let d = app
        .data(
            r#"mutation($id: ID!) { updateTask(input: { id: $id, leadAgencyCodes: ["so-xay-dung"], title: "Rà soát TTHC" }) {
                task { title leads { code } coordinators { code } } } }"#,
            json!({ "id": task["id"] }),
        )
        .await;
    assert_eq!(d["updateTask"]["task"]["leads"][0]["code"], "so-xay-dung");
    assert_eq!(
        d["updateTask"]["task"]["coordinators"][0]["code"], "so-tai-chinh",
        "kept"
    );
    assert_eq!(
        y_te.error_code(read, json!({ "id": task["id"] })).await,
        "NOT_FOUND"
    );
    xay_dung.data(read, json!({ "id": task["id"] })).await;
}
