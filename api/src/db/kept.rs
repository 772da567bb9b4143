//! Loader statements written once per shape and run with their ids in place.
//!
//! sea-query writes a statement's SQL afresh every time one is built, quoting every name: for Q1
//! of `bench/` (one task, its leads, its status) building the two statements was a fifth of the
//! server's instructions, for SQL that differs from one batch to the next only in the ids it
//! reads. On PostgreSQL a batch's ids are one parameter (`db::among`: `= $n` for one id, an
//! array for more), so a loader's statement has two shapes for a given scope and set of columns:
//! one id, or many. [`KeptStatements`] builds each shape once with probe ids, finds the
//! parameters that hold them, and hands out the kept SQL with the batch's ids in those places.
//! A shape whose probe ids cannot be found exactly (or any statement on SQLite, whose `IN` list
//! has one parameter per id) is built every time, as before.
//!
//! What else a statement depends on (the caller's scope, the lean columns of the document) is the
//! key `K`; the entries are bounded (least recently used out).

use std::hash::Hash;
use std::sync::{Arc, Mutex};

use sea_orm::{DbBackend, Statement, Value, Values};

/// Ids no row has (rows' ids are serial and positive): the probes a shape is built with.
const PROBE: [i32; 2] = [-2_000_000_011, -2_000_000_017];

/// Other ids, to check a template against a statement built afresh.
const PROBE_CHECK: [i32; 3] = [-2_000_000_023, -2_000_000_029, -2_000_000_031];

/// Shapes kept per key.
const ENTRIES: usize = 512;

/// A statement's SQL and values, with the positions of the values that hold the ids.
#[derive(Debug)]
struct Template {
    sql: String,
    values: Vec<Value>,
    at: Vec<usize>,
}

/// The parameter `db::among` binds for `ids` on PostgreSQL.
fn ids_value(ids: &[i32]) -> Value {
    match ids {
        [one] => Value::from(*one),
        _ => Value::from(super::pg_id_array(ids)),
    }
}

impl Template {
    /// The template of `stmt`, built for `probe`: `None` unless the probe's value is found.
    fn of(stmt: Statement, probe: &[i32]) -> Option<Template> {
        let want = ids_value(probe);
        let values = stmt.values.map(|v| v.0).unwrap_or_default();
        let at: Vec<usize> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == want)
            .map(|(i, _)| i)
            .collect();
        // The probe's ids must not show anywhere else (in the SQL as a literal, say).
        let shows = probe.iter().any(|id| stmt.sql.contains(&id.to_string()));
        (!at.is_empty() && !shows).then_some(Template {
            sql: stmt.sql,
            values,
            at,
        })
    }

    fn with(&self, ids: &[i32]) -> Statement {
        let mut values = self.values.clone();
        let v = ids_value(ids);
        for &i in &self.at {
            values[i] = v.clone();
        }
        Statement::from_sql_and_values(DbBackend::Postgres, self.sql.clone(), Values(values))
    }
}

/// Each shape (its key, and whether it is for many ids) with its template, or `None` when it
/// cannot be kept.
type Shapes<K> = lru::LruCache<(K, bool), Option<Arc<Template>>>;

/// The kept shapes of one loader's statement, by what else it depends on (`K`).
pub struct KeptStatements<K> {
    kept: Mutex<Shapes<K>>,
}

impl<K: Hash + Eq + Clone> Default for KeptStatements<K> {
    fn default() -> Self {
        KeptStatements {
            kept: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(ENTRIES).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        }
    }
}

