//! The six status categories as SQL conditions, the single definition that the `status`
//! filter and `taskStatistics` both use, so lists and counts cannot disagree. The Rust twin
//! for one row is `status_of` with `with_parts` (milestones); a test checks that they agree on
//! every seeded task.
//!
//! A missed milestone (due before the day, not reached by then, the task not finished by then)
//! makes an unfinished task or assignment overdue before its own date (the Government Office
//! counts a task overdue when any dated part of it is). So does a recurring task's latest
//! fallen-due report that a lead owes and has not sent (`duties::sql::missed_recurring_report`).

use chrono::NaiveDate;
use entity::{task, task_milestone};
use sea_orm::Condition;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, SimpleExpr};

use entity::enums::Recurrence;

use super::stored::from_recurrence;
use crate::domain::status::{TaskStatus, status_as_of};
use crate::duties::sql::{missed_recurring_report, missed_report_due};

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

/// Some milestone of the row's task was due before `before` and not reached by `as_of`, with
/// the task itself not finished by `as_of` (its completion reaches every part): `first_missed`.
fn missed_milestone(before: NaiveDate, as_of: NaiveDate) -> SimpleExpr {
    use task_milestone::Column as M;
    let m = |c: M| Expr::col((task_milestone::Entity, c));
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(task_milestone::Entity)
            .and_where(m(M::TaskId).equals((task::Entity, task::Column::Id)))
            .and_where(m(M::DueOn).lt(before))
            .cond_where(
                Condition::any()
                    .add(m(M::CompletedOn).is_null())
                    .add(m(M::CompletedOn).gt(as_of)),
            )
            .cond_where(not_done(&task_completed(), as_of))
            .to_owned(),
    )
}

/// Where the status conditions learn of a row's missed parts (a milestone, a recurring report).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Parts {
    /// Asked where they stand (one subquery per use): a filter's WHERE.
    InPlace,
    /// Read from the columns [`part_columns`] adds to the row's select (computed once per row): a
    /// statement that asks them many times of each row, as `taskStatistics`' counts do.
    Columns,
}

/// The column of [`Parts::Columns`] with the first missed milestone's due date.
pub const MISSED_MILESTONE_DUE: &str = "missed_milestone_due";
/// The column of [`Parts::Columns`] with the missed recurring report's due date.
pub const MISSED_REPORT_DUE: &str = "missed_report_due";

/// Adds the two columns [`Parts::Columns`] reads to `q`, a select over `tasks` that a
/// statement reading the conditions wraps as `tasks` again: the earliest due date of a
/// milestone not reached by `as_of` (the task unfinished then), from one grouped pass over
/// the open milestones joined to the rows (a subquery per row cost more than the counts), and
/// `duties::sql::missed_report_due`.
pub fn add_part_columns(q: &mut SelectStatement, as_of: NaiveDate) {
    use task_milestone::Column as M;
    let m = |c: M| Expr::col((task_milestone::Entity, c));
    let first = Alias::new("first_open_milestone");
    let open = Query::select()
        .column((task_milestone::Entity, M::TaskId))
        .expr_as(m(M::DueOn).min(), Alias::new("due_on"))
        .from(task_milestone::Entity)
        .cond_where(
            Condition::any()
                .add(m(M::CompletedOn).is_null())
                .add(m(M::CompletedOn).gt(as_of)),
        )
        .group_by_col((task_milestone::Entity, M::TaskId))
        .to_owned();
    q.join_subquery(
        JoinType::LeftJoin,
        open,
        first.clone(),
        Expr::col((first.clone(), Alias::new("task_id"))).equals((task::Entity, task::Column::Id)),
    );
    let none: Option<NaiveDate> = None;
    let milestone: SimpleExpr = Expr::case(
        not_done(&task_completed(), as_of),
        Expr::col((first, Alias::new("due_on"))),
    )
    .finally(Expr::val(none))
    .into();
    q.expr_as(milestone, Alias::new(MISSED_MILESTONE_DUE));
    q.expr_as(missed_report_due(as_of), Alias::new(MISSED_REPORT_DUE));
}

/// The column is set and before `before` (never null, so `.not()` of it is true of a row
/// with nothing missed).
fn part_before(col: &str, before: NaiveDate) -> Condition {
    let c = Expr::col((task::Entity, Alias::new(col)));
    Condition::all().add(c.clone().is_not_null()).add(c.lt(before))
}

fn milestone_missed(parts: Parts, before: NaiveDate, as_of: NaiveDate) -> Condition {
    match parts {
        Parts::InPlace => Condition::all().add(missed_milestone(before, as_of)),
        Parts::Columns => part_before(MISSED_MILESTONE_DUE, before),
    }
}

fn report_missed(parts: Parts, as_of: NaiveDate, before: NaiveDate) -> Condition {
    match parts {
        Parts::InPlace => missed_recurring_report(as_of, before),
        Parts::Columns => part_before(MISSED_REPORT_DUE, before),
    }
}

/// SQL condition for one status category.
pub fn status_condition(status: TaskStatus, completed: &SimpleExpr, as_of: NaiveDate) -> Condition {
    status_condition_with(status, completed, as_of, Parts::InPlace)
}

/// [`status_condition`], reading the missed parts as `parts` says.
pub fn status_condition_with(
    status: TaskStatus,
    completed: &SimpleExpr,
    as_of: NaiveDate,
    parts: Parts,
) -> Condition {
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
        InProgressOnTime => not_done(completed, as_of)
            .add(
                Condition::any()
                    .add(recurring())
                    .add(Condition::all().add(due().is_not_null()).add(due().gte(as_of))),
            )
            .add(milestone_missed(parts, as_of, as_of).not())
            .add(report_missed(parts, as_of, as_of).not()),
        InProgressOverdue => not_done(completed, as_of).add(
            Condition::any()
                .add(Condition::all().add(one_off()).add(due().lt(as_of)))
                .add(milestone_missed(parts, as_of, as_of))
                .add(report_missed(parts, as_of, as_of)),
        ),
        InProgressNoDeadline => not_done(completed, as_of)
            .add(one_off())
            .add(due().is_null())
            .add(milestone_missed(parts, as_of, as_of).not()),
    }
}

/// Unfinished as of `as_of` and past due by more than `days` days (its own date, or a missed
/// milestone's: `days_overdue_with_parts`).
pub fn overdue_by_more_than(completed: &SimpleExpr, as_of: NaiveDate, days: i64, parts: Parts) -> Condition {
    let limit = as_of - chrono::Duration::days(days);
    not_done(completed, as_of).add(
        Condition::any()
            .add(Condition::all().add(one_off()).add(due().lt(limit)))
            .add(milestone_missed(parts, limit, as_of))
            .add(report_missed(parts, as_of, limit)),
    )
}

/// Due date passed (fallen due) as of `as_of`, whatever the completion; for a recurring task,
/// a period's report fell due and a lead has not sent it (so the overdue share never counts
/// an overdue task that has not fallen due).
pub fn fallen_due(as_of: NaiveDate, parts: Parts) -> Condition {
    Condition::any()
        .add(Condition::all().add(one_off()).add(due().lt(as_of)))
        .add(report_missed(parts, as_of, as_of))
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
