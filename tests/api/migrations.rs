//! Setting up a database: instances starting together migrate and seed once, and every
//! migration can be undone and applied again on seeded data.

use entity::{directive, task};
use sea_orm::EntityTrait;

use crate::helpers::{count_rows, empty_database, pg_url, seeds_dir};

/// Instances that start together on one new PostgreSQL database (replicas, the bench's two
/// servers) both come up: migrating and seeding take turns under an advisory lock, every
/// migration (the change triggers included) is applied once and the seeds are loaded once.
/// (SQLite is the single-instance embedded default: there the second start finds the work
/// done.)
#[tokio::test]
async fn instances_starting_together_set_up_once() {
    use sea_orm::PaginatorTrait;

    let url = empty_database().await;
    let (a, _) = api::db::connect(&url, 2).await.expect("connect a");
    let (b, _) = api::db::connect(&url, 1).await.expect("connect b");
    let seeds = seeds_dir();
    let (ra, rb) = if pg_url().is_some() {
        tokio::join!(api::seed::prepare(&a, &seeds), api::seed::prepare(&b, &seeds))
    } else {
        (
            api::seed::prepare(&a, &seeds).await,
            api::seed::prepare(&b, &seeds).await,
        )
    };
    let (ra, rb) = (
        ra.expect("first instance sets up"),
        rb.expect("second instance sets up"),
    );
    assert_eq!(
        usize::from(ra.is_some()) + usize::from(rb.is_some()),
        1,
        "exactly one instance seeds"
    );
    assert_eq!(directive::Entity::find().count(&a).await.expect("count"), 2);
    let count = |sql: &'static str| count_rows(&a, sql);
    let applied = count("SELECT COUNT(*) AS n FROM seaql_migrations").await;
    assert_eq!(
        applied as usize,
        <migration::Migrator as migration::MigratorTrait>::migrations().len()
    );
    if pg_url().is_some() {
        let triggers =
            count("SELECT COUNT(*) AS n FROM pg_trigger WHERE tgname LIKE '%_notify_change'").await;
        // tasks, assignments, directives, agencies (migration 3), task_milestones (6),
        // progress_reports, reporting_waivers, reporting_regimes (7: a recurring task's status
        // reads them), and every other table (10: any answer may be kept); once each, once
        // though two instances set up (`answers::every_table_announces_its_changes` checks
        // which).
        assert_eq!(triggers as usize, api::db::touched::TABLES.len());
    }
}

#[tokio::test]
async fn every_migration_can_be_undone_and_applied_again_on_seeded_data() {
    // Migrations run forward in production, but an operator rolling back a release runs
    // `down`: each must undo its own steps on a database holding data (migration 4 drops the
    // column its triggers fill), and `up` must then restore the same behaviour.
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, PaginatorTrait};

    let url = empty_database().await;
    let (db, _) = api::db::connect(&url, 1).await.expect("connect");
    api::seed::prepare(&db, &seeds_dir()).await.expect("set up");
    let all = Migrator::migrations().len() as u32;
    for step in 1..all {
        // Undo the newest `step` migrations (not the first: it creates the tables).
        Migrator::down(&db, Some(step)).await.expect("down");
        let pending = Migrator::get_pending_migrations(&db).await.expect("pending");
        assert_eq!(pending.len() as u32, step);
        Migrator::up(&db, None).await.expect("up again");
    }
    assert!(task::Entity::find().count(&db).await.expect("count") > 0);
    // After migration 4 came back, its triggers fill the key of a new assignment.
    let stale = count_rows(
        &db,
        "SELECT COUNT(*) AS n FROM assignments a JOIN tasks t ON t.id = a.task_id \
         WHERE a.task_due_key <> COALESCE(t.due_on, '9999-12-31')",
    )
    .await;
    assert_eq!(stale, 0, "keys match after up");
    db.execute_unprepared(
        "UPDATE tasks SET due_on = '2031-05-05' WHERE id = (SELECT MIN(task_id) FROM assignments)",
    )
    .await
    .expect("update");
    let moved = count_rows(
        &db,
        "SELECT COUNT(*) AS n FROM assignments WHERE task_due_key = '2031-05-05'",
    )
    .await;
    assert!(moved > 0, "the due_on trigger is back");
}

