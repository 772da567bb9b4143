//! The one SQL definition of reporting duties (`domain::duty` is the Rust twin, and a test checks
//! them row by row): `reportingDuties`, `reportingCompliance`, the follow-up table and the
//! reminders all select from [`duties`], and a recurring task's status reads
//! [`missed_recurring_report`], so a list, its counts and a task's status cannot disagree.
//!
//! The statement is `SELECT … state FROM (SELECT …, submitted_on, waived FROM (<task duties>
//! UNION ALL <recurring duties> UNION ALL <regime duties>))`. Each part starts from the caller's
//! own assignments (`Scope::find` and `Scope::assignment_holders`: an agency sees the duties it
//! holds) and joins `reporting_calendar` for the periods; filters are pushed into every part.
//! Due dates are computed in SQL from the calendar row and the rule, with each backend's date
//! arithmetic.

use chrono::NaiveDate;
use entity::enums::{AssignmentRole, Recurrence, ReportState};
use entity::{assignment, directive, progress_report, task};
use sea_orm::sea_query::{
    Alias, CaseStatement, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, SimpleExpr, UnionType,
};
use sea_orm::{Condition, DbBackend, QueryFilter, QueryTrait};

use crate::auth::Scope;
use crate::domain::duty::{CalendarRow, DueRule, DutySource, DutyState, latest_fallen_due, recurring_rule};
use crate::domain::period::{PeriodId, PeriodType};

pub use crate::domain::duty::DutyParams;

/// Which duties (besides the scope).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DutyFilter {
    pub agency_ids: Option<Vec<i32>>,
    pub directive_id: Option<i32>,
    pub task_id: Option<i32>,
    pub assignment_id: Option<i32>,
    /// Duties whose period lies within this one (`domain::duty::within`).
    pub period: Option<PeriodId>,
    pub states: Option<Vec<DutyState>>,
}

fn cal() -> Alias {
    Alias::new("c")
}
fn first() -> Alias {
    Alias::new("c_first")
}
fn last() -> Alias {
    Alias::new("c_last")
}
fn regime() -> Alias {
    Alias::new("g")
}
fn base() -> Alias {
    Alias::new("b")
}
fn with_state() -> Alias {
    Alias::new("x")
}
fn c(col: &str) -> Expr {
    Expr::col((cal(), Alias::new(col)))
}
fn a(col: assignment::Column) -> Expr {
    Expr::col((assignment::Entity, col))
}
fn t(col: task::Column) -> Expr {
    Expr::col((task::Entity, col))
}

/// `date + days` on either backend.
fn plus_days(backend: DbBackend, date: SimpleExpr, days: SimpleExpr) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs("($1 + ($2)::integer)", [date, days]),
        // SQLite's custom expressions take `?` placeholders, in order.
        _ => Expr::cust_with_exprs("date(?, '+' || (?) || ' days')", [date, days]),
    }
}

/// The earlier of two dates.
fn earlier(backend: DbBackend, x: SimpleExpr, y: SimpleExpr) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs("LEAST($1, $2)", [x, y]),
        _ => Expr::cust_with_exprs("MIN(?, ?)", [x, y]),
    }
}

/// The civil date of a timestamp column (the directive's creation, when it has no issue date).
pub(crate) fn civil_date_of(backend: DbBackend, at: SimpleExpr) -> SimpleExpr {
    date_of(backend, at)
}

fn date_of(backend: DbBackend, at: SimpleExpr) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_exprs("(($1) AT TIME ZONE 'UTC' + interval '7 hours')::date", [at])
        }
        _ => Expr::cust_with_exprs("date(?, '+7 hours')", [at]),
    }
}

/// Day `day` of the calendar row's last month, or its last day.
fn day_of_last_month(backend: DbBackend, day: SimpleExpr) -> SimpleExpr {
    earlier(
        backend,
        plus_days(backend, c("last_month_start"), Expr::expr(day).sub(1)),
        c("last_month_end"),
    )
}

