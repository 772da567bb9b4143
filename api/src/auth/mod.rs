//! Who is asking (`Principal`) and what they may see (`Scope`). Every query function takes a
//! `&Scope`, so there is no way to list rows without one.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

pub mod jwt;

/// A caller's role (JWT `role`).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Monitor => "monitor",
            Role::Agency => "agency",
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admin" => Role::Admin,
            "monitor" => Role::Monitor,
            "agency" => Role::Agency,
            "viewer" => Role::Viewer,
            "analyst" => Role::Analyst,
            _ => return None,
        })
    }

    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Monitor,
        Role::Agency,
        Role::Viewer,
        Role::Analyst,
    ];
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
    /// The caller of internal jobs (seeding, tests of the data layer): an administrator.
    pub fn system() -> Self {
        Principal {
            subject: "system".into(),
            role: Role::Admin,
            agency_id: None,
        }
    }

    /// Whether the caller may read internal fields (drafts, obstacles, proposals, review notes).
    pub fn reads_internal(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Monitor | Role::Agency)
    }
}

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
    /// Everything (admin; internal jobs).
    pub fn all() -> Self {
        Scope {
            rows: Rows::All,
            role: Role::Admin,
        }
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
    pub fn tasks(&self) -> Condition {
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
    pub fn assignments(&self) -> Condition {
        self.task_ids(entity::assignment::Column::TaskId)
    }

    /// Condition on `task_milestones`.
    pub fn milestones(&self) -> Condition {
        self.task_ids(entity::task_milestone::Column::TaskId)
    }

    /// Condition on `deadline_extensions`.
    pub fn extensions(&self) -> Condition {
        self.task_ids(entity::deadline_extension::Column::TaskId)
    }

    /// Condition on `progress_reports`. An agency sees the reports it (or an agency it
    /// succeeded) wrote, drafts included; a draft is otherwise seen only by an admin;
    /// monitor and viewer see submitted reports; an analyst sees none.
    pub fn reports(&self) -> Condition {
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
    pub fn directives(&self) -> Condition {
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
    pub fn indicators(&self) -> Condition {
        match &self.rows {
            Rows::Agencies(ids) => Condition::all()
                .add(entity::indicator::Column::ResponsibleAgencyId.is_in(ids.iter().copied())),
            _ => Condition::all(),
        }
    }

    /// Condition on `indicator_values`: the values of visible indicators.
    pub fn indicator_values(&self) -> Condition {
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

/// Roles that may read rows of tasks, assignments and reports (not the analyst).
pub const READS_ROWS: &[Role] = &[Role::Admin, Role::Monitor, Role::Agency, Role::Viewer];
/// Roles that may read internal notes: obstacles, proposals, review comments, authors.
pub const READS_INTERNAL: &[Role] = &[Role::Admin, Role::Monitor, Role::Agency];
/// The administrator only.
pub const ADMIN: &[Role] = &[Role::Admin];

/// A field guard: the field answers only these roles; anyone else gets FORBIDDEN.
pub struct Allow(pub &'static [Role]);

impl async_graphql::Guard for Allow {
    async fn check(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<()> {
        let role = crate::context::Caller::of(ctx).principal.role;
        if self.0.contains(&role) {
            Ok(())
        } else {
            Err(crate::error::ApiError::Forbidden(format!(
                "Vai trò {} không được xem hoặc làm việc này",
                role.as_str()
            ))
            .into())
        }
    }
}

impl Scope {
    /// Lists of tasks, assignments and reports refuse a caller who may see none of them
    /// (the analyst) instead of answering with a misleading empty page.
    pub fn require_rows(&self) -> crate::error::ApiResult<()> {
        match self.rows {
            Rows::Nothing => Err(crate::error::ApiError::Forbidden(format!(
                "Vai trò {} chỉ đọc chỉ tiêu và số liệu tổng hợp",
                self.role.as_str()
            ))),
            _ => Ok(()),
        }
    }
}
