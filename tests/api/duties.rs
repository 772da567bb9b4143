//! Reporting duties on the seeds: III.3 of 10/CT-UBND (a monthly report, due the 20th), the
//! `requiresReport` tasks, a regime set by the administrator; states as of a day, a returned
//! report reopening a duty, waivers, who sees which duties, compliance equal to counted duties,
//! the SQL definition checked against the Rust rules row by row, and reminders sent once.

use std::collections::{BTreeMap, HashMap};

use api::duties::twin::{DutyRow, Inputs, duties_of};
use chrono::NaiveDate;
use entity::{assignment, directive, progress_report, reporting_regime, reporting_waiver, task};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::{TestApp, list, text};

const DUTIES: &str = r#"query($f: ReportingDutyFilter, $d: Date, $n: Int, $a: String) {
    reportingDuties(filter: $f, asOf: $d, first: $n, after: $a) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { period source dueOn state submittedOn submittedAt daysLate
                assignment { id role agency { code } task { code } }
                report { id state } } } }"#;

const SUBMIT: &str = r#"mutation($input: SubmitProgressReportInput!) {
    submitProgressReport(input: $input) { progressReport { id state } } }"#;

const REVIEW: &str = r#"mutation($input: ReviewProgressReportInput!) {
    reviewProgressReport(input: $input) { progressReport { state } } }"#;

/// Every duty `who` sees for a filter as of a day, through all pages of 50.
async fn all_duties(who: &crate::helpers::Client<'_>, filter: Value, as_of: &str) -> (Vec<Value>, i64) {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    loop {
        let d = who
            .data(DUTIES, json!({ "f": filter, "d": as_of, "n": 50, "a": after }))
            .await;
        let c = &d["reportingDuties"];
        total.get_or_insert(c["totalCount"].as_i64().expect("count"));
        out.extend(list(&c["nodes"]).iter().cloned());
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = Some(text(&c["pageInfo"]["endCursor"]));
    }
    (out, total.unwrap_or(0))
}

async fn iii3(app: &TestApp, as_of: &str) -> Vec<Value> {
    let d = app
        .data(
            DUTIES,
            json!({ "f": { "directiveId": ct10_gid(app).await }, "d": as_of, "n": 100 }),
        )
        .await;
    list(&d["reportingDuties"]["nodes"])
        .iter()
        .filter(|n| n["assignment"]["task"]["code"] == "III.3-1")
        .cloned()
        .collect()
}

async fn ct10_gid(app: &TestApp) -> String {
    let d = app
        .data(r#"{ directive(number: "10/CT-UBND") { id } }"#, json!({}))
        .await;
    text(&d["directive"]["id"])
}

fn duty_of<'a>(rows: &'a [Value], period: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["period"] == period)
        .unwrap_or_else(|| panic!("a duty for {period} in {rows:?}"))
}

