//! Moving an agency's open assignments to other agencies: the one way it is done, whether the
//! seed applies a succession, `mergeAgencies` dissolves an agency or `reassignAssignments`
//! moves a chosen part of its work (a split by function, a district's work to the communes of
//! its area).
//!
//! A duty is what the directive gave one agency in one role. It moves with its row, its reports
//! and its history; each move is an `assignment_transfers` entry (who, when, why, from whom).
//! The rules:
//! - **One holder per agency and task.** A target that already holds the task keeps its row and
//!   the duty joins it (`MERGED`); the row that came is deleted, its reports and history follow.
//!   Lead wins: a coordinator row that takes a lead duty becomes the lead (its own coordinator
//!   duty stays in the history).
//! - **Several targets.** The first target takes the row (`MOVED`); each further one gets its
//!   own row of the same duty (`SHARED`): each commune of a former district's area answers for
//!   its part.
//! - **Parts.** Tasks named in a part go to that part's targets; whatever no part names goes to
//!   the primary targets (DHIS2's split: several targets, one primary taking the rest). With no
//!   primary, the rest stays where it is.
//! - What is open: not completed before the first day of the new holder
//!   (`completed_on IS NULL OR completed_on >= effective_on`). Completed work stays with whoever
//!   did it. No move changes whether a task is complete: the leads it waits for stay the same
//!   duties.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, Utc};
use entity::enums::{AssignmentRole, TransferKind};
use entity::{assignment, assignment_transfer, progress_report, task};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use crate::auth::Scope;

/// Which of the source's open assignments a move takes (all when every field is empty).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub task_ids: Option<BTreeSet<i32>>,
    pub directive_id: Option<i32>,
    pub role: Option<AssignmentRole>,
}

/// One reassignment: from whom, which work, to whom, from when and why.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub from: i32,
    pub selection: Selection,
    /// Who takes what no part names, in order (the first keeps the row). Empty: it stays.
    pub primary: Vec<i32>,
    /// Assignments of these tasks go to these agencies instead of the primary.
    pub parts: Vec<(BTreeSet<i32>, Vec<i32>)>,
    pub effective_on: NaiveDate,
    pub reason: &'a str,
    pub actor: &'a str,
}

/// What a reassignment did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Rows that changed holder.
    pub moved: u64,
    /// New rows for further targets.
    pub shared: u64,
    /// Duties that joined a row the target already held.
    pub merged: u64,
    /// Selected assignments no target was given for (they stay with the source).
    pub kept: u64,
    /// The tasks whose holders changed.
    pub tasks: BTreeSet<i32>,
    /// The tasks of the assignments that stayed.
    pub kept_tasks: BTreeSet<i32>,
    /// The rows that carry the moved duties now, in task order.
    pub holders: Vec<i32>,
}

/// The open assignments of `from` as of `day` (not completed before it).
fn open_on(day: NaiveDate) -> Condition {
    Condition::any()
        .add(assignment::Column::CompletedOn.is_null())
        .add(assignment::Column::CompletedOn.gte(day))
}

/// The source's open assignments that `plan` selects.
fn selected(scope: &Scope, plan: &Plan<'_>) -> Select<assignment::Entity> {
    let mut q = scope
        .find::<assignment::Entity>()
        .filter(assignment::Column::AgencyId.eq(plan.from))
        .filter(open_on(plan.effective_on));
    if let Some(ids) = &plan.selection.task_ids {
        q = q.filter(assignment::Column::TaskId.is_in(ids.iter().copied()));
    }
    if let Some(role) = plan.selection.role {
        q = q.filter(assignment::Column::Role.eq(role));
    }
    if let Some(d) = plan.selection.directive_id {
        q = q.filter(
            assignment::Column::TaskId.in_subquery(
                Query::select()
                    .column(task::Column::Id)
                    .from(task::Entity)
                    .and_where(task::Column::DirectiveId.eq(d))
                    .to_owned(),
            ),
        );
    }
    q
}

