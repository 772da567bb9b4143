//! Schema migrations: one file per change, never edited once landed, never carrying data.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_tables;
mod m20261123_000002_order_indexes;
mod m20261129_000003_change_notifications;
mod m20261130_000004_assignment_due_key;
mod m20261201_000005_reorganisation;
mod m20261201_000006_milestone_completion;
mod m20261202_000007_reporting_duties;
mod m20261203_000008_assignment_owes_from;
mod m20261203_000009_webhooks;
mod m20261203_000010_notify_every_table;
mod m20261208_000011_task_status_covering;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_tables::Migration),
            Box::new(m20261123_000002_order_indexes::Migration),
            Box::new(m20261129_000003_change_notifications::Migration),
            Box::new(m20261130_000004_assignment_due_key::Migration),
            Box::new(m20261201_000005_reorganisation::Migration),
            Box::new(m20261201_000006_milestone_completion::Migration),
            Box::new(m20261202_000007_reporting_duties::Migration),
            Box::new(m20261203_000008_assignment_owes_from::Migration),
            Box::new(m20261203_000009_webhooks::Migration),
            Box::new(m20261203_000010_notify_every_table::Migration),
            Box::new(m20261208_000011_task_status_covering::Migration),
        ]
    }
}
