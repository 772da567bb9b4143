//! Reporting periods: DHIS2-style ids (`2025`, `2025S1`, `2025Q1`, `202501`) and the two calendars that read them.
//!
//! - **Calendar ranges** are for indicators, which are statistics (Decree 60/2018/NĐ-CP): `2025Q1` is
//!   01/01/2025–31/03/2025.
//! - **Reporting ranges** are the data cut-off of administrative reports (Decree 09/2019/NĐ-CP, Art. 12):
//!   a month runs from the 15th of the previous month to the 14th; a quarter from the 15th of the month
//!   before it to the 14th of its last month; the first half from 15/12 of the previous year to 14/06;
//!   a year from 15/12 of the previous year to 14/12. The decree names no second half; it is taken as
//!   15/06–14/12 so that the two halves tile the reporting year.
//!
//! Periods order by start date, then finer type first (`202501` < `2025Q1` < `2025S1` < `2025` <
//! `202502`), so that a sorted list reads like a calendar with the detail before the total.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

/// Earliest year a period id may name; older years are typos in this province's data.
pub const MIN_YEAR: i32 = 1900;
/// Latest year a period id may name.
pub const MAX_YEAR: i32 = 2999;
/// Most periods [`PeriodId::range`] returns: a century of months, enough for any dashboard, small enough
/// that a typo in a year cannot make a request allocate without bound.
pub const MAX_RANGE_LEN: usize = 1200;

/// How long a period is. Declared finest first, so the derived order puts months before quarters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodType {
    Month,
    Quarter,
    Half,
    Year,
}

impl PeriodType {
    pub const ALL: [PeriodType; 4] = [
        PeriodType::Month,
        PeriodType::Quarter,
        PeriodType::Half,
        PeriodType::Year,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PeriodType::Month => "MONTH",
            PeriodType::Quarter => "QUARTER",
            PeriodType::Half => "HALF",
            PeriodType::Year => "YEAR",
        }
    }

    /// Reads [`PeriodType::as_str`] back, ignoring ASCII case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// How many periods of this type a year holds.
    pub fn per_year(&self) -> u32 {
        match self {
            PeriodType::Month => 12,
            PeriodType::Quarter => 4,
            PeriodType::Half => 2,
            PeriodType::Year => 1,
        }
    }

    /// How many months one period of this type spans.
    fn months(&self) -> u32 {
        12 / self.per_year()
    }
}

/// Why a period id or range was refused. Messages are shown to officials and integrators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error(
        "Kỳ báo cáo không hợp lệ: «{0}». Dùng một trong các dạng: 2025 (năm), 2025S1 hoặc 2025S2 (6 tháng), 2025Q1 đến 2025Q4 (quý), 202501 đến 202512 (tháng)"
    )]
    Invalid(String),
    #[error("Năm {0} nằm ngoài khoảng cho phép ({MIN_YEAR}–{MAX_YEAR})")]
    YearOutOfRange(i32),
    #[error("Chỉ số kỳ {index} không hợp lệ cho loại kỳ {period_type} (từ 1 đến {max})", period_type = .period_type.as_str())]
    IndexOutOfRange {
        period_type: PeriodType,
        index: u32,
        max: u32,
    },
    #[error("Hai kỳ {from} và {to} khác loại; khoảng kỳ phải cùng loại")]
    MixedTypes { from: PeriodId, to: PeriodId },
    #[error("Kỳ bắt đầu {from} đứng sau kỳ kết thúc {to}")]
    Reversed { from: PeriodId, to: PeriodId },
    #[error("Khoảng từ {from} đến {to} có quá nhiều kỳ (tối đa {MAX_RANGE_LEN})")]
    TooMany { from: PeriodId, to: PeriodId },
}

/// One reporting period. Built only through [`PeriodId::new`], [`FromStr`], [`PeriodId::containing`] and
/// [`PeriodId::next`], so the index always fits the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeriodId {
    year: i32,
    period_type: PeriodType,
    index: u32,
}

/// The first day of a month; `None` only beyond chrono's calendar.
pub(crate) fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The last day of a month; `None` for an impossible month or beyond chrono's calendar.
pub(crate) fn month_end(year: i32, month: u32) -> Option<NaiveDate> {
    month_start(year, month)?
        .checked_add_months(Months::new(1))?
        .pred_opt()
}

