//! A dated milestone inside one task (a task may carry several).

use sea_orm::entity::prelude::*;

use crate::enums::DeadlineKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "task_milestones")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub task_id: i32,
    pub ordinal: i32,
    pub label: String,
    pub deadline_text: Option<String>,
    pub deadline_kind: DeadlineKind,
    pub due_on: Option<Date>,
    /// The day the milestone was reached, as the monitoring office recorded it.
    pub completed_on: Option<Date>,
    /// Who recorded it (the token's subject).
    pub completed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::task::Entity",
        from = "Column::TaskId",
        to = "super::task::Column::Id",
        on_delete = "Cascade"
    )]
    Task,
}

impl ActiveModelBehavior for ActiveModel {}