/// How many of the source's open assignments `plan` selects (to bound a move before it runs).
pub async fn open_count(db: &impl ConnectionTrait, scope: &Scope, plan: &Plan<'_>) -> Result<u64, DbErr> {
    selected(scope, plan).count(db).await
}

/// A duty on its way to a target: what the directive gave, and how far it got.
struct Duty {
    original_agency_id: i32,
    role: AssignmentRole,
    via_group_id: Option<i32>,
    completed_on: Option<NaiveDate>,
    written_as: Option<String>,
}

/// Carries out `plan` in the caller's transaction. `scope` is the one the reads go through:
/// the admin's for a mutation, the system's for the seed (both see every row).
pub async fn reassign(db: &impl ConnectionTrait, scope: &Scope, plan: &Plan<'_>) -> Result<Outcome, DbErr> {
    let q = selected(scope, plan);
    let rows = q
        .order_by_asc(assignment::Column::TaskId)
        .order_by_asc(assignment::Column::Id)
        .lock_exclusive()
        .all(db)
        .await?;
    let mut out = Outcome::default();
    if rows.is_empty() {
        return Ok(out);
    }

    // What the targets already hold on these tasks.
    let targets: BTreeSet<i32> = plan
        .primary
        .iter()
        .chain(plan.parts.iter().flat_map(|(_, t)| t.iter()))
        .copied()
        .collect();
    let task_ids: BTreeSet<i32> = rows.iter().map(|a| a.task_id).collect();
    let mut held: HashMap<(i32, i32), assignment::Model> = HashMap::new();
    for chunk in task_ids.iter().copied().collect::<Vec<_>>().chunks(500) {
        let found = scope
            .find::<assignment::Entity>()
            .filter(assignment::Column::TaskId.is_in(chunk.iter().copied()))
            .filter(assignment::Column::AgencyId.is_in(targets.iter().copied()))
            .lock_exclusive()
            .all(db)
            .await?;
        for e in found {
            held.insert((e.task_id, e.agency_id), e);
        }
    }

    let now = Utc::now();
    let entry =
        |assignment_id: i32, task_id: i32, duty: &Duty, kind: TransferKind, to: i32, merged: Option<i32>| {
            assignment_transfer::ActiveModel {
                assignment_id: Set(assignment_id),
                task_id: Set(task_id),
                original_agency_id: Set(duty.original_agency_id),
                role: Set(duty.role),
                kind: Set(kind),
                from_agency_id: Set(plan.from),
                to_agency_id: Set(to),
                merged_assignment_id: Set(merged),
                effective_on: Set(plan.effective_on),
                reason: Set(plan.reason.to_owned()),
                actor: Set(plan.actor.to_owned()),
                at: Set(now),
                ..Default::default()
            }
        };

    for a in rows {
        let to: &[i32] = plan
            .parts
            .iter()
            .find(|(tasks, _)| tasks.contains(&a.task_id))
            .map_or(plan.primary.as_slice(), |(_, t)| t.as_slice());
        if to.is_empty() {
            out.kept += 1;
            out.kept_tasks.insert(a.task_id);
            continue;
        }
        out.tasks.insert(a.task_id);
        let duty = Duty {
            original_agency_id: a.original_agency_id,
            role: a.role,
            via_group_id: a.via_group_id,
            completed_on: a.completed_on,
            written_as: a.written_as.clone(),
        };
        for (i, &target) in to.iter().enumerate() {
            // The first target takes the row itself; the others a row of their own.
            let row = (i == 0).then_some(&a);
            let now_held = match held.remove(&(a.task_id, target)) {
                Some(e) => {
                    out.merged += 1;
                    let kept = absorb(db, e, &duty, row.map(|r| r.id), plan).await?;
                    entry(
                        kept.id,
                        a.task_id,
                        &duty,
                        TransferKind::Merged,
                        target,
                        row.map(|r| r.id),
                    )
                    .insert(db)
                    .await?;
                    if let Some(r) = row {
                        // Its reports and history follow the duty; then the row goes.
                        progress_report::Entity::update_many()
                            .col_expr(progress_report::Column::AssignmentId, Expr::value(kept.id))
                            .filter(progress_report::Column::AssignmentId.eq(r.id))
                            .exec(db)
                            .await?;
                        assignment_transfer::Entity::update_many()
                            .col_expr(assignment_transfer::Column::AssignmentId, Expr::value(kept.id))
                            .filter(assignment_transfer::Column::AssignmentId.eq(r.id))
                            .exec(db)
                            .await?;
                        assignment::Entity::delete_by_id(r.id).exec(db).await?;
                    }
                    kept
                }
                None => match row {
                    Some(r) => {
                        out.moved += 1;
                        let mut am = r.clone().into_active_model();
                        am.agency_id = Set(target);
                        am.transferred_on = Set(Some(plan.effective_on));
                        am.updated_at = Set(now);
                        let moved = am.update(db).await?;
                        entry(moved.id, a.task_id, &duty, TransferKind::Moved, target, None)
                            .insert(db)
                            .await?;
                        moved
                    }
                    None => {
                        out.shared += 1;
                        let copy = assignment::ActiveModel {
                            task_id: Set(a.task_id),
                            agency_id: Set(target),
                            original_agency_id: Set(duty.original_agency_id),
                            role: Set(duty.role),
                            via_group_id: Set(duty.via_group_id),
                            completed_on: Set(duty.completed_on),
                            transferred_on: Set(Some(plan.effective_on)),
                            owes_from: Set(Some(plan.effective_on)),
                            written_as: Set(duty.written_as.clone()),
                            created_at: Set(now),
                            updated_at: Set(now),
                            ..Default::default()
                        }
                        .insert(db)
                        .await?;
                        entry(copy.id, a.task_id, &duty, TransferKind::Shared, target, None)
                            .insert(db)
                            .await?;
                        copy
                    }
                },
            };
            out.holders.push(now_held.id);
            held.insert((a.task_id, target), now_held);
        }
    }
    out.holders.sort_unstable();
    out.holders.dedup();
    Ok(out)
}

