//! Reporting duties (nghĩa vụ báo cáo): what is owed, by when, and whether it was met.
//!
//! A duty is one report owed by one assignment for one period. Where duties come from:
//! - **A task's report** (`requiresReport`, a one-off due date): each lead owes one report, due on
//!   the task's due date; its period is the month of that date. Any report the lead submits on
//!   the assignment fulfils it.
//! - **A recurring task** ("hàng tháng", "hằng quý"…): each lead owes a report each period of the
//!   recurrence, due on a configurable day of the period's last month (III.3 of 10/CT-UBND: each
//!   month, before the UBND's regular meeting; `CHIDAO_RECURRING_REPORT_DAY`, the 20th by default).
//! - **A directive's regime**: every holder (or every lead) of the directive's tasks owes a
//!   progress report each period of the regime's type, due by its rule (a day of the period's last
//!   month, or a number of days after the Decree 09 data cut-off on the 14th).
//!
//! Periodic duties start with the first period whose data cut-off falls on or after the
//! directive's issue date, exist only for periods that have begun, and stop after the assignment
//! (or the task) is completed. For a periodic duty a report fulfils it when it is for that period.
//!
//! The state of a duty as of a day ([`state`]): a report submitted (or accepted) by that day,
//! on or before the due date, is on time, after it late; a returned report counts as none (the
//! duty reopens); otherwise a waived duty is waived; otherwise it is overdue after its due date,
//! due soon within `due_soon_days` of it, and not due before that. The SQL twin is
//! `duties::sql`; a test checks that they agree row by row on the seeds.

use chrono::{Datelike, NaiveDate};

use super::period::{PeriodId, PeriodType, month_end, month_start};

/// The state of one duty as of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DutyState {
    NotDue,
    DueSoon,
    SubmittedOnTime,
    SubmittedLate,
    Overdue,
    Waived,
}

impl DutyState {
    pub const ALL: [DutyState; 6] = [
        DutyState::NotDue,
        DutyState::DueSoon,
        DutyState::SubmittedOnTime,
        DutyState::SubmittedLate,
        DutyState::Overdue,
        DutyState::Waived,
    ];

    /// The stored and SQL name.
    pub fn as_str(self) -> &'static str {
        match self {
            DutyState::NotDue => "NOT_DUE",
            DutyState::DueSoon => "DUE_SOON",
            DutyState::SubmittedOnTime => "SUBMITTED_ON_TIME",
            DutyState::SubmittedLate => "SUBMITTED_LATE",
            DutyState::Overdue => "OVERDUE",
            DutyState::Waived => "WAIVED",
        }
    }

    pub fn parse(s: &str) -> Option<DutyState> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The Vietnamese label of the follow-up table.
    pub fn label_vi(self) -> &'static str {
        match self {
            DutyState::NotDue => "Chưa đến hạn",
            DutyState::DueSoon => "Sắp đến hạn",
            DutyState::SubmittedOnTime => "Đã báo cáo đúng hạn",
            DutyState::SubmittedLate => "Đã báo cáo muộn",
            DutyState::Overdue => "Quá hạn chưa báo cáo",
            DutyState::Waived => "Được miễn",
        }
    }

    /// Whether the duty counts as expected in the reporting rate (fallen due, or met early).
    pub fn is_expected(self) -> bool {
        matches!(
            self,
            DutyState::SubmittedOnTime | DutyState::SubmittedLate | DutyState::Overdue
        )
    }
}

/// The day of the period's last month a recurring task's report is due, unless set otherwise
/// (`CHIDAO_RECURRING_REPORT_DAY`).
pub const DEFAULT_RECURRING_DAY: u32 = 20;

static RECURRING_DAY: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(DEFAULT_RECURRING_DAY);

/// Sets the day of [`recurring_rule`] for the process (the service does it once at start, from
/// its settings; 1–31).
pub fn set_recurring_day(day: u32) {
    RECURRING_DAY.store(day.clamp(1, 31), std::sync::atomic::Ordering::Relaxed);
}

/// The rule recurring tasks' reports follow: a day of the period's last month. One setting for
/// the province, read where a status is computed (in Rust and in SQL alike).
pub fn recurring_rule() -> DueRule {
    DueRule::DayOfLastMonth(RECURRING_DAY.load(std::sync::atomic::Ordering::Relaxed))
}

