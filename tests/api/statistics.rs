//! `taskStatistics`: counts that agree with the lists, groups by directive, section and
//! agency, and answers kept on PostgreSQL until a write commits.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{EXTEND, TestApp, pg_url, task_total};

const STATS: &str = r#"
query($f: TaskFilter, $asOf: Date) {
  taskStatistics(filter: $f, asOf: $asOf) {
    total overdueShare
    counts { completedOnTime completedLate completedNoDeadline inProgressOnTime inProgressOverdue
             inProgressNoDeadline fallenDue overdueOver30Days overdueOver60Days overdueOver120Days }
    byStatus { status count }
  }
}"#;

#[tokio::test]
async fn statistics_agree_with_the_lists() {
    let app = TestApp::spawn().await;
    for filter in [
        json!({}),
        json!({"directiveNumber": "10/CT-UBND"}),
        json!({"agencyCode": "so-tai-chinh", "role": "LEAD"}),
        json!({"section": "II.1"}),
        json!({"search": "bao cao"}),
        json!({"requiresReport": true}),
    ] {
        // 2025-02-01: the day after II.2-4.1's January milestone, missed (overdue before its own date).
        for as_of in ["2025-01-10", "2025-02-01", "2025-04-01", "2026-11-23"] {
            let s = app.data(STATS, json!({ "f": filter, "asOf": as_of })).await;
            let stats = &s["taskStatistics"];
            let list = app
                .data(
                    "query($f: TaskFilter, $a: Date) { tasks(first: 100, filter: $f, asOf: $a) { totalCount nodes { status } } }",
                    json!({ "f": filter, "a": as_of }),
                )
                .await;
            assert_eq!(stats["total"], list["tasks"]["totalCount"], "{filter} {as_of}");
            // The SQL status and the Rust status of each row agree.
            let mut tally: BTreeMap<String, i64> = BTreeMap::new();
            for n in list["tasks"]["nodes"].as_array().expect("nodes") {
                *tally
                    .entry(n["status"].as_str().expect("s").to_owned())
                    .or_default() += 1;
            }
            for bs in stats["byStatus"].as_array().expect("byStatus") {
                let status = bs["status"].as_str().expect("status");
                assert_eq!(
                    bs["count"].as_i64().unwrap_or(0),
                    tally.get(status).copied().unwrap_or(0),
                    "{status} for {filter} as of {as_of}"
                );
                let filtered = task_total(&app, {
                    let mut f = filter.clone();
                    f["status"] = json!([status]);
                    f
                })
                .await;
                if as_of == "2026-11-23" {
                    assert_eq!(
                        filtered,
                        bs["count"].as_i64().unwrap_or(0),
                        "status filter {status}"
                    );
                }
            }
        }
    }
    let s = app.data(STATS, json!({ "asOf": "2025-06-01" })).await;
    let c = &s["taskStatistics"]["counts"];
    assert_eq!(
        c["inProgressOverdue"], c["fallenDue"],
        "nothing completed yet in the seed data"
    );
    assert_eq!(s["taskStatistics"]["overdueShare"], 1.0);
    assert!(c["overdueOver120Days"].as_i64() <= c["overdueOver30Days"].as_i64());
}

#[tokio::test]
async fn statistics_group_by_agency_directive_and_section() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ taskStatistics(asOf: "2025-06-01", groupBy: [DIRECTIVE]) { total groups { directive { number } total } } }"#,
            json!({}),
        )
        .await;
    let groups = d["taskStatistics"]["groups"].as_array().expect("groups");
    let sum: i64 = groups.iter().map(|g| g["total"].as_i64().unwrap_or(0)).sum();
    assert_eq!(sum, d["taskStatistics"]["total"].as_i64().unwrap_or(-1));
    let d = app
        .data(
            r#"{ taskStatistics(filter: {directiveNumber: "10/CT-UBND"}, groupBy: [SECTION]) { groups { section total } } }"#,
            json!({}),
        )
        .await;
    let ii11 = d["taskStatistics"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["section"] == "II.1.1")
        .cloned()
        .expect("II.1.1");
    assert_eq!(ii11["total"], 16);
    let d = app
        .data(
            r#"{ taskStatistics(filter: {role: LEAD, agencyCode: "so-y-te"}, groupBy: [AGENCY]) { total groups { agency { code } total } } }"#,
            json!({}),
        )
        .await;
    let groups = d["taskStatistics"]["groups"].as_array().expect("groups");
    let yte = groups
        .iter()
        .find(|g| g["agency"]["code"] == "so-y-te")
        .expect("so-y-te group");
    assert_eq!(
        yte["total"], d["taskStatistics"]["total"],
        "every listed task has a Sở Y tế lead"
    );
    assert_eq!(
        yte["total"],
        task_total(&app, json!({"agencyCode": "so-y-te", "role": "LEAD"})).await
    );
}

