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
        assert_eq!(triggers, 4);
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
