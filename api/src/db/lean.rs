//! Columns a query's loaders leave out of their statements when no field of the document reads
//! them.
//!
//! A loader's rows are shared by every field of the request, so it read whole rows: 20 columns
//! of each progress report for a document that shows three of them (Q2 of `bench/`), a task's
//! full text and its two search keys for a document that shows its title. Decoding those cells
//! was a quarter of Q2's server CPU, and sending them a share of PostgreSQL's.
//!
//! Each table names its droppable columns ([`Lean::DROPPABLE`]): text or nullable columns that
//! nothing but the listed GraphQL fields reads (no status rule, no scope check, no cursor of
//! the loaders' rows). A query's document is read once for the names of all the fields it
//! selects, under any type, in every operation and fragment ([`Fields`]); a droppable column is
//! selected when one of its fields is among them, and otherwise an empty value (`''`, or NULL
//! for a nullable column) stands in its place, so the row keeps its shape and is decoded by
//! position as before. Name matching ignores types, so it can only keep a column it need not;
//! it never drops one that a field of the document reads.
//!
//! Only a query's loaders are lean: a mutation's, a subscription event's and a document that did
//! not parse read whole rows (`Fields` absent), as do the pages (`graphql::relay`), whose
//! rows make cursors.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use entity::{agency, directive, indicator, indicator_value, progress_report, task};
use sea_orm::sea_query::{Expr, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable};

/// The names of every field a document selects, under any type.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields(HashSet<String>);

impl Fields {
    /// Every field name of every operation and fragment of `doc`.
    pub fn of(doc: &ExecutableDocument) -> Self {
        fn walk(set: &SelectionSet, out: &mut HashSet<String>) {
            for s in &set.items {
                match &s.node {
                    Selection::Field(f) => {
                        out.insert(f.node.name.node.to_string());
                        walk(&f.node.selection_set.node, out);
                    }
                    Selection::InlineFragment(f) => walk(&f.node.selection_set.node, out),
                    // The fragment's own fields are read where it is defined, below.
                    Selection::FragmentSpread(_) => {}
                }
            }
        }
        let mut out = HashSet::new();
        for (_, op) in doc.operations.iter() {
            walk(&op.node.selection_set.node, &mut out);
        }
        for f in doc.fragments.values() {
            walk(&f.node.selection_set.node, &mut out);
        }
        Fields(out)
    }

    /// The field names of the request `ctx` runs in, when its reads may be lean.
    pub fn of_request<'a>(ctx: &async_graphql::Context<'a>) -> Option<&'a Fields> {
        ctx.data_opt::<OfRequest>().and_then(|r| r.0.as_deref())
    }

    fn any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.0.contains(*n))
    }
}

/// A request's [`Fields`], in its data (`schema::request_data`), for the reads that are not
/// loaders' (a top-level page).
pub struct OfRequest(pub Option<std::sync::Arc<Fields>>);

/// A column that may be left out, and the GraphQL fields (of any type) whose answers read it;
/// none for a column no field shows (search keys, who wrote a report).
pub struct Droppable {
    pub column: &'static str,
    pub fields: &'static [&'static str],
}

/// A table whose loaders may leave columns out.
pub trait Lean: EntityTrait + Default {
    const DROPPABLE: &'static [Droppable];
}

const fn d(column: &'static str, fields: &'static [&'static str]) -> Droppable {
    Droppable { column, fields }
}

impl Lean for progress_report::Entity {
    const DROPPABLE: &'static [Droppable] = &[
        d("summary", &["summary"]),
        d("obstacles", &["obstacles"]),
        d("proposals", &["proposals"]),
        d("author", &[]),
        d("idempotency_key", &[]),
        d("review_comment", &["reviewComment"]),
        d("reviewed_by", &[]),
        d("reviewed_at", &["reviewedAt"]),
    ];
}

impl Lean for agency::Entity {
    const DROPPABLE: &'static [Droppable] = &[d("short_name", &["shortName"]), d("search_text", &[])];
}

impl Lean for directive::Entity {
    const DROPPABLE: &'static [Droppable] = &[
        d("title", &["title"]),
        d("issuer", &["issuer"]),
        d("signer", &["signer"]),
        d("signer_title", &["signerTitle"]),
        d("search_title", &[]),
        d("search_text", &[]),
    ];
}

impl Lean for task::Entity {
    const DROPPABLE: &'static [Droppable] = &[
        d("full_text", &["fullText"]),
        d("search_title", &[]),
        d("search_text", &[]),
    ];
}

impl Lean for indicator_value::Entity {
    const DROPPABLE: &'static [Droppable] = &[d("note", &["note"]), d("recorded_by", &["recordedBy"])];
}

/// Tables whose loaders read every column.
macro_rules! whole {
    ($($entity:ident),* $(,)?) => { $(
        impl Lean for entity::$entity::Entity {
            const DROPPABLE: &'static [Droppable] = &[];
        }
    )* };
}

impl Lean for indicator::Entity {
    const DROPPABLE: &'static [Droppable] = &[
        d("target_text", &["targetText"]),
        d("description", &["description"]),
        d("source_text", &["sourceText"]),
    ];
}

