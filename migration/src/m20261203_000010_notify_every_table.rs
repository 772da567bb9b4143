//! Every table announces its changes, not only those `taskStatistics` reads.
//!
//! Any query's answer may now be kept until a write commits to a table it read
//! (`api::http::answers`), so each table gets the statement-level trigger of
//! `m20261129_000003`: `NOTIFY chidao_change, '<table>'` at commit, whoever writes. The
//! reference table `reporting_calendar` is written once at set-up and has none.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables that had no trigger yet.
const TABLES: [&str; 13] = [
    "agency_group_members",
    "agency_groups",
    "agency_successions",
    "assignment_transfers",
    "audit_log",
    "deadline_extensions",
    "duty_reminders",
    "indicator_values",
    "indicators",
    "task_addressees",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION chidao_notify_change()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_notify_change ON {table}"
            ))
            .await?;
        }
        Ok(())
    }
}
