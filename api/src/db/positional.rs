//! Models decoded from a row by column position instead of by name.
//!
//! sea-orm's derived `FromQueryResult` looks every column up by name, and for a prefixed join
//! (`A_id`, `B_id`, …) it first formats each name. Profiles of the benchmark reads put that
//! decoding at a fifth of the server's CPU for 600 indicator values and an eighth for one task
//! with its directive and agencies. The by-id, by-parent and joined loaders (and the latest-report
//! loader) select the columns themselves, in the order of
//! the entity's `Column::iter()` (which is what `Entity::find()` writes), so they can read them
//! by position. The field lists below must follow the entities' declaration order; the test at
//! the bottom checks every list against `Column::iter()`, and the integration test
//! `positional_decoding_matches_sea_orm` checks that every seeded row decodes the same both ways.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::*;
use entity::*;
use sea_orm::sqlx::Row as _;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::{ActiveEnum, ConnectionTrait, DbErr, QueryResult, QueryTrait, Statement};

/// A model read from consecutive columns of a row, starting at a given position.
pub trait Positional: Sized {
    /// The model's fields in column order.
    const FIELDS: &'static [&'static str];
    /// Decodes the model from columns `at .. at + FIELDS.len()`.
    fn at(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
    /// The model of a LEFT JOIN's columns starting at `at`: `None` when the join found no row
    /// (its first column, the primary key, is NULL); a row that is there but does not decode is
    /// an error, never a silent `None`.
    fn joined_at(row: &QueryResult, at: usize) -> Result<Option<Self>, DbErr> {
        match row.try_get_by_index::<Option<i32>>(at)? {
            None => Ok(None),
            Some(_) => Self::at(row, at).map(Some),
        }
    }
}

/// One column of a row, read by position.
///
/// On PostgreSQL, plain values are read straight from the bytes of the row's binary format
/// ([`FromBinary`]): sqlx's own decoding checks the column's type for every value (a twentieth
/// of the server's CPU for 600 indicator values) and turns a timestamp into chrono through
/// three intermediate types. Each field list follows its entity's columns (a unit test pins
/// the order) and the migrations give each column the type its field decodes
/// (`positional_decoding_matches_sea_orm` decodes every table both ways on PostgreSQL). The
/// bytes are still checked as the Rust type (UTF-8, lengths, NULL for a non-`Option`). A
/// value in text format (never from sqlx's prepared statements) goes through sqlx, an enum
/// through its string, and every value on SQLite through sea-orm.
pub trait Cell: Sized {
    fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr>;
}

/// A plain value read from the bytes of PostgreSQL's binary format.
pub trait FromBinary: Sized {
    /// `None` when the bytes are not a value of this type.
    fn from_binary(b: &[u8]) -> Option<Self>;
}

impl FromBinary for i16 {
    fn from_binary(b: &[u8]) -> Option<Self> {
        Some(i16::from_be_bytes(b.try_into().ok()?))
    }
}

impl FromBinary for i32 {
    fn from_binary(b: &[u8]) -> Option<Self> {
        Some(i32::from_be_bytes(b.try_into().ok()?))
    }
}

