//! Each assignment carries its task's due date as a sort key, so an agency's tasks can be read
//! in due-date order from one index.
//!
//! `tasks(filter: {agencyCode}, orderBy: {field: DUE_ON})` is the portal's "what is due next
//! for this agency" list. Without this, PostgreSQL walks every task in due-date order and probes
//! the assignments of each: 478 tasks for the first 50 of an agency that holds 12 % of them,
//! and more the smaller the agency's share. With `assignments.task_due_key` and an index on
//! `(agency_id, task_due_key, task_id)` it reads the agency's first 50 entries.
//!
//! `task_due_key` is `COALESCE(tasks.due_on, '9999-12-31')` (the same key `ix_tasks_due_key`
//! orders by; tasks without a due date come last). Triggers keep it in step, whoever writes:
//! it is set from the task when an assignment is inserted or its task changes, and rewritten
//! on every assignment of a task whose `due_on` changes. The entity does not map the column:
//! no code writes it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_UP: [&str; 10] = [
    "ALTER TABLE assignments ADD COLUMN task_due_key DATE NOT NULL DEFAULT '9999-12-31'",
    "UPDATE assignments SET task_due_key = COALESCE(t.due_on, '9999-12-31') \
     FROM tasks t WHERE t.id = assignments.task_id",
    "CREATE FUNCTION chidao_assignment_due_key() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  due date;
BEGIN
  -- FOR SHARE waits for a transaction changing the task's due date to commit, and holds such
  -- a change off until this one commits (the tasks trigger then sees this row): without it,
  -- an insert and an update of the task running together could leave the old date here.
  SELECT due_on INTO due FROM tasks WHERE id = NEW.task_id FOR SHARE;
  NEW.task_due_key := COALESCE(due, DATE '9999-12-31');
  RETURN NEW;
END
$$",
    "CREATE TRIGGER assignments_due_key BEFORE INSERT OR UPDATE OF task_id, task_due_key ON assignments \
     FOR EACH ROW EXECUTE FUNCTION chidao_assignment_due_key()",
    "CREATE FUNCTION chidao_task_due_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assignments SET task_due_key = COALESCE(NEW.due_on, DATE '9999-12-31') WHERE task_id = NEW.id;
  RETURN NULL;
END
$$",
    "CREATE TRIGGER tasks_due_key AFTER UPDATE OF due_on ON tasks \
     FOR EACH ROW WHEN (OLD.due_on IS DISTINCT FROM NEW.due_on) EXECUTE FUNCTION chidao_task_due_key()",
    INDEX,
    TRANSFERRED_INDEX,
    HOLDER_INDEX,
    "ANALYZE assignments",
];

const PG_DOWN: [&str; 8] = [
    "DROP INDEX ix_assignments_task_holder",
    "DROP INDEX ix_assignments_transferred",
    "DROP INDEX ix_assignments_agency_due",
    "DROP TRIGGER tasks_due_key ON tasks",
    "DROP FUNCTION chidao_task_due_key()",
    "DROP TRIGGER assignments_due_key ON assignments",
    "DROP FUNCTION chidao_assignment_due_key()",
    "ALTER TABLE assignments DROP COLUMN task_due_key",
];

// SQLite stores dates as ISO text, so the same literal sorts the same way. Its triggers
// cannot assign NEW, so they update the row after it is written (recursive triggers are off:
// a trigger's own update does not fire it again).
const SQLITE_UP: [&str; 9] = [
    "ALTER TABLE assignments ADD COLUMN task_due_key TEXT NOT NULL DEFAULT '9999-12-31'",
    "UPDATE assignments SET task_due_key = \
     COALESCE((SELECT due_on FROM tasks WHERE tasks.id = assignments.task_id), '9999-12-31')",
    "CREATE TRIGGER assignments_due_key_insert AFTER INSERT ON assignments BEGIN \
     UPDATE assignments SET task_due_key = \
     COALESCE((SELECT due_on FROM tasks WHERE id = NEW.task_id), '9999-12-31') WHERE id = NEW.id; END",
    "CREATE TRIGGER assignments_due_key_update AFTER UPDATE OF task_id, task_due_key ON assignments BEGIN \
     UPDATE assignments SET task_due_key = \
     COALESCE((SELECT due_on FROM tasks WHERE id = NEW.task_id), '9999-12-31') WHERE id = NEW.id; END",
    "CREATE TRIGGER tasks_due_key AFTER UPDATE OF due_on ON tasks \
     WHEN OLD.due_on IS NOT NEW.due_on BEGIN \
     UPDATE assignments SET task_due_key = COALESCE(NEW.due_on, '9999-12-31') WHERE task_id = NEW.id; END",
    INDEX,
    TRANSFERRED_INDEX,
    HOLDER_INDEX,
    "ANALYZE assignments",
];

const SQLITE_DOWN: [&str; 7] = [
    "DROP INDEX ix_assignments_task_holder",
    "DROP INDEX ix_assignments_transferred",
    "DROP INDEX ix_assignments_agency_due",
    "DROP TRIGGER tasks_due_key",
    "DROP TRIGGER assignments_due_key_update",
    "DROP TRIGGER assignments_due_key_insert",
    "ALTER TABLE assignments DROP COLUMN task_due_key",
];

/// An agency's assignments in due-date order (then task id, the tie-break of the list).
const INDEX: &str =
    "CREATE INDEX ix_assignments_agency_due ON assignments (agency_id, task_due_key, task_id)";

/// Assignments that moved to a successor, by the agency the directive named: answers "does
/// this agency have any assignments held by another now?" without reading all of its rows.
const TRANSFERRED_INDEX: &str = "CREATE INDEX ix_assignments_transferred ON assignments (original_agency_id) \
     WHERE agency_id <> original_agency_id";

/// A task's assignments by holder: the list keeps one row per task by asking whether the
/// holder has an earlier assignment on it. Without this index SQLite, which has no statistics
/// on a fresh database, answered that from the agency's rows in `ix_assignments_agency_due`,
/// reading all of them for every row (seconds for `totalCount` of a large agency).
const HOLDER_INDEX: &str = "CREATE INDEX ix_assignments_task_holder ON assignments (task_id, agency_id, id)";

/// Runs the steps written for the connection's database, in order.
async fn run(manager: &SchemaManager<'_>, postgres: &[&str], sqlite: &[&str]) -> Result<(), DbErr> {
    let steps = match manager.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    for sql in steps {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &PG_UP, &SQLITE_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &PG_DOWN, &SQLITE_DOWN).await
    }
}
