//! Deadline phrases ("thời hạn"): reading the Vietnamese words a directive uses into a kind and a due date, keeping the words as written.
//!
//! # The rule
//!
//! | written | kind | due date |
//! |---|---|---|
//! | `trước ngày 15/01/2025`, `trước 30/6/2025` | `Date` | the day before (14/01/2025, 29/06/2025): done on the 15th is already late, so the last on-time day is the 14th |
//! | `ngày 15/01/2025`, `đến ngày 15/01/2025`, `chậm nhất ngày 15/01/2025` | `Date` | that day |
//! | `trong tháng 01/2025`, `tháng 01/2025`, `đến hết tháng 6/2025` | `Month` | last day of the month |
//! | `trước tháng 6/2025` | `Month` | last day of the month before (31/05/2025) |
//! | `trong Quý I/2025`, `Quý II/2025`, `quý 3 năm 2025` | `Quarter` | last day of the quarter |
//! | `trước Quý II/2025` | `Quarter` | last day of the quarter before |
//! | `trong 6 tháng đầu năm 2025`, `6 tháng cuối năm 2025` | `Half` | 30/06 or 31/12 |
//! | `trong năm 2025`, `hoàn thành trong năm 2025`, `năm 2025`, `cuối năm 2025`, `các tháng cuối năm 2025` | `Year` | 31/12 |
//! | `trước năm 2026` | `Year` | 31/12 of the year before |
//! | `hàng tháng`, `định kỳ hàng tháng`, `tại các phiên họp thường kỳ hàng tháng` | `Recurring` (`Monthly`) | none: a due date each period ([`Recurrence::due_on_for`]) |
//! | `từng quý`, `hàng quý`, `hằng quý`, `mỗi quý` | `Recurring` (`Quarterly`) | none |
//! | `6 tháng`, `định kỳ 6 tháng`, `6 tháng một lần` | `Recurring` (`HalfYearly`) | none |
//! | `hàng năm`, `hằng năm` (a spelling of the same word) | `Recurring` (`Yearly`) | none |
//! | nothing, `thường xuyên`, `liên tục`, `lâu dài`, `hàng ngày`, `hàng tuần` | `Ongoing` | none (weekly and daily duties are ongoing: there is no weekly reporting period) |
//!
//! "Trước" always means "the period before": before a date, the day before; before a month, quarter,
//! half or year, the end of the one before it. Every other marker (`trong`, `đến`, `đến hết`, `chậm
//! nhất`, `hạn`, `vào`, `cuối`) and no marker at all mean the end of the period named.
//!
//! Reading is case- and diacritics-tolerant (it matches on [`crate::domain::text::fold`]ed words), takes
//! days and months of one or two digits, years 1900–2999, roman (I–IV) or arabic quarters, and ignores
//! the surrounding words and markdown emphasis (`trước **tháng 6/2025**`).
//!
//! # Several phrases in one text
//!
//! A phrase with a marker word (`trước`, `trong`, `đến`…) or a month/quarter/half written in full is
//! *strong*; a bare date or `năm 2025` is *weak*, because in running text those are mostly citations
//! ("Nghị quyết số 50-NQ/TU ngày 03/7/2024") and titles ("Festival Sông Hồng năm 2025"), and so is
//! `đến năm 2050` ("tầm nhìn đến năm 2050" is a horizon, not a deadline). [`parse_deadline`] chooses, in
//! this order: the strong dated phrases, strong recurring ones, weak dated ones, weak recurring ones; among
//! dated phrases it takes the **latest due date** (the task is done when its last milestone is; ties go to
//! the first written), among recurring ones the first written.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use crate::domain::period::{PeriodId, PeriodType, month_end, month_start};
use crate::domain::text::{fold, is_combining_mark};

/// What kind of deadline a phrase sets. Serialised as the `as_str` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeadlineKind {
    Date,
    Month,
    Quarter,
    Half,
    Year,
    Recurring,
    Ongoing,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 7] = [
        DeadlineKind::Date,
        DeadlineKind::Month,
        DeadlineKind::Quarter,
        DeadlineKind::Half,
        DeadlineKind::Year,
        DeadlineKind::Recurring,
        DeadlineKind::Ongoing,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DeadlineKind::Date => "DATE",
            DeadlineKind::Month => "MONTH",
            DeadlineKind::Quarter => "QUARTER",
            DeadlineKind::Half => "HALF",
            DeadlineKind::Year => "YEAR",
            DeadlineKind::Recurring => "RECURRING",
            DeadlineKind::Ongoing => "ONGOING",
        }
    }

    /// Reads [`DeadlineKind::as_str`] back, ignoring ASCII case and surrounding spaces.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// How often a recurring deadline falls due. Serialised as the `as_str` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Recurrence {
    Monthly,
    Quarterly,
    HalfYearly,
    Yearly,
}

impl Recurrence {
    pub const ALL: [Recurrence; 4] = [
        Recurrence::Monthly,
        Recurrence::Quarterly,
        Recurrence::HalfYearly,
        Recurrence::Yearly,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Recurrence::Monthly => "MONTHLY",
            Recurrence::Quarterly => "QUARTERLY",
            Recurrence::HalfYearly => "HALF_YEARLY",
            Recurrence::Yearly => "YEARLY",
        }
    }

    /// Reads [`Recurrence::as_str`] back, ignoring ASCII case and surrounding spaces.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The reporting period type a recurrence falls due on.
    pub fn period_type(&self) -> PeriodType {
        match self {
            Recurrence::Monthly => PeriodType::Month,
            Recurrence::Quarterly => PeriodType::Quarter,
            Recurrence::HalfYearly => PeriodType::Half,
            Recurrence::Yearly => PeriodType::Year,
        }
    }

    /// The due date of the occurrence whose calendar period contains `as_of`: the last day of that
    /// month, quarter, half or year.
    pub fn due_on_for(&self, as_of: NaiveDate) -> NaiveDate {
        PeriodId::containing(as_of, self.period_type()).calendar_range().1
    }
}

