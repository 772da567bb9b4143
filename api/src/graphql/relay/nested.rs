//! Nested connections under a list (`directives { tasks }`, `agency.assignments`,
//! `task.reports`): parents asking the same shape of page in one request are answered by one
//! windowed statement and one grouped count, not one each.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::Loader;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, OverStatement, Query, SimpleExpr, WindowStatement,
};
use sea_orm::{Condition, ConnectionTrait, EntityTrait, FromQueryResult, Order};

use super::{Cursor, Page, PageArgs, SortKey, TotalCount};
use crate::db::reads::Reads;
use crate::error::ApiResult;
use crate::graphql::loaders::{Batcher, Budget, Env, LoadError};

/// The per-request loader of nested `totalCount`s.
pub type NestedCountLoader = Batcher<PageKey, NestedCounts>;

/// One nested connection's query shape, shared by every parent in a list: the filtered
/// select (without the parent), the keyset position, the order and the page size. Parents
/// asking the same shape in one request are answered by a single windowed statement.
pub struct Shape {
    /// Identity of the shape: two shapes with the same signature run the same SQL.
    sig: String,
    pub(crate) query: sea_orm::sea_query::SelectStatement,
    pub(crate) keyset: Option<Condition>,
    pub(crate) sort: SimpleExpr,
    pub(crate) id: SimpleExpr,
    pub(crate) order: Order,
    pub(crate) limit: u64,
    /// The expression naming each row's parent (a foreign key, or a subquery to one).
    pub(crate) parent: SimpleExpr,
}

/// A parent's page of a nested connection: the shape and the parent's id.
#[derive(Clone)]
pub struct PageKey {
    pub(crate) shape: std::sync::Arc<Shape>,
    pub(crate) parent: i32,
}

impl PageKey {
    pub(crate) fn sig(&self) -> &str {
        &self.shape.sig
    }
}

impl PartialEq for PageKey {
    fn eq(&self, other: &Self) -> bool {
        self.parent == other.parent && self.shape.sig == other.shape.sig
    }
}

impl Eq for PageKey {}

impl std::hash::Hash for PageKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.shape.sig.hash(state);
        self.parent.hash(state);
    }
}

/// Like [`fetch_page`], for a connection under a parent (`directive.tasks`,
/// `agency.assignments`, `task.reports`): the page and its count go through per-request
/// loaders, so a list of N parents runs one page statement and one count statement, not N.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_nested<E>(
    loader: &Batcher<PageKey, Paged<E>>,
    select: sea_orm::Select<E>,
    sort: &SortKey,
    args: &PageArgs,
    parent: SimpleExpr,
    parent_id: i32,
    cursor_of: impl Fn(&E::Model) -> Cursor,
) -> ApiResult<(Page<E::Model>, TotalCount)>
where
    E: sea_orm::EntityTrait + Send + Sync + 'static,
    E::Model: sea_orm::FromQueryResult + Clone + Send + Sync + 'static,
{
    use sea_orm::QueryTrait;

    let keyset = match &args.cursor {
        Some(c) => Some(sort.after(c, args.backward, if args.backward { "before" } else { "after" })?),
        None => None,
    };
    let query = select.into_query();
    let order = sort.order(args.backward);
    let sig = format!(
        "{query:?}|{keyset:?}|{:?}|{:?}|{order:?}|{}|{parent:?}",
        sort.expr, sort.id, args.limit
    );
    let key = PageKey {
        shape: std::sync::Arc::new(Shape {
            sig,
            query,
            keyset,
            sort: sort.expr.clone(),
            id: sort.id.clone(),
            order,
            limit: args.limit,
            parent,
        }),
        parent: parent_id,
    };
    let rows = loader
        .load_one(key.clone())
        .await
        .map_err(crate::graphql::loaders::load_err)?
        .unwrap_or_default();
    let rows: Vec<E::Model> = rows.iter().cloned().collect();
    Ok((Page::from_rows(rows, args, cursor_of), TotalCount::Nested(key)))
}

/// Groups nested-connection keys by shape, keeping the parents of each shape.
fn by_shape(keys: &[PageKey]) -> Vec<(&PageKey, Vec<i32>)> {
    let mut groups: Vec<(&PageKey, Vec<i32>)> = Vec::new();
    for k in keys {
        match groups.iter_mut().find(|(first, _)| first.sig() == k.sig()) {
            Some((_, parents)) => parents.push(k.parent),
            None => groups.push((k, vec![k.parent])),
        }
    }
    groups
}

