//! When a milestone (mốc thời hạn) was reached, and who recorded it: a task's dated parts get a
//! status of their own, and a missed one makes the task overdue before its own date.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{date_null, text_null};

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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
