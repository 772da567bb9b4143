//! Who is asking (`Principal`) and what they may see (`Scope`). Every query function takes a
//! `&Scope`, so there is no way to list rows without one.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

/// A caller's role (JWT `role`).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Văn phòng UBND tỉnh: everything.
    Admin,
    /// The monitoring office: reads all, reviews reports, grants extensions.
    Monitor,
    /// Staff of one agency: its own assignments only.
    Agency,
    /// The e-government portal: public fields.
    Viewer,
    /// BI tools: indicators and aggregates.
    Analyst,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    /// The agency of an `agency` token.
    pub agency_id: Option<i32>,
}

impl Principal {
    /// The caller of a deployment without authentication configured for reads (until the
    /// token issue lands every reader is treated as the public portal).
    pub fn public() -> Self {
        Principal {
            subject: "anonymous".into(),
            role: Role::Viewer,
            agency_id: None,
        }
    }
}

/// The rows a caller may see.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every row (admin, monitor, viewer and analyst read across agencies).
    All,
    /// Rows of assignments held by these agencies (an agency and those it succeeded).
    Agencies(Arc<[i32]>),
}

impl Scope {
    /// Condition on `tasks` restricting it to the scope.
    pub fn tasks(&self) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Agencies(ids) => Condition::all().add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(entity::assignment::Entity)
                    .and_where(
                        Expr::col((entity::assignment::Entity, entity::assignment::Column::TaskId))
                            .equals((entity::task::Entity, entity::task::Column::Id)),
                    )
                    .and_where(entity::assignment::Column::AgencyId.is_in(ids.iter().copied()))
                    .to_owned(),
            )),
        }
    }

    /// Condition on `assignments`: those visible are the assignments of visible tasks.
    pub fn assignments(&self) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Agencies(ids) => Condition::all().add(
                entity::assignment::Column::TaskId.in_subquery(
                    Query::select()
                        .column(entity::assignment::Column::TaskId)
                        .from(entity::assignment::Entity)
                        .and_where(entity::assignment::Column::AgencyId.is_in(ids.iter().copied()))
                        .to_owned(),
                ),
            ),
        }
    }

    /// Condition on `progress_reports`: an agency sees the reports it wrote.
    pub fn reports(&self) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Agencies(ids) => {
                Condition::all().add(entity::progress_report::Column::AgencyId.is_in(ids.iter().copied()))
            }
        }
    }

    /// Condition on `directives`: an agency sees directives that gave it a task.
    pub fn directives(&self) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Agencies(ids) => Condition::all().add(
                entity::directive::Column::Id.in_subquery(
                    Query::select()
                        .column((entity::task::Entity, entity::task::Column::DirectiveId))
                        .from(entity::task::Entity)
                        .inner_join(
                            entity::assignment::Entity,
                            Expr::col((entity::assignment::Entity, entity::assignment::Column::TaskId))
                                .equals((entity::task::Entity, entity::task::Column::Id)),
                        )
                        .and_where(
                            Expr::col((entity::assignment::Entity, entity::assignment::Column::AgencyId))
                                .is_in(ids.iter().copied()),
                        )
                        .to_owned(),
                ),
            ),
        }
    }

    /// Condition on joined `assignments` rows: those the caller's agencies hold (all for
    /// the province-wide roles). Per-agency statistics of an agency token show its own rows.
    pub fn assignment_holders(&self) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Agencies(ids) => Condition::all().add(
                Expr::col((entity::assignment::Entity, entity::assignment::Column::AgencyId))
                    .is_in(ids.iter().copied()),
            ),
        }
    }

    /// Whether the scope covers a given agency as holder.
    pub fn covers_agency(&self, agency_id: i32) -> bool {
        match self {
            Scope::All => true,
            Scope::Agencies(ids) => ids.contains(&agency_id),
        }
    }
}
