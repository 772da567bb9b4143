//! Reporting duties (what is owed, not only what was sent).
//!
//! - `reporting_calendar`: one row per period id (`202501`, `2025Q1`, `2025S1`, `2025`) with its
//!   Decree 09 data cut-off range and its last calendar month, so one SQL statement can derive the
//!   duties of every period without date arithmetic on period ids. Its rows are reference data the
//!   service writes at start (`api::duties::calendar`), not carried by this migration.
//! - `reporting_regimes`: a directive's regime (every holder, or its leads, reports each period).
//! - `reporting_waivers`: a duty excused by the follow-up office, with a reason.
//! - `duty_reminders`: which reminder (due soon, overdue) was sent for which duty, so each is sent
//!   once however many instances run.
//! - `progress_reports.submitted_on`: the civil date (UTC+7) a report was submitted, the date a
//!   duty's timeliness is judged by. Existing reports get it from `submitted_at`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    date, date_null, integer, pk_auto, string_len, string_len_null, text, timestamp_with_time_zone,
};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportingCalendar {
    Table,
    Period,
    PeriodType,
    Year,
    Half,
    Quarter,
    Month,
    StartsOn,
    EndsOn,
    LastMonthStart,
    LastMonthEnd,
}

#[derive(DeriveIden)]
enum ReportingRegimes {
    Table,
    Id,
    DirectiveId,
    PeriodType,
    DueRule,
    DueValue,
    Reporters,
    FirstPeriod,
    LastPeriod,
    SetBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReportingWaivers {
    Table,
    Id,
    AssignmentId,
    Period,
    Reason,
    WaivedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DutyReminders {
    Table,
    AssignmentId,
    Period,
    Kind,
    SentAt,
}

#[derive(DeriveIden)]
enum ProgressReports {
    Table,
    SubmittedOn,
}

#[derive(DeriveIden)]
enum Directives {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Assignments {
    Table,
    Id,
}

/// Tables whose changes task statuses depend on (a recurring task is overdue while its current
/// period's report is missing), announced as migration 3's tables are.
const NOTIFYING: [&str; 3] = ["progress_reports", "reporting_waivers", "reporting_regimes"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportingCalendar::Table)
                    .col(string_len(ReportingCalendar::Period, 8).primary_key())
                    .col(string_len(ReportingCalendar::PeriodType, 8))
                    .col(integer(ReportingCalendar::Year))
                    .col(integer(ReportingCalendar::Half))
                    .col(ColumnDef::new(ReportingCalendar::Quarter).integer().null())
                    .col(ColumnDef::new(ReportingCalendar::Month).integer().null())
                    .col(date(ReportingCalendar::StartsOn))
                    .col(date(ReportingCalendar::EndsOn))
                    .col(date(ReportingCalendar::LastMonthStart))
                    .col(date(ReportingCalendar::LastMonthEnd))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_reporting_calendar_type_ends")
                    .table(ReportingCalendar::Table)
                    .col(ReportingCalendar::PeriodType)
                    .col(ReportingCalendar::EndsOn)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReportingRegimes::Table)
                    .col(pk_auto(ReportingRegimes::Id))
                    .col(integer(ReportingRegimes::DirectiveId).unique_key())
                    .col(string_len(ReportingRegimes::PeriodType, 8))
                    .col(string_len(ReportingRegimes::DueRule, 20))
                    .col(integer(ReportingRegimes::DueValue))
                    .col(string_len(ReportingRegimes::Reporters, 12))
                    .col(string_len(ReportingRegimes::FirstPeriod, 8))
                    .col(string_len_null(ReportingRegimes::LastPeriod, 8))
                    .col(string_len(ReportingRegimes::SetBy, 255))
                    .col(timestamp_with_time_zone(ReportingRegimes::CreatedAt))
                    .col(timestamp_with_time_zone(ReportingRegimes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_regimes_directive")
                            .from(ReportingRegimes::Table, ReportingRegimes::DirectiveId)
                            .to(Directives::Table, Directives::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReportingWaivers::Table)
                    .col(pk_auto(ReportingWaivers::Id))
                    .col(integer(ReportingWaivers::AssignmentId))
                    .col(string_len(ReportingWaivers::Period, 8))
                    .col(text(ReportingWaivers::Reason))
                    .col(string_len(ReportingWaivers::WaivedBy, 255))
                    .col(timestamp_with_time_zone(ReportingWaivers::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waivers_assignment")
                            .from(ReportingWaivers::Table, ReportingWaivers::AssignmentId)
                            .to(Assignments::Table, Assignments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_waivers_assignment_period")
                    .table(ReportingWaivers::Table)
                    .col(ReportingWaivers::AssignmentId)
                    .col(ReportingWaivers::Period)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DutyReminders::Table)
                    .col(integer(DutyReminders::AssignmentId))
                    .col(string_len(DutyReminders::Period, 8))
                    .col(string_len(DutyReminders::Kind, 12))
                    .col(timestamp_with_time_zone(DutyReminders::SentAt))
                    .primary_key(
                        Index::create()
                            .col(DutyReminders::AssignmentId)
                            .col(DutyReminders::Period)
                            .col(DutyReminders::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reminders_assignment")
                            .from(DutyReminders::Table, DutyReminders::AssignmentId)
                            .to(Assignments::Table, Assignments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ProgressReports::Table)
                    .add_column(date_null(ProgressReports::SubmittedOn))
                    .to_owned(),
            )
            .await?;
        // (The duty of an assignment and period is found by migration 1's
        // `ix_reports_assignment_period`.)
        let db = manager.get_connection();
        // Vietnam keeps UTC+7 all year: the civil date of an instant is its UTC time plus 7 hours.
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "UPDATE progress_reports SET submitted_on = (submitted_at AT TIME ZONE 'UTC' + interval '7 hours')::date \
                     WHERE submitted_at IS NOT NULL",
                )
                .await?;
                for table in NOTIFYING {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION chidao_notify_change()"
                    ))
                    .await?;
                }
            }
            _ => {
                db.execute_unprepared(
                    "UPDATE progress_reports SET submitted_on = date(submitted_at, '+7 hours') WHERE submitted_at IS NOT NULL",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in NOTIFYING {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {table}_notify_change ON {table}"
                    ))
                    .await?;
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ProgressReports::Table)
                    .drop_column(ProgressReports::SubmittedOn)
                    .to_owned(),
            )
            .await?;
        for table in [
            DutyReminders::Table.into_iden(),
            ReportingWaivers::Table.into_iden(),
            ReportingRegimes::Table.into_iden(),
            ReportingCalendar::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
