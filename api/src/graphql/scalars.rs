//! Scalars of the API: `Date` is an ISO `YYYY-MM-DD` calendar date.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, ISO 8601 `YYYY-MM-DD` (e.g. `2025-01-31`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// The earliest date any input may name.
pub const MIN_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};
/// The latest date any input may name.
pub const MAX_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// A date input: `YYYY-MM-DD`, between [`MIN_DATE`] and [`MAX_DATE`] (the years a directive,
/// a deadline or a merger can have; `-262143-01-01` or `9999-12-31` are mistakes).
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| {
            format!(
                "Ngày không hợp lệ '{}': cần dạng YYYY-MM-DD",
                s.chars().take(40).collect::<String>()
            )
        })?;
    if d < MIN_DATE || d > MAX_DATE {
        return Err(format!(
            "Ngày {s} nằm ngoài khoảng cho phép (01/01/1900 đến 31/12/2100)"
        ));
    }
    Ok(d)
}

/// A calendar date, ISO 8601 `YYYY-MM-DD` (e.g. `2025-01-31`), from 1900-01-01 to 2100-12-31.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => parse_date(s).map(Date).map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        // Checked at validation, so a bad literal refuses the whole operation before any
        // field (or mutation) runs.
        matches!(value, Value::String(s) if parse_date(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// An exact decimal number (targets, values), serialised as a string with `.` as the decimal
/// mark (`"21000"`, `"8.5"`); input accepts a string or a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(pub rust_decimal::Decimal);

/// An exact decimal number, serialised as a string with `.` as the decimal mark (`"8.5"`,
/// `"10255000"`): never a binary float. Input accepts a string or a JSON number.
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        parse_decimal(&text).map(Decimal).ok_or_else(|| {
            InputValueError::custom(format!(
                "Số thập phân không hợp lệ '{}': dùng dấu chấm, ví dụ 8.5",
                text.chars().take(40).collect::<String>()
            ))
        })
    }

    fn is_valid(value: &Value) -> bool {
        match value {
            Value::String(s) => parse_decimal(s.trim()).is_some(),
            Value::Number(n) => parse_decimal(&n.to_string()).is_some(),
            _ => false,
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.normalize().to_string())
    }
}

impl Decimal {
    /// The scalar's output for a decimal stored as text (an indicator's target, a value), as
    /// `Decimal(text.parse()).to_value()` would write it, `Null` when it does not parse. Text
    /// already in the written form (`-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?`, at most 28 digits, not
    /// `-0`; what the writes store) is copied as it is, without parsing and printing it again:
    /// 600 values a page.
    pub fn of_text(text: &str) -> Value {
        if is_written_form(text) {
            return Value::String(text.to_owned());
        }
        text.parse::<rust_decimal::Decimal>()
            .map_or(Value::Null, |d| Decimal(d).to_value())
    }
}

/// Whether `s` is a decimal exactly as [`Decimal`]'s `to_value` writes one.
fn is_written_form(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], Some(&digits[dot + 1..])),
        None => (digits, None),
    };
    let int_ok = match int {
        [b'0'] => true,
        [first, rest @ ..] => (b'1'..=b'9').contains(first) && rest.iter().all(u8::is_ascii_digit),
        [] => false,
    };
    let frac_ok = frac.is_none_or(|f| {
        f.last().is_some_and(|c| (b'1'..=b'9').contains(c)) && f.iter().all(u8::is_ascii_digit)
    });
    let count = int.len() + frac.map_or(0, <[u8]>::len);
    int_ok && frac_ok && count <= 28 && !(digits.len() < b.len() && int == b"0" && frac.is_none())
}

/// A decimal as a machine writes it: digits, one `.`, a sign, an exponent; not rust_decimal's
/// looser forms (`1_000` would read as 1000, a mistake for a thousands separator).
pub fn parse_decimal(s: &str) -> Option<rust_decimal::Decimal> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
    {
        return None;
    }
    s.parse::<rust_decimal::Decimal>()
        .ok()
        .or_else(|| rust_decimal::Decimal::from_scientific(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_is_copied_only_when_it_is_what_printing_would_write() {
        let slow = |t: &str| {
            t.parse::<rust_decimal::Decimal>()
                .map_or(Value::Null, |d| Decimal(d).to_value())
        };
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "00",
            "01",
            "1",
            "-1",
            "10",
            "1000",
            "35",
            "39.7",
            "39.70",
            "-0.5",
            "0.05",
            ".5",
            "5.",
            "-",
            "",
            "+1",
            "1e3",
            "1_000",
            "1.2.3",
            " 1",
            "8,5",
            "-00.1",
            "9999999999999999999999999999",
            "99999999999999999999999999999",
            "0.0000000000000000000000000001",
            "1.000000000000000000000000001",
            "79228162514264337593543950335",
            "-12345678901234567890.12345678",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every small decimal with up to two places, both signs, with and without trailing zeros.
        for n in -1200..=1200 {
            for scale in 0..=3 {
                cases.push(rust_decimal::Decimal::new(n, scale).to_string());
            }
        }
        for t in &cases {
            assert_eq!(Decimal::of_text(t), slow(t), "{t:?}");
        }
        assert!(is_written_form("39.7") && is_written_form("-0.5") && is_written_form("0"));
        assert!(!is_written_form("-0") && !is_written_form("39.70") && !is_written_form("01"));
    }

    #[test]
    fn dates_lie_between_1900_and_2100() {
        assert!(parse_date("2025-01-31").is_ok());
        assert!(parse_date("1900-01-01").is_ok() && parse_date("2100-12-31").is_ok());
        for bad in [
            "1899-12-31",
            "2101-01-01",
            "0001-01-01",
            "9999-12-31",
            "-262143-01-01",
            "2025-1-31",
            "2025-02-30",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_are_written_plainly() {
        assert_eq!(parse_decimal("8.5"), Some(rust_decimal::Decimal::new(85, 1)));
        assert_eq!(parse_decimal("-3"), Some(rust_decimal::Decimal::from(-3)));
        assert!(parse_decimal("1e3").is_some());
        for bad in ["1_000", "1,5", " 1", "", "abc", "1.2.3"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}

/// The text of a whole document (a directive to import, a reviewed draft): a string of up to
/// 1,000,000 characters, by the input rule otherwise (NFC, no control character but newline
/// and tab). Other strings carry at most 20,000.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText(pub String);

/// The text of a whole document: a string of up to 1,000,000 characters.
#[Scalar(name = "DocumentText")]
impl ScalarType for DocumentText {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(DocumentText(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}