/// Moves a report's submission to a civil date (the API stamps the server's clock).
async fn submitted_on(app: &TestApp, report_gid: &str, day: NaiveDate) {
    let id = api::graphql::relay::decode_any(report_gid).expect("report id").1;
    let m = progress_report::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("report");
    let mut am = m.into_active_model();
    let at = day.and_hms_opt(9, 0, 0).expect("time").and_utc() - chrono::Duration::hours(7);
    am.submitted_at = Set(Some(at));
    am.submitted_on = Set(Some(day));
    app.beside(am.update(&app.db)).await.expect("update");
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

#[tokio::test]
async fn the_monthly_report_of_iii3_is_overdue_then_late_on_time_and_reopened() {
    let app = TestApp::spawn().await;
    // No report: January's duty (due 20/01/2025) is overdue on 20/02/2025.
    let rows = iii3(&app, "2025-02-20").await;
    let jan = duty_of(&rows, "202501");
    assert_eq!(jan["source"], "RECURRING");
    assert_eq!(jan["dueOn"], "2025-01-20");
    assert_eq!(jan["state"], "OVERDUE");
    assert_eq!(jan["daysLate"], 31);
    assert_eq!(jan["assignment"]["role"], "LEAD");
    // Sở KH&ĐT merged into Sở Tài chính on 01/03/2025: the successor holds the duty now.
    assert_eq!(jan["assignment"]["agency"]["code"], "so-tai-chinh");
    // February's is due on the 20th itself: due soon, not overdue.
    assert_eq!(duty_of(&rows, "202502")["state"], "DUE_SOON");
    // Periods before the directive (25/12/2024) owe nothing, nor periods not begun.
    assert!(rows.iter().all(|r| r["period"] != "202412"));
    assert!(rows.iter().all(|r| r["period"] != "202504"), "{rows:?}");
    // The task itself is overdue while the latest fallen-due report is missing.
    let status = |as_of: &'static str| {
        let app = &app;
        async move {
            let d = app
                .data(
                    r#"query($d: Date) { directive(number: "10/CT-UBND") {
                        tasks(first: 100, asOf: $d) { nodes { code status(asOf: $d) daysOverdue(asOf: $d) } } } }"#,
                    json!({ "d": as_of }),
                )
                .await;
            list(&d["directive"]["tasks"]["nodes"])
                .iter()
                .find(|t| t["code"] == "III.3-1")
                .cloned()
                .expect("III.3-1")
        }
    };
    assert_eq!(status("2025-01-15").await["status"], "IN_PROGRESS_ON_TIME");
    let feb20 = status("2025-02-20").await;
    assert_eq!(feb20["status"], "IN_PROGRESS_OVERDUE");
    assert_eq!(feb20["daysOverdue"], 31);

    // A report for January, sent now (late).
    let assignment = text(&jan["assignment"]["id"]);
    let stc = app.agency("so-tai-chinh");
    let sent = stc
        .data(
            SUBMIT,
            json!({ "input": { "assignmentId": assignment, "period": "202501", "percentComplete": 40,
                               "summary": "Báo cáo tình hình thực hiện Chỉ thị tháng 01/2025" } }),
        )
        .await;
    let report = text(&sent["submitProgressReport"]["progressReport"]["id"]);
    let today = api::clock::today().to_string();
    let now = iii3(&app, &today).await;
    let jan_now = duty_of(&now, "202501");
    assert_eq!(jan_now["state"], "SUBMITTED_LATE");
    assert_eq!(jan_now["submittedOn"], today.as_str());
    assert_eq!(jan_now["report"]["id"], report.as_str());
    assert!(jan_now["daysLate"].as_i64().expect("days") > 600);
    // As of 20/02/2025 the report did not exist yet: still overdue then.
    assert_eq!(
        duty_of(&iii3(&app, "2025-02-20").await, "202501")["state"],
        "OVERDUE"
    );

    // Had it been sent on 18/01/2025, it was on time, and the task on time on 20/02.
    submitted_on(&app, &report, d(2025, 1, 18)).await;
    let timely = iii3(&app, "2025-02-20").await;
    assert_eq!(duty_of(&timely, "202501")["state"], "SUBMITTED_ON_TIME");
    assert_eq!(duty_of(&timely, "202501")["daysLate"], Value::Null);
    assert_eq!(status("2025-02-20").await["status"], "IN_PROGRESS_ON_TIME");

    // Returned by the follow-up office: the duty is open again.
    let returned = app
        .monitor()
        .data(
            REVIEW,
            json!({ "input": { "id": report, "decision": "RETURN", "comment": "Bổ sung số liệu" } }),
        )
        .await;
    assert_eq!(
        returned["reviewProgressReport"]["progressReport"]["state"],
        "RETURNED"
    );
    let reopened = iii3(&app, "2025-02-20").await;
    assert_eq!(duty_of(&reopened, "202501")["state"], "OVERDUE");
    assert_eq!(duty_of(&reopened, "202501")["report"], Value::Null);
    assert_eq!(status("2025-02-20").await["status"], "IN_PROGRESS_OVERDUE");
}

