//! The seed files match the documents, load idempotently, update rows by stable code, and the
//! synthetic load is deterministic.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::{agency, assignment, directive, indicator, task, task_milestone};
use sea_orm::ActiveEnum as _;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{TestApp, seeds_dir, seeds_with};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn directive_id(app: &TestApp, code: &str) -> i32 {
    directive::Entity::find()
        .filter(directive::Column::Code.eq(code))
        .one(&app.db)
        .await
        .expect("query")
        .expect("directive seeded")
        .id
}

async fn task_by_code(app: &TestApp, code: &str) -> task::Model {
    let d = directive_id(app, "ct-10-2024").await;
    task::Entity::find()
        .filter(task::Column::DirectiveId.eq(d))
        .filter(task::Column::Code.eq(code))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("task {code} seeded"))
}

async fn agency_id(app: &TestApp, code: &str) -> i32 {
    agency::Entity::find()
        .filter(agency::Column::Code.eq(code))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("agency {code}"))
        .id
}

#[tokio::test]
async fn tasks_per_section_match_the_documents() {
    let app = TestApp::spawn().await;
    let d = directive_id(&app, "ct-10-2024").await;
    let mut per_section: BTreeMap<String, usize> = BTreeMap::new();
    for t in task::Entity::find()
        .filter(task::Column::DirectiveId.eq(d))
        .all(&app.db)
        .await
        .expect("tasks")
    {
        *per_section.entry(t.section).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = [
        ("II.1.1", 16),
        ("II.1.2", 6),
        ("II.1.3", 5),
        ("II.1.4", 3),
        ("II.2", 9),
        ("II.3", 2),
        ("II.4", 3),
        ("II.5", 2),
        ("II.6", 1),
        ("III.1", 1),
        ("III.2", 1),
        ("III.3", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(per_section, expected);
    assert_eq!(per_section.values().sum::<usize>(), 50);

    let d2 = directive_id(&app, "2025-thi-dua-dac-biet").await;
    let n = task::Entity::find()
        .filter(task::Column::DirectiveId.eq(d2))
        .all(&app.db)
        .await
        .expect("tasks")
        .len();
    assert_eq!(n, 4, "document 002 §II has four items");

    let ct10 = directive::Entity::find_by_id(d)
        .one(&app.db)
        .await
        .expect("q")
        .expect("row");
    assert_eq!(ct10.number.as_deref(), Some("10/CT-UBND"));
    assert_eq!(ct10.issued_on, Some(date("2024-12-25")));
    assert_eq!(ct10.signer.as_deref(), Some("Trịnh Xuân Trường"));
}

#[tokio::test]
async fn deadline_phrases_map_to_the_due_dates_of_the_rule() {
    let app = TestApp::spawn().await;
    for (code, written, kind, due) in [
        ("II.1.1-1", "trong tháng 01/2025", "MONTH", Some("2025-01-31")),
        ("II.1.1-3.1", "trong Quý II/2025", "QUARTER", Some("2025-06-30")),
        ("II.1.1-3.2", "trước ngày 15/01/2025", "DATE", Some("2025-01-14")),
        ("II.1.1-4", "trong năm 2025", "YEAR", Some("2025-12-31")),
        ("II.1.1-5.1", "trước ngày 05/01/2025", "DATE", Some("2025-01-04")),
        ("II.1.2-1", "trong Quý I/2025", "QUARTER", Some("2025-03-31")),
        ("II.1.2-2.1", "trong quý I/2025", "QUARTER", Some("2025-03-31")),
        ("II.1.3-4.1", "trước tháng 6/2025", "MONTH", Some("2025-05-31")),
        ("II.3-2", "trước 30/6/2025", "DATE", Some("2025-06-29")),
        (
            "III.3-1",
            "tại các phiên họp thường kỳ hàng tháng",
            "RECURRING",
            None,
        ),
    ] {
        let t = task_by_code(&app, code).await;
        assert_eq!(t.deadline_text.as_deref(), Some(written), "{code}");
        assert_eq!(t.deadline_kind.to_value(), kind, "{code}");
        assert_eq!(t.original_due_on, due.map(date), "{code}");
        assert_eq!(t.due_on, due.map(date), "{code}");
    }
    let ongoing = task_by_code(&app, "II.5-2").await;
    assert_eq!(
        (ongoing.deadline_kind.to_value(), ongoing.due_on),
        ("ONGOING".to_owned(), None)
    );
    assert_eq!(
        task_by_code(&app, "III.3-1")
            .await
            .recurrence
            .map(|r| r.to_value()),
        Some("MONTHLY".to_owned())
    );

    // The health department's item (1) carries two milestones.
    let health = task_by_code(&app, "II.2-4.1").await;
    let ms = task_milestone::Entity::find()
        .filter(task_milestone::Column::TaskId.eq(health.id))
        .order_by_asc(task_milestone::Column::Ordinal)
        .all(&app.db)
        .await
        .expect("milestones");
    let dues: Vec<_> = ms.iter().map(|m| m.due_on).collect();
    assert_eq!(dues, vec![Some(date("2025-01-31")), Some(date("2025-03-31"))]);
}

#[tokio::test]
async fn all_28_targets_with_exact_values() {
    let app = TestApp::spawn().await;
    let everything = indicator::Entity::find().all(&app.db).await.expect("indicators");
    // The emulation letter's targets (10/CT-UBND's own six are checked in `indicators`).
    let (all, ct10): (Vec<_>, Vec<_>) = everything.into_iter().partition(|i| i.code.starts_with("2025."));
    assert_eq!(ct10.len(), 6);
    assert!(ct10.iter().all(|i| i.code.starts_with("ct-10-2024.")));
    let top: Vec<_> = all.iter().filter(|i| i.parent_id.is_none()).collect();
    assert_eq!(top.len(), 28);
    let mut items: Vec<String> = top.iter().filter_map(|i| i.item.clone()).collect();
    items.sort_by_key(|s| {
        s.trim_matches(|c| c == '(' || c == ')')
            .parse::<u32>()
            .unwrap_or(0)
    });
    let expected: Vec<String> = (1..=28).map(|n| format!("({n})")).collect();
    assert_eq!(items, expected);

    let by_code = |c: &str| {
        all.iter()
            .find(|i| i.code == c)
            .unwrap_or_else(|| panic!("{c}"))
            .clone()
    };
    use entity::enums::{Comparator, Direction};
    for (code, target, text) in [
        ("2025.01", "8.5", "8,5"),
        ("2025.03", "85", "85"),
        ("2025.06", "85000", "85.000"),
        ("2025.08.a", "10255000", "10.255.000"),
        ("2025.08.b", "46455", "46.455"),
        ("2025.09", "21000", "21.000"),
        ("2025.12", "2286", "2.286"),
        ("2025.25", "61.5", "61,5"),
        ("2025.18", "2.68", "2,68"),
    ] {
        let i = by_code(code);
        assert_eq!(i.target.as_deref(), Some(target), "{code}");
        assert_eq!(i.target_text.as_deref(), Some(text), "{code}");
    }
    assert_eq!(by_code("2025.18").direction, Direction::Decrease);
    assert_eq!(by_code("2025.27.a").comparator, Some(Comparator::Gt), "trên 95%");
    assert_eq!(
        by_code("2025.27.b").comparator,
        Some(Comparator::Ge),
        "tối thiểu 95%"
    );
    assert!(by_code("2025.28").qualitative && by_code("2025.28").target.is_none());

    // The economic structure's four shares, kept as written (they add up to 99.96).
    let structure = by_code("2025.02");
    let shares: Vec<_> = all.iter().filter(|i| i.parent_id == Some(structure.id)).collect();
    assert_eq!(shares.len(), 4);
    let sum: rust_decimal::Decimal = shares
        .iter()
        .map(|s| {
            s.target
                .as_deref()
                .unwrap_or("0")
                .parse::<rust_decimal::Decimal>()
                .expect("decimal")
        })
        .sum();
    assert_eq!(sum.to_string(), "99.96");
    // Compound targets are split.
    for (parent, n) in [
        ("2025.04", 2),
        ("2025.05", 2),
        ("2025.08", 2),
        ("2025.16", 2),
        ("2025.20", 2),
        ("2025.27", 3),
    ] {
        let p = by_code(parent);
        assert_eq!(
            all.iter().filter(|i| i.parent_id == Some(p.id)).count(),
            n,
            "{parent}"
        );
    }
}

#[tokio::test]
async fn merged_agencies_hand_their_open_assignments_to_the_successor() {
    let app = TestApp::spawn().await;
    let khdt = agency_id(&app, "so-ke-hoach-dau-tu").await;
    let tc = agency_id(&app, "so-tai-chinh").await;
    let named = assignment::Entity::find()
        .filter(assignment::Column::OriginalAgencyId.eq(khdt))
        .all(&app.db)
        .await
        .expect("assignments");
    assert!(
        named.len() >= 6,
        "the directive names Sở KH&ĐT often: {}",
        named.len()
    );
    for a in &named {
        assert_eq!(a.agency_id, tc, "held by Sở Tài chính since 1/3/2025");
        assert_eq!(a.transferred_on, Some(date("2025-03-01")));
    }
    // A lead that is also in a coordinating group keeps only its lead role (II.1.1-4).
    let t = task_by_code(&app, "II.1.1-4").await;
    let du_lich = agency_id(&app, "so-du-lich").await;
    let roles: Vec<_> = assignment::Entity::find()
        .filter(assignment::Column::TaskId.eq(t.id))
        .filter(assignment::Column::OriginalAgencyId.eq(du_lich))
        .all(&app.db)
        .await
        .expect("assignments")
        .into_iter()
        .map(|a| a.role)
        .collect();
    assert_eq!(roles, vec![entity::enums::AssignmentRole::Lead]);
}

async fn dump(app: &TestApp) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        agency::Entity::find()
            .order_by_asc(agency::Column::Id)
            .all(&app.db)
            .await
            .expect("a"),
        directive::Entity::find()
            .order_by_asc(directive::Column::Id)
            .all(&app.db)
            .await
            .expect("d"),
        task::Entity::find()
            .order_by_asc(task::Column::Id)
            .all(&app.db)
            .await
            .expect("t"),
        assignment::Entity::find()
            .order_by_asc(assignment::Column::Id)
            .all(&app.db)
            .await
            .expect("s"),
        indicator::Entity::find()
            .order_by_asc(indicator::Column::Id)
            .all(&app.db)
            .await
            .expect("i"),
    )
}

#[tokio::test]
async fn seeding_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = dump(&app).await;
    let set = api::seed::SeedSet::read(&seeds_dir()).expect("read");
    let report = api::seed::load(&app.db, &set).await.expect("reseed");
    assert!(!report.changed(), "second run wrote: {report}");
    assert_eq!(before, dump(&app).await);
}