/// `taskStatistics` answers are kept on PostgreSQL until a write commits: through this
/// instance (seen on the next request) or anywhere else (seen when PostgreSQL's notification
/// arrives). SQLite computes every answer. A kept answer is never given to another caller.
#[tokio::test]
async fn statistics_are_reused_until_a_write_commits() {
    use sea_orm::ConnectionTrait;

    const Q: &str = r#"query($n: String!) { taskStatistics(filter: { directiveNumber: $n }, asOf: "2026-11-23") {
        total counts { completedOnTime completedLate inProgressOnTime inProgressOverdue } } }"#;
    let app = TestApp::spawn().await;
    let vars = json!({ "n": "10/CT-UBND" });
    let count = |d: &Value, c: &str| d["taskStatistics"]["counts"][c].as_i64().expect("count");

    let first = app.data(Q, vars.clone()).await;
    let before = app.statements.get();
    assert_eq!(app.data(Q, vars.clone()).await, first);
    let ran = app.statements.get() - before;
    assert_eq!(
        ran,
        if pg_url().is_some() { 0 } else { 1 },
        "kept on PostgreSQL only"
    );

    // Another caller with the same filter gets its own rows' counts, not the kept answer.
    let agency = app.agency("so-tai-chinh");
    let own = agency.data(Q, vars.clone()).await;
    let listed = agency
        .data(
            "query($n: String!) { tasks(first: 1, filter: { directiveNumber: $n }) { totalCount } }",
            vars.clone(),
        )
        .await;
    assert_eq!(own["taskStatistics"]["total"], listed["tasks"]["totalCount"]);
    let total = |d: &Value| d["taskStatistics"]["total"].as_i64().expect("total");
    assert!(0 < total(&own) && total(&own) < total(&first), "{own} vs {first}");

    let overdue = app
        .data(
            r#"{ tasks(first: 2, asOf: "2026-11-23",
                 filter: { directiveNumber: "10/CT-UBND", status: [IN_PROGRESS_OVERDUE] }) {
                 nodes { id code } } }"#,
            json!({}),
        )
        .await;
    let nodes = overdue["tasks"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2, "the seed has overdue tasks in 10/CT-UBND");

    // Written elsewhere (another instance, an operator): seen once the notification arrives.
    let code = nodes[0]["code"].as_str().expect("code");
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-()".contains(c))
    );
    app.db
        .execute_unprepared(&format!(
            "UPDATE tasks SET completed_on = '2025-01-05' WHERE code = '{code}' \
             AND directive_id = (SELECT id FROM directives WHERE number = '10/CT-UBND')"
        ))
        .await
        .expect("write beside the service");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let seen = loop {
        let now = app.data(Q, vars.clone()).await;
        if now != first {
            break now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a write beside the service was not seen in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        count(&seen, "inProgressOverdue"),
        count(&first, "inProgressOverdue") - 1
    );
    assert_eq!(
        count(&seen, "completedOnTime") + count(&seen, "completedLate"),
        count(&first, "completedOnTime") + count(&first, "completedLate") + 1
    );

    // Written through the service: seen on the very next request.
    app.monitor()
        .data(
            EXTEND,
            json!({ "input": { "taskId": nodes[1]["id"], "newDueOn": "2027-01-31", "reason": "Công văn 45/UBND-TH cho lùi hạn" } }),
        )
        .await;
    let after = app.data(Q, vars).await;
    assert_eq!(
        count(&after, "inProgressOverdue"),
        count(&seen, "inProgressOverdue") - 1
    );
    assert_eq!(
        count(&after, "inProgressOnTime"),
        count(&seen, "inProgressOnTime") + 1
    );
}

