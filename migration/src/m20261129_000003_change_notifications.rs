//! PostgreSQL tells running services when data they may have cached changed.
//!
//! A statement-level trigger on each table that `taskStatistics` reads (tasks, assignments,
//! directives, agencies) sends `NOTIFY chidao_change, '<table>'` for every INSERT, UPDATE,
//! DELETE or TRUNCATE, whoever runs it. PostgreSQL delivers a notification when the
//! transaction commits and folds identical ones of a transaction into one, so a bulk load
//! costs one notification per table. Each chidao instance `LISTEN`s (`api::changes`) and
//! drops what it computed before. SQLite has no such channel; nothing is cached there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables whose changes are announced.
const TABLES: [&str; 4] = ["tasks", "assignments", "directives", "agencies"];

const FUNCTION: &str = "CREATE FUNCTION chidao_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('chidao_change', TG_TABLE_NAME);
  RETURN NULL;
END
$$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(FUNCTION).await?;
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
            db.execute_unprepared(&format!("DROP TRIGGER {table}_notify_change ON {table}"))
                .await?;
        }
        db.execute_unprepared("DROP FUNCTION chidao_notify_change()")
            .await?;
        Ok(())
    }
}
