//! The first day a row of `assignments` answers for reports (`owes_from`). A duty shared among
//! several successors (a former district's work given to each commune of its area, `SHARED`)
//! gets a row per successor on the day the succession takes effect; the periods and task
//! reports that fell before that day belong to the row that held the duty then, not to every
//! copy (which would count one missing report of the district once per commune). Null: the row
//! answers from the directive's start. Rows that existing databases made by sharing (their
//! `SHARED` transfer written in the same instant as the row) get the transfer's day.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::date_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assignments {
    Table,
    OwesFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assignments::Table)
                    .add_column(date_null(Assignments::OwesFrom))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE assignments SET owes_from = (SELECT MAX(x.effective_on) FROM assignment_transfers x \
                 WHERE x.assignment_id = assignments.id AND x.kind = 'SHARED' AND x.at = assignments.created_at) \
                 WHERE EXISTS (SELECT 1 FROM assignment_transfers x WHERE x.assignment_id = assignments.id \
                 AND x.kind = 'SHARED' AND x.at = assignments.created_at)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assignments::Table)
                    .drop_column(Assignments::OwesFrom)
                    .to_owned(),
            )
            .await
    }
}