fn period_type_of(r: Recurrence) -> PeriodType {
    crate::tasks::stored::from_recurrence(r).period_type()
}

const RECURRENCES: [Recurrence; 4] = [
    Recurrence::Monthly,
    Recurrence::Quarterly,
    Recurrence::HalfYearly,
    Recurrence::Yearly,
];

/// The calendar's period type for a task's recurrence.
fn recurrence_period_type() -> SimpleExpr {
    let mut case = CaseStatement::new();
    for r in RECURRENCES {
        case = case.case(t(task::Column::Recurrence).eq(r), period_type_of(r).as_str());
    }
    case.into()
}

/// The calendar row lies within the filter's period.
fn within(period: PeriodId) -> Condition {
    let row = CalendarRow::of(period);
    let mut cond = Condition::all().add(c("year").eq(row.year));
    match period.period_type() {
        PeriodType::Year => {}
        PeriodType::Half => {
            cond = cond.add(c("half").eq(row.half as i32));
        }
        PeriodType::Quarter => {
            cond = cond.add(c("quarter").eq(row.quarter.map(|q| q as i32)));
        }
        PeriodType::Month => {
            cond = cond.add(c("month").eq(row.month.map(|m| m as i32)));
        }
    }
    cond
}

/// A periodic duty's period applies to the assignment: begun by `as_of`, its cut-off on or
/// after the directive's issue date, and begun before the assignment (or task) was completed.
fn periodic(backend: DbBackend, as_of: NaiveDate) -> Condition {
    let issued = Expr::expr(Expr::col((directive::Entity, directive::Column::IssuedOn))).if_null(date_of(
        backend,
        Expr::col((directive::Entity, directive::Column::CreatedAt)),
    ));
    let completed = Expr::expr(a(assignment::Column::CompletedOn)).if_null(t(task::Column::CompletedOn));
    // A period that has begun ends (cut-off) within a year and a month of its start: the
    // bound on `ends_on` keeps the calendar join a short index range.
    let latest_end = as_of + chrono::Duration::days(400);
    Condition::all()
        .add(c("starts_on").lte(as_of))
        .add(c("ends_on").lte(latest_end))
        .add(c("ends_on").gte(issued))
        .add(
            Condition::any()
                .add(completed.clone().is_null())
                .add(c("starts_on").lte(completed)),
        )
        .add(owes_by(c("ends_on")))
}

/// The assignment answers for a report due (or cut off) on `day`: it held the duty then
/// (`assignments.owes_from`).
fn owes_by(day: Expr) -> Condition {
    Condition::any()
        .add(a(assignment::Column::OwesFrom).is_null())
        .add(day.gte(a(assignment::Column::OwesFrom)))
}

/// The caller's assignments with their tasks and directives, filtered: what every part starts from.
fn holders(scope: &Scope, filter: &DutyFilter) -> SelectStatement {
    let mut q = scope
        .find::<assignment::Entity>()
        .filter(scope.assignment_holders())
        .into_query();
    q.clear_selects();
    q.inner_join(
        task::Entity,
        t(task::Column::Id).equals((assignment::Entity, assignment::Column::TaskId)),
    )
    .inner_join(
        directive::Entity,
        Expr::col((directive::Entity, directive::Column::Id))
            .equals((task::Entity, task::Column::DirectiveId)),
    );
    if let Some(ids) = &filter.agency_ids {
        q.and_where(a(assignment::Column::AgencyId).is_in(ids.iter().copied()));
    }
    if let Some(id) = filter.directive_id {
        q.and_where(t(task::Column::DirectiveId).eq(id));
    }
    if let Some(id) = filter.task_id {
        q.and_where(a(assignment::Column::TaskId).eq(id));
    }
    if let Some(id) = filter.assignment_id {
        q.and_where(a(assignment::Column::Id).eq(id));
    }
    q
}

