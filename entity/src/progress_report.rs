//! A progress report (báo cáo tiến độ) of an agency on one of its assignments, for one period.

use sea_orm::entity::prelude::*;

use crate::enums::ReportState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "progress_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub assignment_id: i32,
    /// Agency that wrote it (the assignment's holder at the time).
    pub agency_id: i32,
    /// Period id (`2025Q1`, `202501`…), administrative calendar.
    pub period: String,
    pub percent_complete: i16,
    pub done: bool,
    pub summary: String,
    pub obstacles: Option<String>,
    pub proposals: Option<String>,
    pub state: ReportState,
    pub author: String,
    pub idempotency_key: Option<String>,
    pub version: i32,
    pub review_comment: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub submitted_at: Option<DateTimeUtc>,
    /// The civil date in Vietnam (UTC+7) of `submitted_at`: what a duty's timeliness is judged by.
    pub submitted_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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

impl ActiveModelBehavior for ActiveModel {}
