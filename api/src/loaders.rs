//! Per-request loaders (batched by `crate::batch`). Each holds the caller's `Scope`, so a cached row can never be
//! served to another caller, and each runs one `WHERE … IN (…)` per batch.

use crate::reads::Reads;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::Loader;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, OverStatement, Query, WindowStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder,
    QueryTrait,
};

use crate::auth::Scope;
use crate::batch::Batcher;
use crate::positional::{Positional, fetch_all, select_columns};
use crate::relay::PageKey;

pub type LoadError = Arc<sea_orm::DbErr>;

/// A table whose rows loaders fetch by id, with the scope rule that applies to it.
pub trait Row: EntityTrait {
    fn id_column() -> Self::Column;
    fn id_of(m: &Self::Model) -> i32;
    fn scope(scope: &Scope) -> Condition;
}

/// Loads rows by primary key, within the scope.
pub struct ById<E: Row> {
    db: Reads,
    scope: Scope,
    _e: PhantomData<E>,
}

impl<E: Row> ById<E> {
    pub fn new(db: Reads, scope: Scope, delay: Duration) -> Batcher<i32, Self>
    where
        Self: Loader<i32>,
    {
        Batcher::new(
            ById {
                db,
                scope,
                _e: PhantomData,
            },
            delay,
        )
    }
}

impl<E> Loader<i32> for ById<E>
where
    E: Row + Send + Sync + 'static,
    E::Model: Positional + Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let query = E::find()
            .filter(E::id_column().is_in(keys.iter().copied()))
            .filter(E::scope(&self.scope));
        let rows: Vec<E::Model> = fetch_all(&self.db, &query).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|m| (E::id_of(&m), m)).collect())
    }
}

/// Loads the rows that point at a parent through a foreign key, grouped by parent, within
/// the scope and in a fixed order.
///
/// Each parent's rows are put in order here, not by the statement: an `ORDER BY` over the
/// rows of many parents is one sort of all of them in the database (600 indicator values
/// for a page of 50 indicators; the statement ran 15 % faster without it), where sorting
/// each parent's dozen rows here costs next to nothing.
pub struct ByParent<E: Row> {
    db: Reads,
    scope: Scope,
    column: E::Column,
    parent_of: fn(&E::Model) -> i32,
    order: fn(&E::Model, &E::Model) -> std::cmp::Ordering,
}

impl<E: Row> ByParent<E> {
    pub fn new(
        db: Reads,
        scope: Scope,
        column: E::Column,
        parent_of: fn(&E::Model) -> i32,
        order: fn(&E::Model, &E::Model) -> std::cmp::Ordering,
        delay: Duration,
    ) -> Batcher<i32, Self>
    where
        Self: Loader<i32>,
    {
        Batcher::new(
            ByParent {
                db,
                scope,
                column,
                parent_of,
                order,
            },
            delay,
        )
    }
}

impl<E> Loader<i32> for ByParent<E>
where
    E: Row + Send + Sync + 'static,
    E::Model: Positional + Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Value = Arc<Vec<E::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let query = E::find()
            .filter(self.column.is_in(keys.iter().copied()))
            .filter(E::scope(&self.scope));
        let rows: Vec<E::Model> = fetch_all(&self.db, &query).await.map_err(Arc::new)?;
        let mut out: HashMap<i32, Vec<E::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for m in rows {
            out.entry((self.parent_of)(&m)).or_default().push(m);
        }
        Ok(out
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by(self.order);
                (k, Arc::new(v))
            })
            .collect())
    }
}

/// Tasks by id, each with its directive from the same statement (primed into the
/// directive batcher: a task the scope shows has a directive the scope shows).
pub struct TaskById {
    db: Reads,
    scope: Scope,
    directives: Arc<Batcher<i32, ById<directive::Entity>>>,
}

impl Loader<i32> for TaskById {
    type Value = task::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        // `find_also_related` selects the task's columns, then the directive's.
        let stmt = task::Entity::find()
            .find_also_related(directive::Entity)
            .filter(task::Column::Id.is_in(keys.iter().copied()))
            .filter(task::Entity::scope(&self.scope))
            .build(self.db.get_database_backend());
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        let mut tasks = HashMap::with_capacity(rows.len());
        let mut directives = Vec::with_capacity(rows.len());
        for row in &rows {
            let t = task::Model::at(row, 0).map_err(Arc::new)?;
            if let Some(d) = directive::Model::joined_at(row, TASK_WIDTH).map_err(Arc::new)? {
                directives.push((d.id, d));
            }
            tasks.insert(t.id, t);
        }
        self.directives.prime(directives);
        Ok(tasks)
    }
}

