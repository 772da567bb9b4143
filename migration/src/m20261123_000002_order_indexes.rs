//! Indexes that let the API's orderings and "latest report" lookups read a few index
//! entries instead of sorting or scanning whole tables (measured in README "Performance").
//!
//! - `tasks` are listed in document order (`directive_id * 100000 + ordinal`, in 64 bits) and by due date
//!   with tasks without one last (`COALESCE(due_on, '9999-12-31')`). The API writes both
//!   expressions with literal constants, exactly as here, so PostgreSQL and SQLite match them
//!   to these indexes and a page is read in order (`LIMIT 51`) instead of top-N sorting every
//!   matching task. With an agency filter, PostgreSQL walks the due-date index and probes
//!   `assignments` per task, a cost that does not grow with the table.
//! - Task counts by status for a directive (`taskStatistics`) read `due_on`, `completed_on`
//!   and `recurrence` of the directive's tasks: `(directive_id, due_on, completed_on,
//!   recurrence)` answers them from the index alone, without visiting the task rows.
//! - Indicators are listed in document order (`ordinal, id`): `(ordinal, id)` reads a page.
//! - The latest non-draft report of an assignment is `MAX(id)` over its reports with
//!   `state <> 'DRAFT'`: `(assignment_id, state, id)` answers it from the index alone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 5] = [
    "CREATE INDEX ix_tasks_document_key ON tasks ((CAST(directive_id AS BIGINT) * 100000 + ordinal), id)",
    "CREATE INDEX ix_tasks_due_key ON tasks ((COALESCE(due_on, '9999-12-31')), id)",
    "CREATE INDEX ix_tasks_directive_status ON tasks (directive_id, due_on, completed_on, recurrence)",
    "CREATE INDEX ix_indicators_ordinal ON indicators (ordinal, id)",
    "CREATE INDEX ix_reports_assignment_state_id ON progress_reports (assignment_id, state, id)",
];

const DOWN: [&str; 5] = [
    "DROP INDEX ix_tasks_document_key",
    "DROP INDEX ix_tasks_due_key",
    "DROP INDEX ix_tasks_directive_status",
    "DROP INDEX ix_indicators_ordinal",
    "DROP INDEX ix_reports_assignment_state_id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in UP {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in DOWN {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