fn select_columns(q: &mut SelectStatement, source: DutySource, due_on: SimpleExpr) {
    q.expr_as(a(assignment::Column::Id), Alias::new("assignment_id"))
        .expr_as(a(assignment::Column::AgencyId), Alias::new("agency_id"))
        .expr_as(a(assignment::Column::TaskId), Alias::new("task_id"))
        .expr_as(t(task::Column::DirectiveId), Alias::new("directive_id"))
        .expr_as(Expr::val(source.as_str()), Alias::new("source"))
        .expr_as(c("period"), Alias::new("period"))
        .expr_as(due_on, Alias::new("due_on"));
}

fn lead() -> SimpleExpr {
    a(assignment::Column::Role).eq(AssignmentRole::Lead)
}

/// The condition of a task report's duty on a calendar row: a lead's, for a one-off task that
/// requires a report, in the month of its due date.
fn task_report_on_row() -> Condition {
    Condition::all()
        .add(t(task::Column::RequiresReport).eq(true))
        .add(t(task::Column::Recurrence).is_null())
        .add(t(task::Column::DueOn).is_not_null())
        .add(lead())
        .add(c("period_type").eq(PeriodType::Month.as_str()))
        .add(t(task::Column::DueOn).gte(c("last_month_start")))
        .add(t(task::Column::DueOn).lte(c("last_month_end")))
}

/// Duties of task reports.
fn task_part(scope: &Scope, filter: &DutyFilter) -> SelectStatement {
    let mut q = holders(scope, filter);
    q.join_as(
        JoinType::InnerJoin,
        crate::db::calendar::table(),
        cal(),
        task_report_on_row(),
    );
    select_columns(&mut q, DutySource::Task, t(task::Column::DueOn));
    q.cond_where(owes_by(t(task::Column::DueOn)));
    if let Some(p) = filter.period {
        q.cond_where(within(p));
    }
    q
}

/// Duties of recurring tasks.
fn recurring_part(backend: DbBackend, scope: &Scope, filter: &DutyFilter, p: &DutyParams) -> SelectStatement {
    let mut q = holders(scope, filter);
    q.join_as(
        JoinType::InnerJoin,
        crate::db::calendar::table(),
        cal(),
        Condition::all()
            .add(t(task::Column::Recurrence).is_not_null())
            .add(lead())
            .add(c("period_type").eq(recurrence_period_type())),
    );
    select_columns(
        &mut q,
        DutySource::Recurring,
        match recurring_rule() {
            DueRule::DayOfLastMonth(day) => day_of_last_month(backend, Expr::val(day as i32)),
            DueRule::DaysAfterCutoff(n) => plus_days(backend, c("ends_on"), Expr::val(n as i32)),
        },
    );
    q.cond_where(periodic(backend, p.as_of));
    if let Some(period) = filter.period {
        q.cond_where(within(period));
    }
    q
}

/// Duties of directives' regimes (except where a task report or a recurring duty already owes
/// that assignment's report for the period: one duty per assignment and period).
fn regime_part(backend: DbBackend, scope: &Scope, filter: &DutyFilter, p: &DutyParams) -> SelectStatement {
    let g = |col: &str| Expr::col((regime(), Alias::new(col)));
    let mut q = holders(scope, filter);
    q.join_as(
        JoinType::InnerJoin,
        Alias::new("reporting_regimes"),
        regime(),
        g("directive_id").equals((task::Entity, task::Column::DirectiveId)),
    )
    .join_as(
        JoinType::InnerJoin,
        crate::db::calendar::table(),
        cal(),
        c("period_type").equals((regime(), Alias::new("period_type"))),
    )
    .join_as(
        JoinType::InnerJoin,
        crate::db::calendar::table(),
        first(),
        Expr::col((first(), Alias::new("period"))).equals((regime(), Alias::new("first_period"))),
    )
    .join_as(
        JoinType::LeftJoin,
        crate::db::calendar::table(),
        last(),
        Expr::col((last(), Alias::new("period"))).equals((regime(), Alias::new("last_period"))),
    );
    let due: SimpleExpr = Expr::case(
        g("due_rule").eq("DAY_OF_LAST_MONTH"),
        day_of_last_month(backend, g("due_value")),
    )
    .finally(plus_days(backend, c("ends_on"), g("due_value")))
    .into();
    select_columns(&mut q, DutySource::Regime, due);
    q.cond_where(Condition::any().add(g("reporters").eq("ALL_HOLDERS")).add(lead()))
        .and_where(c("starts_on").gte(Expr::col((first(), Alias::new("starts_on")))))
        .cond_where(
            Condition::any()
                .add(g("last_period").is_null())
                .add(c("ends_on").lte(Expr::col((last(), Alias::new("ends_on"))))),
        )
        .cond_where(periodic(backend, p.as_of))
        .cond_where(task_report_on_row().not())
        .cond_where(
            Condition::all()
                .add(lead())
                .add(t(task::Column::Recurrence).is_not_null())
                .add(recurrence_period_type().eq(c("period_type")))
                .not(),
        );
    if let Some(period) = filter.period {
        q.cond_where(within(period));
    }
    q
}