impl FromBinary for bool {
    fn from_binary(b: &[u8]) -> Option<Self> {
        match b {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

impl FromBinary for String {
    fn from_binary(b: &[u8]) -> Option<Self> {
        std::str::from_utf8(b).ok().map(str::to_owned)
    }
}

/// PostgreSQL's epoch (2000-01-01) in days from 0001-01-01 (chrono's day 1), and in Unix
/// microseconds.
const PG_EPOCH_DAYS_FROM_CE: i32 = 730_120;
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

impl FromBinary for NaiveDate {
    /// `date`: days since 2000-01-01.
    fn from_binary(b: &[u8]) -> Option<Self> {
        let days = i32::from_be_bytes(b.try_into().ok()?);
        NaiveDate::from_num_days_from_ce_opt(days.checked_add(PG_EPOCH_DAYS_FROM_CE)?)
    }
}

impl FromBinary for DateTime<Utc> {
    /// `timestamptz`: microseconds since 2000-01-01 00:00 UTC.
    fn from_binary(b: &[u8]) -> Option<Self> {
        let micros = i64::from_be_bytes(b.try_into().ok()?);
        DateTime::from_timestamp_micros(micros.checked_add(PG_EPOCH_UNIX_MICROS)?)
    }
}

/// Column `i` of a PostgreSQL row: its bytes in binary format, NULL, or `None` when the row
/// came in text format.
fn binary(pg: &PgRow, i: usize) -> Result<Option<Option<&[u8]>>, DbErr> {
    use sea_orm::sqlx::ValueRef as _;
    use sea_orm::sqlx::postgres::PgValueFormat;
    let v = pg
        .try_get_raw(i)
        .map_err(|e| DbErr::Type(format!("column {i}: {e}")))?;
    if v.format() != PgValueFormat::Binary {
        return Ok(None);
    }
    Ok(Some(if v.is_null() { None } else { v.as_bytes().ok() }))
}

fn not_a(i: usize, t: &str) -> DbErr {
    DbErr::Type(format!("column {i}: not a {t}"))
}

macro_rules! binary_cell {
    ($($t:ty),* $(,)?) => { $(
        impl Cell for $t {
            #[inline]
            fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr> {
                let Some(pg) = pg else { return row.try_get_by_index(i) };
                match binary(pg, i)? {
                    Some(Some(b)) => <$t as FromBinary>::from_binary(b).ok_or_else(|| not_a(i, stringify!($t))),
                    Some(None) => Err(DbErr::Type(format!("column {i}: NULL for {}", stringify!($t)))),
                    None => pg
                        .try_get_unchecked::<$t, _>(i)
                        .map_err(|e| DbErr::Type(format!("column {i}: {e}"))),
                }
            }
        }
        impl Cell for Option<$t> {
            #[inline]
            fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr> {
                let Some(pg) = pg else { return row.try_get_by_index(i) };
                match binary(pg, i)? {
                    Some(Some(b)) => <$t as FromBinary>::from_binary(b)
                        .map(Some)
                        .ok_or_else(|| not_a(i, stringify!($t))),
                    Some(None) => Ok(None),
                    None => pg
                        .try_get_unchecked::<Option<$t>, _>(i)
                        .map_err(|e| DbErr::Type(format!("column {i}: {e}"))),
                }
            }
        }
    )* };
}

binary_cell!(i16, i32, bool, String, NaiveDate, DateTime<Utc>);

/// An enum stored as its string value: read as a [`String`] cell (the bytes, on PostgreSQL),
/// then mapped as sea-orm maps it (an unknown value is an error).
macro_rules! enum_cell {
    ($($t:ty),* $(,)?) => { $(
        impl Cell for $t {
            #[inline]
            fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr> {
                if pg.is_none() {
                    return row.try_get_by_index(i);
                }
                <$t as ActiveEnum>::try_from_value(&String::cell(row, pg, i)?)
            }
        }
        impl Cell for Option<$t> {
            #[inline]
            fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr> {
                if pg.is_none() {
                    return row.try_get_by_index(i);
                }
                Option::<String>::cell(row, pg, i)?
                    .map(|s| <$t as ActiveEnum>::try_from_value(&s))
                    .transpose()
            }
        }
    )* };
}

enum_cell!(
    AgencyKind,
    AssignmentRole,
    Direction,
    DirectiveKind,
    Measure,
    Comparator,
    DeadlineKind,
    Recurrence,
    ReportState,
    TransferKind,
    AddresseeKind,
    ValueKind,
    RegimePeriod,
    DueRule,
    Reporters,
);

macro_rules! positional {
    ($m:ident { $($f:ident),* $(,)? }) => {
        impl Positional for $m::Model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($f)),*];
            #[allow(unused_assignments)]
            fn at(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                let pg = row.try_as_pg_row();
                let mut i = at;
                // Struct fields are evaluated in the order written, which is column order.
                Ok($m::Model { $($f: { let v = Cell::cell(row, pg, i)?; i += 1; v }),* })
            }
        }
    };
}

positional!(agency {
    id,
    code,
    name,
    short_name,
    kind,
    parent_id,
    valid_from,
    valid_to,
    search_text,
    created_at,
    updated_at
});
positional!(agency_succession {
    id,
    predecessor_id,
    successor_id,
    effective_on,
    note
});
positional!(directive {
    id,
    code,
    number,
    kind,
    title,
    issued_on,
    issuer,
    signer,
    signer_title,
    search_title,
    search_text,
    created_at,
    updated_at
});
positional!(task {
    id,
    directive_id,
    code,
    section,
    section_title,
    item,
    ordinal,
    title,
    full_text,
    deadline_text,
    deadline_kind,
    recurrence,
    original_due_on,
    due_on,
    completed_on,
    requires_report,
    search_title,
    search_text,
    created_at,
    updated_at
});
positional!(task_milestone {
    id,
    task_id,
    ordinal,
    label,
    deadline_text,
    deadline_kind,
    due_on,
    completed_on,
    completed_by
});
positional!(deadline_extension {
    id,
    task_id,
    previous_due_on,
    new_due_on,
    reason,
    granted_by,
    granted_at
});
positional!(assignment {
    id,
    task_id,
    agency_id,
    original_agency_id,
    role,
    via_group_id,
    completed_on,
    transferred_on,
    written_as,
    owes_from,
    created_at,
    updated_at
});
positional!(reporting_regime {
    id,
    directive_id,
    period_type,
    due_rule,
    due_value,
    reporters,
    first_period,
    last_period,
    set_by,
    created_at,
    updated_at
});
positional!(assignment_transfer {
    id,
    assignment_id,
    task_id,
    original_agency_id,
    role,
    kind,
    from_agency_id,
    to_agency_id,
    merged_assignment_id,
    effective_on,
    reason,
    actor,
    at
});
positional!(task_addressee {
    id,
    task_id,
    ordinal,
    name,
    role,
    kind,
    note
});
positional!(progress_report {
    id,
    assignment_id,
    agency_id,
    period,
    percent_complete,
    done,
    summary,
    obstacles,
    proposals,
    state,
    author,
    idempotency_key,
    version,
    review_comment,
    reviewed_by,
    reviewed_at,
    submitted_at,
    submitted_on,
    created_at,
    updated_at
});
positional!(indicator {
    id,
    code,
    item,
    name,
    unit,
    target,
    target_text,
    comparator,
    direction,
    measure,
    year,
    parent_id,
    responsible_agency_id,
    directive_id,
    qualitative,
    description,
    source_text,
    ordinal,
    created_at,
    updated_at
});
positional!(audit_log {
    id,
    at,
    actor,
    actor_role,
    actor_agency_id,
    action,
    entity,
    entity_id,
    before,
    after,
    request_id
});
positional!(indicator_value {
    id,
    indicator_id,
    period,
    value,
    kind,
    note,
    recorded_by,
    recorded_at
});

