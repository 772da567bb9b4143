//! Which rows a caller may see, and the scoped finder: the only way to read a scoped table.
//!
//! Every table whose rows depend on who asks implements [`Scoped`], whose condition is the one
//! definition of its visible rows; [`Scope::find`] is `SELECT … WHERE <that condition>`, and
//! [`public`] reads the tables every caller sees (the agency directory). sea-orm's own
//! `Entity::find`, `find_by_id` and `find_related` are refused by clippy everywhere else
//! (`clippy.toml`, `disallowed-methods`), so a query that forgets the scope does not build.
//! Loaders, lists, counts, statistics, exports, subscriptions and the mutations' reads (under
//! their locks) all start here.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::Role;

/// Which rows of tasks and assignments a caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rows {
    /// Every row (admin, monitor, viewer).
    All,
    /// Rows of tasks where these agencies hold an assignment (an agency and those it succeeded).
    Agencies(Arc<[i32]>),
    /// None (analyst: aggregates only).
    Nothing,
}

/// The rows a caller may see: the one place every list, loader, aggregate and export
/// takes its `WHERE` from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub rows: Rows,
    pub role: Role,
}

fn never() -> Condition {
    Condition::all().add(Expr::cust("1 = 0"))
}

impl Scope {
    /// `Ok` when the scope's role has the permission (see [`Role::may`]).
    pub fn require(&self, p: super::Permission) -> crate::error::ApiResult<()> {
        self.role.require(p)
    }

    /// The scope of a role; `holders` is used for role `agency` (see `holder_scope`).
    pub fn for_role(role: Role, holders: Option<Arc<[i32]>>) -> Self {
        let rows = match (role, holders) {
            (Role::Agency, Some(ids)) => Rows::Agencies(ids),
            (Role::Agency, None) | (Role::Analyst, _) => Rows::Nothing,
            _ => Rows::All,
        };
        Scope { rows, role }
    }

    /// The scope aggregates run in: an analyst counts over every task, everyone else over
    /// the rows they may see.
    pub fn for_aggregates(&self) -> Scope {
        match (&self.rows, self.role) {
            (Rows::Nothing, Role::Analyst) => Scope {
                rows: Rows::All,
                role: self.role,
            },
            _ => self.clone(),
        }
    }

