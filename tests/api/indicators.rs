//! Indicators for BI tools: periodic values, achievement, on-track, series and the exports.

use api::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

const RECORD: &str = r#"mutation($input: RecordIndicatorValueInput!) {
    recordIndicatorValue(input: $input) { indicatorValue { id } } }"#;

async fn indicator_id(app: &TestApp, code: &str) -> Value {
    app.data(
        "query($c: String!) { indicator(code: $c) { id } }",
        json!({ "c": code }),
    )
    .await["indicator"]["id"]
        .clone()
}

async fn record(app: &TestApp, who: &str, id: &Value, period: &str, value: &str, kind: &str) {
    app.data_as(
        who,
        RECORD,
        json!({ "input": { "indicatorId": id, "period": period, "value": value, "kind": kind } }),
    )
    .await;
}

#[tokio::test]
async fn budget_revenue_by_quarter_gives_achievement_and_on_track() {
    let app = TestApp::spawn().await;
    let monitor = token(Role::Monitor, None);
    let revenue = indicator_id(&app, "2025.09").await; // 21.000 tỷ đồng, cumulative
    // Q1: an estimate, then the official figure that supersedes it.
    record(&app, &monitor, &revenue, "2025Q1", "4800", "ESTIMATE").await;
    record(&app, &monitor, &revenue, "2025Q1", "5000", "OFFICIAL").await;
    record(&app, &monitor, &revenue, "2025Q2", "11000", "OFFICIAL").await;
    record(&app, &monitor, &revenue, "2025Q3", "16000", "ESTIMATE").await;
    record(&app, &monitor, &revenue, "2025Q4", "21500", "OFFICIAL").await;

    let d = app
        .data(
            r#"query($id: ID!) { node(id: $id) { ... on Indicator { measure achievement onTrack
                series(periodType: QUARTER) { period start end value { value kind achievement onTrack } }
                months: series(periodType: MONTH) { period value { value } }
                history: values(history: true) { period value kind superseded }
                standing: values { period value }
                latestValue { period value } } } }"#,
            json!({ "id": revenue }),
        )
        .await;
    let i = &d["node"];
    assert_eq!(i["measure"], "CUMULATIVE");
    let series = i["series"].as_array().expect("series");
    let got: Vec<(String, String, Value)> = series
        .iter()
        .map(|p| {
            (
                p["period"].as_str().expect("period").to_owned(),
                p["value"]["value"].as_str().expect("value").to_owned(),
                p["value"]["onTrack"].clone(),
            )
        })
        .collect();
    // Year-to-date against the straight line: Q1 5.000 < 5.250 (3/12 of 21.000) is behind;
    // Q2 11.000 ≥ 10.500, Q3 16.000 ≥ 15.750 and Q4 21.500 ≥ 21.000 are on track.
    assert_eq!(
        got,
        vec![
            ("2025Q1".into(), "5000".into(), json!(false)),
            ("2025Q2".into(), "11000".into(), json!(true)),
            ("2025Q3".into(), "16000".into(), json!(true)),
            ("2025Q4".into(), "21500".into(), json!(true)),
        ]
    );
    assert_eq!(series[0]["start"], "2025-01-01");
    assert_eq!(series[3]["end"], "2025-12-31");
    assert_eq!(
        series[0]["value"]["kind"], "OFFICIAL",
        "the official figure stands"
    );
    let q4 = series[3]["value"]["achievement"].as_f64().expect("achievement");
    assert!((q4 - 21500.0 / 21000.0).abs() < 1e-5, "{q4}");
    let q1 = series[0]["value"]["achievement"].as_f64().expect("achievement");
    assert!((q1 - 5000.0 / 21000.0).abs() < 1e-5, "{q1}");
    assert!(
        (i["achievement"].as_f64().expect("a") - q4).abs() < 1e-9,
        "the indicator's is the latest value's"
    );
    assert_eq!(i["onTrack"], true);
    assert_eq!(i["latestValue"]["period"], "2025Q4");

    // Months: twelve points, all empty, so a chart needs no gap filling.
    let months = i["months"].as_array().expect("months");
    assert_eq!(months.len(), 12);
    assert_eq!(months[0]["period"], "202501");
    assert!(months.iter().all(|m| m["value"].is_null()));

    // The estimate is kept, marked superseded; the standing values hide it.
    let history = i["history"].as_array().expect("history");
    assert_eq!(history.len(), 5);
    let superseded: Vec<&Value> = history.iter().filter(|v| v["superseded"] == true).collect();
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0]["value"], "4800");
    assert_eq!(i["standing"].as_array().map(Vec::len), Some(4));

    // A range of another type, or a mixed one, is refused with the argument named.
    let body = app
        .gql(
            r#"query($id: ID!) { node(id: $id) { ... on Indicator { series(periodType: MONTH, from: "2025Q1") { period } } } }"#,
            json!({ "id": revenue }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "from");
}

