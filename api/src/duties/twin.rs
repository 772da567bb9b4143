//! The duties of one assignment computed in Rust from its rows, by the rules of `domain::duty`:
//! the twin of the SQL definition (`duties::sql`). A recurring task's status reads
//! [`recurring_parts`]; the integration test `duties_sql_matches_rust` compares [`duties_of`]
//! with `reportingDuties` row by row.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::{
    AssignmentRole, DueRule as StoredRule, Recurrence, RegimePeriod, ReportState, Reporters,
};
use entity::{assignment, directive, progress_report, reporting_regime, reporting_waiver, task};

use super::loaders::Fulfilment;
use crate::clock::civil_date;
use crate::domain::duty::{
    CalendarRow, DueRule, DutySource, DutyState, latest_fallen_due, recurring_rule, state,
};
use crate::domain::period::{PeriodId, PeriodType};
use crate::domain::status::Part;

/// One duty as the rules derive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyRow {
    pub assignment_id: i32,
    pub period: String,
    pub source: DutySource,
    pub due_on: NaiveDate,
    pub submitted_on: Option<NaiveDate>,
    pub waived: bool,
    pub state: DutyState,
}

/// The rows a set of duties is derived from.
pub struct Inputs<'a> {
    pub tasks: &'a HashMap<i32, task::Model>,
    pub directives: &'a HashMap<i32, directive::Model>,
    /// By directive id.
    pub regimes: &'a HashMap<i32, reporting_regime::Model>,
    pub reports: &'a [progress_report::Model],
    pub waivers: &'a [reporting_waiver::Model],
}

pub fn period_type_of_recurrence(r: Recurrence) -> PeriodType {
    crate::tasks::stored::from_recurrence(r).period_type()
}

/// The calendar period of a stored regime type (for the twin, the mutation and the seed).
pub fn period_type_of_regime(r: RegimePeriod) -> PeriodType {
    match r {
        RegimePeriod::Month => PeriodType::Month,
        RegimePeriod::Quarter => PeriodType::Quarter,
        RegimePeriod::Half => PeriodType::Half,
        RegimePeriod::Year => PeriodType::Year,
    }
}

/// A regime's stored rule.
pub fn rule_of(r: &reporting_regime::Model) -> DueRule {
    let v = r.due_value.max(0) as u32;
    match r.due_rule {
        StoredRule::DayOfLastMonth => DueRule::DayOfLastMonth(v),
        StoredRule::DaysAfterCutoff => DueRule::DaysAfterCutoff(v),
    }
}

/// The day a directive's periodic duties start from: its issue date, else the day it was entered.
pub fn issued(d: &directive::Model) -> NaiveDate {
    d.issued_on.unwrap_or_else(|| civil_date(d.created_at))
}