impl<K: Hash + Eq + Clone> KeptStatements<K> {
    /// The statement `build` makes for `ids` (at least one) on `backend`, given `key`: `build`
    /// must make, for the same key, statements that differ only in the ids.
    pub fn statement(
        &self,
        backend: DbBackend,
        key: &K,
        ids: &[i32],
        build: impl Fn(&[i32]) -> Statement,
    ) -> Statement {
        if backend != DbBackend::Postgres || ids.is_empty() {
            return build(ids);
        }
        let many = ids.len() > 1;
        let shape = (key.clone(), many);
        let found = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&shape)
            .cloned();
        let template = match found {
            Some(t) => t,
            None => {
                let probe = if many { &PROBE[..] } else { &PROBE[..1] };
                // Kept only if it makes, for other ids, what `build` makes for them: the ids
                // are bound nowhere else (another form, another parameter).
                let check: &[i32] = if many { &PROBE_CHECK } else { &PROBE_CHECK[..1] };
                let t = Template::of(build(probe), probe)
                    .filter(|t| {
                        let (kept, fresh) = (t.with(check), build(check));
                        kept.sql == fresh.sql && kept.values == fresh.values
                    })
                    .map(Arc::new);
                self.kept
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .put(shape, t.clone());
                t
            }
        };
        match template {
            Some(t) => t.with(ids),
            None => build(ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, PostgresQueryBuilder, Query};

    fn build(ids: &[i32]) -> Statement {
        let mut q = Query::select();
        q.column(Alias::new("id"))
            .from(Alias::new("tasks"))
            .and_where(crate::db::among(
                DbBackend::Postgres,
                Expr::col(Alias::new("id")),
                ids.iter().copied(),
            ))
            .and_where(Expr::col(Alias::new("role")).eq("LEAD"))
            .and_where(crate::db::among(
                DbBackend::Postgres,
                Expr::col(Alias::new("task_id")),
                ids.iter().copied(),
            ));
        let (sql, values) = q.build(PostgresQueryBuilder);
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    #[test]
    fn a_kept_shape_is_the_statement_built_afresh() {
        let kept = KeptStatements::<()>::default();
        for ids in [&[7][..], &[7, 9, 1_000_000][..], &[3][..], &[1, 2][..]] {
            for _ in 0..2 {
                let s = kept.statement(DbBackend::Postgres, &(), ids, build);
                let fresh = build(ids);
                assert_eq!(s.sql, fresh.sql);
                assert_eq!(s.values, fresh.values, "{ids:?}");
            }
        }
        assert_eq!(
            kept.kept.lock().expect("lock").len(),
            2,
            "one shape for one id, one for many"
        );
    }

    #[test]
    fn a_shape_without_the_ids_as_parameters_is_built_every_time() {
        let kept = KeptStatements::<()>::default();
        let literal = |ids: &[i32]| {
            let sql = format!("SELECT 1 WHERE id = {}", ids[0]);
            Statement::from_string(DbBackend::Postgres, sql)
        };
        assert_eq!(
            kept.statement(DbBackend::Postgres, &(), &[5], literal).sql,
            "SELECT 1 WHERE id = 5"
        );
        assert_eq!(
            kept.statement(DbBackend::Postgres, &(), &[6], literal).sql,
            "SELECT 1 WHERE id = 6"
        );
        // The ids bound once as the parameter and once in another form: the second would keep
        // the probe's id, so the shape is not kept.
        let twice = |ids: &[i32]| {
            let mut s = build(ids);
            if let Some(v) = s.values.as_mut() {
                v.0.push(Value::from(i64::from(ids[0])));
            }
            s
        };
        let s = kept.statement(DbBackend::Postgres, &(), &[11], twice);
        assert_eq!(s.values, twice(&[11]).values);
        assert!(
            kept.kept.lock().expect("lock").iter().all(|(_, t)| t.is_none()),
            "none kept"
        );
        // SQLite's lists have a parameter per id: never kept, even a statement that could be.
        let kept = KeptStatements::<()>::default();
        let s = kept.statement(DbBackend::Sqlite, &(), &[8], build);
        assert_eq!(s.values, build(&[8]).values);
        assert_eq!(kept.kept.lock().expect("lock").len(), 0);
    }
}