#[tokio::test]
async fn a_changed_file_updates_rows_by_stable_code() {
    let app = TestApp::spawn().await;
    let before = task_by_code(&app, "II.5-2").await;
    // Replace the `title:` line that follows the task's code, whatever its quoting.
    let dir = seeds_with("directives/10-CT-UBND.yaml", |text| {
        let start = text.find("code: II.5-2").expect("task in file");
        let at = start + text[start..].find("\n    title:").expect("title line") + 5;
        let end = at + text[at..].find('\n').expect("end of line");
        format!("{}title: Tiêu đề đã sửa{}", &text[..at], &text[end..])
    });

    let set = api::seed::SeedSet::read(&dir).expect("read");
    let report = app.beside(api::seed::load(&app.db, &set)).await.expect("reseed");
    assert_eq!(report.updated.get("tasks"), Some(&1), "{report}");
    assert!(report.inserted.is_empty(), "{report}");
    let after = task_by_code(&app, "II.5-2").await;
    assert_eq!(after.id, before.id, "same row");
    assert_eq!(after.title, "Tiêu đề đã sửa");
    std::fs::remove_dir_all(&dir).ok();
}

/// `chidao seed --synthetic` at a tiny scale, on an empty database (SQLite) or beside the real
/// seed (PostgreSQL's template, and the served database below): exact counts, identical rows from
/// two loads, the invariants the API relies on, a second load refused, and the rows served.
#[tokio::test]
async fn synthetic_data_loads_deterministically_and_consistently() {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use api::domain::{deadline::parse_deadline, period::PeriodId, text::fold};
    use api::seed::synthetic::{Scale, SyntheticError};
    use entity::enums::{AssignmentRole, ReportState};
    use entity::{indicator_value, progress_report};
    use sea_orm::DatabaseConnection;
    use serde_json::json;

    let scale = Scale {
        agencies: 12,
        directives: 4,
        tasks: 60,
        indicators: 5,
        reports: 300,
    };

    /// Checks the invariants and returns the synthetic rows, keyed by code (ids differ by database).
    async fn check(db: &DatabaseConnection) -> Vec<String> {
        let agencies: HashMap<i32, String> = agency::Entity::find()
            .filter(agency::Column::Code.starts_with("syn-"))
            .all(db)
            .await
            .expect("agencies")
            .into_iter()
            .map(|a| (a.id, a.code))
            .collect();
        let directives: HashMap<i32, String> = directive::Entity::find()
            .filter(directive::Column::Code.starts_with("syn-"))
            .all(db)
            .await
            .expect("directives")
            .into_iter()
            .map(|d| {
                (
                    d.id,
                    format!("{} {} {}", d.code, d.number.unwrap_or_default(), d.title),
                )
            })
            .collect();
        let tasks = task::Entity::find()
            .filter(task::Column::DirectiveId.is_in(directives.keys().copied()))
            .order_by_asc(task::Column::Id)
            .all(db)
            .await
            .expect("tasks");
        let task_ids: HashSet<i32> = tasks.iter().map(|t| t.id).collect();
        let assignments: Vec<assignment::Model> = assignment::Entity::find()
            .filter(assignment::Column::TaskId.is_in(task_ids.iter().copied()))
            .order_by_asc(assignment::Column::Id)
            .all(db)
            .await
            .expect("assignments");
        let mut by_task: HashMap<i32, Vec<&assignment::Model>> = HashMap::new();
        let mut keys = HashSet::new();
        for a in &assignments {
            assert!(
                keys.insert((a.task_id, a.original_agency_id, a.role)),
                "duplicate {a:?}"
            );
            assert!(
                agencies.contains_key(&a.agency_id),
                "synthetic tasks go to synthetic agencies"
            );
            by_task.entry(a.task_id).or_default().push(a);
        }
        let mut rows = Vec::new();
        for t in &tasks {
            let leads: Vec<&&assignment::Model> = by_task[&t.id]
                .iter()
                .filter(|a| a.role == AssignmentRole::Lead)
                .collect();
            assert!(!leads.is_empty(), "{} has no lead", t.code);
            let all_done = leads.iter().all(|l| l.completed_on.is_some());
            let last = leads.iter().filter_map(|l| l.completed_on).max();
            assert_eq!(t.completed_on, if all_done { last } else { None }, "{}", t.code);
            let d = parse_deadline(t.deadline_text.as_deref()).expect("deadline parses");
            assert_eq!(t.deadline_kind.to_value(), d.kind.as_str(), "{}", t.code);
            assert_eq!(t.original_due_on, d.due_on, "{}", t.code);
            assert_eq!(t.due_on, d.due_on, "{}", t.code);
            assert_eq!(
                t.recurrence.map(|r| r.to_value()),
                d.recurrence.map(|r| r.as_str().to_owned())
            );
            assert_eq!(t.search_title, fold(&t.title));
            assert_eq!(
                t.search_text,
                fold(&format!("{} {} {}", t.code, t.title, t.full_text))
            );
            rows.push(format!(
                "{} | {} | {} | {:?} | {:?} | {:?}",
                directives[&t.directive_id], t.code, t.title, t.deadline_text, t.due_on, t.completed_on
            ));
        }
        let by_id: HashMap<i32, &assignment::Model> = assignments.iter().map(|a| (a.id, a)).collect();
        for a in &assignments {
            let t = tasks.iter().find(|t| t.id == a.task_id).expect("task");
            rows.push(format!(
                "{} {} {:?} {:?}",
                t.code, agencies[&a.agency_id], a.role, a.completed_on
            ));
        }
        let reports = progress_report::Entity::find()
            .filter(progress_report::Column::AssignmentId.is_in(by_id.keys().copied()))
            .order_by_asc(progress_report::Column::Id)
            .all(db)
            .await
            .expect("reports");
        for r in &reports {
            let a = by_id[&r.assignment_id];
            assert_eq!(r.agency_id, a.agency_id);
            assert!((0..=100).contains(&r.percent_complete));
            assert!(r.period.parse::<PeriodId>().is_ok(), "{}", r.period);
            assert!(r.idempotency_key.is_none());
            if r.done {
                assert_eq!(
                    (a.role, r.percent_complete, r.state),
                    (AssignmentRole::Lead, 100, ReportState::Accepted)
                );
            }
            assert_eq!(r.submitted_at.is_none(), r.state == ReportState::Draft);
            rows.push(format!(
                "{} {} {} {:?} {}",
                r.period, r.percent_complete, r.done, r.state, r.summary
            ));
        }
        let indicators = indicator::Entity::find()
            .filter(indicator::Column::Code.starts_with("syn-"))
            .all(db)
            .await
            .expect("indicators");
        let values = indicator_value::Entity::find()
            .filter(indicator_value::Column::IndicatorId.is_in(indicators.iter().map(|i| i.id)))
            .all(db)
            .await
            .expect("values");
        let mut periods: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for v in &values {
            assert!(v.value.parse::<rust_decimal::Decimal>().is_ok(), "{}", v.value);
            periods.entry(v.indicator_id).or_default().push(v.period.clone());
        }
        let months: Vec<String> = (1..=12).map(|m| format!("2025{m:02}")).collect();
        for i in &indicators {
            let mut p = periods.remove(&i.id).unwrap_or_default();
            p.sort();
            assert_eq!(p, months, "{}", i.code);
            rows.push(format!("{} {} {:?}", i.code, i.name, i.target));
        }
        assert_eq!(
            (
                agencies.len(),
                directives.len(),
                tasks.len(),
                assignments.len(),
                reports.len()
            ),
            (12, 4, 60, 180, 300)
        );
        assert_eq!((indicators.len(), values.len()), (5, 60));
        rows
    }

    let mut dumps = Vec::new();
    for _ in 0..2 {
        let url = crate::helpers::fresh_database().await;
        let (db, _) = api::db::connect(&url, 2).await.expect("connect");
        api::db::migrate(&db).await.expect("migrate");
        let report = api::seed::synthetic::load(&db, scale)
            .await
            .expect("synthetic load");
        let counts: Vec<u64> = [
            "agencies",
            "directives",
            "tasks",
            "assignments",
            "progress_reports",
            "indicators",
            "indicator_values",
        ]
        .iter()
        .map(|t| report.count(t))
        .collect();
        assert_eq!(counts, [12, 4, 60, 180, 300, 5, 60], "{report}");
        dumps.push(check(&db).await);
        let again = api::seed::synthetic::load(&db, scale).await;
        assert!(
            matches!(again, Err(SyntheticError::AlreadyLoaded(_))),
            "{again:?}"
        );
        db.close().await.ok();
    }
    assert_eq!(dumps[0], dumps[1], "two loads differ");

    // Beside the real seed, through the API.
    let app = TestApp::spawn().await;
    api::seed::synthetic::load(&app.db, scale)
        .await
        .expect("load beside the seed");
    assert_eq!(check(&app.db).await, dumps[0]);
    let d = directive::Entity::find()
        .filter(directive::Column::Code.eq("syn-0001"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("synthetic directive");
    let number = d.number.expect("number");
    let data = app
        .data(
            r#"query($n: String!) {
                 agency(code: "syn-0001") { kind active }
                 directive(number: $n) {
                   tasks(first: 100, asOf: "2025-12-31") {
                     totalCount nodes { title status leads { code } }
                   }
                 }
                 taskStatistics(filter: { directiveNumber: $n }, asOf: "2025-12-31") {
                   total counts { completedOnTime inProgressOverdue }
                 }
               }"#,
            json!({ "n": number }),
        )
        .await;
    assert_eq!(data["agency"], json!({ "kind": "DEPARTMENT", "active": true }));
    let tasks = &data["directive"]["tasks"];
    let nodes = tasks["nodes"].as_array().expect("nodes");
    assert!(!nodes.is_empty());
    assert_eq!(tasks["totalCount"], json!(nodes.len()));
    assert_eq!(data["taskStatistics"]["total"], json!(nodes.len()));
    for n in nodes {
        let leads = n["leads"].as_array().expect("leads");
        assert!(!leads.is_empty(), "{n}");
        assert!(
            leads
                .iter()
                .all(|l| l["code"].as_str().is_some_and(|c| c.starts_with("syn-")))
        );
    }
    let count = |s: &str| nodes.iter().filter(|n| n["status"] == s).count();
    assert_eq!(
        data["taskStatistics"]["counts"],
        json!({ "completedOnTime": count("COMPLETED_ON_TIME"), "inProgressOverdue": count("IN_PROGRESS_OVERDUE") })
    );
    // Search without diacritics finds a synthetic title.
    let title = nodes[0]["title"].as_str().expect("title");
    let words: Vec<&str> = title.split_whitespace().take(3).collect();
    let search = fold(&words.join(" "));
    let found = app
        .data(
            r#"query($f: TaskFilter) { tasks(first: 100, filter: $f) { nodes { title } } }"#,
            json!({ "f": { "search": search, "directiveNumber": number } }),
        )
        .await;
    let titles: Vec<&str> = found["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert!(titles.contains(&title), "{search}: {titles:?}");
}

/// A directive's file may set its reporting regime (`reporting_regime`, as `setReportingRegime`
/// takes it): loaded, checked by the same rule, not rewritten by a second run, and refused with
/// the file and field named when it is wrong.
#[tokio::test]
async fn a_seed_file_sets_a_reporting_regime() {
    let app = TestApp::spawn().await;
    let with = |regime: &'static str| {
        seeds_with("directives/10-CT-UBND.yaml", move |text| {
            let at = text
                .find("  signer_title: Chủ tịch\n")
                .expect("signer_title line")
                + "  signer_title: Chủ tịch\n".len();
            format!("{}{regime}{}", &text[..at], &text[at..])
        })
    };
    let good = with(
        "  reporting_regime:\n    period_type: QUARTER\n    due_rule: DAY_OF_LAST_MONTH\n    due_value: 20\n    \
         reporters: LEADS\n    first_period: 2025Q1\n    last_period: 2025Q4\n",
    );
    let set = api::seed::SeedSet::read(&good).expect("read");
    let report = app.beside(api::seed::load(&app.db, &set)).await.expect("seed");
    assert_eq!(report.inserted.get("reporting_regimes"), Some(&1), "{report}");
    let d = app
        .data(
            r#"{ directive(number: "10/CT-UBND") { reportingRegime { periodType dueRule dueValue reporters firstPeriod lastPeriod } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        d["directive"]["reportingRegime"],
        json!({ "periodType": "QUARTER", "dueRule": "DAY_OF_LAST_MONTH", "dueValue": 20,
                "reporters": "LEADS", "firstPeriod": "2025Q1", "lastPeriod": "2025Q4" })
    );
    let duties = app
        .data(
            r#"{ reportingDuties(filter: { period: "2025Q2" }, asOf: "2025-12-31", first: 100) { nodes { source period dueOn } } }"#,
            json!({}),
        )
        .await;
    let regime: Vec<&serde_json::Value> = duties["reportingDuties"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["source"] == "REGIME")
        .collect();
    assert!(!regime.is_empty(), "{duties}");
    assert!(
        regime
            .iter()
            .all(|n| n["period"] == "2025Q2" && n["dueOn"] == "2025-06-20"),
        "{regime:?}"
    );
    let again = api::seed::load(&app.db, &set).await.expect("reseed");
    assert!(!again.changed(), "second run wrote: {again}");
    std::fs::remove_dir_all(&good).ok();

    for (regime, field) in [
        (
            "  reporting_regime:\n    period_type: QUARTER\n    due_rule: DAY_OF_LAST_MONTH\n    due_value: 20\n    \
             reporters: LEADS\n    first_period: '202501'\n",
            "firstPeriod",
        ),
        (
            "  reporting_regime:\n    period_type: MONTH\n    due_rule: DAYS_AFTER_CUTOFF\n    due_value: 61\n    \
             reporters: ALL_HOLDERS\n    first_period: '202501'\n",
            "dueValue",
        ),
        (
            "  reporting_regime:\n    period_type: YEAR\n    due_rule: DAY_OF_LAST_MONTH\n    due_value: 20\n    \
             reporters: LEADS\n    first_period: '2026'\n    last_period: '2025'\n",
            "lastPeriod",
        ),
    ] {
        let bad = with(regime);
        let set = api::seed::SeedSet::read(&bad).expect("read");
        let err = api::seed::load(&app.db, &set)
            .await
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("directives/ct-10-2024") && err.contains(&format!("reporting_regime: {field}")),
            "{err}"
        );
        std::fs::remove_dir_all(&bad).ok();
    }
}
