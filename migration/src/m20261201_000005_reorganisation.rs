//! The 2025 reorganisation as the data needs it: one holder per agency on a task, the history
//! of every move of an assignment, the names a task's text gives that hold no assignment, and
//! the words the directive used for an agency it meant.
//!
//! - `assignment_transfers`: each move of a duty (an assignment as the directive gave it: the
//!   agency it named and the role) from one holder to another, with its date, reason and who
//!   made it. `MOVED` (the row changed holder), `SHARED` (a further target got its own row, as
//!   when a district's duty passes to each commune of its area) and `MERGED` (the new holder
//!   already held the task: the two rows became one, this entry keeps the one that went).
//! - `task_addressees`: "các chủ đầu tư", "các doanh nghiệp", "các cơ quan, đơn vị có liên
//!   quan"… named by the text but not agencies that log in.
//! - `assignments.written_as`: the document's own words for the agency, when the records hold
//!   it under another name ("Bảo hiểm xã hội Việt Nam" → Bảo hiểm xã hội tỉnh).
//! - One row per (task, holder): a database of an earlier version may hold an agency twice on a
//!   task (a successor and its predecessor both named; two predecessors merged). Those rows are
//!   joined here as the application joins them: the lead row stays (else the oldest), the other
//!   rows' reports move to it, its completion is that of its role's rows (open if one of them is
//!   open), and a `MERGED` entry keeps each row that went. Then the unique index holds it.
//!
//! Down undoes the structure. It cannot split joined rows again, and since a split may give two
//! agencies a row for the same named duty, the old unique index on (task, named agency, role)
//! comes back as a plain index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AssignmentTransfers {
    Table,
    Id,
    AssignmentId,
    TaskId,
    OriginalAgencyId,
    Role,
    Kind,
    FromAgencyId,
    ToAgencyId,
    MergedAssignmentId,
    EffectiveOn,
    Reason,
    Actor,
    At,
}

#[derive(DeriveIden)]
enum TaskAddressees {
    Table,
    Id,
    TaskId,
    Ordinal,
    Name,
    Role,
    Kind,
    Note,
}

#[derive(DeriveIden)]
enum Assignments {
    Table,
    Id,
    WrittenAs,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
}

/// The row of (task, holder) that stays: the lead row if there is one, else the oldest.
const SURVIVOR: &str = "(SELECT b.id FROM assignments b \
     WHERE b.task_id = a.task_id AND b.agency_id = a.agency_id \
     ORDER BY CASE b.role WHEN 'LEAD' THEN 0 ELSE 1 END, b.id LIMIT 1)";

fn join_duplicates() -> Vec<String> {
    let went = format!("SELECT a.id FROM assignments a WHERE a.id <> {SURVIVOR}");
    vec![
        // Every row already held by a successor gets its move in the history.
        "INSERT INTO assignment_transfers \
         (assignment_id, task_id, original_agency_id, role, kind, from_agency_id, to_agency_id, \
          effective_on, reason, actor, at) \
         SELECT id, task_id, original_agency_id, role, 'MOVED', original_agency_id, agency_id, \
          COALESCE(transferred_on, CURRENT_DATE), \
          'Cơ quan kế thừa nhận nhiệm vụ (sáp nhập 2025)', 'migration', CURRENT_TIMESTAMP \
         FROM assignments WHERE agency_id <> original_agency_id"
            .to_owned(),
        // Each row that goes: a MERGED entry pointing at the row that stays.
        format!(
            "INSERT INTO assignment_transfers \
             (assignment_id, task_id, original_agency_id, role, kind, from_agency_id, to_agency_id, \
              merged_assignment_id, effective_on, reason, actor, at) \
             SELECT {SURVIVOR}, a.task_id, a.original_agency_id, a.role, 'MERGED', a.agency_id, \
              a.agency_id, a.id, COALESCE(a.transferred_on, CURRENT_DATE), \
              'Một cơ quan giữ một phân công mỗi nhiệm vụ: gộp phân công trùng', 'migration', \
              CURRENT_TIMESTAMP \
             FROM assignments a WHERE a.id <> {SURVIVOR}"
        ),
        // The history and the reports of the rows that go follow the row that stays.
        format!(
            "UPDATE assignment_transfers SET assignment_id = \
             (SELECT {SURVIVOR} FROM assignments a WHERE a.id = assignment_transfers.assignment_id) \
             WHERE assignment_id IN ({went})"
        ),
        format!(
            "UPDATE progress_reports SET assignment_id = \
             (SELECT {SURVIVOR} FROM assignments a WHERE a.id = progress_reports.assignment_id) \
             WHERE assignment_id IN ({went})"
        ),
        // The row that stays is complete when every row of its role is (then on the last date).
        "UPDATE assignments SET completed_on = CASE \
           WHEN EXISTS (SELECT 1 FROM assignments b WHERE b.task_id = assignments.task_id \
             AND b.agency_id = assignments.agency_id AND b.role = assignments.role \
             AND b.completed_on IS NULL) THEN NULL \
           ELSE (SELECT MAX(b.completed_on) FROM assignments b WHERE b.task_id = assignments.task_id \
             AND b.agency_id = assignments.agency_id AND b.role = assignments.role) END \
         WHERE EXISTS (SELECT 1 FROM assignments b WHERE b.task_id = assignments.task_id \
           AND b.agency_id = assignments.agency_id AND b.id <> assignments.id)"
            .to_owned(),
        format!("DELETE FROM assignments WHERE id IN (SELECT id FROM ({went}) AS gone)"),
        "DROP INDEX ux_assignments_task_original_role".to_owned(),
        "DROP INDEX ix_assignments_task_holder".to_owned(),
        "CREATE INDEX ix_assignments_task_original ON assignments (task_id, original_agency_id, role)"
            .to_owned(),
        "CREATE UNIQUE INDEX ux_assignments_task_agency ON assignments (task_id, agency_id)".to_owned(),
    ]
}

