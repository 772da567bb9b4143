//! Directive intake through the API (issue #23): `importDirective` answers a draft and writes
//! nothing; `publishDirectiveDraft` writes an edited draft in one transaction or nothing at all.

use serde_json::{Value, json};

use crate::helpers::{TestApp, audit_len, count_rows};

const IMPORT: &str = r#"mutation($i: ImportDirectiveInput!) { importDirective(input: $i) {
    draft { code number kind issuedOn signer doubts tasksWithDoubts yaml
            tasks { code item leadIn text deadline dueOn requiresReport leads coordinators writtenAs { code words } doubts } }
    directive { id code } } }"#;
const PUBLISH: &str = r#"mutation($i: PublishDirectiveDraftInput!) { publishDirectiveDraft(input: $i) {
    taskCount directive { id code tasks(first: 10) { totalCount nodes { code assignments { role agency { code } } } } } } }"#;

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/seed-docs")
            .join(name),
    )
    .expect("fixture")
}

async fn directives(app: &TestApp) -> i64 {
    count_rows(&app.db, "SELECT COUNT(*) AS n FROM directives").await
}

#[tokio::test]
async fn a_dry_run_answers_the_draft_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (before, audit) = (directives(&app).await, audit_len(&app).await);
    let d = app
        .data(IMPORT, json!({ "i": { "text": doc("10-CT-UBND.txt") } }))
        .await;
    let draft = &d["importDirective"]["draft"];
    assert_eq!(draft["code"], "ct-10-2024");
    assert_eq!(draft["number"], "10/CT-UBND");
    assert_eq!(draft["kind"], "CHI_THI");
    assert_eq!(draft["issuedOn"], "2024-12-25");
    assert_eq!(draft["signer"], "Trịnh Xuân Trường");
    let tasks = draft["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 50);
    let t = tasks.iter().find(|t| t["code"] == "II.1.1-6").expect("II.1.1-6");
    assert_eq!(t["leads"], json!(["so-tai-chinh"]));
    assert_eq!(
        t["coordinators"],
        json!([
            "cuc-thue-tinh",
            "cuc-hai-quan-tinh",
            "@ubnd-cac-huyen-thi-xa-thanh-pho"
        ])
    );
    assert_eq!(t["deadline"], "trước ngày 15/01/2025");
    assert_eq!(t["dueOn"], "2025-01-14", "before the 15th: the 14th");
    assert_eq!(t["requiresReport"], true);
    let item = tasks.iter().find(|t| t["code"] == "II.1.1-2.4").expect("an item");
    assert_eq!(item["item"], "(4)");
    assert_eq!(item["leadIn"], "Sở Công Thương:");
    assert_eq!(draft["tasksWithDoubts"], 4);
    let yaml = draft["yaml"].as_str().expect("yaml");
    let comments = yaml
        .lines()
        .filter(|l| l.trim_start().starts_with("# KIỂM TRA:"))
        .count();
    assert_eq!(
        comments,
        4 + 1,
        "one comment per doubt: four tasks', one on the document"
    );
    assert!(d["importDirective"]["directive"].is_null());
    assert_eq!(directives(&app).await, before, "a dry run writes nothing");
    assert_eq!(audit_len(&app).await, audit);

    // The directive exists (seeded): publishing its draft is refused, nothing written.
    let e = app.gql(PUBLISH, json!({ "i": { "yaml": yaml } })).await;
    assert_eq!(e["errors"][0]["extensions"]["code"], "CONFLICT", "{e}");
    // With doubts open, dryRun: false is refused.
    let e = app
        .gql(
            IMPORT,
            json!({ "i": { "text": doc("10-CT-UBND.txt"), "dryRun": false } }),
        )
        .await;
    assert_eq!(e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{e}");
    assert_eq!(e["errors"][0]["extensions"]["field"], "input.dryRun");
    assert_eq!(directives(&app).await, before);
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let app = TestApp::spawn().await;
    for (input, field) in [
        (json!({}), "input"),
        (json!({ "text": "x", "docxBase64": "UEsDBA==" }), "input"),
        (json!({ "text": "   " }), "input.text"),
        (json!({ "docxBase64": "không phải base64" }), "input.docxBase64"),
        (json!({ "docxBase64": "UEsDBBQAAAAIAA==" }), "input.docxBase64"),
    ] {
        let e = app.gql(IMPORT, json!({ "i": input })).await;
        assert_eq!(
            e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{input}: {e}"
        );
        assert_eq!(e["errors"][0]["extensions"]["field"], field, "{input}: {e}");
    }
    // A YAML bomb: nine levels of nine aliases (387,420,489 strings) is refused, not expanded.
    let mut bomb = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        bomb.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
    }
    bomb.push_str("directive: *i\ntasks: []\n");
    let started = std::time::Instant::now();
    let e = app.gql(PUBLISH, json!({ "i": { "yaml": bomb } })).await;
    assert_eq!(e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "not expanded"
    );
    for yaml in [
        "tasks: [",
        "directive: 3",
        "directive:\n  code: Có Dấu\n  kind: CHI_THI\n  title: T\n  issuer: U\ntasks: []\n",
        // Beyond a column (a task code of 70 characters): refused before anything is written.
        &format!(
            "directive:\n  code: ct-99-2026\n  kind: CHI_THI\n  title: T\n  issuer: U\ntasks:\n  - code: {}\n    section: II\n    title: T\n    text: T\n    leads: [so-y-te]\n",
            "X".repeat(70)
        ),
    ] {
        let e = app.gql(PUBLISH, json!({ "i": { "yaml": yaml } })).await;
        assert_eq!(
            e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{yaml}: {e}"
        );
    }
}