/// The periods of type `t` owed by an assignment: begun by `as_of`, cut-off on or after
/// `issued` and on or after the day the row answers from (`owes_from`), begun before the
/// assignment (or task) was completed.
fn periodic(
    t: PeriodType,
    issued: NaiveDate,
    completed: Option<NaiveDate>,
    owes_from: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Vec<PeriodId> {
    let first_year = crate::db::calendar::FIRST_YEAR;
    let last_year = crate::db::calendar::LAST_YEAR;
    let mut p = PeriodId::containing(issued, t).prev();
    let mut out = Vec::new();
    loop {
        let row = CalendarRow::of(p);
        if row.starts_on > as_of || p.year() > last_year {
            break;
        }
        if row.ends_on >= issued
            && completed.is_none_or(|c| row.starts_on <= c)
            && owes_from.is_none_or(|o| row.ends_on >= o)
            && p.year() >= first_year
        {
            out.push(p);
        }
        p = p.next();
    }
    out
}

/// The duties of one assignment as of a day.
pub fn duties_of(
    a: &assignment::Model,
    inputs: &Inputs,
    as_of: NaiveDate,
    due_soon_days: u32,
) -> Vec<DutyRow> {
    let Some(t) = inputs.tasks.get(&a.task_id) else {
        return Vec::new();
    };
    let Some(d) = inputs.directives.get(&t.directive_id) else {
        return Vec::new();
    };
    let lead = a.role == AssignmentRole::Lead;
    let completed = a.completed_on.or(t.completed_on);
    let mut owed: Vec<(PeriodId, DutySource, NaiveDate)> = Vec::new();
    let task_report = match (lead, t.requires_report, t.recurrence, t.due_on) {
        (true, true, None, Some(due)) => Some((PeriodId::containing(due, PeriodType::Month), due)),
        _ => None,
    };
    let owed_task_report = match task_report {
        Some((p, due)) if a.owes_from.is_none_or(|o| due >= o) => Some((p, due)),
        _ => None,
    };
    if let Some((p, due)) = owed_task_report
        && (crate::db::calendar::FIRST_YEAR..=crate::db::calendar::LAST_YEAR).contains(&p.year())
    {
        owed.push((p, DutySource::Task, due));
    }
    let recurring = t.recurrence.filter(|_| lead).map(period_type_of_recurrence);
    if let Some(pt) = recurring {
        for p in periodic(pt, issued(d), completed, a.owes_from, as_of) {
            owed.push((p, DutySource::Recurring, recurring_rule().due_on(p)));
        }
    }
    if let Some(g) = inputs.regimes.get(&t.directive_id)
        && (g.reporters == Reporters::AllHolders || lead)
        && let Ok(first) = g.first_period.parse::<PeriodId>()
    {
        let pt = period_type_of_regime(g.period_type);
        let last = g.last_period.as_deref().and_then(|l| l.parse::<PeriodId>().ok());
        for p in periodic(pt, issued(d), completed, a.owes_from, as_of) {
            let row = CalendarRow::of(p);
            if row.starts_on < CalendarRow::of(first).starts_on
                || last.is_some_and(|l| row.ends_on > CalendarRow::of(l).ends_on)
                || task_report.is_some_and(|(tp, _)| tp == p)
                || recurring == Some(pt)
            {
                continue;
            }
            owed.push((p, DutySource::Regime, rule_of(g).due_on(p)));
        }
    }
    owed.into_iter()
        .map(|(p, source, due_on)| {
            let period = p.to_string();
            let submitted_on = inputs
                .reports
                .iter()
                .filter(|r| r.assignment_id == a.id)
                .filter(|r| matches!(r.state, ReportState::Submitted | ReportState::Accepted))
                .filter(|r| source == DutySource::Task || r.period == period)
                .filter_map(|r| r.submitted_on)
                .filter(|on| *on <= as_of)
                .min();
            let waived = inputs
                .waivers
                .iter()
                .any(|w| w.assignment_id == a.id && w.period == period);
            DutyRow {
                assignment_id: a.id,
                state: state(due_on, submitted_on, waived, as_of, due_soon_days),
                period,
                source,
                due_on,
                submitted_on,
                waived,
            }
        })
        .collect()
}

/// A recurring task's dated part as of a day: each lead's report of the latest period that fell
/// due (reached on the day it was sent, or on its due date when waived). The rule of
/// `duties::sql::missed_recurring_report`. `issued`: [`issued`] of the task's directive; `leads`:
/// the lead assignments' ids, completion dates and the days they answer from.
pub fn recurring_parts(
    t: &task::Model,
    issued: NaiveDate,
    leads: &[(i32, Option<NaiveDate>, Option<NaiveDate>)],
    fulfilments: &[Fulfilment],
    as_of: NaiveDate,
) -> Vec<Part> {
    let Some(r) = t.recurrence else {
        return Vec::new();
    };
    let p = latest_fallen_due(period_type_of_recurrence(r), recurring_rule(), as_of);
    let row = CalendarRow::of(p);
    let due = recurring_rule().due_on(p);
    if row.ends_on < issued {
        return Vec::new();
    }
    let period = p.to_string();
    leads
        .iter()
        .filter(|(_, completed, owes_from)| {
            completed.is_none_or(|c| c >= row.starts_on) && owes_from.is_none_or(|o| o <= row.ends_on)
        })
        .map(|(id, _, _)| {
            let reached = fulfilments
                .iter()
                .filter(|f| f.assignment_id == *id && f.period == period)
                .map(|f| f.submitted_on.unwrap_or(due))
                .min();
            Part::new(Some(due), reached, t.completed_on)
        })
        .collect()
}