/// What duties are computed with besides the filter: the day, and the due-soon window.
#[derive(Debug, Clone, Copy)]
pub struct DutyParams {
    pub as_of: NaiveDate,
    /// A duty not submitted and due within this many days is `DUE_SOON`.
    pub due_soon_days: u32,
}

/// What duties are computed with, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct DutySettings {
    /// `CHIDAO_DUE_SOON_DAYS`: a duty due within this many days is DUE_SOON.
    pub due_soon_days: u32,
}

impl Default for DutySettings {
    fn default() -> Self {
        DutySettings { due_soon_days: 5 }
    }
}

impl DutySettings {
    pub fn params(&self, as_of: NaiveDate) -> DutyParams {
        DutyParams {
            as_of,
            due_soon_days: self.due_soon_days,
        }
    }
}

/// Where a duty comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DutySource {
    Task,
    Recurring,
    Regime,
}

impl DutySource {
    pub fn as_str(self) -> &'static str {
        match self {
            DutySource::Task => "TASK",
            DutySource::Recurring => "RECURRING",
            DutySource::Regime => "REGIME",
        }
    }

    pub fn parse(s: &str) -> Option<DutySource> {
        [DutySource::Task, DutySource::Recurring, DutySource::Regime]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// When in its period a periodic report is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DueRule {
    /// Day `n` (1–31) of the period's last calendar month; a day past the month's end is its
    /// last day.
    DayOfLastMonth(u32),
    /// `n` days (0–60) after the period's data cut-off (the 14th of its last month).
    DaysAfterCutoff(u32),
}

/// Longest a regime may put a report after the cut-off.
pub const MAX_DAYS_AFTER_CUTOFF: u32 = 60;

/// A directive's reporting regime as an administrator (`setReportingRegime`) or a seed file
/// gives it, checked by [`check_regime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegimeSpec {
    pub period_type: PeriodType,
    pub rule: DueRule,
    pub first: PeriodId,
    pub last: Option<PeriodId>,
}

/// Why a regime was refused: which of its fields (`dueValue`, `firstPeriod`, `lastPeriod`) and
/// a message for the clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegimeRefusal {
    pub field: &'static str,
    pub message: String,
}

/// The one check of a regime, for the API and the seed alike: the due day within its range,
/// both periods of the regime's type and within `years` (the reporting calendar's), the last
/// not before the first.
pub fn check_regime(
    period_type: PeriodType,
    rule: DueRule,
    first: &str,
    last: Option<&str>,
    years: std::ops::RangeInclusive<i32>,
) -> Result<RegimeSpec, RegimeRefusal> {
    let refuse = |field: &'static str, message: String| RegimeRefusal { field, message };
    match rule {
        DueRule::DayOfLastMonth(d) if !(1..=31).contains(&d) => {
            return Err(refuse(
                "dueValue",
                "Ngày trong tháng cuối kỳ phải từ 1 đến 31".into(),
            ));
        }
        DueRule::DaysAfterCutoff(n) if n > MAX_DAYS_AFTER_CUTOFF => {
            return Err(refuse(
                "dueValue",
                format!("Số ngày sau ngày chốt số liệu phải từ 0 đến {MAX_DAYS_AFTER_CUTOFF}"),
            ));
        }
        _ => {}
    }
    let period = |field: &'static str, value: &str| -> Result<PeriodId, RegimeRefusal> {
        let p: PeriodId = value
            .trim()
            .parse()
            .map_err(|e: crate::domain::period::PeriodError| refuse(field, e.to_string()))?;
        if p.period_type() != period_type {
            return Err(refuse(
                field,
                format!(
                    "Kỳ {p} không phải loại {} của chế độ báo cáo",
                    period_type.as_str()
                ),
            ));
        }
        if !years.contains(&p.year()) {
            return Err(refuse(
                field,
                format!(
                    "Chế độ báo cáo chỉ áp dụng cho các năm {}–{}",
                    years.start(),
                    years.end()
                ),
            ));
        }
        Ok(p)
    };
    let first = period("firstPeriod", first)?;
    let last = last.map(|l| period("lastPeriod", l)).transpose()?;
    if let Some(l) = last
        && l < first
    {
        return Err(refuse(
            "lastPeriod",
            format!("Kỳ cuối {l} đứng trước kỳ đầu {first}"),
        ));
    }
    Ok(RegimeSpec {
        period_type,
        rule,
        first,
        last,
    })
}