/// A deadline: the words as written and what they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// The phrase as written (trimmed); `None` when nothing was written.
    pub text: Option<String>,
    pub kind: DeadlineKind,
    /// The last day on which completing is on time; `None` for recurring and ongoing deadlines.
    pub due_on: Option<NaiveDate>,
    /// Set for, and only for, [`DeadlineKind::Recurring`].
    pub recurrence: Option<Recurrence>,
}

/// Why a deadline phrase could not be read. Messages are shown to officials, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error(
        "Không nhận dạng được thời hạn: «{0}». Ví dụ hợp lệ: trước ngày 15/01/2025, trong tháng 01/2025, trong Quý I/2025, trong năm 2025, hàng tháng, thường xuyên"
    )]
    Unrecognised(String),
    #[error("Thời hạn «{text}» có ngày hoặc kỳ không tồn tại: {written}")]
    InvalidDate { text: String, written: String },
}

/// Reads a deadline field. `None`, an empty or blank string is an ongoing duty (no deadline written).
/// See the module documentation for the rule and for how several phrases in one text are resolved.
pub fn parse_deadline(text: Option<&str>) -> Result<Deadline, DeadlineError> {
    let Some(written) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Deadline {
            text: None,
            kind: DeadlineKind::Ongoing,
            due_on: None,
            recurrence: None,
        });
    };

    let tokens = tokenize(written);
    let found = scan(&tokens);

    // Any impossible date is an error even if another phrase is fine: the field has a typo to fix.
    if let Some(err) = found.iter().find_map(|f| f.due.as_ref().err()) {
        return Err(DeadlineError::InvalidDate {
            text: written.to_string(),
            written: err.clone(),
        });
    }

    let tiers: [&dyn Fn(&Found) -> bool; 4] = [
        &|f| f.strong && f.recurrence.is_none(),
        &|f| f.strong && f.recurrence.is_some(),
        &|f| !f.strong && f.recurrence.is_none(),
        &|f| !f.strong && f.recurrence.is_some(),
    ];
    for tier in tiers {
        let mut best: Option<&Found> = None;
        for f in found.iter().filter(|f| tier(f)) {
            // Strictly later only, so ties and recurring phrases keep the first written.
            if best.is_none_or(|b| f.due_on() > b.due_on()) {
                best = Some(f);
            }
        }
        if let Some(f) = best {
            return Ok(Deadline {
                text: Some(written.to_string()),
                kind: f.kind,
                due_on: f.due_on(),
                recurrence: f.recurrence,
            });
        }
    }

    if is_ongoing(&tokens) {
        return Ok(Deadline {
            text: Some(written.to_string()),
            kind: DeadlineKind::Ongoing,
            due_on: None,
            recurrence: None,
        });
    }
    Err(DeadlineError::Unrecognised(written.to_string()))
}

// ---------------------------------------------------------------------------------------------------
// Tokens

/// A word, a number or a `/`.
#[derive(Debug)]
struct Token {
    /// Folded (lowercase, no diacritics): what the patterns match.
    folded: String,
    /// Lowercase with diacritics (NFC): kept to tell "quý" (quarter) from "quỹ" (fund) where the
    /// short recurring patterns would otherwise misread.
    raw: String,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word_start: Option<usize> = None;
    let push = |tokens: &mut Vec<Token>, start: usize, end: usize| {
        let slice = &text[start..end];
        tokens.push(Token {
            folded: fold(slice),
            raw: slice.nfc().flat_map(char::to_lowercase).collect(),
        });
    };
    for (i, c) in text.char_indices() {
        // Combining marks belong to the word before them, so decomposed (NFD) text tokenizes whole.
        let in_word = c.is_alphanumeric() || (is_combining_mark(c) && word_start.is_some());
        if in_word {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = word_start.take() {
            push(&mut tokens, start, i);
        }
        if c == '/' {
            push(&mut tokens, i, i + c.len_utf8());
        }
    }
    if let Some(start) = word_start {
        push(&mut tokens, start, text.len());
    }
    tokens
}

/// Pattern helpers over the token list; every accessor is bounds-safe.
struct Cursor<'a> {
    tokens: &'a [Token],
    /// The text carries no diacritics at all, so spelling cannot tell "quý" from "quy".
    plain: bool,
}

impl<'a> Cursor<'a> {
    fn new(tokens: &'a [Token]) -> Self {
        let plain = tokens.iter().all(|t| t.raw == t.folded);
        Cursor { tokens, plain }
    }
}

impl Cursor<'_> {
    fn word(&self, i: usize) -> Option<&str> {
        self.tokens.get(i).map(|t| t.folded.as_str())
    }

    fn is(&self, i: usize, w: &str) -> bool {
        self.word(i) == Some(w)
    }

    fn is_any(&self, i: usize, ws: &[&str]) -> bool {
        self.word(i).is_some_and(|x| ws.contains(&x))
    }

    /// A number of 1..=`max_len` ASCII digits.
    fn number(&self, i: usize, max_len: usize) -> Option<u32> {
        let w = self.word(i)?;
        if w.is_empty() || w.len() > max_len || !w.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        w.parse().ok()
    }

    /// A four-digit year in 1900..=2999.
    fn year(&self, i: usize) -> Option<i32> {
        let w = self.word(i)?;
        if w.len() != 4 || !w.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let y: i32 = w.parse().ok()?;
        (1900..=2999).contains(&y).then_some(y)
    }

    /// `/ 2025` or `năm 2025` at `i`: the year and the index after it.
    fn year_tail(&self, i: usize) -> Option<(i32, usize)> {
        if self.is(i, "/") || self.is(i, "nam") {
            self.year(i + 1).map(|y| (y, i + 2))
        } else {
            None
        }
    }

    /// A quarter number: roman I–IV in any case, or a single digit (range checked later).
    fn quarter(&self, i: usize) -> Option<u32> {
        match self.word(i)? {
            "i" => Some(1),
            "ii" => Some(2),
            "iii" => Some(3),
            "iv" => Some(4),
            _ => self.number(i, 1),
        }
    }

    /// "6", "06" or "sáu"; an unaccented "sau" only in unaccented text, since "sau" is also "after".
    fn six(&self, i: usize) -> bool {
        self.tokens
            .get(i)
            .is_some_and(|t| matches!(t.raw.as_str(), "6" | "06" | "sáu") || (self.plain && t.raw == "sau"))
    }
}

