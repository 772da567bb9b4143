//! Vietnam's civil date: "today" for deadlines and statuses is the province's today (UTC+7),
//! not UTC's.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Indochina Time (UTC+7), checked at compile time.
const ICT: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    civil_date(Utc::now())
}

/// The date in Vietnam at an instant (a report submitted at 23:30 UTC counts for the next day).
pub fn civil_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&ICT).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_civil_date_is_seven_hours_ahead_of_utc() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc);
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(civil_date(at("2025-01-31T16:59:59Z")), day("2025-01-31"));
        assert_eq!(civil_date(at("2025-01-31T17:00:00Z")), day("2025-02-01"));
    }
}