#[tokio::test]
async fn a_task_report_is_due_on_the_task_due_date() {
    let app = TestApp::spawn().await;
    // II.1.1-1: "báo cáo UBND tỉnh trong tháng 01/2025", leads Sở NN&PTNT (now Sở Nông nghiệp
    // và Môi trường) and the districts (now orphaned or moved to communes).
    let (rows, _) = all_duties(&app.admin(), json!({ "period": "202501" }), "2025-01-10").await;
    let task_duties: Vec<&Value> = rows.iter().filter(|r| r["source"] == "TASK").collect();
    assert!(!task_duties.is_empty());
    for r in &task_duties {
        assert_eq!(
            r["assignment"]["role"], "LEAD",
            "only leads owe the task's report"
        );
        assert!(r["dueOn"].as_str().expect("due").starts_with("2025-01"), "{r}");
        let due = text(&r["dueOn"]);
        let expected = if due.as_str() < "2025-01-10" {
            "OVERDUE"
        } else if due.as_str() <= "2025-01-15" {
            "DUE_SOON"
        } else {
            "NOT_DUE"
        };
        assert_eq!(r["state"], expected, "{r}");
    }
    let codes: std::collections::BTreeSet<String> = task_duties
        .iter()
        .map(|r| text(&r["assignment"]["task"]["code"]))
        .collect();
    assert!(codes.contains("II.1.1-1"), "{codes:?}");
    // Tasks whose product is not a report owe none.
    assert!(!codes.contains("III.2-1"));
    // Any report of the lead on the assignment fulfils it, whatever its period.
    let one = task_duties
        .iter()
        .find(|r| r["assignment"]["agency"]["code"] == "so-tai-chinh")
        .expect("Sở Tài chính owes a task report in January 2025");
    let holder = text(&one["assignment"]["agency"]["code"]);
    let sent = app
        .agency(&holder)
        .data(
            SUBMIT,
            json!({ "input": { "assignmentId": one["assignment"]["id"], "period": "2025Q1", "percentComplete": 100,
                               "done": true, "summary": "Đã có kịch bản thu ngân sách" } }),
        )
        .await;
    let report = text(&sent["submitProgressReport"]["progressReport"]["id"]);
    let due = NaiveDate::parse_from_str(&text(&one["dueOn"]), "%Y-%m-%d").expect("due");
    submitted_on(&app, &report, due).await;
    let (after, _) = all_duties(&app.admin(), json!({ "period": "202501" }), "2025-02-01").await;
    let met = after
        .iter()
        .find(|r| r["assignment"]["id"] == one["assignment"]["id"])
        .expect("the duty");
    assert_eq!(met["state"], "SUBMITTED_ON_TIME");
}

#[tokio::test]
async fn an_agency_sees_only_its_own_duties_and_compliance_equals_the_counted_duties() {
    let app = TestApp::spawn().await;
    let ct10 = ct10_gid(&app).await;
    // A quarterly regime for every holder, due 5 days after the cut-off.
    app.data(
        r#"mutation($i: SetReportingRegimeInput!) { setReportingRegime(input: $i) { regime { periodType firstPeriod } } }"#,
        json!({ "i": { "directiveId": ct10, "periodType": "QUARTER", "dueRule": "DAYS_AFTER_CUTOFF",
                      "dueValue": 5, "reporters": "ALL_HOLDERS", "firstPeriod": "2025Q1", "lastPeriod": "2025Q4" } }),
    )
    .await;
    let as_of = "2025-12-31";
    let (everything, total) = all_duties(&app.admin(), json!({}), as_of).await;
    assert_eq!(everything.len() as i64, total);
    let mut per_agency: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in &everything {
        *per_agency
            .entry(text(&r["assignment"]["agency"]["code"]))
            .or_default()
            .entry(text(&r["state"]))
            .or_default() += 1;
    }
    assert!(
        per_agency.len() > 10,
        "duties of many agencies: {}",
        per_agency.len()
    );
    // One duty per assignment and period.
    let mut keys: Vec<(String, String)> = everything
        .iter()
        .map(|r| (text(&r["assignment"]["id"]), text(&r["period"])))
        .collect();
    keys.sort();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "no duty twice");

    // The agency's token: exactly its own rows.
    let (own, own_total) = all_duties(&app.agency("so-tai-chinh"), json!({}), as_of).await;
    assert!(own_total > 0);
    assert!(
        own.iter()
            .all(|r| r["assignment"]["agency"]["code"] == "so-tai-chinh")
    );
    let expected: i64 = per_agency["so-tai-chinh"].values().sum();
    assert_eq!(own_total, expected);
    // Another agency's filter through its token finds nothing of Sở Tài chính's.
    let (theirs, _) = all_duties(
        &app.agency("so-y-te"),
        json!({ "agencyCode": "so-tai-chinh" }),
        as_of,
    )
    .await;
    assert!(theirs.is_empty(), "{theirs:?}");

    // Compliance per agency equals counting the listed duties, for every agency.
    let c = app
        .data(
            r#"query($d: Date) { reportingCompliance(asOf: $d, groupBy: [AGENCY]) {
                expected submitted onTime late overdue waived dueSoon notDue total reportingRate timelinessRate
                groups { agency { code } expected submitted onTime late overdue waived dueSoon notDue total reportingRate timelinessRate } } }"#,
            json!({ "d": as_of }),
        )
        .await;
    let c = &c["reportingCompliance"];
    assert_eq!(c["total"], total);
    let groups = list(&c["groups"]);
    assert_eq!(groups.len(), per_agency.len());
    for g in groups {
        let counted = &per_agency[&text(&g["agency"]["code"])];
        let n = |s: &str| counted.get(s).copied().unwrap_or(0);
        assert_eq!(g["onTime"], n("SUBMITTED_ON_TIME"), "{g}");
        assert_eq!(g["late"], n("SUBMITTED_LATE"), "{g}");
        assert_eq!(g["overdue"], n("OVERDUE"), "{g}");
        assert_eq!(g["waived"], n("WAIVED"), "{g}");
        assert_eq!(g["dueSoon"], n("DUE_SOON"), "{g}");
        assert_eq!(g["notDue"], n("NOT_DUE"), "{g}");
        let expected = n("SUBMITTED_ON_TIME") + n("SUBMITTED_LATE") + n("OVERDUE");
        assert_eq!(g["expected"], expected, "{g}");
        if expected == 0 {
            assert_eq!(g["reportingRate"], Value::Null);
        } else {
            let rate = (n("SUBMITTED_ON_TIME") + n("SUBMITTED_LATE")) as f64 / expected as f64;
            assert!((g["reportingRate"].as_f64().expect("rate") - rate).abs() < 1e-9);
        }
    }
    // No report in the seeds: everything that fell due is overdue.
    assert_eq!(c["submitted"], 0);
    assert_eq!(c["reportingRate"], 0.0);
    assert!(c["overdue"].as_i64().expect("n") > 100);
    // One statement, with groups or without.
    for groups in ["", "groupBy: [AGENCY, DIRECTIVE]"] {
        let q = format!(
            r#"query($d: Date) {{ reportingCompliance(asOf: $d, period: "2025", {groups}) {{ expected groups {{ expected }} }} }}"#
        );
        let before = app.statements.get();
        app.data(&q, json!({ "d": as_of })).await;
        assert_eq!(app.statements.get() - before, 1, "reportingCompliance({groups})");
    }
    // The agency's own compliance is its own rows.
    let mine = app
        .agency("so-tai-chinh")
        .data(
            r#"query($d: Date) { reportingCompliance(asOf: $d) { total } }"#,
            json!({ "d": as_of }),
        )
        .await;
    assert_eq!(mine["reportingCompliance"]["total"], own_total);
    // A period filter: 2025Q4 holds the quarter's duties and its months'.
    let q4 = app
        .data(
            r#"query($d: Date) { reportingCompliance(asOf: $d, period: "2025Q4") { total } }"#,
            json!({ "d": as_of }),
        )
        .await;
    let in_q4 = everything
        .iter()
        .filter(|r| ["2025Q4", "202510", "202511", "202512"].contains(&r["period"].as_str().unwrap_or("")))
        .count();
    assert_eq!(q4["reportingCompliance"]["total"], in_q4 as i64);
    assert!(in_q4 > 0);
}