const PARENT: &str = "chidao_parent";
const ROW_NUMBER: &str = "chidao_row";

/// Pages of a nested connection for many parents at once: one statement per shape,
/// numbering each parent's rows with `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY …)`
/// and keeping the first `limit + 1` of each (the extra row tells whether more follow).
pub struct Paged<E> {
    db: Reads,
    budget: Arc<Budget>,
    _e: PhantomData<E>,
}

impl<E> Paged<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    pub fn new(env: &Env) -> Batcher<PageKey, Self> {
        Batcher::new(
            Paged {
                db: env.reads.clone(),
                budget: env.budget.clone(),
                _e: PhantomData,
            },
            env.delay,
        )
    }
}

impl<E> Loader<PageKey> for Paged<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    type Value = Arc<Vec<E::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (key, parents) in by_shape(keys) {
            let shape = &key.shape;
            let mut inner = shape.query.clone();
            if let Some(k) = &shape.keyset {
                inner.cond_where(k.clone());
            }
            inner.and_where(Expr::expr(shape.parent.clone()).is_in(parents.iter().copied()));
            let mut window = WindowStatement::new();
            window.add_partition_by(shape.parent.clone());
            window.order_by_expr(shape.sort.clone(), shape.order.clone());
            window.order_by_expr(shape.id.clone(), shape.order.clone());
            inner.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(ROW_NUMBER));
            inner.expr_as(shape.parent.clone(), Alias::new(PARENT));
            let outer = Query::select()
                .column(Asterisk)
                .from_subquery(inner, Alias::new("paged"))
                .and_where(Expr::col(Alias::new(ROW_NUMBER)).lte(shape.limit as i64 + 1))
                .order_by(Alias::new(PARENT), Order::Asc)
                .order_by(Alias::new(ROW_NUMBER), Order::Asc)
                .to_owned();
            let stmt = self.db.get_database_backend().build(&outer);
            let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
            self.budget.charge(rows.len())?;
            let mut grouped: HashMap<i32, Vec<E::Model>> = parents.iter().map(|p| (*p, Vec::new())).collect();
            for r in rows {
                let parent: i32 = r.try_get("", PARENT).map_err(Arc::new)?;
                let m = E::Model::from_query_result(&r, "").map_err(Arc::new)?;
                grouped.entry(parent).or_default().push(m);
            }
            for (parent, rows) in grouped {
                out.insert(
                    PageKey {
                        shape: key.shape.clone(),
                        parent,
                    },
                    Arc::new(rows),
                );
            }
        }
        Ok(out)
    }
}

/// `totalCount` of a nested connection for many parents at once: one
/// `COUNT(*) … GROUP BY parent` per shape.
pub struct NestedCounts {
    db: Reads,
}

impl NestedCounts {
    pub fn new(db: Reads, delay: Duration) -> Batcher<PageKey, Self> {
        Batcher::new(NestedCounts { db }, delay)
    }
}

impl Loader<PageKey> for NestedCounts {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, i64>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (key, parents) in by_shape(keys) {
            let shape = &key.shape;
            let mut inner = shape.query.clone();
            inner.and_where(Expr::expr(shape.parent.clone()).is_in(parents.iter().copied()));
            inner.clear_selects();
            inner.expr_as(shape.parent.clone(), Alias::new(PARENT));
            let outer = Query::select()
                .column(Alias::new(PARENT))
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
                .from_subquery(inner, Alias::new("counted"))
                .group_by_col(Alias::new(PARENT))
                .to_owned();
            let stmt = self.db.get_database_backend().build(&outer);
            let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
            let mut counts: HashMap<i32, i64> = parents.iter().map(|p| (*p, 0)).collect();
            for r in rows {
                let parent: i32 = r.try_get("", PARENT).map_err(Arc::new)?;
                counts.insert(parent, r.try_get("", "n").map_err(Arc::new)?);
            }
            for (parent, n) in counts {
                out.insert(
                    PageKey {
                        shape: key.shape.clone(),
                        parent,
                    },
                    n,
                );
            }
        }
        Ok(out)
    }
}
