//! `reporting_calendar`: one row per period id from [`FIRST_YEAR`] to [`LAST_YEAR`], with its
//! Decree 09 cut-off range and last calendar month (`domain::duty::CalendarRow`), so that the
//! duties of every period come from one SQL statement (`duties::sql`). Reference rows the service
//! writes itself after migrating (migrations carry no data); writing them again changes nothing.

use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::duty::CalendarRow;
use crate::domain::period::{PeriodId, PeriodType};

/// The first year with periods (no directive the service tracks is older).
pub const FIRST_YEAR: i32 = 2000;
/// The last year with periods.
pub const LAST_YEAR: i32 = 2100;

/// The table's name.
pub fn table() -> Alias {
    Alias::new("reporting_calendar")
}

fn rows() -> Vec<CalendarRow> {
    let mut out = Vec::new();
    for year in FIRST_YEAR..=LAST_YEAR {
        for t in PeriodType::ALL {
            for index in 1..=t.per_year() {
                if let Ok(p) = PeriodId::new(year, t, index) {
                    out.push(CalendarRow::of(p));
                }
            }
        }
    }
    out
}

/// Writes the rows that are missing (all on a new database, none afterwards).
pub async fn ensure(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let all = rows();
    let mut count = Query::select();
    count
        .expr(sea_orm::sea_query::Func::count(Expr::col(
            sea_orm::sea_query::Asterisk,
        )))
        .from(table());
    let have: i64 = match db.query_one(&count).await? {
        Some(r) => r.try_get_by_index(0)?,
        None => 0,
    };
    if have == all.len() as i64 {
        return Ok(());
    }
    for chunk in all.chunks(400) {
        let mut insert = Query::insert();
        insert.into_table(table()).columns(
            [
                "period",
                "period_type",
                "year",
                "half",
                "quarter",
                "month",
                "starts_on",
                "ends_on",
                "last_month_start",
                "last_month_end",
            ]
            .map(Alias::new),
        );
        for r in chunk {
            insert.values_panic([
                r.period.to_string().into(),
                r.period.period_type().as_str().into(),
                r.year.into(),
                (r.half as i32).into(),
                r.quarter.map(|q| q as i32).into(),
                r.month.map(|m| m as i32).into(),
                r.starts_on.into(),
                r.ends_on.into(),
                r.last_month_start.into(),
                r.last_month_end.into(),
            ]);
        }
        insert.on_conflict(OnConflict::column(Alias::new("period")).do_nothing().to_owned());
        db.execute(&insert).await?;
    }
    Ok(())
}