    /// Condition on `tasks` restricting it to the scope.
    fn tasks(&self) -> Condition {
        match &self.rows {
            Rows::All => Condition::all(),
            Rows::Nothing => never(),
            Rows::Agencies(ids) => Condition::all().add(Expr::exists(
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

    /// `task_id IN (visible tasks)`, for the rows hanging off a task (milestones,
    /// extensions, assignments).
    fn task_ids(&self, column: impl sea_orm::ColumnTrait) -> Condition {
        match &self.rows {
            Rows::All => Condition::all(),
            Rows::Nothing => never(),
            Rows::Agencies(ids) => Condition::all().add(
                column.in_subquery(
                    Query::select()
                        .column(entity::assignment::Column::TaskId)
                        .from(entity::assignment::Entity)
                        .and_where(entity::assignment::Column::AgencyId.is_in(ids.iter().copied()))
                        .to_owned(),
                ),
            ),
        }
    }

    /// Condition on `assignments`: those visible are the assignments of visible tasks.
    fn assignments(&self) -> Condition {
        self.task_ids(entity::assignment::Column::TaskId)
    }

    /// Condition on `reporting_waivers`: those of visible assignments.
    fn waivers(&self) -> Condition {
        match &self.rows {
            Rows::All => Condition::all(),
            Rows::Nothing => never(),
            Rows::Agencies(_) => Condition::all().add(
                entity::reporting_waiver::Column::AssignmentId.in_subquery(
                    Query::select()
                        .column(entity::assignment::Column::Id)
                        .from(entity::assignment::Entity)
                        .cond_where(self.assignments())
                        .to_owned(),
                ),
            ),
        }
    }

    /// Condition on `reporting_regimes`: those of visible directives.
    fn regimes(&self) -> Condition {
        match &self.rows {
            Rows::All | Rows::Nothing => Condition::all(),
            Rows::Agencies(_) => Condition::all().add(
                entity::reporting_regime::Column::DirectiveId.in_subquery(
                    Query::select()
                        .column(entity::directive::Column::Id)
                        .from(entity::directive::Entity)
                        .cond_where(self.directives())
                        .to_owned(),
                ),
            ),
        }
    }

    /// Condition on `task_milestones`.
    fn milestones(&self) -> Condition {
        self.task_ids(entity::task_milestone::Column::TaskId)
    }

    /// Condition on `deadline_extensions`.
    fn extensions(&self) -> Condition {
        self.task_ids(entity::deadline_extension::Column::TaskId)
    }

    /// Condition on `progress_reports`. An agency sees the reports it (or an agency it
    /// succeeded) wrote, drafts included; a draft is otherwise seen only by an admin;
    /// monitor and viewer see submitted reports; an analyst sees none.
    fn reports(&self) -> Condition {
        use entity::progress_report::Column as C;
        match (&self.rows, self.role) {
            (Rows::Agencies(ids), _) => Condition::all().add(C::AgencyId.is_in(ids.iter().copied())),
            (Rows::Nothing, _) => never(),
            (Rows::All, Role::Admin) => Condition::all(),
            (Rows::All, _) => Condition::all().add(C::State.ne(entity::enums::ReportState::Draft)),
        }
    }

    /// Condition on `directives`: an agency sees directives that gave it a task; directives
    /// are public documents for every other role.
    fn directives(&self) -> Condition {
        match &self.rows {
            Rows::All | Rows::Nothing => Condition::all(),
            Rows::Agencies(ids) => Condition::all().add(
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

    /// Condition on `indicators`: an agency sees the indicators it is responsible for;
    /// every other role sees all.
    fn indicators(&self) -> Condition {
        match &self.rows {
            Rows::Agencies(ids) => Condition::all()
                .add(entity::indicator::Column::ResponsibleAgencyId.is_in(ids.iter().copied())),
            _ => Condition::all(),
        }
    }

    /// Condition on `indicator_values`: the values of visible indicators.
    fn indicator_values(&self) -> Condition {
        match &self.rows {
            Rows::Agencies(ids) => Condition::all().add(
                entity::indicator_value::Column::IndicatorId.in_subquery(
                    Query::select()
                        .column(entity::indicator::Column::Id)
                        .from(entity::indicator::Entity)
                        .and_where(entity::indicator::Column::ResponsibleAgencyId.is_in(ids.iter().copied()))
                        .to_owned(),
                ),
            ),
            _ => Condition::all(),
        }
    }

    /// Condition on joined `assignments` rows: those the caller's agencies hold (all for
    /// the province-wide roles). Per-agency statistics of an agency token show its own rows.
    pub fn assignment_holders(&self) -> Condition {
        match &self.rows {
            Rows::All => Condition::all(),
            Rows::Nothing => never(),
            Rows::Agencies(ids) => Condition::all().add(
                Expr::col((entity::assignment::Entity, entity::assignment::Column::AgencyId))
                    .is_in(ids.iter().copied()),
            ),
        }
    }

    /// Whether the scope covers a given agency as holder.
    pub fn covers_agency(&self, agency_id: i32) -> bool {
        match &self.rows {
            Rows::All => true,
            Rows::Nothing => false,
            Rows::Agencies(ids) => ids.contains(&agency_id),
        }
    }
}

/// A table whose visible rows depend on the caller: `visible` is the one definition of them.
pub trait Scoped: EntityTrait {
    fn visible(scope: &Scope) -> Condition;
}

/// A table every caller may read whole: the agency directory and its history.
pub trait Public: EntityTrait {}

impl Scope {
    /// The rows of `E` this scope may see.
    #[allow(clippy::disallowed_methods)] // the finder itself
    pub fn find<E: Scoped>(&self) -> Select<E> {
        E::find().filter(E::visible(self))
    }

    /// The row of `E` with this id, if this scope may see it.
    #[allow(clippy::disallowed_methods)] // the finder itself
    pub fn find_by_id<E>(&self, id: i32) -> Select<E>
    where
        E: Scoped,
        i32: Into<<E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType>,
    {
        E::find_by_id(id).filter(E::visible(self))
    }
}

/// Every row of a public table.
#[allow(clippy::disallowed_methods)] // the finder itself
pub fn public<E: Public>() -> Select<E> {
    E::find()
}

/// The row of a public table with this id.
#[allow(clippy::disallowed_methods)] // the finder itself
pub fn public_by_id<E>(id: i32) -> Select<E>
where
    E: Public,
    i32: Into<<E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType>,
{
    E::find_by_id(id)
}

macro_rules! scoped {
    ($($entity:path => |$s:ident| $visible:expr;)*) => {
        $(impl Scoped for $entity {
            fn visible($s: &Scope) -> Condition {
                $visible
            }
        })*
    };
}

scoped! {
    entity::directive::Entity => |s| s.directives();
    entity::task::Entity => |s| s.tasks();
    entity::task_milestone::Entity => |s| s.milestones();
    entity::deadline_extension::Entity => |s| s.extensions();
    entity::assignment::Entity => |s| s.assignments();
    entity::assignment_transfer::Entity => |s| s.task_ids(entity::assignment_transfer::Column::TaskId);
    entity::task_addressee::Entity => |s| s.task_ids(entity::task_addressee::Column::TaskId);
    entity::progress_report::Entity => |s| s.reports();
    entity::reporting_waiver::Entity => |s| s.waivers();
    entity::reporting_regime::Entity => |s| s.regimes();
    entity::indicator::Entity => |s| s.indicators();
    entity::indicator_value::Entity => |s| s.indicator_values();
    entity::audit_log::Entity => |s| match s.role {
        Role::Admin => Condition::all(),
        _ => never(),
    };
    entity::webhook_endpoint::Entity => |s| match s.role {
        Role::Admin => Condition::all(),
        _ => never(),
    };
    entity::webhook_delivery::Entity => |s| match s.role {
        Role::Admin => Condition::all(),
        _ => never(),
    };
    entity::webhook_attempt::Entity => |s| match s.role {
        Role::Admin => Condition::all(),
        _ => never(),
    };
}

impl Public for entity::agency::Entity {}
impl Public for entity::agency_succession::Entity {}
impl Public for entity::agency_group::Entity {}
impl Public for entity::agency_group_member::Entity {}