// ---------------------------------------------------------------------------------------------------
// Patterns

/// A period named in the text, before the marker word is applied.
#[derive(Debug, Clone, Copy)]
enum Named {
    Date { year: i32, month: u32, day: u32 },
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Half { year: i32, half: u32 },
    Year { year: i32 },
}

impl Named {
    fn kind(&self) -> DeadlineKind {
        match self {
            Named::Date { .. } => DeadlineKind::Date,
            Named::Month { .. } => DeadlineKind::Month,
            Named::Quarter { .. } => DeadlineKind::Quarter,
            Named::Half { .. } => DeadlineKind::Half,
            Named::Year { .. } => DeadlineKind::Year,
        }
    }

    /// How the period was written, for error messages.
    fn written(&self) -> String {
        match self {
            Named::Date { year, month, day } => format!("{day:02}/{month:02}/{year}"),
            Named::Month { year, month } => format!("tháng {month:02}/{year}"),
            Named::Quarter { year, quarter } => format!("quý {quarter}/{year}"),
            Named::Half { year, half } => format!("6 tháng (nửa năm thứ {half}) năm {year}"),
            Named::Year { year } => format!("năm {year}"),
        }
    }

    /// First and last day of the named period; `None` if it does not exist (31/02, tháng 13, quý 5).
    fn bounds(&self) -> Option<(NaiveDate, NaiveDate)> {
        let months =
            |year: i32, first: u32, last: u32| Some((month_start(year, first)?, month_end(year, last)?));
        match *self {
            Named::Date { year, month, day } => {
                let d = NaiveDate::from_ymd_opt(year, month, day)?;
                Some((d, d))
            }
            Named::Month { year, month } => months(year, month, month),
            Named::Quarter { year, quarter } if (1..=4).contains(&quarter) => {
                months(year, quarter * 3 - 2, quarter * 3)
            }
            Named::Half { year, half } if (1..=2).contains(&half) => months(year, half * 6 - 5, half * 6),
            Named::Year { year } => months(year, 1, 12),
            Named::Quarter { .. } | Named::Half { .. } => None,
        }
    }
}

/// A named period at `i`, with the index after it. Longer forms are tried first, so that
/// "6 tháng đầu năm 2025" is a half, not the year 2025, and "ngày 25 tháng 12 năm 2024" a date.
fn named_at(c: &Cursor<'_>, i: usize) -> Option<(Named, usize)> {
    // 6 tháng đầu/cuối năm 2025; nửa đầu/cuối năm 2025
    let half_start = if c.six(i) && c.is(i + 1, "thang") {
        Some(i + 2)
    } else if c.is(i, "nua") {
        Some(i + 1)
    } else {
        None
    };
    if let Some(j) = half_start {
        let half = match c.word(j) {
            Some("dau") => Some(1),
            Some("cuoi") => Some(2),
            _ => None,
        };
        if let Some(half) = half
            && c.is(j + 1, "nam")
            && let Some(year) = c.year(j + 2)
        {
            return Some((Named::Half { year, half }, j + 3));
        }
    }

    // [ngày] 15/01/2025, [ngày] 15/01 năm 2025, ngày 15 tháng 01 năm 2025
    let has_ngay = c.is(i, "ngay");
    let j = if has_ngay { i + 1 } else { i };
    if let Some(day) = c.number(j, 2)
        && c.is(j + 1, "/")
        && let Some(month) = c.number(j + 2, 2)
        && let Some((year, end)) = c.year_tail(j + 3)
    {
        return Some((Named::Date { year, month, day }, end));
    }
    if has_ngay
        && let Some(day) = c.number(j, 2)
        && c.is(j + 1, "thang")
        && let Some(month) = c.number(j + 2, 2)
        && c.is(j + 3, "nam")
        && let Some(year) = c.year(j + 4)
    {
        return Some((Named::Date { year, month, day }, j + 5));
    }

    // tháng 01/2025, tháng 6 năm 2025
    if c.is(i, "thang")
        && let Some(month) = c.number(i + 1, 2)
        && let Some((year, end)) = c.year_tail(i + 2)
    {
        return Some((Named::Month { year, month }, end));
    }

    // Quý I/2025, quý 2 năm 2025
    if c.is(i, "quy")
        && let Some(quarter) = c.quarter(i + 1)
        && let Some((year, end)) = c.year_tail(i + 2)
    {
        return Some((Named::Quarter { year, quarter }, end));
    }

    // năm 2025
    if c.is(i, "nam")
        && let Some(year) = c.year(i + 1)
    {
        return Some((Named::Year { year }, i + 2));
    }
    None
}

/// How the words before a named period qualify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// "trước": the period before.
    Before,
    /// "trong", "đến", "chậm nhất", "hạn", "vào", "hết", "cuối": by the end of the period.
    By,
    /// "đến"/"tới" directly before a bare year: a horizon ("tầm nhìn đến năm 2050"), weak.
    Horizon,
    None,
}

