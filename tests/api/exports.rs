//! `/export/indicators.{csv,json}` for BI tools: what Python and pandas read, filters, an
//! agency's scope, the roles that may export, and bad parameters.

use api::auth::Role;
use serde_json::Value;

use crate::helpers::{Client, TestApp, indicator_id, record, token};

/// GETs `/export/indicators.<format>?<query>` as `who`: (status, content type, body).
async fn export(who: &Client<'_>, format: &str, query: &str) -> (u16, String, Vec<u8>) {
    let res = who
        .get(&format!("/export/indicators.{format}?{query}"))
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, res.bytes().await.expect("body").to_vec())
}

fn csv_rows(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').expect("byte-order mark");
    text.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
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
    assert_eq!(rows.len(), 4);
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
        .arg("4")
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
    let count = |body: &[u8]| csv_rows(body).len() - 1;
    let (_, _, all) = export(&admin, "csv", "").await;
    assert_eq!(count(&all), 4);
    assert_eq!(csv_rows(&all)[0][0], "indicator_code", "a header row");
    for (q, n) in [
        ("periodType=QUARTER", 1),
        ("periodType=MONTH", 1),
        ("periodType=HALF", 1),
        ("periodType=YEAR", 1),
        ("codes=2025.09", 2),
        ("codes=2025.09,2025.18", 3),
        ("agency=so-tai-chinh", 3),
        ("agency=so-nong-nghiep-moi-truong", 1),
        ("year=2024", 0),
        ("updatedSince=2999-01-01T00:00:00Z", 0),
        ("updatedSince=2000-01-01T00:00:00%2B07:00", 4),
    ] {
        let (status, _, body) = export(&admin, "csv", q).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(count(&body), n, "{q}");
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

    // An agency's export holds only the indicators it is responsible for (GRDP and revenue
    // for Sở Tài chính; not poverty reduction).
    let (status, _, body) = export(&app.agency("so-tai-chinh"), "json", "").await;
    assert_eq!(status, 200);
    let rows: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["responsible_agency_code"] == "so-tai-chinh")
    );
    let (_, _, body) = export(&app.agency("so-y-te"), "json", "").await;
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&body).expect("json").len(),
        0
    );
    // The analyst and the portal read indicators.
    for role in [Role::Analyst, Role::Viewer] {
        let (status, _, body) = export(&app.with_token(token(role, None)), "csv", "").await;
        assert_eq!((status, count(&body)), (200, 4), "{role:?}");
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