fn b(col: &str) -> Expr {
    Expr::col((base(), Alias::new(col)))
}

/// The reports that fulfil the base row's duty by `as_of`: submitted or accepted on the
/// assignment, for its period (a task report's duty: any period).
fn fulfilling(as_of: NaiveDate) -> SelectStatement {
    use progress_report::Column as R;
    let r = |col: R| Expr::col((progress_report::Entity, col));
    Query::select()
        .from(progress_report::Entity)
        .and_where(r(R::AssignmentId).equals((base(), Alias::new("assignment_id"))))
        .and_where(r(R::State).is_in([ReportState::Submitted, ReportState::Accepted]))
        .and_where(r(R::SubmittedOn).lte(as_of))
        .cond_where(
            Condition::any()
                .add(b("source").eq(DutySource::Task.as_str()))
                .add(r(R::Period).equals((base(), Alias::new("period")))),
        )
        .to_owned()
}

/// Every duty the scope holds that matches the filter, one row per assignment and period:
/// `assignment_id, agency_id, task_id, directive_id, source, period, due_on, submitted_on,
/// waived (0/1), state` (and `report_id`, the first fulfilling report, when `with_report`).
pub fn duties(
    backend: DbBackend,
    scope: &Scope,
    filter: &DutyFilter,
    p: &DutyParams,
    with_report: bool,
) -> SelectStatement {
    let mut union = task_part(scope, filter);
    union
        .union(UnionType::All, recurring_part(backend, scope, filter, p))
        .union(UnionType::All, regime_part(backend, scope, filter, p));

    use progress_report::Column as R;
    let mut middle = Query::select();
    middle.from_subquery(union, base());
    for col in [
        "assignment_id",
        "agency_id",
        "task_id",
        "directive_id",
        "source",
        "period",
        "due_on",
    ] {
        middle.expr_as(b(col), Alias::new(col));
    }
    let mut first_on = fulfilling(p.as_of);
    first_on.expr(Expr::col((progress_report::Entity, R::SubmittedOn)).min());
    middle.expr_as(
        Expr::SubQuery(None, Box::new(first_on.into())),
        Alias::new("submitted_on"),
    );
    if with_report {
        let mut first_id = fulfilling(p.as_of);
        first_id
            .column((progress_report::Entity, R::Id))
            .order_by((progress_report::Entity, R::SubmittedOn), Order::Asc)
            .order_by((progress_report::Entity, R::Id), Order::Asc)
            .limit(1);
        middle.expr_as(
            Expr::SubQuery(None, Box::new(first_id.into())),
            Alias::new("report_id"),
        );
    }
    let waiver = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new("reporting_waivers"))
        .and_where(
            Expr::col((Alias::new("reporting_waivers"), Alias::new("assignment_id")))
                .equals((base(), Alias::new("assignment_id"))),
        )
        .and_where(
            Expr::col((Alias::new("reporting_waivers"), Alias::new("period")))
                .equals((base(), Alias::new("period"))),
        )
        .to_owned();
    middle.expr_as(
        Expr::case(Expr::exists(waiver), 1).finally(0),
        Alias::new("waived"),
    );

    let x = |col: &str| Expr::col((with_state(), Alias::new(col)));
    let soon = p.as_of + chrono::Duration::days(i64::from(p.due_soon_days));
    let state: SimpleExpr = Expr::case(
        Condition::all()
            .add(x("submitted_on").is_not_null())
            .add(x("submitted_on").lte(x("due_on"))),
        DutyState::SubmittedOnTime.as_str(),
    )
    .case(x("submitted_on").is_not_null(), DutyState::SubmittedLate.as_str())
    .case(x("waived").eq(1), DutyState::Waived.as_str())
    .case(x("due_on").lt(p.as_of), DutyState::Overdue.as_str())
    .case(x("due_on").lte(soon), DutyState::DueSoon.as_str())
    .finally(DutyState::NotDue.as_str())
    .into();

    // A fence: with a LIMIT the planner keeps the middle query as it is instead of pulling it
    // up, so each row's correlated subqueries run once, not once per reference in the CASE
    // and in the counts above it (PostgreSQL re-evaluated them up to seven times a row).
    middle.limit(i64::MAX as u64);
    let mut outer = Query::select();
    outer.from_subquery(middle, with_state());
    let mut cols = vec![
        "assignment_id",
        "agency_id",
        "task_id",
        "directive_id",
        "source",
        "period",
        "due_on",
        "submitted_on",
        "waived",
    ];
    if with_report {
        cols.push("report_id");
    }
    for col in cols {
        outer.expr_as(x(col), Alias::new(col));
    }
    outer.expr_as(state.clone(), Alias::new("state"));
    if let Some(states) = &filter.states {
        outer.and_where(Expr::expr(state).is_in(states.iter().map(|s| s.as_str())));
    }
    outer
}