#[tokio::test]
async fn a_reviewed_draft_is_published_in_one_transaction() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            IMPORT,
            json!({ "i": { "text": doc("2025-thi-dua-dac-biet.txt") } }),
        )
        .await;
    let draft = &d["importDirective"]["draft"];
    assert_eq!(draft["code"], "cv-moi");
    assert_eq!(draft["tasks"].as_array().map(Vec::len), Some(4));
    // The clerk's edits: a stable code and the real title.
    let yaml = draft["yaml"]
        .as_str()
        .expect("yaml")
        .replace("code: \"cv-moi\"", "code: \"cv-thi-dua-dac-biet-2025\"")
        .replace(
            "(trích yếu chưa có)",
            "Phát động Phong trào thi đua đặc biệt năm 2025",
        );

    // A draft naming an agency the directory lacks writes nothing at all.
    let (before, tasks_before) = (
        directives(&app).await,
        count_rows(&app.db, "SELECT COUNT(*) AS n FROM tasks").await,
    );
    let broken = yaml.replace("leads: [\"so-noi-vu\"]", "leads: [\"so-khong-co\"]");
    let e = app.gql(PUBLISH, json!({ "i": { "yaml": broken } })).await;
    assert_eq!(e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{e}");
    assert!(
        e["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("so-khong-co")),
        "{e}"
    );
    assert_eq!(directives(&app).await, before);
    assert_eq!(
        count_rows(&app.db, "SELECT COUNT(*) AS n FROM tasks").await,
        tasks_before
    );

    let audit = audit_len(&app).await;
    let p = app.data(PUBLISH, json!({ "i": { "yaml": yaml } })).await;
    let p = &p["publishDirectiveDraft"];
    assert_eq!(p["taskCount"], 4);
    assert_eq!(p["directive"]["code"], "cv-thi-dua-dac-biet-2025");
    assert_eq!(p["directive"]["tasks"]["totalCount"], 4);
    let nodes = p["directive"]["tasks"]["nodes"].as_array().expect("tasks");
    let leads_of = |code: &str| -> Vec<Value> {
        nodes
            .iter()
            .find(|t| t["code"] == code)
            .map(|t| {
                t["assignments"]
                    .as_array()
                    .expect("assignments")
                    .iter()
                    .filter(|a| a["role"] == "LEAD")
                    .map(|a| a["agency"]["code"].clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(leads_of("II.4-1"), [json!("so-noi-vu")]);
    assert_eq!(leads_of("II.3-1"), [json!("so-tai-chinh")]);
    assert_eq!(
        audit_len(&app).await,
        audit + 1,
        "one audit entry for the publication"
    );
    let again = app.gql(PUBLISH, json!({ "i": { "yaml": yaml } })).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT");
}

#[tokio::test]
async fn a_clean_draft_is_published_by_dry_run_false() {
    let app = TestApp::spawn().await;
    let text = "Số: 21/CT-UBND\n\nLào Cai, ngày 3 tháng 11 năm 2026\n\nCHỈ THỊ\n\nVỀ PHÒNG, CHỐNG RÉT CHO GIA SÚC\n\n\
                II. NHIỆM VỤ\n\n1. Sở Nông nghiệp và Môi trường chủ trì, phối hợp với UBND các xã, phường hướng dẫn phòng, chống rét cho gia súc, báo cáo UBND tỉnh trước ngày 15/12/2026.\n\nCHỦ TỊCH\n\nNguyễn Văn A\n";
    let d = app
        .data(IMPORT, json!({ "i": { "text": text, "dryRun": false } }))
        .await;
    let i = &d["importDirective"];
    assert_eq!(i["draft"]["tasksWithDoubts"], 0, "{i}");
    assert_eq!(i["directive"]["code"], "ct-21-2026");
    let t = app
        .data(
            r#"{ directive(number: "21/CT-UBND") { tasks(first: 5) { nodes { code dueOn requiresReport assignments { role agency { code } } } } } }"#,
            json!({}),
        )
        .await;
    let task = &t["directive"]["tasks"]["nodes"][0];
    assert_eq!(task["code"], "II.1-1");
    assert_eq!(task["dueOn"], "2026-12-14");
    assert_eq!(task["requiresReport"], true);
    assert_eq!(
        task["assignments"][0]["agency"]["code"],
        "so-nong-nghiep-moi-truong"
    );
}
