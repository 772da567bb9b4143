//! Who took over a dissolved agency's duties, and from when (the 2025 mergers).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "agency_successions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub predecessor_id: i32,
    pub successor_id: i32,
    /// First day the successor carries the duties.
    pub effective_on: Date,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::PredecessorId",
        to = "super::agency::Column::Id"
    )]
    Predecessor,
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::SuccessorId",
        to = "super::agency::Column::Id"
    )]
    Successor,
}

impl ActiveModelBehavior for ActiveModel {}