#[tokio::test]
async fn waiving_a_duty_is_for_the_follow_up_office_with_a_reason_and_is_audited() {
    let app = TestApp::spawn().await;
    let rows = iii3(&app, "2025-02-20").await;
    let jan = duty_of(&rows, "202501");
    let input = json!({ "input": { "assignmentId": jan["assignment"]["id"], "period": "202501",
                                   "reason": "Đã báo cáo trực tiếp tại phiên họp" } });
    const WAIVE: &str = r#"mutation($input: WaiveReportingDutyInput!) { waiveReportingDuty(input: $input) { duty { state period } } }"#;
    assert_eq!(
        app.agency("so-tai-chinh").error_code(WAIVE, input.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(app.viewer().error_code(WAIVE, input.clone()).await, "FORBIDDEN");
    let w = app.monitor().data(WAIVE, input.clone()).await;
    assert_eq!(w["waiveReportingDuty"]["duty"]["state"], "WAIVED");
    // Again: the same answer, one waiver.
    app.monitor().data(WAIVE, input.clone()).await;
    let n = reporting_waiver::Entity::find()
        .all(&app.db)
        .await
        .expect("waivers")
        .len();
    assert_eq!(n, 1);
    assert_eq!(
        duty_of(&iii3(&app, "2025-02-20").await, "202501")["state"],
        "WAIVED"
    );
    let entries = api_audit(&app, "waiveReportingDuty").await;
    assert_eq!(entries, 1);
    // A period the assignment owes nothing for, and a bad one.
    let bad =
        json!({ "input": { "assignmentId": jan["assignment"]["id"], "period": "2024Q1", "reason": "x" } });
    assert_eq!(app.monitor().error_code(WAIVE, bad).await, "BAD_USER_INPUT");
    let bad =
        json!({ "input": { "assignmentId": jan["assignment"]["id"], "period": "2025-01", "reason": "x" } });
    assert_eq!(app.monitor().error_code(WAIVE, bad).await, "BAD_USER_INPUT");
    // Revoked: owed again.
    let r = app
        .monitor()
        .data(
            r#"mutation($input: RevokeReportingWaiverInput!) { revokeReportingWaiver(input: $input) { duty { state } } }"#,
            json!({ "input": { "assignmentId": jan["assignment"]["id"], "period": "202501", "reason": "Nhầm" } }),
        )
        .await;
    // As of today the January duty is long overdue.
    assert_eq!(r["revokeReportingWaiver"]["duty"]["state"], "OVERDUE");
    assert_eq!(api_audit(&app, "revokeReportingWaiver").await, 1);
}

async fn api_audit(app: &TestApp, action: &str) -> usize {
    entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq(action))
        .all(&app.db)
        .await
        .expect("audit")
        .len()
}

#[tokio::test]
async fn regimes_are_checked_and_for_the_administrator() {
    let app = TestApp::spawn().await;
    let ct10 = ct10_gid(&app).await;
    const SET: &str = r#"mutation($i: SetReportingRegimeInput!) { setReportingRegime(input: $i) { regime { periodType dueRule dueValue reporters firstPeriod lastPeriod } } }"#;
    let input = |extra: Value| {
        let mut i = json!({ "directiveId": ct10, "periodType": "QUARTER", "dueRule": "DAY_OF_LAST_MONTH",
                            "dueValue": 20, "reporters": "LEADS", "firstPeriod": "2025Q1" });
        for (k, v) in extra.as_object().expect("object") {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    assert_eq!(app.monitor().error_code(SET, input(json!({}))).await, "FORBIDDEN");
    for bad in [
        json!({ "dueValue": 0 }),
        json!({ "dueValue": 32 }),
        json!({ "dueRule": "DAYS_AFTER_CUTOFF", "dueValue": 61 }),
        json!({ "firstPeriod": "202501" }),
        json!({ "firstPeriod": "2025Q3", "lastPeriod": "2025Q1" }),
        json!({ "firstPeriod": "1999Q1" }),
    ] {
        assert_eq!(
            app.error_code(SET, input(bad.clone())).await,
            "BAD_USER_INPUT",
            "{bad}"
        );
    }
    assert!(
        reporting_regime::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .is_empty()
    );
    let set = app.data(SET, input(json!({}))).await;
    assert_eq!(set["setReportingRegime"]["regime"]["reporters"], "LEADS");
    // Replaced, not added.
    app.data(SET, input(json!({ "reporters": "ALL_HOLDERS" }))).await;
    let rows = reporting_regime::Entity::find().all(&app.db).await.expect("rows");
    assert_eq!(rows.len(), 1);
    // Under LEADS no coordinator owes; under ALL_HOLDERS they do.
    let (all, _) = all_duties(&app.admin(), json!({ "period": "2025Q1" }), "2025-04-01").await;
    assert!(
        all.iter()
            .any(|r| r["source"] == "REGIME" && r["assignment"]["role"] == "COORDINATOR")
    );
    assert!(
        all.iter()
            .filter(|r| r["source"] == "REGIME")
            .all(|r| r["dueOn"] == "2025-03-20")
    );
    let removed = app
        .data(
            r#"mutation($i: RemoveReportingRegimeInput!) { removeReportingRegime(input: $i) { removed } }"#,
            json!({ "i": { "directiveId": ct10 } }),
        )
        .await;
    assert_eq!(removed["removeReportingRegime"]["removed"], true);
    let (none, _) = all_duties(&app.admin(), json!({ "period": "2025Q1" }), "2025-04-01").await;
    assert!(none.iter().all(|r| r["source"] != "REGIME"));
}

/// The rows the Rust rules derive, keyed by assignment and period.
async fn derived(app: &TestApp, as_of: NaiveDate) -> BTreeMap<(i32, String), DutyRow> {
    let tasks: HashMap<i32, task::Model> = task::Entity::find()
        .all(&app.db)
        .await
        .expect("tasks")
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let directives: HashMap<i32, directive::Model> = directive::Entity::find()
        .all(&app.db)
        .await
        .expect("directives")
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let regimes: HashMap<i32, reporting_regime::Model> = reporting_regime::Entity::find()
        .all(&app.db)
        .await
        .expect("regimes")
        .into_iter()
        .map(|r| (r.directive_id, r))
        .collect();
    let reports = progress_report::Entity::find()
        .all(&app.db)
        .await
        .expect("reports");
    let waivers = reporting_waiver::Entity::find()
        .all(&app.db)
        .await
        .expect("waivers");
    let inputs = Inputs {
        tasks: &tasks,
        directives: &directives,
        regimes: &regimes,
        reports: &reports,
        waivers: &waivers,
    };
    let mut out = BTreeMap::new();
    for a in assignment::Entity::find()
        .all(&app.db)
        .await
        .expect("assignments")
    {
        for row in duties_of(&a, &inputs, as_of, 5) {
            out.insert((row.assignment_id, row.period.clone()), row);
        }
    }
    out
}

#[tokio::test]
async fn duties_sql_matches_rust() {
    let app = TestApp::spawn().await;
    let ct10 = ct10_gid(&app).await;
    app.data(
        r#"mutation($i: SetReportingRegimeInput!) { setReportingRegime(input: $i) { regime { firstPeriod } } }"#,
        json!({ "i": { "directiveId": ct10, "periodType": "MONTH", "dueRule": "DAY_OF_LAST_MONTH",
                      "dueValue": 31, "reporters": "ALL_HOLDERS", "firstPeriod": "202502", "lastPeriod": "202509" } }),
    )
    .await;
    // Some reports (on time, late, returned, for the wrong period) and a waiver.
    let (rows, _) = all_duties(&app.admin(), json!({ "period": "2025" }), "2025-06-30").await;
    let mut made = 0;
    for (i, r) in rows.iter().enumerate().filter(|(i, _)| i % 7 == 0).take(12) {
        let holder = text(&r["assignment"]["agency"]["code"]);
        let Some(code) = app.agency(&holder).gql(SUBMIT, json!({ "input": {
            "assignmentId": r["assignment"]["id"], "period": if i % 3 == 0 { "2025S1" } else { r["period"].as_str().unwrap_or("2025") },
            "percentComplete": 50, "summary": "Báo cáo định kỳ" } })).await["data"]["submitProgressReport"]["progressReport"]["id"].as_str().map(str::to_owned) else {
            continue; // a dissolved holder cannot log in: the duty stays unmet
        };
        let due = NaiveDate::parse_from_str(&text(&r["dueOn"]), "%Y-%m-%d").expect("due");
        submitted_on(&app, &code, due + chrono::Duration::days(i as i64 % 5 - 2)).await;
        if i % 4 == 0 {
            app.monitor()
                .data(
                    REVIEW,
                    json!({ "input": { "id": code, "decision": "RETURN", "comment": "Bổ sung" } }),
                )
                .await;
        }
        made += 1;
    }
    assert!(made >= 5, "reports made: {made}");
    // A duty no report above touched.
    let w = rows
        .iter()
        .enumerate()
        .find(|(i, r)| i % 7 != 0 && r["state"] == "OVERDUE")
        .map(|(_, r)| r)
        .expect("an overdue duty");
    app.monitor()
        .data(
            r#"mutation($input: WaiveReportingDutyInput!) { waiveReportingDuty(input: $input) { duty { state } } }"#,
            json!({ "input": { "assignmentId": w["assignment"]["id"], "period": w["period"], "reason": "Miễn" } }),
        )
        .await;

    for as_of in [d(2025, 1, 10), d(2025, 2, 20), d(2025, 6, 30), d(2025, 12, 31)] {
        let rust = derived(&app, as_of).await;
        let (sql, total) = all_duties(&app.admin(), json!({}), &as_of.to_string()).await;
        assert_eq!(total as usize, sql.len());
        let mut seen = 0;
        for r in &sql {
            let id = api::graphql::relay::decode_any(r["assignment"]["id"].as_str().expect("id"))
                .expect("gid")
                .1;
            let key = (id, text(&r["period"]));
            let twin = rust
                .get(&key)
                .unwrap_or_else(|| panic!("{as_of}: SQL has {key:?}, Rust does not: {r}"));
            assert_eq!(r["state"], twin.state.as_str(), "{as_of} {key:?}");
            assert_eq!(r["dueOn"], twin.due_on.to_string(), "{as_of} {key:?}");
            assert_eq!(r["source"], twin.source.as_str(), "{as_of} {key:?}");
            assert_eq!(
                r["submittedOn"].as_str().map(str::to_owned),
                twin.submitted_on.map(|s| s.to_string()),
                "{as_of} {key:?}"
            );
            seen += 1;
        }
        assert_eq!(seen, rust.len(), "{as_of}: Rust has duties SQL does not");
        assert!(seen > 0);
        let states: std::collections::BTreeSet<&str> = rust.values().map(|r| r.state.as_str()).collect();
        if as_of == d(2025, 6, 30) {
            for s in [
                "SUBMITTED_ON_TIME",
                "SUBMITTED_LATE",
                "OVERDUE",
                "WAIVED",
                "NOT_DUE",
            ] {
                assert!(states.contains(s), "{as_of}: no {s} among {states:?}");
            }
        }
    }
}

#[tokio::test]
async fn reminders_are_sent_once_per_duty() {
    let app = TestApp::spawn().await;
    const SEND: &str = r#"mutation($d: Date) { sendReportingReminders(asOf: $d) { dueSoon overdue more } }"#;
    assert_eq!(
        app.monitor().error_code(SEND, json!({ "d": "2025-01-21" })).await,
        "FORBIDDEN"
    );
    let first = app.data(SEND, json!({ "d": "2025-01-21" })).await;
    let s = &first["sendReportingReminders"];
    // III.3's January report (due 20/01) and the task reports due by then are overdue; those
    // due within five days are due soon.
    assert!(s["overdue"].as_i64().expect("n") >= 1, "{s}");
    let (overdue, _) = all_duties(&app.admin(), json!({ "state": ["OVERDUE"] }), "2025-01-21").await;
    let recent = overdue
        .iter()
        .filter(|r| r["dueOn"].as_str().unwrap_or("") >= "2024-12-22")
        .count();
    assert_eq!(s["overdue"], recent as i64);
    let (soon, _) = all_duties(&app.admin(), json!({ "state": ["DUE_SOON"] }), "2025-01-21").await;
    assert_eq!(s["dueSoon"], soon.len() as i64);
    let again = app.data(SEND, json!({ "d": "2025-01-21" })).await;
    assert_eq!(again["sendReportingReminders"]["overdue"], 0);
    assert_eq!(again["sendReportingReminders"]["dueSoon"], 0);
}

/// GETs `/export/follow-up.<format>?<query>` as `who`: (status, content type, body).
async fn follow_up(who: &crate::helpers::Client<'_>, format: &str, query: &str) -> (u16, String, Vec<u8>) {
    crate::helpers::fetch(who, &format!("/export/follow-up.{format}?{query}")).await
}

/// The follow-up table on both databases (the spreadsheet's contents are read by openpyxl and
/// LibreOffice in tests/followup): the CSV's rows equal the GraphQL counts, an agency gets its
/// own row, an analyst the CSV but not the workbook, a bad date is refused.
#[tokio::test]
async fn the_follow_up_table_counts_what_graphql_counts_in_the_callers_scope() {
    let app = TestApp::spawn().await;
    let (status, ct, body) = follow_up(&app.admin(), "csv", "asOf=2025-12-31").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(ct.starts_with("text/csv"));
    let text_body = String::from_utf8(body).expect("utf-8");
    let text_body = text_body.trim_start_matches('\u{feff}');
    let mut rows = csv::Reader::from_reader(text_body.as_bytes());
    let header: Vec<String> = rows
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[1], "Cơ quan, đơn vị");
    assert_eq!(header[7], "Quá hạn chưa hoàn thành");
    let by_code: BTreeMap<String, Vec<String>> = rows
        .records()
        .map(|r| {
            let r = r.expect("row");
            (r[2].to_owned(), r.iter().map(str::to_owned).collect())
        })
        .collect();
    let d = app
        .data(
            r#"{ taskStatistics(asOf: "2025-12-31", groupBy: [AGENCY]) { groups { agency { code } total counts { inProgressOverdue } } }
                 reportingCompliance(asOf: "2025-12-31", groupBy: [AGENCY]) { groups { agency { code } expected overdue } } }"#,
            json!({}),
        )
        .await;
    for g in list(&d["taskStatistics"]["groups"]) {
        let row = &by_code[&text(&g["agency"]["code"])];
        assert_eq!(row[3], g["total"].to_string(), "{row:?}");
        assert_eq!(row[7], g["counts"]["inProgressOverdue"].to_string(), "{row:?}");
    }
    for g in list(&d["reportingCompliance"]["groups"]) {
        let row = &by_code[&text(&g["agency"]["code"])];
        assert_eq!(row[12], g["expected"].to_string(), "{row:?}");
        assert_eq!(row[15], g["overdue"].to_string(), "{row:?}");
    }
    assert_eq!(by_code["so-tai-chinh"][17], "2025-12-31");

    let (status, ct, body) = follow_up(&app.agency("so-tai-chinh"), "xlsx", "asOf=2025-12-31").await;
    assert_eq!(status, 200);
    assert!(ct.contains("spreadsheetml"));
    assert!(body.starts_with(b"PK"), "a zip container");
    let (_, _, own) = follow_up(&app.agency("so-tai-chinh"), "csv", "asOf=2025-12-31").await;
    let own = String::from_utf8(own).expect("utf-8");
    let codes: Vec<&str> = own.lines().skip(1).filter_map(|l| l.split(',').nth(2)).collect();
    assert_eq!(codes, ["so-tai-chinh"]);

    assert_eq!(follow_up(&app.analyst(), "xlsx", "asOf=2025-12-31").await.0, 403);
    assert_eq!(follow_up(&app.analyst(), "csv", "asOf=2025-12-31").await.0, 200);
    let (status, _, body) = follow_up(&app.admin(), "xlsx", "asOf=31/12/2025").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("BAD_USER_INPUT"));
    assert_eq!(follow_up(&app.admin(), "csv", "agency=x").await.0, 400);
    let res = app.get("/export/follow-up.xlsx").send().await.expect("send");
    assert_eq!(res.status().as_u16(), 401);
}

