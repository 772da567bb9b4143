//! An assignment: one agency's role (lead or coordinator) on one task; the unit an agency owns.

use sea_orm::entity::prelude::*;

use crate::enums::AssignmentRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub task_id: i32,
    /// The agency that holds the assignment now (a successor after a merger).
    pub agency_id: i32,
    /// The agency the directive named; kept as history when a successor takes over.
    pub original_agency_id: i32,
    pub role: AssignmentRole,
    /// Group through which it was assigned, when the directive named a group.
    pub via_group_id: Option<i32>,
    pub completed_on: Option<Date>,
    /// When it last moved to another holder.
    pub transferred_on: Option<Date>,
    /// The document's words for the agency, when it meant this one under another name.
    pub written_as: Option<String>,
    /// The first day the row answers for reports: a duty shared among successors gets a row
    /// per successor on the day the succession takes effect, and what fell due before stays
    /// with the row that held it then. Null: from the directive's start.
    pub owes_from: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::AgencyId",
        to = "super::agency::Column::Id"
    )]
    Agency,
}

impl Related<super::task::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agency.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