/// A database of an earlier version may hold an agency twice on a task (a successor named
/// beside its predecessor, two predecessors merged). Migration 5 joins those rows the way the
/// application joins them: the lead row stays (else the oldest), the other rows' reports and
/// history follow it, its completion is that of its role's rows, a `MERGED` entry keeps each
/// row that went, and from then on the database refuses a second row.
#[tokio::test]
async fn the_reorganisation_migration_joins_an_agencys_duplicate_rows() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    let url = empty_database().await;
    let (db, _) = api::db::connect(&url, 1).await.expect("connect");
    Migrator::up(&db, Some(4)).await.expect("up to 4");
    let at = "'2025-01-01 00:00:00+00'";
    let agency = |id: i32, code: &str, to: &str| {
        format!(
            "INSERT INTO agencies (id, code, name, kind, valid_to, search_text, created_at, updated_at) \
             VALUES ({id}, '{code}', '{code}', 'DEPARTMENT', {to}, '{code}', {at}, {at})"
        )
    };
    let task = |id: i32, code: &str| {
        format!(
            "INSERT INTO tasks (id, directive_id, code, section, ordinal, title, full_text, deadline_kind, \
             requires_report, search_title, search_text, created_at, updated_at) \
             VALUES ({id}, 900, '{code}', 'I', {id}, 't', 't', 'ONGOING', FALSE, 't', 't', {at}, {at})"
        )
    };
    let row = |id: i32, task: i32, holder: i32, named: i32, role: &str, done: &str| {
        format!(
            "INSERT INTO assignments (id, task_id, agency_id, original_agency_id, role, completed_on, \
             transferred_on, created_at, updated_at) VALUES ({id}, {task}, {holder}, {named}, '{role}', {done}, \
             {}, {at}, {at})",
            if holder == named { "NULL" } else { "'2025-03-01'" }
        )
    };
    for sql in [
        agency(901, "successor", "NULL"),
        agency(902, "predecessor", "'2025-02-28'"),
        agency(903, "other-predecessor", "'2025-02-28'"),
        format!(
            "INSERT INTO directives (id, code, kind, title, issuer, search_title, search_text, created_at, updated_at) \
             VALUES (900, 'd', 'CHI_THI', 'd', 'UBND', 'd', 'd', {at}, {at})"
        ),
        task(911, "T1"),
        task(912, "T2"),
        // T1: the successor coordinates (done) and holds its predecessor's open lead.
        row(921, 911, 901, 901, "COORDINATOR", "'2025-01-10'"),
        row(922, 911, 901, 902, "LEAD", "NULL"),
        // T2: two predecessors' leads, both done, now both the successor's.
        row(923, 912, 901, 902, "LEAD", "'2025-02-01'"),
        row(924, 912, 901, 903, "LEAD", "'2025-02-05'"),
        format!(
            "INSERT INTO progress_reports (id, assignment_id, agency_id, period, percent_complete, done, summary, \
             state, author, version, created_at, updated_at) \
             VALUES (931, 921, 901, '2025Q1', 50, FALSE, 'phối hợp', 'SUBMITTED', 'x', 1, {at}, {at})"
        ),
    ] {
        db.execute_unprepared(&sql).await.expect(&sql);
    }
    Migrator::up(&db, None).await.expect("migration 5");

    let n = |sql: &'static str| count_rows(&db, sql);
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM assignments").await,
        2,
        "one row per (task, holder)"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM assignments WHERE id = 922 AND completed_on IS NULL").await,
        1,
        "T1 keeps the open lead row: lead wins, and the lead duty is not done"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM assignments WHERE id = 923 AND completed_on = '2025-02-05'").await,
        1,
        "T2 keeps the older lead, complete on the later date"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM progress_reports WHERE id = 931 AND assignment_id = 922").await,
        1,
        "the coordinator's report follows the row that stays"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM assignment_transfers WHERE kind = 'MERGED' AND \
           ((assignment_id = 922 AND merged_assignment_id = 921 AND original_agency_id = 901 AND role = 'COORDINATOR') \
            OR (assignment_id = 923 AND merged_assignment_id = 924 AND original_agency_id = 903 AND role = 'LEAD'))").await,
        2,
        "each row that went keeps its origin"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM assignment_transfers WHERE kind = 'MOVED' AND from_agency_id = 902")
            .await,
        2,
        "rows held by a successor have their move in the history"
    );
    let again = db
        .execute_unprepared(&row(925, 911, 901, 901, "COORDINATOR", "NULL"))
        .await;
    assert!(again.is_err(), "a second row of one agency on a task is refused");
}
