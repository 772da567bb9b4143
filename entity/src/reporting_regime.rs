//! A directive's reporting regime (chế độ báo cáo): who reports, each which period, by when.

use sea_orm::entity::prelude::*;

use crate::enums::{DueRule, RegimePeriod, Reporters};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "reporting_regimes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub directive_id: i32,
    pub period_type: RegimePeriod,
    pub due_rule: DueRule,
    /// The day of the last month (`DAY_OF_LAST_MONTH`) or the days after the cut-off.
    pub due_value: i32,
    pub reporters: Reporters,
    /// The first period reports are owed for (a period id of `period_type`).
    pub first_period: String,
    /// The last one; open-ended when `None`.
    pub last_period: Option<String>,
    pub set_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::directive::Entity",
        from = "Column::DirectiveId",
        to = "super::directive::Column::Id",
        on_delete = "Cascade"
    )]
    Directive,
}

impl ActiveModelBehavior for ActiveModel {}