/// The marker before the token at `start`.
fn marker_before(c: &Cursor<'_>, start: usize) -> Marker {
    let mut k = start;
    // "đến hết", "đến cuối", "cuối": the end of the period, whatever comes before.
    while k > 0 && c.is_any(k - 1, &["het", "cuoi"]) {
        k -= 1;
    }
    if k < start {
        // "hết"/"cuối" (with or without "đến"/"trước"/"trong" before them) mark the end.
        return Marker::By;
    }
    let Some(prev) = k.checked_sub(1) else {
        return Marker::None;
    };
    match c.word(prev) {
        Some("truoc") => Marker::Before,
        Some("den" | "toi") => Marker::Horizon,
        Some("trong" | "vao" | "han") => Marker::By,
        Some("nhat") if prev > 0 && c.is(prev - 1, "cham") => Marker::By,
        Some("chot") if prev > 0 && c.is(prev - 1, "han") => Marker::By,
        _ => Marker::None,
    }
}

/// Words after "quý" that make it "precious" (quý khách, quý báu…) rather than a quarter.
const QUY_PRECIOUS: &[&str] = &["khach", "bau", "hiem", "gia", "vi", "trong", "hoa"];

/// Words after an unaccented "quy" that make it "quy hoạch", "quy định", "quỹ đất"… rather than a
/// quarter; only consulted when the whole text is written without diacritics.
const QUY_COMPOUNDS: &[&str] = &[
    "hoach", "dinh", "che", "mo", "trinh", "tac", "chuan", "luat", "uoc", "nap", "tu", "dat", "ho", "phat",
    "dau", "co", "tap", "tien",
];

/// Whether the "quy"/"quý" at `j` is the quarter. With diacritics the spelling decides: "quý" is the
/// quarter (unless "quý khách"…), "quy" and "quỹ" never are. Without any diacritics in the text the
/// following word decides; "quy đổi" (convert) is told from "quý đối với" by the "với".
fn is_quarter_word(c: &Cursor<'_>, j: usize) -> bool {
    let Some(raw) = c.tokens.get(j).map(|t| t.raw.as_str()) else {
        return false;
    };
    match raw {
        "quý" => !c.is_any(j + 1, QUY_PRECIOUS),
        "quy" if c.plain => {
            let converts = c.is(j + 1, "doi") && !c.is(j + 2, "voi");
            !converts && !c.is_any(j + 1, QUY_COMPOUNDS) && !c.is_any(j + 1, QUY_PRECIOUS)
        }
        _ => false,
    }
}

/// A recurrence unit at `j` ("tháng", "quý", "năm", "6 tháng", "nửa năm"), with the index after it.
/// The unit must carry its own diacritics or none, and must not start a dated period
/// ("hàng tháng 6/2025" is not monthly).
fn recurrence_unit_at(c: &Cursor<'_>, j: usize) -> Option<(Recurrence, usize)> {
    let raw = c.tokens.get(j).map(|t| t.raw.as_str())?;
    if c.six(j) && c.is(j + 1, "thang") {
        return Some((Recurrence::HalfYearly, j + 2));
    }
    if c.is(j, "nua") && c.is(j + 1, "nam") {
        return Some((Recurrence::HalfYearly, j + 2));
    }
    if named_at(c, j).is_some() {
        return None;
    }
    match raw {
        "tháng" | "thang" => Some((Recurrence::Monthly, j + 1)),
        "quý" | "quy" if is_quarter_word(c, j) => Some((Recurrence::Quarterly, j + 1)),
        "năm" | "nam" => Some((Recurrence::Yearly, j + 1)),
        _ => None,
    }
}

/// "hàng", "hằng", "từng" or "mỗi" at `i`, written with its own diacritics or none: "mới" (new) in
/// "Nông thôn mới năm…" is not "mỗi" (every).
fn is_every(c: &Cursor<'_>, i: usize) -> bool {
    c.tokens.get(i).is_some_and(|t| {
        matches!(
            t.raw.as_str(),
            "hàng" | "hằng" | "từng" | "mỗi" | "hang" | "tung" | "moi"
        )
    })
}

/// A recurring phrase at `i`: (recurrence, strong, index after).
fn recurring_at(c: &Cursor<'_>, i: usize) -> Option<(Recurrence, bool, usize)> {
    let after_prefix = if is_every(c, i) {
        Some(i + 1)
    } else if c.is(i, "dinh") && c.is(i + 1, "ky") {
        // "định kỳ hàng tháng", "định kỳ 6 tháng"
        Some(if is_every(c, i + 2) { i + 3 } else { i + 2 })
    } else {
        None
    };
    if let Some(j) = after_prefix {
        return recurrence_unit_at(c, j).map(|(r, end)| (r, true, end));
    }

    // A bare "6 tháng" is the half-yearly report ("báo cáo 6 tháng"), unless it is a duration
    // ("trong 6 tháng", "sau 6 tháng") or part of "6 tháng đầu năm".
    // "6 tháng đầu…", "6 tháng năm 2025", and "sau tháng 6/2025" where "tháng" starts a month.
    let dated_after =
        c.is_any(i + 2, &["dau", "cuoi"]) || named_at(c, i + 1).is_some() || named_at(c, i + 2).is_some();
    if c.six(i) && c.is(i + 1, "thang") && !dated_after {
        let duration = i > 0 && c.is_any(i - 1, &["trong", "sau", "vong", "khoang", "qua", "den", "toi"]);
        if duration {
            return None;
        }
        if c.is(i + 2, "mot") && c.is(i + 3, "lan") {
            return Some((Recurrence::HalfYearly, true, i + 4));
        }
        return Some((Recurrence::HalfYearly, false, i + 2));
    }
    None
}

/// Word sequences that say "no deadline, a standing duty".
const ONGOING: &[&[&str]] = &[
    &["thuong", "xuyen"],
    &["lien", "tuc"],
    &["lau", "dai"],
    &["hang", "ngay"],
    &["hang", "tuan"],
    &["thuong", "ky"],
    &["khong", "thoi", "han"],
    &["khong", "giao", "han"],
    &["khong", "co", "thoi", "han"],
];

