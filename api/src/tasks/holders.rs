//! Who holds a task, and how it came to: the moves of each assignment (`Assignment.transfers`),
//! the names the text addresses that hold no assignment (`Task.addressees`), and the open work
//! no existing agency holds (orphaned assignments).

use async_graphql::{Context, Enum, Object, Result};
use chrono::NaiveDate;
use entity::{agency, assignment, assignment_transfer, task_addressee};
use sea_orm::sea_query::{Expr, ExprTrait, Iden, Query};
use sea_orm::{ColumnTrait, Condition};

use super::AssignmentRole;
use crate::agencies::{Agency, load_agency};
use crate::auth::Permission;
use crate::error::ApiError;
use crate::graphql::Needs;
use crate::graphql::scalars::Date;

/// How a duty reached its holder.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::TransferKind")]
pub enum TransferKind {
    /// The assignment changed holder.
    Moved,
    /// A further agency got its own assignment of the same duty (each commune of a former
    /// district's area, say).
    Shared,
    /// The new holder already held the task: the duty joined its assignment (one holder per
    /// agency; lead wins over coordinator).
    Merged,
}

/// One move of a duty (what the directive gave one agency, in one role) to another holder.
pub struct AssignmentTransfer(pub assignment_transfer::Model);

/// One move of a duty (what the directive gave one agency, in one role) to another holder.
#[Object]
impl AssignmentTransfer {
    /// How it moved.
    async fn kind(&self) -> TransferKind {
        self.0.kind.into()
    }
    /// The agency the directive named for the duty.
    async fn original_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        agency_of(ctx, self.0.original_agency_id).await
    }
    /// The role the directive gave it in.
    async fn role(&self) -> AssignmentRole {
        self.0.role.into()
    }
    /// Who held it before.
    #[allow(clippy::wrong_self_convention)] // a GraphQL field (`fromAgency`), not a conversion
    async fn from_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        agency_of(ctx, self.0.from_agency_id).await
    }
    /// Who holds it from `effectiveOn`.
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        agency_of(ctx, self.0.to_agency_id).await
    }
    /// First day the new holder carries it.
    async fn effective_on(&self) -> Date {
        Date(self.0.effective_on)
    }
    /// Why (the deciding document).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Who recorded the move (a token's subject; `seed`, `migration`).
    #[graphql(guard = "Needs(Permission::ReadInternal)")]
    async fn recorded_by(&self) -> Option<&str> {
        Some(&self.0.actor)
    }
    /// When it was recorded.
    async fn recorded_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }
}

async fn agency_of(ctx: &Context<'_>, id: i32) -> Result<Agency> {
    load_agency(ctx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("cơ quan").into())
}

/// Why a name the task addresses holds no assignment.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AddresseeKind")]
pub enum AddresseeKind {
    /// Not a state body (chủ đầu tư, doanh nghiệp, tổ chức xã hội - nghề nghiệp): nobody logs
    /// in for it; the lead agencies follow it up.
    NotAStateBody,
    /// A group of state bodies whose members the records do not hold yet (e.g. the new UBND
    /// xã, phường): once they are added, the group's members get assignments.
    GroupWithoutMembers,
    /// Not a definite list ("các cơ quan, đơn vị có liên quan").
    Unspecified,
}

/// A name the task's text addresses that holds no assignment: kept so the API never drops a
/// name the document wrote.
pub struct TaskAddressee(pub task_addressee::Model);

/// A name the task's text addresses that holds no assignment: kept so the API never drops a
/// name the document wrote.
#[Object]
impl TaskAddressee {
    /// The name as the document writes it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The role the document gives it.
    async fn role(&self) -> AssignmentRole {
        self.0.role.into()
    }
    /// Why it holds no assignment.
    async fn kind(&self) -> AddresseeKind {
        self.0.kind.into()
    }
    /// Remark (what the province must add, what the words cover).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// Assignments unfinished on `day` whose holder no longer exists then (its last day is before
/// it): nobody can report on them until they are reassigned.
pub fn orphaned_on(day: NaiveDate) -> Condition {
    orphaned_on_as(day, &assignment::Entity)
}

/// [`orphaned_on`] for the assignments table under another name.
pub fn orphaned_on_as(day: NaiveDate, table: &(impl Iden + Clone + 'static)) -> Condition {
    let col = |c: assignment::Column| Expr::col((table.clone(), c));
    Condition::all()
        .add(
            Condition::any()
                .add(col(assignment::Column::CompletedOn).is_null())
                .add(col(assignment::Column::CompletedOn).gt(day)),
        )
        .add(
            col(assignment::Column::AgencyId).in_subquery(
                Query::select()
                    .column(agency::Column::Id)
                    .from(agency::Entity)
                    .and_where(agency::Column::ValidTo.lt(day))
                    .to_owned(),
            ),
        )
}