/// With reuse off (`CHIDAO_STATISTICS_REUSE_SECS=0`) every answer is computed: the database runs
/// the counts for each request, though the built statement may be kept (on PostgreSQL, until a
/// write commits). A statement built before a write is not used after it: the counts of a
/// directive number that did not exist yet follow its creation at once.
#[tokio::test]
async fn with_reuse_off_every_answer_is_computed_and_follows_writes() {
    const Q: &str = r#"query($n: String!) { taskStatistics(filter: { directiveNumber: $n }) { total } }"#;
    let app = TestApp::spawn_with(|s| s.statistics_reuse_secs = 0).await;
    let vars = json!({ "n": "31/CT-UBND" });
    let total = |d: &Value| d["taskStatistics"]["total"].as_i64().expect("total");
    assert_eq!(
        total(&app.data(Q, vars.clone()).await),
        0,
        "no such directive yet"
    );
    for _ in 0..3 {
        let before = app.statements.get();
        assert_eq!(total(&app.data(Q, vars.clone()).await), 0);
        assert_eq!(
            app.statements.get() - before,
            1,
            "computed: one statement each time"
        );
    }
    let d = app
        .data(
            r#"mutation { createDirective(input: { code: "31-ct-ubnd-2026", number: "31/CT-UBND",
                kind: CHI_THI, title: "Về phòng chống rét", issuedOn: "2026-11-20" }) { directive { id } } }"#,
            json!({}),
        )
        .await;
    let directive = d["createDirective"]["directive"]["id"].clone();
    assert_eq!(
        total(&app.data(Q, vars.clone()).await),
        0,
        "the directive has no task yet"
    );
    app.data(
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
        json!({ "i": { "directiveId": directive, "code": "II.1-1", "section": "II.1", "title": "Chống rét",
                       "fullText": "Sở Nông nghiệp và Môi trường hướng dẫn chống rét cho gia súc.",
                       "leadAgencyCodes": ["so-nong-nghiep-moi-truong"] } }),
    )
    .await;
    assert_eq!(total(&app.data(Q, vars).await), 1, "seen on the next request");
}

/// Only the counts a selection asks for are computed, and what it asks for is found through
/// aliases, named and inline fragments, at the top and in `groups`: each count asked in
/// whichever shape equals the same count of the full selection, and `overdueShare` (which
/// needs two of them) is right when it is the only figure asked.
#[tokio::test]
async fn a_selection_computes_what_it_asks_for_through_fragments_and_aliases() {
    let app = TestApp::spawn().await;
    let vars = json!({"f": {"directiveNumber": "10/CT-UBND"}, "asOf": "2025-06-01"});
    let full = app.data(STATS, vars.clone()).await;
    let full = &full["taskStatistics"];
    let counts = &full["counts"];
    assert!(counts["inProgressOverdue"].as_i64().unwrap_or(0) > 0, "{full}");
    assert!(counts["overdueOver30Days"].as_i64().unwrap_or(0) > 0, "{full}");

    let shapes = r#"
    fragment Ages on TaskCounts { a30: overdueOver30Days overdueOver120Days }
    query($f: TaskFilter, $asOf: Date) {
      share: taskStatistics(filter: $f, asOf: $asOf) { overdueShare }
      ages: taskStatistics(filter: $f, asOf: $asOf) { counts { ...Ages } }
      inline: taskStatistics(filter: $f, asOf: $asOf) { ... on TaskStatistics { counts { late: completedLate fallenDue } } }
      list: taskStatistics(filter: $f, asOf: $asOf) { byStatus { status count } }
      grouped: taskStatistics(filter: $f, asOf: $asOf, groupBy: [DIRECTIVE]) {
        total groups { ... on TaskStatisticsGroup { counts { ...Ages inProgressOverdue } overdueShare } } }
    }"#;
    let d = app.data(shapes, vars).await;
    assert_eq!(d["share"]["overdueShare"], full["overdueShare"]);
    assert_eq!(d["ages"]["counts"]["a30"], counts["overdueOver30Days"]);
    assert_eq!(
        d["ages"]["counts"]["overdueOver120Days"],
        counts["overdueOver120Days"]
    );
    assert_eq!(d["inline"]["counts"]["late"], counts["completedLate"]);
    assert_eq!(d["inline"]["counts"]["fallenDue"], counts["fallenDue"]);
    assert_eq!(d["list"]["byStatus"], full["byStatus"]);
    let group = &d["grouped"]["groups"][0];
    assert_eq!(d["grouped"]["groups"].as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(group["counts"]["a30"], counts["overdueOver30Days"]);
    assert_eq!(group["counts"]["inProgressOverdue"], counts["inProgressOverdue"]);
    assert_eq!(group["overdueShare"], full["overdueShare"]);
}