/// The `day` of the month `offset` months from (`year`, `month`). Only used with days 14, 15 and 25,
/// which every month has.
fn shifted_day(year: i32, month: u32, offset: i32, day: u32) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(year, month, day)?;
    if offset >= 0 {
        base.checked_add_months(Months::new(offset.unsigned_abs()))
    } else {
        base.checked_sub_months(Months::new(offset.unsigned_abs()))
    }
}

impl PeriodId {
    /// A period, checked: the year within [`MIN_YEAR`]..=[`MAX_YEAR`], the index 1-based and within the
    /// type (month 1–12, quarter 1–4, half 1–2, year 1).
    pub fn new(year: i32, t: PeriodType, index: u32) -> Result<Self, PeriodError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError::YearOutOfRange(year));
        }
        if !(1..=t.per_year()).contains(&index) {
            return Err(PeriodError::IndexOutOfRange {
                period_type: t,
                index,
                max: t.per_year(),
            });
        }
        Ok(PeriodId {
            year,
            period_type: t,
            index,
        })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn period_type(&self) -> PeriodType {
        self.period_type
    }

    /// 1-based position within the year: month 1–12, quarter 1–4, half 1–2, year 1.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// First calendar month of the period (1–12).
    fn first_month(&self) -> u32 {
        (self.index - 1) * self.period_type.months() + 1
    }

    /// Last calendar month of the period (1–12).
    fn last_month(&self) -> u32 {
        self.index * self.period_type.months()
    }

    /// The calendar (statistical) range, inclusive: `2025Q1` = 2025-01-01..=2025-03-31.
    pub fn calendar_range(&self) -> (NaiveDate, NaiveDate) {
        let start = month_start(self.year, self.first_month()).unwrap_or(NaiveDate::MIN);
        let end = month_end(self.year, self.last_month()).unwrap_or(NaiveDate::MAX);
        (start, end)
    }

    /// The administrative reporting range (Decree 09/2019/NĐ-CP, Art. 12), inclusive: from the 15th of
    /// the month before the period's first month to the 14th of its last month. For months and quarters
    /// that is the decree's rule as written; for the first half and the year it gives the decree's
    /// 15/12 of the previous year; the second half (15/06–14/12) follows the same rule.
    pub fn reporting_range(&self) -> (NaiveDate, NaiveDate) {
        let start = shifted_day(self.year, self.first_month(), -1, 15).unwrap_or(NaiveDate::MIN);
        let end = shifted_day(self.year, self.last_month(), 0, 14).unwrap_or(NaiveDate::MAX);
        (start, end)
    }

    /// When reports on this period are due to the Government: the 25th of the period's last month.
    pub fn report_due_on(&self) -> NaiveDate {
        shifted_day(self.year, self.last_month(), 0, 25).unwrap_or(NaiveDate::MAX)
    }

    /// The period of the same type that follows.
    pub fn next(&self) -> PeriodId {
        if self.index < self.period_type.per_year() {
            PeriodId {
                index: self.index + 1,
                ..*self
            }
        } else {
            PeriodId {
                year: self.year.saturating_add(1),
                index: 1,
                ..*self
            }
        }
    }

    /// The period of the same type that precedes.
    pub fn prev(&self) -> PeriodId {
        if self.index > 1 {
            PeriodId {
                index: self.index - 1,
                ..*self
            }
        } else {
            PeriodId {
                year: self.year.saturating_sub(1),
                index: self.period_type.per_year(),
                ..*self
            }
        }
    }

    /// The calendar period of type `t` that contains `date`. Total: it does not apply the
    /// [`MIN_YEAR`]..=[`MAX_YEAR`] check of [`PeriodId::new`], since every date lies in some period.
    pub fn containing(date: NaiveDate, t: PeriodType) -> PeriodId {
        PeriodId {
            year: date.year(),
            period_type: t,
            index: (date.month() - 1) / t.months() + 1,
        }
    }

    /// Every period from `from` to `to`, both included. Both must be of the same type, `from` must not
    /// come after `to`, and the result holds at most [`MAX_RANGE_LEN`] periods.
    pub fn range(from: PeriodId, to: PeriodId) -> Result<Vec<PeriodId>, PeriodError> {
        if from.period_type != to.period_type {
            return Err(PeriodError::MixedTypes { from, to });
        }
        if from > to {
            return Err(PeriodError::Reversed { from, to });
        }
        let per_year = i64::from(from.period_type.per_year());
        let count = (i64::from(to.year) - i64::from(from.year)) * per_year + i64::from(to.index)
            - i64::from(from.index)
            + 1;
        if count > MAX_RANGE_LEN as i64 {
            return Err(PeriodError::TooMany { from, to });
        }
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut current = from;
        out.push(current);
        while current != to {
            current = current.next();
            out.push(current);
        }
        Ok(out)
    }

    /// The key periods sort by: start month, then type.
    fn sort_key(&self) -> (i32, u32, PeriodType) {
        (self.year, self.first_month(), self.period_type)
    }
}