fn is_ongoing(tokens: &[Token]) -> bool {
    let words: Vec<&str> = tokens.iter().map(|t| t.folded.as_str()).collect();
    ONGOING
        .iter()
        .any(|seq| words.windows(seq.len()).any(|w| w == *seq))
}

/// One phrase found by [`scan`].
#[derive(Debug)]
struct Found {
    kind: DeadlineKind,
    /// The due date, or how the impossible period was written; `Ok(None)` for recurring phrases.
    due: Result<Option<NaiveDate>, String>,
    recurrence: Option<Recurrence>,
    strong: bool,
}

impl Found {
    fn due_on(&self) -> Option<NaiveDate> {
        self.due.as_ref().ok().copied().flatten()
    }
}

/// Applies the marker to a named period: the due date, and whether the phrase is strong.
fn resolve(named: Named, marker: Marker) -> (Result<Option<NaiveDate>, String>, bool) {
    let strong = match marker {
        Marker::Before | Marker::By => true,
        Marker::Horizon => !matches!(named, Named::Year { .. }),
        Marker::None => !matches!(named, Named::Date { .. } | Named::Year { .. }),
    };
    let due = match named.bounds() {
        None => Err(named.written()),
        Some((first, last)) => match marker {
            // Before a date: the day before. Before a month/quarter/half/year: the end of the one before.
            Marker::Before => first.pred_opt().map(Some).ok_or_else(|| named.written()),
            Marker::By | Marker::Horizon | Marker::None => Ok(Some(last)),
        },
    };
    (due, strong)
}