/// For one recurrence: the due date of the latest report fallen due as of `as_of`, and the
/// condition (on a row of `tasks`) that a lead of a task with that recurrence owes it: neither
/// submitted by `as_of` nor waived, the task unfinished then. One per recurrence, shared by
/// [`missed_recurring_report`] and [`missed_report_due`]. The Rust twin is
/// `duties::twin::recurring_parts`.
fn owed_recurring(r: Recurrence, as_of: NaiveDate) -> (NaiveDate, Condition) {
    use progress_report::Column as R;
    let lead_row = Alias::new("rl");
    let l = |col: assignment::Column| Expr::col((lead_row.clone(), col));
    let period = latest_fallen_due(period_type_of(r), recurring_rule(), as_of);
    let due = recurring_rule().due_on(period);
    let row = CalendarRow::of(period);
    // Counted by scalar subqueries, not EXISTS: the planner would turn a NOT EXISTS into an
    // anti-join hashing every report of the period for each use, where this probes the
    // (assignment, period) index for the few leads of recurring tasks.
    let report = Query::select()
        .expr(Expr::col(sea_orm::sea_query::Asterisk).count())
        .from(progress_report::Entity)
        .and_where(
            Expr::col((progress_report::Entity, R::AssignmentId))
                .equals((lead_row.clone(), assignment::Column::Id)),
        )
        .and_where(Expr::col((progress_report::Entity, R::Period)).eq(period.to_string()))
        .and_where(
            Expr::col((progress_report::Entity, R::State))
                .is_in([ReportState::Submitted, ReportState::Accepted]),
        )
        .and_where(Expr::col((progress_report::Entity, R::SubmittedOn)).lte(as_of))
        .to_owned();
    let waiver = Query::select()
        .expr(Expr::col(sea_orm::sea_query::Asterisk).count())
        .from(Alias::new("reporting_waivers"))
        .and_where(
            Expr::col((Alias::new("reporting_waivers"), Alias::new("assignment_id")))
                .equals((lead_row.clone(), assignment::Column::Id)),
        )
        .and_where(Expr::col((Alias::new("reporting_waivers"), Alias::new("period"))).eq(period.to_string()))
        .to_owned();
    let issued = Expr::col((directive::Entity, directive::Column::IssuedOn));
    // The civil day after the cut-off began at 00:00 in Vietnam, 17:00 UTC the day before.
    let after_cutoff = (row.ends_on + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - chrono::Duration::hours(7));
    let created_by_cutoff = match after_cutoff {
        Some(at) => Condition::all()
            .add(issued.clone().is_null())
            .add(Expr::col((directive::Entity, directive::Column::CreatedAt)).lt(at)),
        None => Condition::all().add(issued.clone().is_null()),
    };
    let owed = Condition::all()
        // The period's cut-off on or after the issue date (no issue date: the day
        // the directive was entered), as in `periodic`.
        .add(
            Condition::any()
                .add(issued.lte(row.ends_on))
                .add(created_by_cutoff),
        )
        .add(
            Condition::any()
                .add(l(assignment::Column::CompletedOn).is_null())
                .add(l(assignment::Column::CompletedOn).gte(row.starts_on)),
        )
        .add(
            Condition::any()
                .add(l(assignment::Column::OwesFrom).is_null())
                .add(l(assignment::Column::OwesFrom).lte(row.ends_on)),
        )
        .add(Expr::SubQuery(None, Box::new(report.into())).eq(0))
        .add(Expr::SubQuery(None, Box::new(waiver.into())).eq(0));
    let sub = Query::select()
        .expr(Expr::val(1))
        .from_as(assignment::Entity, lead_row.clone())
        .inner_join(
            directive::Entity,
            Expr::col((directive::Entity, directive::Column::Id))
                .equals((task::Entity, task::Column::DirectiveId)),
        )
        .and_where(l(assignment::Column::TaskId).equals((task::Entity, task::Column::Id)))
        .and_where(l(assignment::Column::Role).eq(AssignmentRole::Lead))
        .cond_where(owed)
        .cond_where(
            Condition::any()
                .add(t(task::Column::CompletedOn).is_null())
                .add(t(task::Column::CompletedOn).gt(as_of)),
        )
        .to_owned();
    (
        due,
        Condition::all()
            .add(t(task::Column::Recurrence).eq(r))
            .add(Expr::exists(sub)),
    )
}

