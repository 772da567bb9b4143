//! A directing document (văn bản chỉ đạo): Chỉ thị, Kế hoạch, Công văn…

use sea_orm::entity::prelude::*;

use crate::enums::DirectiveKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "directives")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Stable key used by the seed files.
    #[sea_orm(unique)]
    pub code: String,
    /// Number/symbol as printed, e.g. `10/CT-UBND`; `None` when the copy does not show it.
    #[sea_orm(unique)]
    pub number: Option<String>,
    pub kind: DirectiveKind,
    pub title: String,
    pub issued_on: Option<Date>,
    pub issuer: String,
    pub signer: Option<String>,
    pub signer_title: Option<String>,
    /// Folded (lowercase, no diacritics) number and title, for ranking search hits.
    pub search_title: String,
    /// Folded number, title and issuer, for search on both databases.
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::task::Entity")]
    Task,
}

impl Related<super::task::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