/// A duty shared among successors (Sở LĐ-TB&XH's split on 1/3/2025: one row per successor,
/// `SHARED`; a district's work given to the communes of its area is the same move) is owed by
/// each copy from the day it was shared: the months cut off before stay with the row that held
/// the duty then (the first successor's, `MOVED`), so one missing report is not counted once
/// per successor.
#[tokio::test]
async fn a_shared_duty_is_owed_from_the_day_it_was_shared() {
    let app = TestApp::spawn().await;
    let ct10 = ct10_gid(&app).await;
    app.data(
        r#"mutation($i: SetReportingRegimeInput!) { setReportingRegime(input: $i) { regime { firstPeriod } } }"#,
        json!({ "i": { "directiveId": ct10, "periodType": "MONTH", "dueRule": "DAY_OF_LAST_MONTH",
                       "dueValue": 20, "reporters": "ALL_HOLDERS", "firstPeriod": "202501" } }),
    )
    .await;
    let (rows, _) = all_duties(&app.admin(), json!({ "directiveId": ct10 }), "2025-06-30").await;
    let mut periods: HashMap<String, Vec<String>> = HashMap::new();
    for r in &rows {
        periods
            .entry(text(&r["assignment"]["id"]))
            .or_default()
            .push(text(&r["period"]));
    }
    let d = app
        .data(
            r#"query($f: TaskFilter) { tasks(first: 100, filter: $f) { nodes { code
                assignments { id owesFrom completedOn originalAgency { code } transfers { kind effectiveOn } } } } }"#,
            json!({ "f": { "directiveId": ct10 } }),
        )
        .await;
    // A month's data cut-off (Decree 09): its 14th.
    let cut_off = |p: &str| format!("{}-{}-14", &p[..4], &p[4..6]);
    let (mut shared, mut checked) = (0, 0);
    for t in list(&d["tasks"]["nodes"]) {
        let rows = list(&t["assignments"]);
        for a in rows {
            let first_kind = list(&a["transfers"]).first().and_then(|x| x["kind"].as_str());
            let owed = periods.get(&text(&a["id"])).cloned().unwrap_or_default();
            if first_kind != Some("SHARED") {
                assert_eq!(a["owesFrom"], Value::Null, "{a}");
                continue;
            }
            shared += 1;
            let from = text(&a["owesFrom"]);
            assert_eq!(json!(from), list(&a["transfers"])[0]["effectiveOn"], "{a}");
            assert!(
                owed.iter().all(|p| cut_off(p) >= from),
                "{} {a}: a copy made on {from} owes {owed:?}",
                t["code"]
            );
            // The row that kept the duty owes the months before (when it was open then).
            let original = &a["originalAgency"]["code"];
            let kept = rows
                .iter()
                .find(|b| {
                    b["originalAgency"]["code"] == *original
                        && list(&b["transfers"]).first().and_then(|x| x["kind"].as_str()) == Some("MOVED")
                })
                .unwrap_or_else(|| panic!("{}: no MOVED row of {original}", t["code"]));
            let before: Vec<String> = ["202501", "202502", "202503", "202504", "202505", "202506"]
                .iter()
                .map(|p| p.to_string())
                .filter(|p| cut_off(p) < from)
                .collect();
            if kept["completedOn"].is_null() && a["completedOn"].is_null() && !before.is_empty() {
                checked += 1;
                let kept_owed = periods.get(&text(&kept["id"])).cloned().unwrap_or_default();
                assert!(
                    before.iter().all(|p| kept_owed.contains(p)),
                    "{}: the kept row owes {kept_owed:?}, not all of {before:?}",
                    t["code"]
                );
                assert!(
                    owed.contains(&"202503".to_owned()) || from > cut_off("202503"),
                    "{owed:?}"
                );
            }
        }
    }
    assert!(
        shared > 0 && checked > 0,
        "the seeds share duties ({shared} copies, {checked} checked)"
    );
}
