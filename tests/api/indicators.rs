//! Indicators: targets, periodic values, achievement and on-track, series, who records values
//! (the monitor, the responsible agency), and which indicators an agency sees.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, code_and_message, count, gid, indicator_id, list, record, text};
use crate::scope::{STC, YTE, holders};

#[tokio::test]
async fn budget_revenue_by_quarter_gives_achievement_and_on_track() {
    let app = TestApp::spawn().await;
    let monitor = app.monitor();
    let revenue = indicator_id(&app, "2025.09").await; // 21.000 tỷ đồng, cumulative
    // Q1: an estimate, then the official figure that supersedes it.
    record(&monitor, &revenue, "2025Q1", "4800", "ESTIMATE").await;
    record(&monitor, &revenue, "2025Q1", "5000", "OFFICIAL").await;
    record(&monitor, &revenue, "2025Q2", "11000", "OFFICIAL").await;
    record(&monitor, &revenue, "2025Q3", "16000", "ESTIMATE").await;
    record(&monitor, &revenue, "2025Q4", "21500", "OFFICIAL").await;

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
    record(&app.monitor(), &poverty, "2025", "2.70", "OFFICIAL").await;
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
    record(&app.monitor(), &poverty, "2025", "2.60", "OFFICIAL").await;
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
    record(&app.monitor(), &id, "2025", "20", "ESTIMATE").await;
    let d = app
        .data(
            "query($c: String!) { indicator(code: $c) { target latestValue { onTrack deviation } } }",
            json!({ "c": share }),
        )
        .await;
    assert!(d["indicator"]["latestValue"]["onTrack"].is_null());
    assert!(d["indicator"]["latestValue"]["deviation"].is_string());
}

#[tokio::test]
async fn indicators_with_values_and_achievement() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ indicators(filter: {topLevel: true}) { totalCount }
                 letter: indicator(code: "2025.01") { directive { indicators { code } } } }"#,
            json!({}),
        )
        .await;
    // The emulation letter's 28 items and the six that 10/CT-UBND sets in its tasks.
    assert_eq!(d["indicators"]["totalCount"], 34);
    let letter = d["letter"]["directive"]["indicators"]
        .as_array()
        .expect("indicators");
    assert_eq!(letter.len(), 45, "28 items, 45 entries with the composite parts");

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