impl DueRule {
    /// The due date of a period's report.
    pub fn due_on(self, period: PeriodId) -> NaiveDate {
        let row = CalendarRow::of(period);
        match self {
            DueRule::DayOfLastMonth(day) => row
                .last_month_start
                .checked_add_days(chrono::Days::new(u64::from(day.max(1) - 1)))
                .map_or(row.last_month_end, |d| d.min(row.last_month_end)),
            DueRule::DaysAfterCutoff(n) => row
                .ends_on
                .checked_add_days(chrono::Days::new(u64::from(n)))
                .unwrap_or(row.ends_on),
        }
    }
}

/// One period as `reporting_calendar` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarRow {
    pub period: PeriodId,
    pub year: i32,
    pub half: u32,
    pub quarter: Option<u32>,
    pub month: Option<u32>,
    /// The data cut-off range (Decree 09): from the 15th before the period to the 14th of its last
    /// month.
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The period's last calendar month.
    pub last_month_start: NaiveDate,
    pub last_month_end: NaiveDate,
}

impl CalendarRow {
    pub fn of(period: PeriodId) -> CalendarRow {
        let (starts_on, ends_on) = period.reporting_range();
        let (_, cal_end) = period.calendar_range();
        let last_month_start = month_start(cal_end.year(), cal_end.month()).unwrap_or(cal_end);
        let last_month_end = month_end(cal_end.year(), cal_end.month()).unwrap_or(cal_end);
        let first_month = period.calendar_range().0.month();
        let (half, quarter, month) = match period.period_type() {
            PeriodType::Month => (
                (first_month - 1) / 6 + 1,
                Some((first_month - 1) / 3 + 1),
                Some(first_month),
            ),
            PeriodType::Quarter => ((first_month - 1) / 6 + 1, Some(period.index()), None),
            PeriodType::Half => (period.index(), None, None),
            // A year belongs to no half: `half` 0 keeps it out of a half's filter.
            PeriodType::Year => (0, None, None),
        };
        CalendarRow {
            period,
            year: period.year(),
            half,
            quarter,
            month,
            starts_on,
            ends_on,
            last_month_start,
            last_month_end,
        }
    }
}

/// Whether period `inner` lies within `outer` (equal, or finer and inside it): a filter on
/// `2025Q4` selects the quarter's duty and those of its months.
pub fn within(inner: PeriodId, outer: PeriodId) -> bool {
    let (a, b) = (CalendarRow::of(inner), CalendarRow::of(outer));
    if a.year != b.year || inner.period_type() > outer.period_type() {
        return false;
    }
    match outer.period_type() {
        PeriodType::Year => true,
        PeriodType::Half => a.half == b.half && inner.period_type() != PeriodType::Year,
        PeriodType::Quarter => a.quarter.is_some() && a.quarter == b.quarter,
        PeriodType::Month => a.month.is_some() && a.month == b.month,
    }
}

/// The state of a duty due on `due_on`, given the civil date its first fulfilling report was
/// submitted (reports submitted after `as_of` are not known on `as_of`) and whether it was
/// waived.
pub fn state(
    due_on: NaiveDate,
    submitted_on: Option<NaiveDate>,
    waived: bool,
    as_of: NaiveDate,
    due_soon_days: u32,
) -> DutyState {
    match submitted_on.filter(|d| *d <= as_of) {
        Some(d) if d <= due_on => DutyState::SubmittedOnTime,
        Some(_) => DutyState::SubmittedLate,
        None if waived => DutyState::Waived,
        None if due_on < as_of => DutyState::Overdue,
        None if (due_on - as_of).num_days() <= i64::from(due_soon_days) => DutyState::DueSoon,
        None => DutyState::NotDue,
    }
}