/// Every phrase in the tokens, left to right, without overlaps.
fn scan(tokens: &[Token]) -> Vec<Found> {
    let c = Cursor::new(tokens);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((named, end)) = named_at(&c, i) {
            let marker = marker_before(&c, i);
            let (due, strong) = resolve(named, marker);
            found.push(Found {
                kind: named.kind(),
                due,
                recurrence: None,
                strong,
            });
            i = end;
        } else if let Some((recurrence, strong, end)) = recurring_at(&c, i) {
            found.push(Found {
                kind: DeadlineKind::Recurring,
                due: Ok(None),
                recurrence: Some(recurrence),
                strong,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeadlineKind as K;

    /// What a test expects of a parsed deadline: kind, due date, recurrence.
    type Expect = (DeadlineKind, Option<NaiveDate>, Option<Recurrence>);

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    fn parse(s: &str) -> Deadline {
        parse_deadline(Some(s)).unwrap_or_else(|e| panic!("parse_deadline({s:?}): {e}"))
    }

    /// What a test expects of a dated deadline.
    fn dated(kind: DeadlineKind, due: NaiveDate) -> Expect {
        (kind, Some(due), None)
    }

    fn every(r: Recurrence) -> Expect {
        (K::Recurring, None, Some(r))
    }

    const ONGOING: Expect = (K::Ongoing, None, None);

    /// Every deadline phrase of Chỉ thị 10/CT-UBND (000_…) and the 2025 emulation document (002_…),
    /// as written (markdown emphasis included) and embedded in the words around it.
    #[test]
    fn seed_phrases() {
        let cases: &[(&str, Expect)] = &[
            // 000 — II.1.1
            ("trong tháng 01/2025", dated(K::Month, d(2025, 1, 31))),
            ("tháng 01/2025", dated(K::Month, d(2025, 1, 31))),
            ("**trong tháng 01/2025**", dated(K::Month, d(2025, 1, 31))),
            (
                "xây dựng phương án hoàn thành mục tiêu xây dựng Nông thôn mới năm 2025, báo cáo UBND tỉnh **trong tháng 01/2025**",
                dated(K::Month, d(2025, 1, 31)),
            ),
            (
                "báo cáo UBND tỉnh trong tháng 01/2025",
                dated(K::Month, d(2025, 1, 31)),
            ),
            ("trong Quý II/2025", dated(K::Quarter, d(2025, 6, 30))),
            ("Quý II/2025", dated(K::Quarter, d(2025, 6, 30))),
            (
                "trình phê duyệt trong Quý II/2025",
                dated(K::Quarter, d(2025, 6, 30)),
            ),
            ("trước ngày 15/01/2025", dated(K::Date, d(2025, 1, 14))),
            (
                "Hoàn thiện, trình phê duyệt quy hoạch phân khu xây dựng Khu công nghiệp Võ Lao **trước ngày 15/01/2025**",
                dated(K::Date, d(2025, 1, 14)),
            ),
            (
                "tổ chức tốt các hoạt động du lịch trong năm 2025",
                dated(K::Year, d(2025, 12, 31)),
            ),
            ("trước ngày 05/01/2025", dated(K::Date, d(2025, 1, 4))),
            (
                "Xây dựng ban hành kịch bản cụ thể để bảo đảm tăng trưởng kinh tế **trên 10% trong năm 2025**, báo cáo UBND tỉnh **trước ngày 05/01/2025**",
                // Both are deadline-shaped; the later one (31/12) is kept, as the module documents.
                dated(K::Year, d(2025, 12, 31)),
            ),
            (
                "báo cáo UBND tỉnh **trước ngày 15/01/2025**",
                dated(K::Date, d(2025, 1, 14)),
            ),
            // 000 — II.1.2
            ("trong Quý I/2025", dated(K::Quarter, d(2025, 3, 31))),
            (
                "báo cáo UBND tỉnh **trong Quý I/2025**",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            ("trong quý I/2025", dated(K::Quarter, d(2025, 3, 31))),
            (
                "thẩm định, trình UBND tỉnh phê duyệt **trong quý I/2025**",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            (
                "Báo cáo UBND tỉnh **trong quý I/2025**.",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            // 000 — II.1.3
            ("trong năm 2025", dated(K::Year, d(2025, 12, 31))),
            ("hoàn thành trong năm 2025", dated(K::Year, d(2025, 12, 31))),
            (
                "Cầu Biên giới Bản Vược – Bá Sái (hoàn thành trong năm 2025)",
                dated(K::Year, d(2025, 12, 31)),
            ),
            ("năm 2025", dated(K::Year, d(2025, 12, 31))),
            ("trước tháng 6/2025", dated(K::Month, d(2025, 5, 31))),
            ("hoàn thành trước tháng 6/2025", dated(K::Month, d(2025, 5, 31))),
            (
                "hoàn thành trước **tháng 6/2025**.",
                dated(K::Month, d(2025, 5, 31)),
            ),
            // 000 — II.1.4
            ("từng quý", every(Recurrence::Quarterly)),
            ("theo **từng quý**", every(Recurrence::Quarterly)),
            ("hàng quý", every(Recurrence::Quarterly)),
            (
                "xây dựng kịch bản giải ngân theo **từng quý** đối với từng chủ đầu tư; cấp huyện xây dựng kịch bản giải ngân **từng quý** đối với các đơn vị trực thuộc, cấp xã làm chủ đầu tư; báo cáo UBND tỉnh **trong tháng 01/2025**",
                // A dated phrase wins over a recurring one: the report is due in January.
                dated(K::Month, d(2025, 1, 31)),
            ),
            // 000 — II.2
            (
                "Bệnh viện Đa khoa tỉnh giai đoạn 2 hoàn thành trong tháng 01/2025",
                dated(K::Month, d(2025, 1, 31)),
            ),
            (
                "Bệnh viện đa khoa huyện Bát Xát, Văn Bàn, Bắc Hà, Si Ma Cai, Bảo Thắng, Bảo Yên hoàn thành trong Quý I/2025",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            (
                // Sở Y tế item (1): two milestones, the later one (Quý I) is the task's deadline.
                "Đôn đốc chủ đầu tư sớm hoàn thành, đưa vào hoạt động các bệnh viện tuyến tỉnh (Bệnh viện Đa khoa tỉnh giai đoạn 2 hoàn thành trong tháng 01/2025), bệnh viện tuyến huyện (Bệnh viện đa khoa huyện Bát Xát, Văn Bàn, Bắc Hà, Si Ma Cai, Bảo Thắng, Bảo Yên hoàn thành trong Quý I/2025)",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            (
                "báo cáo UBND tỉnh trong **tháng 01/2025**",
                dated(K::Month, d(2025, 1, 31)),
            ),
            // 000 — II.3
            ("trước 30/6/2025", dated(K::Date, d(2025, 6, 29))),
            (
                "đảm bảo hoàn thành **trước 30/6/2025**.",
                dated(K::Date, d(2025, 6, 29)),
            ),
            // 000 — III
            (
                "trình ban hành trước ngày 05/01/2025",
                dated(K::Date, d(2025, 1, 4)),
            ),
            (
                "tại các phiên họp thường kỳ hàng tháng",
                every(Recurrence::Monthly),
            ),
            (
                "báo cáo Thường trực UBND tỉnh tại các phiên họp thường kỳ hàng tháng của UBND tỉnh./.",
                every(Recurrence::Monthly),
            ),
            // 002
            ("các tháng cuối năm 2025", dated(K::Year, d(2025, 12, 31))),
            (
                "Phong trào thi đua đặc biệt thực hiện nhiệm vụ chính trị các tháng cuối năm 2025",
                dated(K::Year, d(2025, 12, 31)),
            ),
            ("6 tháng cuối năm 2025", dated(K::Half, d(2025, 12, 31))),
            (
                "tăng cường quản lý, điều hành ngân sách 6 tháng cuối năm 2025",
                dated(K::Half, d(2025, 12, 31)),
            ),
            (
                "tạo không khí thi đua sôi nổi lập thành tích chào mừng kỷ niệm các ngày lễ lớn trong năm 2025",
                dated(K::Year, d(2025, 12, 31)),
            ),
        ];
        for (input, (kind, due, recurrence)) in cases {
            let got = parse(input);
            assert_eq!(
                (got.kind, got.due_on, got.recurrence),
                (*kind, *due, *recurrence),
                "parse_deadline({input:?})"
            );
            assert_eq!(got.text.as_deref(), Some(*input), "text kept as written");
        }
    }

    /// The rows of the rule table that the seed documents do not use.
    #[test]
    fn rule_table() {
        let cases: &[(&str, Expect)] = &[
            ("ngày 15/01/2025", dated(K::Date, d(2025, 1, 15))),
            ("đến ngày 15/01/2025", dated(K::Date, d(2025, 1, 15))),
            ("chậm nhất ngày 15/01/2025", dated(K::Date, d(2025, 1, 15))),
            ("chậm nhất ngày 5/1/2025", dated(K::Date, d(2025, 1, 5))),
            ("thời hạn: 20/3/2025", dated(K::Date, d(2025, 3, 20))),
            ("15/01/2025", dated(K::Date, d(2025, 1, 15))),
            ("trước ngày 1/3/2025", dated(K::Date, d(2025, 2, 28))),
            ("trước ngày 01/03/2024", dated(K::Date, d(2024, 2, 29))),
            ("trước ngày 01/01/2025", dated(K::Date, d(2024, 12, 31))),
            ("ngày 25 tháng 12 năm 2024", dated(K::Date, d(2024, 12, 25))),
            ("trước ngày 15 tháng 01 năm 2025", dated(K::Date, d(2025, 1, 14))),
            ("trước ngày 15/01 năm 2025", dated(K::Date, d(2025, 1, 14))),
            ("trong tháng 2/2024", dated(K::Month, d(2024, 2, 29))),
            ("tháng 6 năm 2025", dated(K::Month, d(2025, 6, 30))),
            ("đến hết tháng 6/2025", dated(K::Month, d(2025, 6, 30))),
            ("trước tháng 1/2025", dated(K::Month, d(2024, 12, 31))),
            ("Quý III/2025", dated(K::Quarter, d(2025, 9, 30))),
            ("trong quý IV/2025", dated(K::Quarter, d(2025, 12, 31))),
            ("quý 2 năm 2025", dated(K::Quarter, d(2025, 6, 30))),
            ("trước Quý II/2025", dated(K::Quarter, d(2025, 3, 31))),
            ("trong 6 tháng đầu năm 2025", dated(K::Half, d(2025, 6, 30))),
            ("6 tháng đầu năm 2025", dated(K::Half, d(2025, 6, 30))),
            ("trong 6 tháng cuối năm 2025", dated(K::Half, d(2025, 12, 31))),
            ("nửa đầu năm 2026", dated(K::Half, d(2026, 6, 30))),
            ("cuối năm 2025", dated(K::Year, d(2025, 12, 31))),
            ("đến hết năm 2025", dated(K::Year, d(2025, 12, 31))),
            ("trước năm 2026", dated(K::Year, d(2025, 12, 31))),
            ("đến năm 2030", dated(K::Year, d(2030, 12, 31))),
            ("hàng tháng", every(Recurrence::Monthly)),
            ("hằng tháng", every(Recurrence::Monthly)),
            ("định kỳ hàng tháng", every(Recurrence::Monthly)),
            ("mỗi quý", every(Recurrence::Quarterly)),
            ("hằng quý", every(Recurrence::Quarterly)),
            (
                "định kỳ hàng quý, báo cáo UBND tỉnh",
                every(Recurrence::Quarterly),
            ),
            ("6 tháng", every(Recurrence::HalfYearly)),
            ("báo cáo 6 tháng", every(Recurrence::HalfYearly)),
            ("định kỳ 6 tháng", every(Recurrence::HalfYearly)),
            ("6 tháng một lần", every(Recurrence::HalfYearly)),
            ("sáu tháng một lần", every(Recurrence::HalfYearly)),
            ("06 tháng", every(Recurrence::HalfYearly)),
            ("sau tháng 6/2025", dated(K::Month, d(2025, 6, 30))),
            ("hàng năm", every(Recurrence::Yearly)),
            ("hằng năm", every(Recurrence::Yearly)),
            ("báo cáo 6 tháng, hàng năm", every(Recurrence::Yearly)),
            ("thường xuyên", ONGOING),
            ("Thường xuyên", ONGOING),
            ("thực hiện thường xuyên, liên tục", ONGOING),
            ("lâu dài", ONGOING),
            ("hàng ngày", ONGOING),
            ("hàng tuần", ONGOING),
            ("không thời hạn", ONGOING),
        ];
        for (input, (kind, due, recurrence)) in cases {
            let got = parse(input);
            assert_eq!(
                (got.kind, got.due_on, got.recurrence),
                (*kind, *due, *recurrence),
                "parse_deadline({input:?})"
            );
        }
    }

    #[test]
    fn case_and_diacritics_tolerant() {
        let cases: &[(&str, Expect)] = &[
            ("TRONG QUÝ I/2025", dated(K::Quarter, d(2025, 3, 31))),
            ("trong quy i/2025", dated(K::Quarter, d(2025, 3, 31))),
            ("Trong Quy Ii/2025", dated(K::Quarter, d(2025, 6, 30))),
            ("truoc ngay 15/01/2025", dated(K::Date, d(2025, 1, 14))),
            ("TRƯỚC NGÀY 5/1/2025", dated(K::Date, d(2025, 1, 4))),
            ("hoan thanh truoc thang 6/2025", dated(K::Month, d(2025, 5, 31))),
            ("trong thang 1/2025", dated(K::Month, d(2025, 1, 31))),
            ("trong nam 2025", dated(K::Year, d(2025, 12, 31))),
            ("trong 6 thang dau nam 2025", dated(K::Half, d(2025, 6, 30))),
            ("sau thang cuoi nam 2025", dated(K::Half, d(2025, 12, 31))),
            ("tung quy", every(Recurrence::Quarterly)),
            (
                "kich ban giai ngan theo tung quy doi voi tung chu dau tu",
                every(Recurrence::Quarterly),
            ),
            ("hang thang", every(Recurrence::Monthly)),
            ("HÀNG NĂM", every(Recurrence::Yearly)),
            ("thuong xuyen", ONGOING),
            // Decomposed Unicode (NFD), as pasted from some PDFs.
            (
                "tru\u{031B}o\u{031B}\u{0301}c nga\u{0300}y 15/01/2025",
                dated(K::Date, d(2025, 1, 14)),
            ),
            (
                "trong Qu\u{0079}\u{0301} II/2025",
                dated(K::Quarter, d(2025, 6, 30)),
            ),
            ("  trong tháng 01/2025  ", dated(K::Month, d(2025, 1, 31))),
        ];
        for (input, (kind, due, recurrence)) in cases {
            let got = parse(input);
            assert_eq!(
                (got.kind, got.due_on, got.recurrence),
                (*kind, *due, *recurrence),
                "parse_deadline({input:?})"
            );
        }
        assert_eq!(
            parse("  trong tháng 01/2025  ").text.as_deref(),
            Some("trong tháng 01/2025")
        );
    }

    #[test]
    fn nothing_written_is_ongoing() {
        for input in [None, Some(""), Some("   "), Some("\n\t")] {
            let got = parse_deadline(input).expect("ongoing");
            assert_eq!(
                got,
                Deadline {
                    text: None,
                    kind: K::Ongoing,
                    due_on: None,
                    recurrence: None
                },
                "{input:?}"
            );
        }
        let got = parse("thường xuyên");
        assert_eq!(got.text.as_deref(), Some("thường xuyên"));
    }

    #[test]
    fn several_phrases_take_the_latest() {
        let cases: &[(&str, Expect)] = &[
            (
                "trong tháng 01/2025 và trong Quý I/2025",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            (
                "trong Quý I/2025 và trong tháng 01/2025",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
            (
                "từ ngày 01/01/2025 đến ngày 15/01/2025",
                dated(K::Date, d(2025, 1, 15)),
            ),
            // Ties go to the first written.
            (
                "trong tháng 3/2025 hoặc trong Quý I/2025",
                dated(K::Month, d(2025, 3, 31)),
            ),
            // A marked phrase wins over a bare year or a citation date, even an earlier one.
            (
                "thực hiện Nghị quyết số 50-NQ/TU ngày 03/7/2024 năm 2026, báo cáo trước ngày 15/01/2025",
                dated(K::Date, d(2025, 1, 14)),
            ),
            // A marked recurring phrase wins over a bare year.
            ("báo cáo hàng quý kết quả năm 2025", every(Recurrence::Quarterly)),
            ("hàng tháng, trong năm 2025", dated(K::Year, d(2025, 12, 31))),
            // The horizon "đến năm 2050" is weak: the marked quarter wins.
            (
                "rà soát, điều chỉnh Quy hoạch tỉnh Lào Cai thời kỳ 2021-2030, tầm nhìn đến năm 2050; báo cáo UBND tỉnh trong Quý I/2025",
                dated(K::Quarter, d(2025, 3, 31)),
            ),
        ];
        for (input, (kind, due, recurrence)) in cases {
            let got = parse(input);
            assert_eq!(
                (got.kind, got.due_on, got.recurrence),
                (*kind, *due, *recurrence),
                "parse_deadline({input:?})"
            );
        }
    }

    #[test]
    fn rejects_unreadable_and_impossible() {
        let unrecognised = [
            "sớm",
            "khẩn trương",
            "ASAP",
            "trước ngày 15/01",
            "trong tháng 13",
            "trong 6 tháng",
            "quý V/2025",
            "tháng 01/25",
            "năm 1800",
            "trong quy hoạch",
            "mỗi quỹ đất",
            "từng quy hoạch",
            "tung quy hoach",
            "tung quy doi",
            "Nông thôn mới năm nay",
            "Bảo Thắng",
        ];
        for input in unrecognised {
            assert_eq!(
                parse_deadline(Some(input)),
                Err(DeadlineError::Unrecognised(input.to_string())),
                "{input:?}"
            );
        }
        let impossible: &[(&str, &str)] = &[
            ("31/02/2025", "31/02/2025"),
            ("trước ngày 31/02/2025", "31/02/2025"),
            ("ngày 29/02/2025", "29/02/2025"),
            ("ngày 0/1/2025", "00/01/2025"),
            ("trong tháng 13/2025", "tháng 13/2025"),
            ("tháng 0/2025", "tháng 00/2025"),
            ("trong quý 5/2025", "quý 5/2025"),
            ("trong Quý I/2025, trước ngày 32/01/2025", "32/01/2025"),
        ];
        for (input, written) in impossible {
            assert_eq!(
                parse_deadline(Some(input)),
                Err(DeadlineError::InvalidDate {
                    text: input.to_string(),
                    written: written.to_string()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn error_messages_are_vietnamese() {
        let err = parse_deadline(Some("sớm")).expect_err("unrecognised");
        assert!(
            err.to_string()
                .starts_with("Không nhận dạng được thời hạn: «sớm»"),
            "{err}"
        );
        let err = parse_deadline(Some("ngày 31/02/2025")).expect_err("impossible");
        assert!(err.to_string().contains("31/02/2025"), "{err}");
    }

    #[test]
    fn recurrence_due_dates() {
        let cases: &[(Recurrence, NaiveDate, NaiveDate)] = &[
            (Recurrence::Monthly, d(2025, 1, 1), d(2025, 1, 31)),
            (Recurrence::Monthly, d(2025, 1, 31), d(2025, 1, 31)),
            (Recurrence::Monthly, d(2024, 2, 10), d(2024, 2, 29)),
            (Recurrence::Monthly, d(2025, 2, 10), d(2025, 2, 28)),
            (Recurrence::Quarterly, d(2025, 2, 15), d(2025, 3, 31)),
            (Recurrence::Quarterly, d(2025, 4, 1), d(2025, 6, 30)),
            (Recurrence::Quarterly, d(2025, 12, 31), d(2025, 12, 31)),
            (Recurrence::HalfYearly, d(2025, 6, 30), d(2025, 6, 30)),
            (Recurrence::HalfYearly, d(2025, 7, 1), d(2025, 12, 31)),
            (Recurrence::Yearly, d(2025, 3, 3), d(2025, 12, 31)),
        ];
        for (r, as_of, due) in cases {
            assert_eq!(r.due_on_for(*as_of), *due, "{r:?} as of {as_of}");
        }
    }

    #[test]
    fn kind_and_recurrence_strings() {
        let kinds = ["DATE", "MONTH", "QUARTER", "HALF", "YEAR", "RECURRING", "ONGOING"];
        for (k, s) in DeadlineKind::ALL.iter().zip(kinds) {
            assert_eq!(k.as_str(), s);
            assert_eq!(DeadlineKind::parse(s), Some(*k));
            assert_eq!(DeadlineKind::parse(&s.to_lowercase()), Some(*k));
        }
        assert_eq!(DeadlineKind::parse("WEEK"), None);
        let recurrences = ["MONTHLY", "QUARTERLY", "HALF_YEARLY", "YEARLY"];
        for (r, s) in Recurrence::ALL.iter().zip(recurrences) {
            assert_eq!(r.as_str(), s);
            assert_eq!(Recurrence::parse(s), Some(*r));
        }
        assert_eq!(Recurrence::parse("DAILY"), None);
    }
}