whole!(
    agency_succession,
    task_milestone,
    deadline_extension,
    assignment,
    assignment_transfer,
    task_addressee,
    reporting_regime,
);

/// Adds the columns of `E` to `q` in `Column::iter()` order, as `Entity::find()` does (with the
/// same `select_as` conversions), to be read by position: an empty value in place of each
/// droppable column that no field of `fields` reads (`None`: every column).
pub fn select_lean<E: Lean>(q: &mut SelectStatement, fields: Option<&Fields>) {
    for c in E::Column::iter() {
        let keep = fields.is_none_or(|f| {
            E::DROPPABLE
                .iter()
                .find(|d| d.column == c.as_str())
                .is_none_or(|d| f.any(d.fields))
        });
        if keep {
            q.expr(c.select_as(Expr::col((E::default(), c))));
        } else {
            // Named as the column, for a caller that reads the row by name.
            let empty = if c.def().is_null() { "NULL" } else { "''" };
            q.expr_as(Expr::cust(empty), c);
        }
    }
}

/// Which droppable columns of `E` [`select_lean`] keeps for `fields`, one bit each (all for
/// `None`): with the scope, what decides a loader's SQL (`db::kept`).
pub fn kept_mask<E: Lean>(fields: Option<&Fields>) -> u64 {
    match fields {
        None => u64::MAX,
        Some(f) => E::DROPPABLE
            .iter()
            .enumerate()
            .filter(|(_, d)| f.any(d.fields))
            .fold(0, |m, (i, _)| m | 1 << i),
    }
}

/// The [`kept_mask`]s of a statement's tables as one key (16 bits each).
pub fn masks(parts: &[u64]) -> u64 {
    parts
        .iter()
        .enumerate()
        .fold(0, |m, (i, p)| m | p.checked_shl(16 * i as u32).unwrap_or(0))
}

/// Puts `E`'s columns, lean as [`select_lean`] says, in place of whatever `q` selected.
pub fn lean_columns<E: Lean>(q: &mut SelectStatement, fields: Option<&Fields>) {
    if fields.is_none() || E::DROPPABLE.is_empty() {
        return;
    }
    q.clear_selects();
    select_lean::<E>(q, fields);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ColumnType;

    /// Every droppable column exists, and stands in as a value of its own type: NULL where the
    /// column may be NULL, else the empty string of a text column.
    fn check<E: Lean>() {
        // `masks` gives each table 16 bits.
        assert!(E::DROPPABLE.len() <= 16, "{}", std::any::type_name::<E>());
        for d in E::DROPPABLE {
            let c = E::Column::iter()
                .find(|c| c.as_str() == d.column)
                .unwrap_or_else(|| panic!("{} has no column {}", std::any::type_name::<E>(), d.column));
            let def = c.def();
            assert!(
                def.is_null() || matches!(def.get_column_type(), ColumnType::String(_) | ColumnType::Text),
                "{}: a NOT NULL droppable column must be text",
                d.column
            );
        }
    }

    #[test]
    fn droppable_columns_exist_and_stand_in_by_type() {
        check::<progress_report::Entity>();
        check::<agency::Entity>();
        check::<directive::Entity>();
        check::<task::Entity>();
        check::<indicator_value::Entity>();
        check::<indicator::Entity>();
    }

    #[test]
    fn a_document_names_its_fields_under_any_type_and_fragment() {
        let doc = async_graphql::parser::parse_query(
            "query { tasks { nodes { ...T ... on Task { directive { signer } } } } }
             fragment T on Task { title fullText }
             fragment Unused on ProgressReport { summary }",
        )
        .expect("parses");
        let f = Fields::of(&doc);
        for n in [
            "tasks",
            "nodes",
            "directive",
            "signer",
            "title",
            "fullText",
            "summary",
        ] {
            assert!(f.any(&[n]), "{n} is named");
        }
        assert!(!f.any(&["obstacles"]));
    }

    #[test]
    fn a_column_is_dropped_only_when_no_field_names_it() {
        use sea_orm::sea_query::{PostgresQueryBuilder, Query};
        let sql = |fields: Option<&Fields>| {
            let mut q = Query::select();
            q.from(progress_report::Entity);
            select_lean::<progress_report::Entity>(&mut q, fields);
            q.to_string(PostgresQueryBuilder)
        };
        let doc = async_graphql::parser::parse_query("{ a { summary reviewedAt } }").expect("parses");
        let lean = sql(Some(&Fields::of(&doc)));
        assert!(lean.contains(r#""progress_reports"."summary""#), "{lean}");
        assert!(lean.contains(r#""progress_reports"."reviewed_at""#), "{lean}");
        assert!(!lean.contains(r#""progress_reports"."obstacles""#), "{lean}");
        assert!(!lean.contains(r#""progress_reports"."author""#), "{lean}");
        // In their places, empty values named as the columns.
        assert!(lean.contains(r#"NULL AS "obstacles""#), "{lean}");
        assert!(lean.contains(r#"'' AS "author""#), "{lean}");
        let full = sql(None);
        assert!(
            full.contains(r#""progress_reports"."obstacles""#) && !full.contains("NULL"),
            "{full}"
        );
        let columns = |s: &str| s.matches(", ").count();
        assert_eq!(columns(&lean), columns(&full), "the row keeps its shape");
    }
}
