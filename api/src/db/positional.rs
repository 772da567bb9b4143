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
use sea_orm::sea_query::{Expr, SelectStatement};
use sea_orm::sqlx::Row as _;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Iterable, QueryResult, QueryTrait};

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
/// On PostgreSQL, plain values are decoded by sqlx without its per-value check that the
/// column's type is one the Rust type accepts (`try_get_unchecked`): that check was a
/// twentieth of the server's CPU for 600 indicator values. Each field list follows its
/// entity's columns (a unit test pins the order) and the migrations give each column the
/// type its field decodes (`positional_decoding_matches_sea_orm` decodes every table both
/// ways on PostgreSQL). The bytes are still decoded and checked as the Rust type (UTF-8,
/// lengths, NULL for a non-`Option`). Enums and every value on SQLite go through sea-orm.
pub trait Cell: Sized {
    fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr>;
}

macro_rules! sqlx_cell {
    ($($t:ty),* $(,)?) => { $(
        impl Cell for $t {
            #[inline]
            fn cell(row: &QueryResult, pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr> {
                match pg {
                    Some(pg) => pg
                        .try_get_unchecked::<$t, _>(i)
                        .map_err(|e| DbErr::Type(format!("column {i}: {e}"))),
                    None => row.try_get_by_index(i),
                }
            }
        }
    )* };
}

sqlx_cell!(
    i16,
    i32,
    bool,
    String,
    Option<String>,
    Option<i32>,
    NaiveDate,
    Option<NaiveDate>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

macro_rules! orm_cell {
    ($($t:ty),* $(,)?) => { $(
        impl Cell for $t {
            #[inline]
            fn cell(row: &QueryResult, _pg: Option<&PgRow>, i: usize) -> Result<Self, DbErr> {
                row.try_get_by_index(i)
            }
        }
    )* };
}

orm_cell!(
    AgencyKind,
    AssignmentRole,
    Direction,
    DirectiveKind,
    Measure,
    Option<Comparator>,
    DeadlineKind,
    Option<Recurrence>,
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

/// Adds every column of `E` to `q` in `Column::iter()` order, as `Entity::find()` does (with
/// the same `select_as` conversions), without aliases: the row is read by position.
pub fn select_columns<E: EntityTrait + Default>(q: &mut SelectStatement) {
    for c in E::Column::iter() {
        q.expr(c.select_as(Expr::col((E::default(), c))));
    }
}

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
    let rows = db.query_all_raw(query.build(db.get_database_backend())).await?;
    all_at(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::IdenStatic;

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