impl Ord for PeriodId {
    /// By start date, then finer type first; equal start and type means equal period.
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for PeriodId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PeriodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.period_type {
            PeriodType::Year => write!(f, "{}", self.year),
            PeriodType::Half => write!(f, "{}S{}", self.year, self.index),
            PeriodType::Quarter => write!(f, "{}Q{}", self.year, self.index),
            PeriodType::Month => write!(f, "{}{:02}", self.year, self.index),
        }
    }
}

impl FromStr for PeriodId {
    type Err = PeriodError;

    /// Reads the DHIS2 ids exactly: `2025`, `2025S1`–`2025S2`, `2025Q1`–`2025Q4`, `202501`–`202512`.
    /// Ids are machine keys, so no case folding or spaces are accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || PeriodError::Invalid(s.to_string());
        if !s.is_ascii() || s.len() < 4 {
            return Err(invalid());
        }
        let (year_part, rest) = s.split_at(4);
        if !year_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let year: i32 = year_part.parse().map_err(|_| invalid())?;
        let (t, index_part) = match rest.as_bytes() {
            [] => (PeriodType::Year, "1"),
            [b'S', _] => (PeriodType::Half, &rest[1..]),
            [b'Q', _] => (PeriodType::Quarter, &rest[1..]),
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => (PeriodType::Month, rest),
            _ => return Err(invalid()),
        };
        if !index_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let index: u32 = index_part.parse().map_err(|_| invalid())?;
        if !(1..=t.per_year()).contains(&index) {
            return Err(invalid());
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError::YearOutOfRange(year));
        }
        PeriodId::new(year, t, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    fn p(s: &str) -> PeriodId {
        s.parse().expect(s)
    }

    #[test]
    fn parses_and_displays_ids() {
        let cases: &[(&str, i32, PeriodType, u32)] = &[
            ("2025", 2025, PeriodType::Year, 1),
            ("2025S1", 2025, PeriodType::Half, 1),
            ("2025S2", 2025, PeriodType::Half, 2),
            ("2025Q1", 2025, PeriodType::Quarter, 1),
            ("2025Q4", 2025, PeriodType::Quarter, 4),
            ("202501", 2025, PeriodType::Month, 1),
            ("202512", 2025, PeriodType::Month, 12),
            ("1900", 1900, PeriodType::Year, 1),
            ("299912", 2999, PeriodType::Month, 12),
        ];
        for (id, year, t, index) in cases {
            let got = p(id);
            assert_eq!(
                (got.year(), got.period_type(), got.index()),
                (*year, *t, *index),
                "{id}"
            );
            assert_eq!(got.to_string(), *id);
        }
    }

    #[test]
    fn rejects_bad_ids() {
        for id in [
            "",
            "25",
            "2025S0",
            "2025S3",
            "2025Q0",
            "2025Q5",
            "202500",
            "202513",
            "20251",
            "2025011",
            "2025s1",
            "2025q1",
            " 2025",
            "2025 ",
            "2025H1",
            "2025W01",
            "abcd",
            "2025-01",
            "１２３４",
            "2025Q",
            "2025S",
            "2025Q+1",
        ] {
            assert_eq!(
                id.parse::<PeriodId>(),
                Err(PeriodError::Invalid(id.to_string())),
                "{id:?}"
            );
        }
        assert_eq!("1899".parse::<PeriodId>(), Err(PeriodError::YearOutOfRange(1899)));
        assert_eq!(
            "3000Q1".parse::<PeriodId>(),
            Err(PeriodError::YearOutOfRange(3000))
        );
        let msg = PeriodError::Invalid("2025X".into()).to_string();
        assert!(
            msg.contains("2025Q1") && msg.contains("202501") && msg.contains("2025S1"),
            "{msg}"
        );
    }

    #[test]
    fn new_checks_index_and_year() {
        assert!(PeriodId::new(2025, PeriodType::Month, 12).is_ok());
        assert!(PeriodId::new(2025, PeriodType::Month, 0).is_err());
        assert!(PeriodId::new(2025, PeriodType::Quarter, 5).is_err());
        assert!(PeriodId::new(2025, PeriodType::Half, 3).is_err());
        assert!(PeriodId::new(2025, PeriodType::Year, 2).is_err());
        assert_eq!(
            PeriodId::new(1800, PeriodType::Year, 1),
            Err(PeriodError::YearOutOfRange(1800))
        );
    }

    #[test]
    fn calendar_ranges() {
        let cases: &[(&str, NaiveDate, NaiveDate)] = &[
            ("2025", d(2025, 1, 1), d(2025, 12, 31)),
            ("2025S1", d(2025, 1, 1), d(2025, 6, 30)),
            ("2025S2", d(2025, 7, 1), d(2025, 12, 31)),
            ("2025Q1", d(2025, 1, 1), d(2025, 3, 31)),
            ("2025Q2", d(2025, 4, 1), d(2025, 6, 30)),
            ("2025Q3", d(2025, 7, 1), d(2025, 9, 30)),
            ("2025Q4", d(2025, 10, 1), d(2025, 12, 31)),
            ("202501", d(2025, 1, 1), d(2025, 1, 31)),
            ("202502", d(2025, 2, 1), d(2025, 2, 28)),
            ("202402", d(2024, 2, 1), d(2024, 2, 29)),
            ("202504", d(2025, 4, 1), d(2025, 4, 30)),
            ("202512", d(2025, 12, 1), d(2025, 12, 31)),
        ];
        for (id, start, end) in cases {
            assert_eq!(p(id).calendar_range(), (*start, *end), "{id}");
        }
    }

    #[test]
    fn reporting_ranges_follow_decree_09() {
        let cases: &[(&str, NaiveDate, NaiveDate)] = &[
            ("202501", d(2024, 12, 15), d(2025, 1, 14)),
            ("202502", d(2025, 1, 15), d(2025, 2, 14)),
            ("202503", d(2025, 2, 15), d(2025, 3, 14)),
            ("202512", d(2025, 11, 15), d(2025, 12, 14)),
            ("2025Q1", d(2024, 12, 15), d(2025, 3, 14)),
            ("2025Q2", d(2025, 3, 15), d(2025, 6, 14)),
            ("2025Q3", d(2025, 6, 15), d(2025, 9, 14)),
            ("2025Q4", d(2025, 9, 15), d(2025, 12, 14)),
            ("2025S1", d(2024, 12, 15), d(2025, 6, 14)),
            ("2025S2", d(2025, 6, 15), d(2025, 12, 14)),
            ("2025", d(2024, 12, 15), d(2025, 12, 14)),
        ];
        for (id, start, end) in cases {
            assert_eq!(p(id).reporting_range(), (*start, *end), "{id}");
        }
    }

    #[test]
    fn consecutive_reporting_ranges_tile() {
        for t in PeriodType::ALL {
            let mut current = PeriodId::new(2024, t, 1).expect("period");
            for _ in 0..30 {
                let next = current.next();
                let (_, end) = current.reporting_range();
                let (start, _) = next.reporting_range();
                assert_eq!(end.succ_opt(), Some(start), "{current} → {next}");
                current = next;
            }
        }
    }

    #[test]
    fn report_due_dates() {
        let cases: &[(&str, NaiveDate)] = &[
            ("202501", d(2025, 1, 25)),
            ("202502", d(2025, 2, 25)),
            ("2025Q1", d(2025, 3, 25)),
            ("2025Q4", d(2025, 12, 25)),
            ("2025S1", d(2025, 6, 25)),
            ("2025S2", d(2025, 12, 25)),
            ("2025", d(2025, 12, 25)),
        ];
        for (id, due) in cases {
            assert_eq!(p(id).report_due_on(), *due, "{id}");
        }
    }

    #[test]
    fn next_rolls_over_the_year() {
        let cases: &[(&str, &str)] = &[
            ("202501", "202502"),
            ("202512", "202601"),
            ("2025Q3", "2025Q4"),
            ("2025Q4", "2026Q1"),
            ("2025S1", "2025S2"),
            ("2025S2", "2026S1"),
            ("2025", "2026"),
        ];
        for (from, to) in cases {
            assert_eq!(p(from).next(), p(to), "{from}");
        }
    }

    #[test]
    fn containing_dates() {
        let cases: &[(NaiveDate, PeriodType, &str)] = &[
            (d(2025, 1, 1), PeriodType::Month, "202501"),
            (d(2025, 1, 31), PeriodType::Month, "202501"),
            (d(2025, 3, 31), PeriodType::Quarter, "2025Q1"),
            (d(2025, 4, 1), PeriodType::Quarter, "2025Q2"),
            (d(2025, 12, 31), PeriodType::Quarter, "2025Q4"),
            (d(2025, 6, 30), PeriodType::Half, "2025S1"),
            (d(2025, 7, 1), PeriodType::Half, "2025S2"),
            (d(2025, 12, 31), PeriodType::Year, "2025"),
            // Calendar, not reporting: 20/12/2024 is in 2024's December, though its data go to 202501.
            (d(2024, 12, 20), PeriodType::Month, "202412"),
        ];
        for (date, t, id) in cases {
            let got = PeriodId::containing(*date, *t);
            assert_eq!(got, p(id), "{date} {t:?}");
            let (start, end) = got.calendar_range();
            assert!(start <= *date && *date <= end);
        }
    }

    #[test]
    fn ordering_by_start_then_finer_first() {
        let mut ids = vec![
            p("202502"),
            p("2025"),
            p("2025S1"),
            p("2025Q1"),
            p("202501"),
            p("2024Q4"),
            p("2025Q2"),
            p("2025S2"),
            p("202407"),
        ];
        ids.sort();
        let got: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "202407", "2024Q4", "202501", "2025Q1", "2025S1", "2025", "202502", "2025Q2", "2025S2"
            ]
        );
    }

    #[test]
    fn ranges() {
        let got: Vec<String> = PeriodId::range(p("2024Q3"), p("2025Q2"))
            .expect("range")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]);

        assert_eq!(PeriodId::range(p("202501"), p("202501")), Ok(vec![p("202501")]));
        assert_eq!(PeriodId::range(p("202411"), p("202502")).map(|v| v.len()), Ok(4));
        assert_eq!(
            PeriodId::range(p("202501"), p("2025Q1")),
            Err(PeriodError::MixedTypes {
                from: p("202501"),
                to: p("2025Q1")
            })
        );
        assert_eq!(
            PeriodId::range(p("2025"), p("2024")),
            Err(PeriodError::Reversed {
                from: p("2025"),
                to: p("2024")
            })
        );
        // 1200 months is the cap: 1901-01..2000-12 passes, one more month does not.
        assert_eq!(
            PeriodId::range(p("190101"), p("200012")).map(|v| v.len()),
            Ok(1200)
        );
        assert_eq!(
            PeriodId::range(p("190012"), p("200012")),
            Err(PeriodError::TooMany {
                from: p("190012"),
                to: p("200012")
            })
        );
        assert_eq!(PeriodId::range(p("1900"), p("2999")).map(|v| v.len()), Ok(1100));
    }

    #[test]
    fn period_type_strings() {
        for t in PeriodType::ALL {
            assert_eq!(PeriodType::parse(t.as_str()), Some(t));
        }
        assert_eq!(PeriodType::parse("quarter"), Some(PeriodType::Quarter));
        assert_eq!(PeriodType::parse("WEEK"), None);
    }
}
