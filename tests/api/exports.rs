//! `/export/indicators.{csv,json}` for BI tools: what Python and pandas read, filters, an
//! agency's scope, the roles that may export, and bad parameters.

use api::auth::Role;
use serde_json::Value;

use crate::helpers::{Client, TestApp, indicator_id, record, token};

/// GETs `/export/indicators.<format>?<query>` as `who`: (status, content type, body).
async fn export(who: &Client<'_>, format: &str, query: &str) -> (u16, String, Vec<u8>) {
    crate::helpers::fetch(who, &format!("/export/indicators.{format}?{query}")).await
}

/// Every indicator as (code, year, responsible agency's code), from GraphQL.
async fn all_indicators(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    let d = app
        .data(
            "{ indicators(first: 100) { totalCount nodes { code year responsibleAgency { code } } } }",
            serde_json::json!({}),
        )
        .await;
    let nodes = d["indicators"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(
        Some(nodes.len() as i64),
        d["indicators"]["totalCount"].as_i64(),
        "one page holds them"
    );
    nodes
        .iter()
        .map(|n| {
            (
                n["code"].as_str().expect("code").to_owned(),
                n["year"].as_i64().expect("year"),
                n["responsibleAgency"]["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// (rows carrying a value, distinct indicator codes) of a CSV export; every other row is an
/// indicator's target row (value empty, for its year).
fn values_and_codes(body: &[u8]) -> (usize, std::collections::BTreeSet<String>) {
    let rows = csv_rows(body);
    let value = rows[0].iter().position(|c| c == "value").expect("value column");
    let data = &rows[1..];
    (
        data.iter().filter(|r| !r[value].is_empty()).count(),
        data.iter().map(|r| r[0].clone()).collect(),
    )
}

/// The CSV's records (header first), read as a CSV reader would (names hold commas).
fn csv_rows(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').expect("byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_export_opens_in_python_and_pandas_with_vietnamese_intact() {
    let app = TestApp::spawn().await;
    let (admin, monitor) = (app.admin(), app.monitor());
    for (code, period, value) in [
        ("2025.09", "2025Q1", "5000.5"),
        ("2025.09", "2025Q2", "11000"),
        ("2025.18", "2025", "2.70"),
        ("2025.01", "2025", "8.6"),
    ] {
        let id = indicator_id(&app, code).await;
        record(&monitor, &id, period, value, "OFFICIAL").await;
    }
    let (status, ct, csv) = export(&admin, "csv", "year=2025").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let (status, ct, js) = export(&admin, "json", "year=2025").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"), "{ct}");
    let rows: Vec<Value> = serde_json::from_slice(&js).expect("JSON array");
    let of_2025 = all_indicators(&app)
        .await
        .into_iter()
        .filter(|i| i.1 == 2025)
        .count();
    // Four values of three indicators, and a target row for each other indicator of 2025.
    let expected = 4 + of_2025 - 3;
    assert_eq!(rows.len(), expected);
    assert_eq!(rows.iter().filter(|r| r["value"] != "").count(), 4);
    let target_row = rows
        .iter()
        .find(|r| r["indicator_code"] == "2025.10")
        .expect("2025.10 target row");
    assert_eq!(
        (
            &target_row["value"],
            &target_row["period"],
            &target_row["kind"],
            &target_row["recorded_at"]
        ),
        (
            &Value::from(""),
            &Value::from("2025"),
            &Value::from(""),
            &Value::from("")
        ),
        "{target_row}"
    );
    assert!(
        target_row["target"].is_string() || target_row["target"].is_null(),
        "{target_row}"
    );
    let revenue = rows.iter().find(|r| r["period"] == "2025Q1").expect("Q1 row");
    assert_eq!(revenue["indicator_name"], "Thu ngân sách nhà nước trên địa bàn");
    assert_eq!(revenue["value"], "5000.5");
    assert_eq!(revenue["target"], "21000");
    assert_eq!(revenue["unit"], "tỷ đồng");
    assert_eq!(revenue["on_track"], false);
    assert_eq!(revenue["responsible_agency_code"], "so-tai-chinh");

    let dir = std::env::temp_dir().join(format!("chidao_export_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (c, j) = (dir.join("indicators.csv"), dir.join("indicators.json"));
    std::fs::write(&c, &csv).expect("write");
    std::fs::write(&j, &js).expect("write");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bi/check_export.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&c)
        .arg(&j)
        .arg(expected.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn export_filters_scope_and_errors() {
    let app = TestApp::spawn().await;
    let (admin, monitor) = (app.admin(), app.monitor());
    for (code, period) in [
        ("2025.09", "2025Q1"),
        ("2025.09", "202502"),
        ("2025.18", "2025"),
        ("2025.01", "2025S1"),
    ] {
        let id = indicator_id(&app, code).await;
        record(&monitor, &id, period, "1", "ESTIMATE").await;
    }
    let count = |body: &[u8]| values_and_codes(body).0;
    let indicators = all_indicators(&app).await;
    let every = indicators.len();
    let of_agency = |a: &str| indicators.iter().filter(|i| i.2.as_deref() == Some(a)).count();
    let (_, _, all) = export(&admin, "csv", "").await;
    assert_eq!(count(&all), 4);
    assert_eq!(csv_rows(&all)[0][0], "indicator_code", "a header row");
    // (query, rows with a value, indicators covered: each comes at least once).
    for (q, n, covered) in [
        ("periodType=QUARTER", 1, every),
        ("periodType=MONTH", 1, every),
        ("periodType=HALF", 1, every),
        ("periodType=YEAR", 1, every),
        ("codes=2025.09", 2, 1),
        ("codes=2025.09,2025.18", 3, 2),
        ("agency=so-tai-chinh", 3, of_agency("so-tai-chinh")),
        (
            "agency=so-nong-nghiep-moi-truong",
            1,
            of_agency("so-nong-nghiep-moi-truong"),
        ),
        ("year=2024", 0, indicators.iter().filter(|i| i.1 == 2024).count()),
        // A refresh pulls only what changed: no target rows.
        ("updatedSince=2999-01-01T00:00:00Z", 0, 0),
        ("updatedSince=2000-01-01T00:00:00%2B07:00", 4, 3),
    ] {
        let (status, _, body) = export(&admin, "csv", q).await;
        assert_eq!(status, 200, "{q}");
        let (values, codes) = values_and_codes(&body);
        assert_eq!(values, n, "{q}");
        assert_eq!(
            codes.len(),
            covered,
            "{q}: every indicator in range comes once at least"
        );
    }
    // An official figure supersedes the estimate: still one row for that period, now official.
    let id = indicator_id(&app, "2025.18").await;
    record(&monitor, &id, "2025", "2.70", "OFFICIAL").await;
    let (_, _, body) = export(&admin, "json", "codes=2025.18").await;
    let rows: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["kind"].as_str(), rows[0]["value"].as_str()),
        (Some("OFFICIAL"), Some("2.7"))
    );
    assert_eq!(rows[0]["indicator_code"], "2025.18", "codes stay text in JSON");

    // An agency's export holds only the indicators it is responsible for (GRDP and revenue
    // for Sở Tài chính; not poverty reduction).
    let (status, _, body) = export(&app.agency("so-tai-chinh"), "json", "").await;
    assert_eq!(status, 200);
    let rows: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(rows.iter().filter(|r| r["value"] != "").count(), 3);
    assert_eq!(
        rows.len(),
        3 + of_agency("so-tai-chinh") - 2,
        "its other indicators' target rows"
    );
    assert!(
        rows.iter()
            .all(|r| r["responsible_agency_code"] == "so-tai-chinh")
    );
    let (_, _, body) = export(&app.agency("so-y-te"), "json", "").await;
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&body).expect("json").len(),
        of_agency("so-y-te")
    );
    // The analyst and the portal read indicators.
    for role in [Role::Analyst, Role::Viewer] {
        let (status, _, body) = export(&app.with_token(token(role, None)), "csv", "").await;
        assert_eq!((status, count(&body)), (200, 4), "{role:?}");
        assert_eq!(values_and_codes(&body).1.len(), every, "{role:?}");
    }

    // Bad parameters: 400 naming the parameter; no token: 401.
    for q in [
        "periodType=WEEK",
        "year=abc",
        "updatedSince=yesterday",
        "colour=red",
    ] {
        let (status, _, body) = export(&admin, "csv", q).await;
        assert_eq!(status, 400, "{q}");
        let e: Value = serde_json::from_slice(&body).expect("json error");
        assert_eq!(e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{q}");
    }
    let res = app.get("/export/indicators.csv").send().await.expect("send");
    assert_eq!(res.status().as_u16(), 401);
}

/// The exports stream whole under gzip, as `requests` (pandas' README line), curl
/// `--compressed`, Node's fetch and Power BI ask for it, and read the same as uncompressed.
#[tokio::test]
async fn exports_stream_whole_under_gzip_to_requests_pandas_and_curl() {
    let app = TestApp::spawn().await;
    let monitor = app.monitor();
    for (code, period, value) in [("2025.09", "2025Q1", "5000.5"), ("2025.18", "2025", "2.70")] {
        let id = indicator_id(&app, code).await;
        record(&monitor, &id, period, value, "OFFICIAL").await;
    }
    let admin = app.admin();
    let (_, _, plain) = export(&admin, "csv", "year=2025").await;
    let rows = csv_rows(&plain).len() - 1;
    assert!(rows > 2, "target rows too: {rows}");
    for format in ["csv", "json"] {
        // Off the test's runtime thread, which also runs the server.
        let mut curl = std::process::Command::new("curl");
        curl.args(["-sS", "--fail", "--compressed", "-D", "-", "-o", "-"])
            .arg("-H")
            .arg(format!("Authorization: Bearer {}", admin.token()))
            .arg(app.url(&format!("/export/indicators.{format}?year=2025")));
        let out = tokio::task::spawn_blocking(move || curl.output())
            .await
            .expect("joined")
            .expect("curl runs");
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let (head, body) = text.split_once("\r\n\r\n").expect("headers");
        assert!(
            head.to_ascii_lowercase().contains("content-encoding: gzip"),
            "{head}"
        );
        let (_, _, uncompressed) = export(&admin, format, "year=2025").await;
        assert_eq!(
            body.as_bytes(),
            uncompressed.as_slice(),
            "{format}: same bytes decompressed"
        );
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bi/check_export.py");
    let mut python = std::process::Command::new("python3");
    python
        .arg(&script)
        .args(["--url", &app.address, admin.token(), &rows.to_string()]);
    let out = tokio::task::spawn_blocking(move || python.output())
        .await
        .expect("joined")
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "requests/pandas over gzip failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
