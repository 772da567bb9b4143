//! An agency (cơ quan, đơn vị): a department, board, district, commune or sector body.

use sea_orm::entity::prelude::*;

use crate::enums::AgencyKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "agencies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: AgencyKind,
    pub parent_id: Option<i32>,
    /// First day the agency exists; `None` when it predates the records.
    pub valid_from: Option<Date>,
    /// Last day the agency exists (inclusive); `None` while it exists.
    pub valid_to: Option<Date>,
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
}

impl ActiveModelBehavior for ActiveModel {}
