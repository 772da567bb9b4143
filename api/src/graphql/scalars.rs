//! Scalars of the API: `Date` is an ISO `YYYY-MM-DD` calendar date.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, ISO 8601 `YYYY-MM-DD` (e.g. `2025-01-31`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar date, ISO 8601 `YYYY-MM-DD` (e.g. `2025-01-31`).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Date).map_err(|_| {
                InputValueError::custom(format!("Ngày không hợp lệ '{s}': cần dạng YYYY-MM-DD"))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        // Checked at validation, so a bad literal refuses the whole operation before any
        // field (or mutation) runs.
        matches!(value, Value::String(s) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
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
        text.parse::<rust_decimal::Decimal>().map(Decimal).map_err(|_| {
            InputValueError::custom(format!(
                "Số thập phân không hợp lệ '{text}': dùng dấu chấm, ví dụ 8.5"
            ))
        })
    }

    fn is_valid(value: &Value) -> bool {
        match value {
            Value::String(s) => s.trim().parse::<rust_decimal::Decimal>().is_ok(),
            Value::Number(n) => n.to_string().parse::<rust_decimal::Decimal>().is_ok(),
            _ => false,
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.normalize().to_string())
    }
}
