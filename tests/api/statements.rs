//! How reads reach the database, across capabilities: statements per operation do not grow
//! with page size or parents (no N+1), the benchmark's operations run a fixed number, and the
//! loaders' positional decoding matches sea-orm's.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn statement_count_does_not_grow_with_page_size() {
    // A batch closes when its level's resolvers have all asked (`api::graphql::loaders`), after at most
    // a few yields; a debug build on a busy machine resolving ~700 assignment objects once
    // split a level in two (1 failure in ~10 full runs). A 5 ms wait before each batch
    // closes removes that noise, so the count shows the structure: one statement per level,
    // whatever the page size. (`benchmark_operations_run_a_fixed_number_of_statements`
    // checks exact counts with the default of no wait.)
    let app = TestApp::spawn_with(|s| s.loader_delay_ms = 5).await;
    let query = r#"query($n: Int) { tasks(first: $n) { totalCount nodes {
        id code status dueOn directive { number title }
        leads { name } coordinators { code }
        milestones { label } extensions { newDueOn } addressees { name kind }
        assignments { role status agency { code } originalAgency { code } latestReport { period }
            transfers { kind fromAgency { code } toAgency { code } } }
    } } }"#;
    let mut counts = Vec::new();
    for n in [10, 54] {
        // Warm nothing: each request builds its own loaders.
        let before = app.statements.get();
        let d = app.data(query, json!({ "n": n })).await;
        assert_eq!(d["tasks"]["nodes"].as_array().map(Vec::len), Some(n as usize));
        counts.push(app.statements.get() - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for first:10 vs first:54: {counts:?}"
    );
    assert!(counts[0] <= 17, "a bounded number of statements: {counts:?}");
}

#[tokio::test]
async fn nested_connections_are_batched_across_parents() {
    let app = TestApp::spawn_with(|s| s.loader_delay_ms = 0).await;
    let query = r#"query($n: Int) { agencies(first: $n) { nodes { code
        assignments(first: 5, filter: { role: LEAD }) { totalCount pageInfo { hasNextPage endCursor }
            nodes { role task { code reports(first: 3) { totalCount nodes { period } } } } }
    } } }"#;
    let mut counts = Vec::new();
    for n in [5, 40] {
        let before = app.statements.get();
        let d = app.data(query, json!({ "n": n })).await;
        assert_eq!(d["agencies"]["nodes"].as_array().map(Vec::len), Some(n as usize));
        counts.push(app.statements.get() - before);
    }
    assert_eq!(counts[0], counts[1], "statements for 5 vs 40 parents: {counts:?}");
    assert!(counts[0] <= 8, "a bounded number of statements: {counts:?}");
}

#[tokio::test]
async fn benchmark_operations_run_a_fixed_number_of_statements() {
    // The four operations of bench/ (README "Performance") in their documents' shapes. How
    // many statements each runs is part of its cost: one per level, with an assignment's
    // agency and a task's directive loaded in the statement of the row that names them.
    let app = TestApp::spawn().await;
    let seen = app
        .data(
            r#"{ tasks(first: 1) { nodes { id directive { number } leads { code } } } }"#,
            json!({}),
        )
        .await;
    let t = &seen["tasks"]["nodes"][0];
    let (id, number, agency) = (&t["id"], &t["directive"]["number"], &t["leads"][0]["code"]);
    let cases = [
        (
            "Q1 task, directive, leads: task+directive+assignments+agencies in one join, and the \
             task's milestones (status counts a missed one)",
            r#"query($id: ID!) { task(id: $id) { id code title dueOn status
                directive { number } leads { code name } } }"#,
            json!({ "id": id }),
            2,
        ),
        (
            "Q2 an agency's tasks: agency id, page, directives, assignments+agencies, milestones, \
             latest reports",
            r#"query($agency: String!) { tasks(first: 50, filter: { agencyCode: $agency },
                orderBy: { field: DUE_ON }) { nodes { id code title dueOn status
                directive { number } leads { name } coordinators { name }
                assignments { role agency { code } latestReport { period percentComplete state } } } } }"#,
            json!({ "agency": agency }),
            6,
        ),
        (
            "Q3 indicators with values: page, values",
            r#"{ indicators(first: 50) { nodes { code name values { period value } } } }"#,
            json!({}),
            2,
        ),
        (
            "Q4 counts by status: one aggregate",
            r#"query($number: String!) { taskStatistics(filter: { directiveNumber: $number }) {
                total counts { completedOnTime completedLate completedNoDeadline
                inProgressOnTime inProgressOverdue inProgressNoDeadline } } }"#,
            json!({ "number": number }),
            1,
        ),
    ];
    for (what, query, vars, expected) in cases {
        let before = app.statements.get();
        let d = app.data(query, vars).await;
        assert!(!d.is_null(), "{what}");
        assert_eq!(app.statements.get() - before, expected, "{what}: {d}");
    }
}