#[tokio::test]
async fn indicator_values_by_the_monitor_or_the_responsible_agency() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            "{ indicators(first: 100) { nodes { id code qualitative responsibleAgency { code } } } }",
            json!({}),
        )
        .await;
    let all = d["indicators"]["nodes"].as_array().expect("indicators").clone();
    let owned = all
        .iter()
        .find(|i| i["responsibleAgency"]["code"] == "so-tai-chinh" && i["qualitative"] == false)
        .expect("an indicator of Sở Tài chính");
    let other = all
        .iter()
        .find(|i| {
            i["responsibleAgency"]["code"] != "so-tai-chinh"
                && !i["responsibleAgency"].is_null()
                && i["qualitative"] == false
        })
        .expect("an indicator of another agency");
    let record = r#"mutation($input: RecordIndicatorValueInput!) { recordIndicatorValue(input: $input) {
        indicatorValue { period value kind } indicator { latestValue { value } } } }"#;
    let input = |id: &Value, period: &str| json!({ "input": { "indicatorId": id, "period": period, "value": "5230.5", "kind": "ESTIMATE" } });
    let agency = app.agency("so-tai-chinh");
    let d = agency.data(record, input(&owned["id"], "2025Q1")).await;
    assert_eq!(d["recordIndicatorValue"]["indicatorValue"]["value"], "5230.5");
    assert_eq!(
        d["recordIndicatorValue"]["indicator"]["latestValue"]["value"],
        "5230.5"
    );
    // Another agency's indicator does not exist for this token.
    assert_eq!(
        agency.error_code(record, input(&other["id"], "2025Q1")).await,
        "NOT_FOUND"
    );
    // The monitor records anyone's; the period must be in the indicator's year.
    let monitor = app.monitor();
    monitor.data(record, input(&other["id"], "202503")).await;
    let e = monitor.first_error(record, input(&other["id"], "2024Q4")).await;
    assert_eq!(e["extensions"]["field"], "input.period");
    if let Some(q) = all.iter().find(|i| i["qualitative"] == true) {
        let e = monitor.first_error(record, input(&q["id"], "2025")).await;
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    }
    assert_eq!(
        app.analyst()
            .error_code(record, input(&owned["id"], "2025"))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn an_agency_sees_the_indicators_it_is_responsible_for() {
    let app = TestApp::spawn().await;
    let q = "{ indicators(first: 100) { totalCount nodes { id code responsibleAgency { code } } } }";
    let all = app.data(q, json!({})).await;
    let all = list(&all["indicators"]["nodes"]).clone();
    for agency in [STC, YTE] {
        let holders = holders(&app, agency).await;
        let expected: BTreeSet<String> = all
            .iter()
            .filter(|i| {
                i["responsibleAgency"]["code"]
                    .as_str()
                    .is_some_and(|c| holders.contains(c))
            })
            .map(|i| text(&i["code"]))
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < all.len(),
            "{agency}: {expected:?}"
        );
        let client = app.agency(agency);
        let d = client.data(q, json!({})).await;
        let got: BTreeSet<String> = list(&d["indicators"]["nodes"])
            .iter()
            .map(|i| text(&i["code"]))
            .collect();
        assert_eq!(got, expected, "{agency}");
        assert_eq!(
            count(&d["indicators"]["totalCount"]),
            expected.len() as i64,
            "{agency}"
        );

        // One it is not responsible for, by code: NOT_FOUND like an unknown code.
        let other = all
            .iter()
            .map(|i| text(&i["code"]))
            .find(|c| !expected.contains(c))
            .expect("another agency's indicator");
        let q1 = "query($c: String!) { indicator(code: $c) { code } }";
        let a = client.gql(q1, json!({ "c": other })).await;
        let b = client.gql(q1, json!({ "c": "9999.99" })).await;
        assert_eq!(
            code_and_message(&a).0,
            "NOT_FOUND",
            "{agency} reads {other}: {a:#}"
        );
        assert_eq!(
            code_and_message(&a),
            code_and_message(&b),
            "hidden and missing read the same"
        );
        // And by id, through `indicator(id)` and `node(id)`.
        let other_id = all
            .iter()
            .find(|i| text(&i["code"]) == other)
            .map(|i| text(&i["id"]))
            .expect("id");
        let missing = gid("Indicator", 999_999);
        for q1 in [
            "query($i: ID!) { indicator(id: $i) { code } }",
            "query($i: ID!) { node(id: $i) { ... on Indicator { code } } }",
        ] {
            let a = client.gql(q1, json!({ "i": other_id })).await;
            let b = client.gql(q1, json!({ "i": missing })).await;
            assert_eq!(code_and_message(&a).0, "NOT_FOUND", "{agency} {q1}: {a:#}");
            assert_eq!(
                code_and_message(&a),
                code_and_message(&b),
                "{q1}: hidden and missing read the same"
            );
        }
    }
}