/// Days past the due date: of the submission for a late report, of `as_of` for an overdue
/// duty; `None` otherwise.
pub fn days_late(
    state: DutyState,
    due_on: NaiveDate,
    submitted_on: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Option<i64> {
    match state {
        DutyState::SubmittedLate => submitted_on.map(|d| (d - due_on).num_days()),
        DutyState::Overdue => Some((as_of - due_on).num_days()),
        _ => None,
    }
}

/// The latest period of type `t` whose report (under `rule`) fell due before `as_of`: the
/// period whose duty decides whether a recurring task is overdue.
pub fn latest_fallen_due(t: PeriodType, rule: DueRule, as_of: NaiveDate) -> PeriodId {
    let mut p = PeriodId::containing(as_of, t);
    // The period containing a date may end (cut-off) after it and be due later still; step
    // back until one fell due. Two steps at most: a period's report is due within its last
    // month or the two months after its cut-off.
    for _ in 0..4 {
        if rule.due_on(p) < as_of {
            return p;
        }
        p = p.prev();
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }
    fn p(s: &str) -> PeriodId {
        s.parse().expect("period")
    }

    #[test]
    fn due_dates_follow_the_rule() {
        assert_eq!(DueRule::DayOfLastMonth(20).due_on(p("202501")), d(2025, 1, 20));
        assert_eq!(DueRule::DayOfLastMonth(20).due_on(p("2025Q1")), d(2025, 3, 20));
        assert_eq!(DueRule::DayOfLastMonth(31).due_on(p("202502")), d(2025, 2, 28));
        assert_eq!(DueRule::DayOfLastMonth(31).due_on(p("2025S1")), d(2025, 6, 30));
        assert_eq!(DueRule::DaysAfterCutoff(0).due_on(p("2025Q4")), d(2025, 12, 14));
        assert_eq!(DueRule::DaysAfterCutoff(6).due_on(p("2025")), d(2025, 12, 20));
    }

    #[test]
    fn calendar_rows_carry_cut_off_and_last_month() {
        let q = CalendarRow::of(p("2025Q1"));
        assert_eq!((q.starts_on, q.ends_on), (d(2024, 12, 15), d(2025, 3, 14)));
        assert_eq!(
            (q.last_month_start, q.last_month_end),
            (d(2025, 3, 1), d(2025, 3, 31))
        );
        assert_eq!((q.half, q.quarter, q.month), (1, Some(1), None));
        let m = CalendarRow::of(p("202511"));
        assert_eq!((m.half, m.quarter, m.month), (2, Some(4), Some(11)));
    }

    #[test]
    fn containment_of_periods() {
        assert!(within(p("202511"), p("2025Q4")));
        assert!(within(p("2025Q4"), p("2025Q4")));
        assert!(!within(p("2025"), p("2025Q4")));
        assert!(!within(p("202509"), p("2025Q4")));
        assert!(within(p("2025Q2"), p("2025S1")));
        assert!(!within(p("2025Q3"), p("2025S1")));
        assert!(within(p("2025S2"), p("2025")));
        assert!(!within(p("202411"), p("2025")));
    }

    #[test]
    fn states_as_of_a_day() {
        let due = d(2025, 1, 20);
        let s = |sub, waived, as_of| state(due, sub, waived, as_of, 5);
        assert_eq!(s(None, false, d(2025, 1, 10)), DutyState::NotDue);
        assert_eq!(s(None, false, d(2025, 1, 15)), DutyState::DueSoon);
        assert_eq!(s(None, false, d(2025, 1, 20)), DutyState::DueSoon);
        assert_eq!(s(None, false, d(2025, 1, 21)), DutyState::Overdue);
        assert_eq!(
            s(Some(d(2025, 1, 20)), false, d(2025, 2, 20)),
            DutyState::SubmittedOnTime
        );
        assert_eq!(
            s(Some(d(2025, 1, 25)), false, d(2025, 2, 20)),
            DutyState::SubmittedLate
        );
        // Not yet submitted on the day asked about.
        assert_eq!(s(Some(d(2025, 1, 25)), false, d(2025, 1, 22)), DutyState::Overdue);
        assert_eq!(s(None, true, d(2025, 2, 20)), DutyState::Waived);
        assert_eq!(
            s(Some(d(2025, 1, 25)), true, d(2025, 2, 20)),
            DutyState::SubmittedLate
        );
        assert_eq!(days_late(DutyState::Overdue, due, None, d(2025, 2, 20)), Some(31));
        assert_eq!(
            days_late(
                DutyState::SubmittedLate,
                due,
                Some(d(2025, 1, 25)),
                d(2025, 2, 20)
            ),
            Some(5)
        );
    }

    #[test]
    fn the_period_that_decides_a_recurring_task() {
        let rule = DueRule::DayOfLastMonth(20);
        assert_eq!(
            latest_fallen_due(PeriodType::Month, rule, d(2025, 2, 20)),
            p("202501")
        );
        assert_eq!(
            latest_fallen_due(PeriodType::Month, rule, d(2025, 2, 21)),
            p("202502")
        );
        assert_eq!(
            latest_fallen_due(PeriodType::Quarter, rule, d(2025, 5, 1)),
            p("2025Q1")
        );
        assert_eq!(
            latest_fallen_due(PeriodType::Year, rule, d(2025, 5, 1)),
            p("2024")
        );
    }
}