/// The loaders read rows by column position (`api::db::positional`); every seeded row of every
/// table they load must decode exactly as sea-orm's by-name decoding does, on both databases,
/// including the LEFT JOIN side of `find_also_related`.
#[tokio::test]
async fn positional_decoding_matches_sea_orm() {
    use api::db::positional::{Positional, all_at};
    use entity::*;
    use sea_orm::{ConnectionTrait, EntityTrait, QueryTrait};

    async fn same<E>(db: &sea_orm::DatabaseConnection) -> usize
    where
        E: EntityTrait,
        E::Model: Positional + PartialEq + std::fmt::Debug,
    {
        let by_name = E::find().all(db).await.expect("by name");
        let stmt = E::find().build(db.get_database_backend());
        let rows = db.query_all_raw(stmt).await.expect("rows");
        let by_position: Vec<E::Model> = all_at(&rows).expect("by position");
        assert_eq!(by_position, by_name, "{}", std::any::type_name::<E>());
        by_name.len()
    }

    // The real seed has no reports or values yet: a small synthetic load beside it fills
    // every table (reports with obstacles, reviews and drafts; estimates and official values).
    let app = TestApp::spawn().await;
    let db = &app.db;
    let scale = api::seed::synthetic::Scale {
        agencies: 12,
        directives: 4,
        tasks: 60,
        indicators: 5,
        reports: 300,
    };
    api::seed::synthetic::load(db, scale)
        .await
        .expect("synthetic load");
    assert!(same::<agency::Entity>(db).await > 0);
    same::<agency_succession::Entity>(db).await;
    assert!(same::<directive::Entity>(db).await > 0);
    assert!(same::<task::Entity>(db).await > 0);
    same::<task_milestone::Entity>(db).await;
    same::<deadline_extension::Entity>(db).await;
    assert!(same::<assignment::Entity>(db).await > 0);
    assert!(
        same::<assignment_transfer::Entity>(db).await > 0,
        "the seed's successions"
    );
    assert!(
        same::<task_addressee::Entity>(db).await > 0,
        "the seed's addressees"
    );
    assert!(same::<progress_report::Entity>(db).await > 0);
    assert!(same::<indicator::Entity>(db).await > 0);
    assert!(same::<indicator_value::Entity>(db).await > 0);
    assert!(
        same::<reporting_regime::Entity>(db).await > 0,
        "the synthetic directives' regimes"
    );

    // A LEFT JOIN read by position: the assignment's columns, then the agency's.
    let by_name = assignment::Entity::find()
        .find_also_related(agency::Entity)
        .all(db)
        .await
        .expect("by name");
    let stmt = assignment::Entity::find()
        .find_also_related(agency::Entity)
        .build(db.get_database_backend());
    let rows = db.query_all_raw(stmt).await.expect("rows");
    let width = <assignment::Model as Positional>::FIELDS.len();
    let by_position: Vec<(assignment::Model, Option<agency::Model>)> = rows
        .iter()
        .map(|r| {
            (
                assignment::Model::at(r, 0).expect("assignment"),
                agency::Model::joined_at(r, width).expect("agency"),
            )
        })
        .collect();
    assert_eq!(by_position, by_name);
    assert!(by_position.iter().all(|(_, g)| g.is_some()));
}