const DOWN: [&str; 4] = [
    "DROP INDEX ux_assignments_task_agency",
    "DROP INDEX ix_assignments_task_original",
    "CREATE INDEX ux_assignments_task_original_role ON assignments (task_id, original_agency_id, role)",
    "CREATE INDEX ix_assignments_task_holder ON assignments (task_id, agency_id, id)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AssignmentTransfers::Table)
                    .col(pk_auto(AssignmentTransfers::Id))
                    .col(integer(AssignmentTransfers::AssignmentId))
                    .col(integer(AssignmentTransfers::TaskId))
                    .col(integer(AssignmentTransfers::OriginalAgencyId))
                    .col(string_len(AssignmentTransfers::Role, 12))
                    .col(string_len(AssignmentTransfers::Kind, 12))
                    .col(integer(AssignmentTransfers::FromAgencyId))
                    .col(integer(AssignmentTransfers::ToAgencyId))
                    .col(integer_null(AssignmentTransfers::MergedAssignmentId))
                    .col(date(AssignmentTransfers::EffectiveOn))
                    .col(text(AssignmentTransfers::Reason))
                    .col(string_len(AssignmentTransfers::Actor, 255))
                    .col(timestamp_with_time_zone(AssignmentTransfers::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfers_assignment")
                            .from(AssignmentTransfers::Table, AssignmentTransfers::AssignmentId)
                            .to(Assignments::Table, Assignments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfers_task")
                            .from(AssignmentTransfers::Table, AssignmentTransfers::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfers_original_agency")
                            .from(AssignmentTransfers::Table, AssignmentTransfers::OriginalAgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfers_from_agency")
                            .from(AssignmentTransfers::Table, AssignmentTransfers::FromAgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfers_to_agency")
                            .from(AssignmentTransfers::Table, AssignmentTransfers::ToAgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskAddressees::Table)
                    .col(pk_auto(TaskAddressees::Id))
                    .col(integer(TaskAddressees::TaskId))
                    .col(integer(TaskAddressees::Ordinal))
                    .col(text(TaskAddressees::Name))
                    .col(string_len(TaskAddressees::Role, 12))
                    .col(string_len(TaskAddressees::Kind, 24))
                    .col(text_null(TaskAddressees::Note))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_addressees_task")
                            .from(TaskAddressees::Table, TaskAddressees::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, cols, unique) in [
            (
                "ix_transfers_assignment",
                AssignmentTransfers::Table.into_iden(),
                &["assignment_id", "id"][..],
                false,
            ),
            (
                "ix_transfers_task_original",
                AssignmentTransfers::Table.into_iden(),
                &["task_id", "original_agency_id"][..],
                false,
            ),
            (
                "ix_transfers_original",
                AssignmentTransfers::Table.into_iden(),
                &["original_agency_id"][..],
                false,
            ),
            (
                "ux_addressees_task_ordinal",
                TaskAddressees::Table.into_iden(),
                &["task_id", "ordinal"][..],
                true,
            ),
        ] {
            let mut ix = Index::create();
            ix.name(name).table(table);
            for c in cols {
                ix.col(Alias::new(*c));
            }
            if unique {
                ix.unique();
            }
            manager.create_index(ix.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Assignments::Table)
                    .add_column(text_null(Assignments::WrittenAs))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in join_duplicates() {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in DOWN {
            db.execute_unprepared(sql).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Assignments::Table)
                    .drop_column(Assignments::WrittenAs)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TaskAddressees::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AssignmentTransfers::Table).to_owned())
            .await?;
        Ok(())
    }
}
