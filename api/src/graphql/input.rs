//! Input values parsed at the edge: each function turns what a client sent into the type the
//! rest of the code works with, or a BAD_USER_INPUT naming the field (`extensions.field`).
//! A resolver never carries a raw string that should have been parsed.

use crate::domain::code::{AgencyCode, Code};
use crate::domain::period::PeriodId;
use crate::domain::text::{clean_input, trim_invisible};
use crate::error::{ApiError, ApiResult};

/// Text an official typed: by the input rule (`domain::text::clean_input`: NFC, no control
/// character), trimmed of white space and invisible characters, not empty, at most `max`
/// characters.
pub fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let clean = clean_input(value).map_err(|e| ApiError::bad_input(field, e.to_string()))?;
    let t = trim_invisible(&clean);
    if t.is_empty() {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` không được để trống"),
        ));
    }
    if t.chars().count() > max {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` dài tối đa {max} ký tự"),
        ));
    }
    Ok(t.to_owned())
}

/// Like [`text`] for an optional input; blank (or only invisible characters) becomes `None`.
pub fn opt_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(trim_invisible).filter(|t| !t.is_empty()) {
        Some(t) => text(field, t, max).map(Some),
        None => Ok(None),
    }
}

/// A period id (`2025`, `2025S1`, `2025Q1`, `202501`).
pub fn period(field: &str, value: &str) -> ApiResult<PeriodId> {
    value
        .trim()
        .parse()
        .map_err(|e: crate::domain::period::PeriodError| ApiError::bad_input(field, e.to_string()))
}

/// An agency's code (`so-tai-chinh`).
pub fn agency_code(field: &str, value: &str) -> ApiResult<AgencyCode> {
    AgencyCode::parse(value).map_err(|e| ApiError::bad_input(field, e.to_string()))
}

/// A stable code of a new row (a directive's `code`).
pub fn code(field: &str, value: &str) -> ApiResult<Code> {
    Code::parse(value).map_err(|e| ApiError::bad_input(field, e.to_string()))
}

/// A share of completion, 0–100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(i16);

impl Percent {
    pub fn parse(field: &str, value: i32) -> ApiResult<Percent> {
        if (0..=100).contains(&value) {
            Ok(Percent(value as i16))
        } else {
            Err(ApiError::bad_input(field, "`percentComplete` phải từ 0 đến 100"))
        }
    }

    pub fn get(self) -> i16 {
        self.0
    }

    pub fn is_whole(self) -> bool {
        self.0 == 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> Option<String> {
        match e {
            ApiError::BadUserInput { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn each_parser_names_the_field() {
        assert_eq!(text("input.summary", "  x ", 5).ok().as_deref(), Some("x"));
        assert_eq!(
            text("input.summary", " \n ", 5)
                .err()
                .and_then(field_of)
                .as_deref(),
            Some("input.summary")
        );
        assert_eq!(
            text("input.summary", "abcdef", 5)
                .err()
                .and_then(field_of)
                .as_deref(),
            Some("input.summary")
        );
        assert_eq!(opt_text("input.note", Some("  "), 5).ok(), Some(None));
        // Only invisible characters is nothing; a control character is refused.
        assert_eq!(
            text("input.summary", "\u{200B}\u{FEFF}", 5)
                .err()
                .and_then(field_of)
                .as_deref(),
            Some("input.summary")
        );
        assert_eq!(opt_text("input.note", Some("\u{200B}"), 5).ok(), Some(None));
        assert_eq!(
            text("input.summary", "a\u{0}b", 5)
                .err()
                .and_then(field_of)
                .as_deref(),
            Some("input.summary")
        );
        assert_eq!(
            text("input.summary", "Qu\u{0079}\u{0301}", 5).ok().as_deref(),
            Some("Qu\u{00fd}")
        );
        assert_eq!(
            period("input.period", " 2025Q1 ")
                .map(|p| p.to_string())
                .ok()
                .as_deref(),
            Some("2025Q1")
        );
        assert_eq!(
            period("input.period", "2025Q5")
                .err()
                .and_then(field_of)
                .as_deref(),
            Some("input.period")
        );
        assert_eq!(
            agency_code("filter.agencyCode", "So Y Te")
                .err()
                .and_then(field_of)
                .as_deref(),
            Some("filter.agencyCode")
        );
        assert_eq!(
            code("input.code", "15-ct-ubnd")
                .map(|c| c.to_string())
                .ok()
                .as_deref(),
            Some("15-ct-ubnd")
        );
        assert_eq!(
            Percent::parse("input.percentComplete", 100)
                .map(Percent::is_whole)
                .ok(),
            Some(true)
        );
        for bad in [-1, 101] {
            assert_eq!(
                Percent::parse("input.percentComplete", bad)
                    .err()
                    .and_then(field_of)
                    .as_deref(),
                Some("input.percentComplete")
            );
        }
    }
}
