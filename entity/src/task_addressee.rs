//! A name the task's text addresses that holds no assignment: "các chủ đầu tư", "các doanh
//! nghiệp", "các cơ quan, đơn vị có liên quan", or a group whose members are not recorded yet.

use sea_orm::entity::prelude::*;

use crate::enums::{AddresseeKind, AssignmentRole};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "task_addressees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub task_id: i32,
    pub ordinal: i32,
    /// As the document writes it.
    pub name: String,
    pub role: AssignmentRole,
    pub kind: AddresseeKind,
    pub note: Option<String>,
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

impl Related<super::task::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
