//! A yearly socio-economic target (chỉ tiêu), possibly a child of a composite one.

use sea_orm::entity::prelude::*;

use crate::enums::{Comparator, Direction, Measure};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "indicators")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    /// Item marker in the source, e.g. `(2)`.
    pub item: Option<String>,
    pub name: String,
    pub unit: Option<String>,
    /// Exact target as canonical decimal text (`8.5`, `10255000`); `None` for a composite
    /// parent or a qualitative target. Text, not NUMERIC: sqlx-sqlite reads NUMERIC through f64.
    pub target: Option<String>,
    /// The target as written in the source (`8,5`, `10.255.000`).
    pub target_text: Option<String>,
    pub comparator: Option<Comparator>,
    pub direction: Direction,
    pub measure: Measure,
    pub year: i32,
    pub parent_id: Option<i32>,
    pub responsible_agency_id: Option<i32>,
    pub directive_id: Option<i32>,
    pub qualitative: bool,
    pub description: Option<String>,
    pub source_text: Option<String>,
    pub ordinal: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
}

impl ActiveModelBehavior for ActiveModel {}
