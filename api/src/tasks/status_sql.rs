//! The six status categories as SQL conditions, the single definition that the `status`
//! filter and `taskStatistics` both use, so lists and counts cannot disagree. The Rust twin
//! for one row is `status_of`; a test checks that they agree on every seeded task.

use chrono::NaiveDate;
use entity::task;
use sea_orm::Condition;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};

use entity::enums::Recurrence;

use super::stored::from_recurrence;
use crate::domain::status::{TaskStatus, status_as_of};

/// The status of one task (or assignment, given its own completion date) as of a date.
/// A recurring task is due at the end of each period, so as of any date its due date is the
/// end of the period containing that date.
pub fn status_of(
    due_on: Option<NaiveDate>,
    recurrence: Option<Recurrence>,
    completed_on: Option<NaiveDate>,
    as_of: NaiveDate,
) -> TaskStatus {
    status_as_of(due_as_of(due_on, recurrence, as_of), completed_on, as_of)
}

/// The current due date as of a date (recurring tasks: end of the current period).
pub fn due_as_of(
    due_on: Option<NaiveDate>,
    recurrence: Option<Recurrence>,
    as_of: NaiveDate,
) -> Option<NaiveDate> {
    match recurrence {
        Some(r) => Some(from_recurrence(r).due_on_for(as_of)),
        None => due_on,
    }
}

fn due() -> Expr {
    Expr::col((task::Entity, task::Column::DueOn))
}

fn recurring() -> SimpleExpr {
    Expr::col((task::Entity, task::Column::Recurrence)).is_not_null()
}

fn one_off() -> SimpleExpr {
    Expr::col((task::Entity, task::Column::Recurrence)).is_null()
}

/// Completed on or before `as_of`, given the completion column to read (the task's, or an
/// assignment's).
fn done(completed: &SimpleExpr, as_of: NaiveDate) -> Condition {
    Condition::all()
        .add(Expr::expr(completed.clone()).is_not_null())
        .add(Expr::expr(completed.clone()).lte(as_of))
}

/// Not completed as of `as_of`. Returned as an `all()` so callers can add to it safely.
fn not_done(completed: &SimpleExpr, as_of: NaiveDate) -> Condition {
    Condition::all().add(
        Condition::any()
            .add(Expr::expr(completed.clone()).is_null())
            .add(Expr::expr(completed.clone()).gt(as_of)),
    )
}

/// SQL condition for one status category.
pub fn status_condition(status: TaskStatus, completed: &SimpleExpr, as_of: NaiveDate) -> Condition {
    use TaskStatus::*;
    match status {
        CompletedOnTime => done(completed, as_of).add(
            Condition::any().add(recurring()).add(
                Condition::all()
                    .add(due().is_not_null())
                    .add(Expr::expr(completed.clone()).lte(due())),
            ),
        ),
        CompletedLate => done(completed, as_of)
            .add(one_off())
            .add(due().is_not_null())
            .add(Expr::expr(completed.clone()).gt(due())),
        CompletedNoDeadline => done(completed, as_of).add(one_off()).add(due().is_null()),
        InProgressOnTime => not_done(completed, as_of).add(
            Condition::any()
                .add(recurring())
                .add(Condition::all().add(due().is_not_null()).add(due().gte(as_of))),
        ),
        InProgressOverdue => not_done(completed, as_of).add(one_off()).add(due().lt(as_of)),
        InProgressNoDeadline => not_done(completed, as_of).add(one_off()).add(due().is_null()),
    }
}

/// Unfinished as of `as_of` and past due by more than `days` days.
pub fn overdue_by_more_than(completed: &SimpleExpr, as_of: NaiveDate, days: i64) -> Condition {
    let limit = as_of - chrono::Duration::days(days);
    not_done(completed, as_of).add(one_off()).add(due().lt(limit))
}

/// Due date passed (fallen due) as of `as_of`, whatever the completion.
pub fn fallen_due(as_of: NaiveDate) -> Condition {
    Condition::all().add(one_off()).add(due().lt(as_of))
}

/// The task's own completion column.
pub fn task_completed() -> SimpleExpr {
    Expr::col((task::Entity, task::Column::CompletedOn))
}

/// An assignment's completion column.
pub fn assignment_completed() -> SimpleExpr {
    Expr::col((
        entity::assignment::Entity,
        entity::assignment::Column::CompletedOn,
    ))
}
