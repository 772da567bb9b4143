//! A value of an indicator for a calendar period, estimate or official.

use sea_orm::entity::prelude::*;

use crate::enums::ValueKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "indicator_values")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub indicator_id: i32,
    /// Period id (`2025`, `2025Q1`, `202501`…), statistical calendar.
    pub period: String,
    /// Exact value as canonical decimal text (see `indicator::Model::target`).
    pub value: String,
    pub kind: ValueKind,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::indicator::Entity",
        from = "Column::IndicatorId",
        to = "super::indicator::Column::Id",
        on_delete = "Cascade"
    )]
    Indicator,
}

impl ActiveModelBehavior for ActiveModel {}
