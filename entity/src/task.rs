//! A task (nhiệm vụ): one assignment item of a directive, with its deadline as written.

use sea_orm::entity::prelude::*;

use crate::enums::{DeadlineKind, Recurrence};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub directive_id: i32,
    /// Unique within the directive, e.g. `II.1.1-2.3`.
    pub code: String,
    /// Section path, e.g. `II.1.1`.
    pub section: String,
    pub section_title: Option<String>,
    /// Item marker as written, e.g. `(3)`.
    pub item: Option<String>,
    /// Position in the document, for document order.
    pub ordinal: i32,
    pub title: String,
    pub full_text: String,
    /// Deadline words as written.
    pub deadline_text: Option<String>,
    /// `DATE`, `MONTH`, `QUARTER`, `HALF`, `YEAR`, `RECURRING`, `ONGOING`.
    pub deadline_kind: DeadlineKind,
    /// `MONTHLY`, `QUARTERLY`… for recurring deadlines.
    pub recurrence: Option<Recurrence>,
    /// Due date derived from the words, before any extension.
    pub original_due_on: Option<Date>,
    /// Current due date (after extensions).
    pub due_on: Option<Date>,
    /// Completion date: the last lead's, once every lead assignment is complete.
    pub completed_on: Option<Date>,
    pub requires_report: bool,
    /// Folded (lowercase, no diacritics) title, for ranking search hits.
    pub search_title: String,
    /// Folded code, title and full text, for search on both databases.
    pub search_text: String,
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
    #[sea_orm(has_many = "super::assignment::Entity")]
    Assignment,
}

impl Related<super::directive::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Directive.def()
    }
}

impl Related<super::assignment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
