//! One move of a duty (what the directive gave one agency, in one role) from one holder to
//! another: the 2025 successions, `mergeAgencies`, `reassignAssignments`.

use sea_orm::entity::prelude::*;

use crate::enums::{AssignmentRole, TransferKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "assignment_transfers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The assignment that carries the duty now.
    pub assignment_id: i32,
    pub task_id: i32,
    /// The agency the directive named for the duty.
    pub original_agency_id: i32,
    /// The role the duty was given in.
    pub role: AssignmentRole,
    pub kind: TransferKind,
    pub from_agency_id: i32,
    pub to_agency_id: i32,
    /// For `MERGED`: the row that went (joined into `assignment_id`).
    pub merged_assignment_id: Option<i32>,
    /// First day the new holder carries it.
    pub effective_on: Date,
    pub reason: String,
    /// Who made the move (the token's subject; `seed`, `migration`).
    pub actor: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::assignment::Entity",
        from = "Column::AssignmentId",
        to = "super::assignment::Column::Id",
        on_delete = "Cascade"
    )]
    Assignment,
}

impl Related<super::assignment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