#[tokio::test]
async fn poverty_reduction_of_2_70_points_meets_its_2_68_target() {
    let app = TestApp::spawn().await;
    let poverty = indicator_id(&app, "2025.18").await;
    record(
        &app,
        &token(Role::Monitor, None),
        &poverty,
        "2025",
        "2.70",
        "OFFICIAL",
    )
    .await;
    let d = app
        .data(
            r#"{ indicator(code: "2025.18") { direction target achievement onTrack
                latestValue { value met onTrack achievement } } }"#,
            json!({}),
        )
        .await;
    let i = &d["indicator"];
    assert_eq!(i["direction"], "DECREASE");
    assert_eq!(i["target"], "2.68");
    assert_eq!(
        i["latestValue"]["met"], true,
        "a reduction of 2,70 points meets a 2,68-point target"
    );
    assert_eq!(i["latestValue"]["onTrack"], true);
    let a = i["achievement"].as_f64().expect("achievement");
    assert!((a - 2.70 / 2.68).abs() < 1e-5, "{a}");
    // 2,60 falls short.
    record(
        &app,
        &token(Role::Monitor, None),
        &poverty,
        "2025",
        "2.60",
        "OFFICIAL",
    )
    .await;
    let d = app
        .data(
            r#"{ indicator(code: "2025.18") { latestValue { value met } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["indicator"]["latestValue"]["met"], false);
}

#[tokio::test]
async fn the_economic_structure_shows_its_four_shares_and_their_sum_as_written() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ indicator(code: "2025.02") { target childrenTargetSum
                children { code target direction comparator } } }"#,
            json!({}),
        )
        .await;
    let i = &d["indicator"];
    assert!(i["target"].is_null(), "the parent has no number of its own");
    assert_eq!(i["children"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        i["childrenTargetSum"], "99.96",
        "kept as written, not rounded to 100"
    );
    assert!(
        i["children"]
            .as_array()
            .expect("children")
            .iter()
            .all(|c| c["direction"] == "NEUTRAL")
    );
    // A share has no better side: on-track is null, the deviation is what is reported.
    let share = i["children"][0]["code"].as_str().expect("code").to_owned();
    let id = indicator_id(&app, &share).await;
    record(&app, &token(Role::Monitor, None), &id, "2025", "20", "ESTIMATE").await;
    let d = app
        .data(
            "query($c: String!) { indicator(code: $c) { target latestValue { onTrack deviation } } }",
            json!({ "c": share }),
        )
        .await;
    assert!(d["indicator"]["latestValue"]["onTrack"].is_null());
    assert!(d["indicator"]["latestValue"]["deviation"].is_string());
}

async fn export(app: &TestApp, token: &str, format: &str, query: &str) -> (u16, String, Vec<u8>) {
    let res = app
        .client
        .get(format!("{}/export/indicators.{format}?{query}", app.address))
        .bearer_auth(token)
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
    let monitor = token(Role::Monitor, None);
    for (code, period, value) in [
        ("2025.09", "2025Q1", "5000.5"),
        ("2025.09", "2025Q2", "11000"),
        ("2025.18", "2025", "2.70"),
        ("2025.01", "2025", "8.6"),
    ] {
        let id = indicator_id(&app, code).await;
        record(&app, &monitor, &id, period, value, "OFFICIAL").await;
    }
    let (status, ct, csv) = export(&app, &app.admin, "csv", "year=2025").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let (status, ct, js) = export(&app, &app.admin, "json", "year=2025").await;
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
    let monitor = token(Role::Monitor, None);
    for (code, period) in [
        ("2025.09", "2025Q1"),
        ("2025.09", "202502"),
        ("2025.18", "2025"),
        ("2025.01", "2025S1"),
    ] {
        let id = indicator_id(&app, code).await;
        record(&app, &monitor, &id, period, "1", "ESTIMATE").await;
    }
    let count = |body: &[u8]| csv_rows(body).len() - 1;
    let (_, _, all) = export(&app, &app.admin, "csv", "").await;
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
        let (status, _, body) = export(&app, &app.admin, "csv", q).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(count(&body), n, "{q}");
    }
    // An official figure supersedes the estimate: still one row for that period, now official.
    let id = indicator_id(&app, "2025.18").await;
    record(&app, &monitor, &id, "2025", "2.70", "OFFICIAL").await;
    let (_, _, body) = export(&app, &app.admin, "json", "codes=2025.18").await;
    let rows: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["kind"].as_str(), rows[0]["value"].as_str()),
        (Some("OFFICIAL"), Some("2.7"))
    );

    // An agency's export holds only the indicators it is responsible for (GRDP and revenue
    // for Sở Tài chính; not poverty reduction).
    let (status, _, body) = export(&app, &token(Role::Agency, Some("so-tai-chinh")), "json", "").await;
    assert_eq!(status, 200);
    let rows: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["responsible_agency_code"] == "so-tai-chinh")
    );
    let (_, _, body) = export(&app, &token(Role::Agency, Some("so-y-te")), "json", "").await;
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&body).expect("json").len(),
        0
    );
    // The analyst and the portal read indicators.
    for role in [Role::Analyst, Role::Viewer] {
        let (status, _, body) = export(&app, &token(role, None), "csv", "").await;
        assert_eq!((status, count(&body)), (200, 4), "{role:?}");
    }

    // Bad parameters: 400 naming the parameter; no token: 401.
    for q in [
        "periodType=WEEK",
        "year=abc",
        "updatedSince=yesterday",
        "colour=red",
    ] {
        let (status, _, body) = export(&app, &app.admin, "csv", q).await;
        assert_eq!(status, 400, "{q}");
        let e: Value = serde_json::from_slice(&body).expect("json error");
        assert_eq!(e["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{q}");
    }
    let res = app
        .client
        .get(format!("{}/export/indicators.csv", app.address))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 401);
}