/// A recurring task's latest fallen-due report (as of `as_of`, due before `before`) is owed by
/// one of its leads and neither submitted by `as_of` nor waived, the task unfinished then: the
/// task is overdue (`tasks::status_sql`). Evaluated where it stands (a filter's WHERE); a
/// statement that asks it of each row several times reads [`missed_report_due`] once instead.
pub fn missed_recurring_report(as_of: NaiveDate, before: NaiveDate) -> Condition {
    let mut owed = Condition::any();
    for r in RECURRENCES {
        let (due, cond) = owed_recurring(r, as_of);
        if due < before {
            owed = owed.add(cond);
        }
    }
    if owed.is_empty() {
        return Condition::all().add(Expr::cust("1 = 0"));
    }
    Condition::all()
        .add(t(task::Column::Recurrence).is_not_null())
        .add(owed)
}

/// The due date of the report [`missed_recurring_report`] finds missing for the row of
/// `tasks` as of `as_of` (null when none is): `missed_recurring_report(as_of, before)` holds
/// exactly when this is before `before`. Computed once per row by `taskStatistics`, whose
/// counts ask it six times.
pub fn missed_report_due(as_of: NaiveDate) -> SimpleExpr {
    let none: Option<NaiveDate> = None;
    let mut case = Expr::case(t(task::Column::Recurrence).is_null(), Expr::val(none));
    for r in RECURRENCES {
        let (due, cond) = owed_recurring(r, as_of);
        case = case.case(cond, Expr::val(due));
    }
    case.into()
}
