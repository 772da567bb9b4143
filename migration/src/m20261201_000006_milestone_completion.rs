//! When a milestone (mốc thời hạn) was reached, and who recorded it: a task's dated parts get a
//! status of their own, and a missed one makes the task overdue before its own date. Status now
//! reads `task_milestones`, so on PostgreSQL the table tells of its changes as the other tables
//! `taskStatistics` reads do (migration 3's trigger function), and no instance keeps an answer
//! a milestone changed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{date_null, text_null};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TaskMilestones {
    Table,
    CompletedOn,
    CompletedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(TaskMilestones::Table)
                    .add_column(date_null(TaskMilestones::CompletedOn))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TaskMilestones::Table)
                    .add_column(text_null(TaskMilestones::CompletedBy))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE TRIGGER task_milestones_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE \
                     ON task_milestones FOR EACH STATEMENT EXECUTE FUNCTION chidao_notify_change()",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP TRIGGER task_milestones_notify_change ON task_milestones")
                .await?;
        }
        for column in [TaskMilestones::CompletedBy, TaskMilestones::CompletedOn] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TaskMilestones::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