/// #20 point 4: the directive's own targets are indicators with their source, a children sum
/// only adds like to like, and a structural share has a deviation but no achievement ratio.
#[tokio::test]
async fn each_document_sets_its_own_targets_and_only_like_units_add_up() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ ct: indicator(code: "ct-10-2024.02") { target targetText unit year
                   directive { number indicators { code target unit comparator } } }
                 letter: indicator(code: "2025.09") { target year directive { number } }
                 structure: indicator(code: "2025.02") { childrenTargetSum }
                 communes: indicator(code: "2025.04") { childrenTargetSum }
                 investment: indicator(code: "2025.05") { childrenTargetSum children { unit } }
                 tourism: indicator(code: "2025.08") { childrenTargetSum children { unit } }
                 revenue2025: indicators(filter: {year: 2025, unit: "tỷ đồng", codes: ["2025.09", "ct-10-2024.02"]}) {
                   nodes { code target directive { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["ct"]["target"], "15500");
    assert_eq!(d["ct"]["targetText"], "15.500");
    assert_eq!(d["ct"]["year"], 2025);
    assert_eq!(d["letter"]["target"], "21000");
    let (ct_no, letter_no) = (
        &d["ct"]["directive"]["number"],
        &d["letter"]["directive"]["number"],
    );
    assert!(
        ct_no.as_str().is_some_and(|n| n.contains("10/CT-UBND")),
        "{ct_no}"
    );
    assert_ne!(ct_no, letter_no, "each target names its own document");
    let six: Vec<(String, String)> = d["ct"]["directive"]["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .map(|i| (text(&i["target"]), text(&i["unit"])))
        .collect();
    assert_eq!(
        six,
        [
            ("10", "%"),
            ("15500", "tỷ đồng"),
            ("10", "công viên"),
            ("6", "dự án"),
            ("100", "%"),
            ("80", "%")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned())),
        "growth > 10 %, revenue 15.500 tỷ, 10 parks, 06 social-housing projects, disbursement 100 %, > 80 %"
    );
    // Both revenue targets for 2025 exist side by side, each with its source.
    let both = d["revenue2025"]["nodes"].as_array().expect("nodes");
    assert_eq!(both.len(), 2);
    assert!(both.iter().all(|n| n["directive"]["id"].is_string()), "{both:?}");
    assert_ne!(both[0]["directive"]["id"], both[1]["directive"]["id"]);

    assert_eq!(
        d["structure"]["childrenTargetSum"], "99.96",
        "four shares in %, as written"
    );
    assert_eq!(d["communes"]["childrenTargetSum"], "45", "04 + 41 xã");
    for k in ["investment", "tourism"] {
        assert_eq!(
            d[k]["childrenTargetSum"],
            Value::Null,
            "{k}: % and tỷ đồng do not add"
        );
        let units: BTreeSet<String> = d[k]["children"]
            .as_array()
            .expect("children")
            .iter()
            .map(|c| text(&c["unit"]))
            .collect();
        assert!(units.len() > 1, "{k}: {units:?}");
    }

    // A structural share: 17 % against 16 % is a deviation of 1 point, not 106 % achieved.
    let monitor = app.monitor();
    let share = indicator_id(&app, "2025.02.a").await;
    record(&monitor, &share, "2025", "17", "OFFICIAL").await;
    let revenue = indicator_id(&app, "ct-10-2024.02").await;
    record(&monitor, &revenue, "2025", "15500", "OFFICIAL").await;
    let d = app
        .data(
            r#"{ share: indicator(code: "2025.02.a") { achievement latestValue { achievement deviation met } }
                 revenue: indicator(code: "ct-10-2024.02") { achievement } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["share"]["achievement"], Value::Null);
    assert_eq!(d["share"]["latestValue"]["achievement"], Value::Null);
    assert_eq!(d["share"]["latestValue"]["deviation"], "1");
    assert_eq!(d["share"]["latestValue"]["met"], false);
    assert_eq!(
        d["revenue"]["achievement"], 1.0,
        "the former province's own target, met"
    );

    // The export says which document set each target, and leaves the share's ratio empty.
    let res = monitor
        .get("/export/indicators.csv?year=2025")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    let csv = res.text().await.expect("body");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().expect("header").clone();
    assert_eq!(header.iter().next_back(), Some("directive_code"));
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (code, dir, ach) = (at("indicator_code"), at("directive_code"), at("achievement"));
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    let row = |c: &str| {
        records
            .iter()
            .find(|r| &r[code] == c)
            .unwrap_or_else(|| panic!("{c}"))
    };
    assert_eq!(&row("ct-10-2024.02")[dir], "ct-10-2024");
    assert_eq!(&row("2025.09")[dir], "2025-thi-dua-dac-biet");
    assert_eq!(&row("2025.02.a")[ach], "", "no ratio for a structural share");
}