/// Every row of `rows` decoded from column 0.
pub fn all_at<M: Positional>(rows: &[QueryResult]) -> Result<Vec<M>, DbErr> {
    rows.iter().map(|r| M::at(r, 0)).collect()
}

/// Runs `query` (an `Entity::find()` of `M`'s entity, filtered and ordered as the caller
/// likes, selecting its columns unchanged) and decodes every row from column 0.
pub async fn fetch_all<M: Positional>(
    db: &impl ConnectionTrait,
    query: &(impl QueryTrait + Sync),
) -> Result<Vec<M>, DbErr> {
    fetch_all_raw(db, query.build(db.get_database_backend())).await
}

/// [`fetch_all`] of a statement already built.
pub async fn fetch_all_raw<M: Positional>(
    db: &impl ConnectionTrait,
    stmt: Statement,
) -> Result<Vec<M>, DbErr> {
    let rows = db.query_all_raw(stmt).await?;
    all_at(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    #[test]
    fn binary_values_read_as_postgresql_writes_them() {
        let date = |d: i32| NaiveDate::from_binary(&d.to_be_bytes());
        assert_eq!(date(0), NaiveDate::from_ymd_opt(2000, 1, 1));
        assert_eq!(date(9_132), NaiveDate::from_ymd_opt(2025, 1, 1));
        assert_eq!(date(-1), NaiveDate::from_ymd_opt(1999, 12, 31));
        assert_eq!(date(i32::MAX), None);
        let at = |us: i64| DateTime::<Utc>::from_binary(&us.to_be_bytes());
        let expect = |s: &str| Some(DateTime::parse_from_rfc3339(s).expect("a time").to_utc());
        assert_eq!(at(0), expect("2000-01-01T00:00:00Z"));
        // 2025-03-01 08:05:00.000123 UTC, and one microsecond before the epoch.
        assert_eq!(at(794_131_500_000_123), expect("2025-03-01T08:05:00.000123Z"));
        assert_eq!(at(-1), expect("1999-12-31T23:59:59.999999Z"));
        assert_eq!(at(i64::MAX), None);
        assert_eq!(i32::from_binary(&(-7i32).to_be_bytes()), Some(-7));
        assert_eq!(i16::from_binary(&300i16.to_be_bytes()), Some(300));
        assert_eq!(i32::from_binary(&[0, 0, 1]), None, "a wrong length is refused");
        assert_eq!(bool::from_binary(&[1]), Some(true));
        assert_eq!(bool::from_binary(&[2]), None);
        assert_eq!(
            String::from_binary("Sở Y tế".as_bytes()).as_deref(),
            Some("Sở Y tế")
        );
        assert_eq!(String::from_binary(&[0xff, 0xfe]), None, "not UTF-8");
    }

    fn check<E: EntityTrait>()
    where
        E::Model: Positional,
    {
        let columns: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(
            <E::Model as Positional>::FIELDS,
            columns.as_slice(),
            "field list of {} out of column order",
            std::any::type_name::<E>()
        );
    }

    #[test]
    fn field_lists_follow_column_order() {
        check::<agency::Entity>();
        check::<agency_succession::Entity>();
        check::<directive::Entity>();
        check::<task::Entity>();
        check::<task_milestone::Entity>();
        check::<deadline_extension::Entity>();
        check::<assignment::Entity>();
        check::<assignment_transfer::Entity>();
        check::<task_addressee::Entity>();
        check::<progress_report::Entity>();
        check::<indicator::Entity>();
        check::<indicator_value::Entity>();
        check::<audit_log::Entity>();
        check::<reporting_regime::Entity>();
    }
}