/// A duty joins the row `e` its new holder already has on the task. Lead wins: a coordinator
/// row taking a lead duty becomes that lead (its own coordinator duty is kept in the history).
/// A row's completion is that of its role: open while any duty of that role in it is open.
async fn absorb(
    db: &impl ConnectionTrait,
    e: assignment::Model,
    duty: &Duty,
    merged_row: Option<i32>,
    plan: &Plan<'_>,
) -> Result<assignment::Model, DbErr> {
    let mut am = e.clone().into_active_model();
    if duty.role < e.role {
        // Lead (first in the enum's order) over coordinator.
        assignment_transfer::ActiveModel {
            assignment_id: Set(e.id),
            task_id: Set(e.task_id),
            original_agency_id: Set(e.original_agency_id),
            role: Set(e.role),
            kind: Set(TransferKind::Merged),
            from_agency_id: Set(e.agency_id),
            to_agency_id: Set(e.agency_id),
            merged_assignment_id: Set(None),
            effective_on: Set(plan.effective_on),
            reason: Set(match merged_row {
                Some(r) => format!(
                    "Nhận vai trò chủ trì (phân công #{r}); vai trò phối hợp của cơ quan gộp vào: {}",
                    plan.reason
                ),
                None => format!("Nhận vai trò chủ trì; vai trò phối hợp gộp vào: {}", plan.reason),
            }),
            actor: Set(plan.actor.to_owned()),
            at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        am.role = Set(duty.role);
        am.original_agency_id = Set(duty.original_agency_id);
        am.via_group_id = Set(duty.via_group_id);
        am.completed_on = Set(duty.completed_on);
        am.written_as = Set(duty.written_as.clone());
    } else if duty.role == e.role {
        am.completed_on = Set(match (e.completed_on, duty.completed_on) {
            (Some(x), Some(y)) => Some(x.max(y)),
            _ => None,
        });
    }
    // The row carries a duty that moved: it last changed holder-wise on that day.
    am.transferred_on = Set(Some(plan.effective_on));
    am.updated_at = Set(Utc::now());
    am.update(db).await
}