/// Tasks by id together with their directive and their assignments (each with its agency),
/// in one statement: `task(id)` uses it when the query asks for the task's agencies, which
/// otherwise takes a second statement. Primes the directive, assignments-of-task and agency
/// batchers with what it read, under the same scope rules as `TaskById` and
/// `AssignmentsOfTask` (the assignment scope is part of the join, so a task whose visible
/// assignments are none still comes back, with none).
pub struct TaskWithAssignments {
    db: Reads,
    scope: Scope,
    directives: Arc<Batcher<i32, ById<directive::Entity>>>,
    assignments: Arc<Batcher<i32, AssignmentsOfTask>>,
    agencies: Arc<Batcher<i32, ById<agency::Entity>>>,
}

const TASK_WIDTH: usize = <task::Model as Positional>::FIELDS.len();
const DIRECTIVE_WIDTH: usize = <directive::Model as Positional>::FIELDS.len();
const ASSIGNMENT_WIDTH: usize = <assignment::Model as Positional>::FIELDS.len();

impl Loader<i32> for TaskWithAssignments {
    type Value = task::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        use sea_orm::sea_query::JoinType;
        let mut q = Query::select();
        q.from(task::Entity);
        // Read back by position: task, directive, assignment, agency.
        select_columns::<task::Entity>(&mut q);
        select_columns::<directive::Entity>(&mut q);
        select_columns::<assignment::Entity>(&mut q);
        select_columns::<agency::Entity>(&mut q);
        q.join(
            JoinType::LeftJoin,
            directive::Entity,
            Expr::col((directive::Entity, directive::Column::Id))
                .equals((task::Entity, task::Column::DirectiveId)),
        )
        .join(
            JoinType::LeftJoin,
            assignment::Entity,
            Condition::all()
                .add(
                    Expr::col((assignment::Entity, assignment::Column::TaskId))
                        .equals((task::Entity, task::Column::Id)),
                )
                .add(assignment::Entity::scope(&self.scope)),
        )
        .join(
            JoinType::LeftJoin,
            agency::Entity,
            Expr::col((agency::Entity, agency::Column::Id))
                .equals((assignment::Entity, assignment::Column::AgencyId)),
        )
        .cond_where(
            Condition::all()
                .add(task::Column::Id.is_in(keys.iter().copied()))
                .add(task::Entity::scope(&self.scope)),
        )
        .order_by((task::Entity, task::Column::Id), Order::Asc)
        .order_by((assignment::Entity, assignment::Column::Role), Order::Asc)
        .order_by((assignment::Entity, assignment::Column::Id), Order::Asc);
        let stmt = self.db.get_database_backend().build(&q);
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        let mut tasks: HashMap<i32, task::Model> = HashMap::new();
        let mut assignments: HashMap<i32, Vec<assignment::Model>> = HashMap::new();
        let (mut directives, mut agencies) = (Vec::new(), Vec::new());
        let (at_directive, at_assignment) = (TASK_WIDTH, TASK_WIDTH + DIRECTIVE_WIDTH);
        let at_agency = at_assignment + ASSIGNMENT_WIDTH;
        for row in &rows {
            let id: i32 = row.try_get_by_index(0).map_err(Arc::new)?;
            let list = assignments.entry(id).or_default();
            if let Some(a) = assignment::Model::joined_at(row, at_assignment).map_err(Arc::new)? {
                list.push(a);
            }
            if let Some(g) = agency::Model::joined_at(row, at_agency).map_err(Arc::new)? {
                agencies.push((g.id, g));
            }
            // A task with several assignments comes back once per assignment: decode it once.
            if let std::collections::hash_map::Entry::Vacant(e) = tasks.entry(id) {
                if let Some(d) = directive::Model::joined_at(row, at_directive).map_err(Arc::new)? {
                    directives.push((d.id, d));
                }
                e.insert(task::Model::at(row, 0).map_err(Arc::new)?);
            }
        }
        self.directives.prime(directives);
        self.agencies.prime(agencies);
        self.assignments
            .prime(assignments.into_iter().map(|(k, v)| (k, Arc::new(v))));
        Ok(tasks)
    }
}

/// The assignments of tasks (in role order), each with its agency from the same statement
/// (primed into the agency batcher; agencies are visible to every caller).
pub struct AssignmentsOfTask {
    db: Reads,
    scope: Scope,
    agencies: Arc<Batcher<i32, ById<agency::Entity>>>,
}

impl Loader<i32> for AssignmentsOfTask {
    type Value = Arc<Vec<assignment::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        // `find_also_related` selects the assignment's columns, then the agency's.
        let stmt = assignment::Entity::find()
            .find_also_related(agency::Entity)
            .filter(assignment::Column::TaskId.is_in(keys.iter().copied()))
            .filter(assignment::Entity::scope(&self.scope))
            .order_by_asc(assignment::Column::Role)
            .order_by_asc(assignment::Column::Id)
            .build(self.db.get_database_backend());
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        let mut agencies = Vec::with_capacity(rows.len());
        let mut out: HashMap<i32, Vec<assignment::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in &rows {
            let a = assignment::Model::at(row, 0).map_err(Arc::new)?;
            if let Some(g) = agency::Model::joined_at(row, ASSIGNMENT_WIDTH).map_err(Arc::new)? {
                agencies.push((g.id, g));
            }
            out.entry(a.task_id).or_default().push(a);
        }
        self.agencies.prime(agencies);
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

macro_rules! row {
    ($entity:path, $col:path, |$s:ident| $scope:expr) => {
        impl Row for $entity {
            fn id_column() -> Self::Column {
                $col
            }
            fn id_of(m: &Self::Model) -> i32 {
                m.id
            }
            fn scope($s: &Scope) -> Condition {
                $scope
            }
        }
    };
}

use entity::*;
row!(agency::Entity, agency::Column::Id, |_s| Condition::all());
row!(agency_succession::Entity, agency_succession::Column::Id, |_s| {
    Condition::all()
});
row!(directive::Entity, directive::Column::Id, |s| s.directives());
row!(task::Entity, task::Column::Id, |s| s.tasks());
row!(task_milestone::Entity, task_milestone::Column::Id, |s| s
    .milestones());
row!(deadline_extension::Entity, deadline_extension::Column::Id, |s| s
    .extensions());
row!(assignment::Entity, assignment::Column::Id, |s| s.assignments());
row!(progress_report::Entity, progress_report::Column::Id, |s| s
    .reports());
row!(indicator::Entity, indicator::Column::Id, |s| s.indicators());
row!(indicator_value::Entity, indicator_value::Column::Id, |s| s
    .indicator_values());

/// Every loader of one request.
pub struct Loaders {
    pub agency: Arc<Batcher<i32, ById<agency::Entity>>>,
    pub successions_from: Batcher<i32, ByParent<agency_succession::Entity>>,
    pub successions_to: Batcher<i32, ByParent<agency_succession::Entity>>,
    pub directive: Arc<Batcher<i32, ById<directive::Entity>>>,
    pub task: Batcher<i32, TaskById>,
    pub task_with_assignments: Batcher<i32, TaskWithAssignments>,
    pub milestones: Batcher<i32, ByParent<task_milestone::Entity>>,
    pub extensions: Batcher<i32, ByParent<deadline_extension::Entity>>,
    pub assignment: Batcher<i32, ById<assignment::Entity>>,
    pub assignments_of_task: Arc<Batcher<i32, AssignmentsOfTask>>,
    pub report: Batcher<i32, ById<progress_report::Entity>>,
    pub latest_report: Batcher<i32, crate::reports::LatestReport>,
    pub indicator: Batcher<i32, ById<indicator::Entity>>,
    pub indicator_children: Batcher<i32, ByParent<indicator::Entity>>,
    pub indicator_values: Batcher<i32, ByParent<indicator_value::Entity>>,
    /// Nested connections (`directive.tasks`, `agency.assignments`, `task.reports`).
    pub task_pages: Batcher<PageKey, Paged<task::Entity>>,
    pub assignment_pages: Batcher<PageKey, Paged<assignment::Entity>>,
    pub report_pages: Batcher<PageKey, Paged<progress_report::Entity>>,
    pub nested_counts: Batcher<PageKey, NestedCounts>,
}

impl Loaders {
    /// `prime`: whether rows fetched alongside others are kept for the request (queries);
    /// a mutation's loaders keep nothing beyond one batch.
    pub fn new(db: &Reads, scope: &Scope, delay: Duration, prime: bool) -> Self {
        let (d, s, w) = (db.clone(), scope.clone(), delay);
        let agency = Arc::new(ById::new(d.clone(), s.clone(), w).primeable(prime));
        let directive = Arc::new(ById::new(d.clone(), s.clone(), w).primeable(prime));
        let assignments_of_task = Arc::new(
            Batcher::new(
                AssignmentsOfTask {
                    db: d.clone(),
                    scope: s.clone(),
                    agencies: agency.clone(),
                },
                w,
            )
            .primeable(prime),
        );
        Loaders {
            agency: agency.clone(),
            successions_from: ByParent::new(
                d.clone(),
                s.clone(),
                agency_succession::Column::PredecessorId,
                |m: &agency_succession::Model| m.predecessor_id,
                |a: &agency_succession::Model, b: &agency_succession::Model| {
                    (a.effective_on, a.id).cmp(&(b.effective_on, b.id))
                },
                w,
            ),
            successions_to: ByParent::new(
                d.clone(),
                s.clone(),
                agency_succession::Column::SuccessorId,
                |m: &agency_succession::Model| m.successor_id,
                |a: &agency_succession::Model, b: &agency_succession::Model| {
                    (a.effective_on, a.id).cmp(&(b.effective_on, b.id))
                },
                w,
            ),
            directive: directive.clone(),
            task: Batcher::new(
                TaskById {
                    db: d.clone(),
                    scope: s.clone(),
                    directives: directive.clone(),
                },
                w,
            ),
            milestones: ByParent::new(
                d.clone(),
                s.clone(),
                task_milestone::Column::TaskId,
                |m: &task_milestone::Model| m.task_id,
                |a: &task_milestone::Model, b: &task_milestone::Model| {
                    (a.ordinal, a.id).cmp(&(b.ordinal, b.id))
                },
                w,
            ),
            extensions: ByParent::new(
                d.clone(),
                s.clone(),
                deadline_extension::Column::TaskId,
                |m: &deadline_extension::Model| m.task_id,
                |a: &deadline_extension::Model, b: &deadline_extension::Model| {
                    (a.granted_at, a.id).cmp(&(b.granted_at, b.id))
                },
                w,
            ),
            assignment: ById::new(d.clone(), s.clone(), w),
            task_with_assignments: Batcher::new(
                TaskWithAssignments {
                    db: d.clone(),
                    scope: s.clone(),
                    directives: directive.clone(),
                    assignments: assignments_of_task.clone(),
                    agencies: agency.clone(),
                },
                w,
            ),
            assignments_of_task,
            report: ById::new(d.clone(), s.clone(), w),
            latest_report: crate::reports::LatestReport::loader(d.clone(), s.clone(), w),
            indicator: ById::new(d.clone(), s.clone(), w),
            indicator_children: ByParent::new(
                d.clone(),
                s.clone(),
                indicator::Column::ParentId,
                |m: &indicator::Model| m.parent_id.unwrap_or_default(),
                |a: &indicator::Model, b: &indicator::Model| (a.ordinal, a.id).cmp(&(b.ordinal, b.id)),
                w,
            ),
            indicator_values: ByParent::new(
                d.clone(),
                s.clone(),
                indicator_value::Column::IndicatorId,
                |m: &indicator_value::Model| m.indicator_id,
                |a: &indicator_value::Model, b: &indicator_value::Model| {
                    (a.recorded_at, a.id).cmp(&(b.recorded_at, b.id))
                },
                w,
            ),
            task_pages: Paged::new(d.clone(), w),
            assignment_pages: Paged::new(d.clone(), w),
            report_pages: Paged::new(d.clone(), w),
            nested_counts: NestedCounts::new(d, w),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Loaders {
        ctx.data_unchecked::<Loaders>()
    }
}

/// Turns a loader failure into the API's error.
pub fn load_err(e: LoadError) -> crate::error::ApiError {
    crate::error::ApiError::Internal(Box::new(ArcErr(e)))
}

#[derive(Debug)]
struct ArcErr(LoadError);

impl std::fmt::Display for ArcErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ArcErr {}

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
    _e: PhantomData<E>,
}

impl<E> Paged<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    pub fn new(db: Reads, delay: Duration) -> Batcher<PageKey, Self> {
        Batcher::new(Paged { db, _e: PhantomData }, delay)
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
