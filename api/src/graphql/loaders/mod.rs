//! Per-request loaders, batched by [`Batcher`]: each holds the caller's `Scope`, so a row it
//! keeps can never be served to another caller, and each runs one `WHERE … IN (…)` per batch.
//! The generic ones are here (rows by id, rows by parent); each capability builds its own set
//! from them (`tasks::loaders`, `reports::loaders`, …), and `schema` puts every set in a request.

mod batch;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, ConnectionTrait, IdenStatic, QueryFilter, QueryTrait, Select};

pub use batch::Batcher;

use crate::auth::Scope;
use crate::auth::scope::public;
use crate::db::kept::KeptStatements;
use crate::db::lean::{Fields, Lean, kept_mask, lean_columns};
use crate::db::positional::{Positional, fetch_all_raw};
use crate::db::reads::Reads;

pub type LoadError = Arc<sea_orm::DbErr>;

/// What every loader of one request is made with.
#[derive(Clone)]
pub struct Env {
    pub reads: Reads,
    pub scope: Scope,
    /// Extra wait before a batch runs (`CHIDAO_LOADER_DELAY_MS`).
    pub delay: Duration,
    /// Whether rows fetched alongside others are kept for the request (queries); a mutation's
    /// and a subscription event's loaders keep nothing beyond one batch.
    pub prime: bool,
    /// The rows the request's loaders may still read, shared by all of them.
    pub budget: Arc<Budget>,
    /// The document's field names, when its loaders may leave out the columns none of them
    /// reads (a query's; `None`: whole rows). See `db::lean`.
    pub lean: Option<Arc<Fields>>,
}

/// The node budget of one request (`CHIDAO_MAX_NODES`): every row a loader reads is charged;
/// past the budget the loads fail and the request gets TOO_COMPLEX naming the limit. The
/// estimated cost refuses what looks too large before anything runs; this stops what the
/// estimate did not foresee (data larger than its list sizes assume).
#[derive(Debug)]
pub struct Budget {
    max: u64,
    used: std::sync::atomic::AtomicU64,
}

/// How a load past the budget fails (a `DbErr` so it travels through the loaders' error type;
/// [`load_err`] recognises it).
const OVER_BUDGET: &str = "chidao: node budget exceeded";

impl Budget {
    pub fn new(max: u64) -> Arc<Self> {
        Arc::new(Budget {
            max,
            used: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Charges `rows` read rows.
    pub fn charge(&self, rows: usize) -> Result<(), LoadError> {
        let used = self
            .used
            .fetch_add(rows as u64, std::sync::atomic::Ordering::Relaxed)
            + rows as u64;
        if used > self.max {
            return Err(Arc::new(sea_orm::DbErr::Custom(OVER_BUDGET.into())));
        }
        Ok(())
    }

    /// Starts the budget again: a socket's loaders serve one subscription event after another,
    /// and each event gets the whole budget.
    pub fn reset(&self) {
        self.used.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Rows read so far.
    pub fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn max(&self) -> u64 {
        self.max
    }
}

/// What a loader's statement depends on besides its ids (`db::kept`): the loader, the column
/// it reads by (by-parent loaders), the caller's scope (`None`: unscoped) and the lean columns
/// of the document (`db::lean::kept_mask`).
pub type Shape = (&'static str, &'static str, Option<Scope>, u64);

/// The kept statements of every loader. One for the process: a shape's SQL depends on nothing
/// else (the schema is the migrations').
pub fn shapes() -> &'static KeptStatements<Shape> {
    static SHAPES: std::sync::LazyLock<KeptStatements<Shape>> = std::sync::LazyLock::new(Default::default);
    &SHAPES
}

/// The statement of loader `name` (reading by `column`, or `""`) for `keys` under `scope` (`None`:
/// unscoped) with lean columns `mask`, from the kept shapes: `build` makes it for given ids.
pub fn kept_statement(
    db: &Reads,
    shape: (&'static str, &'static str, Option<&Scope>, u64),
    keys: &[i32],
    build: impl Fn(sea_orm::DbBackend, &[i32]) -> sea_orm::Statement,
) -> sea_orm::Statement {
    let backend = db.get_database_backend();
    let (name, column, scope, mask) = shape;
    shapes().statement(backend, &(name, column, scope.cloned(), mask), keys, |ids| {
        build(backend, ids)
    })
}

/// A table loaders read by id or by parent, with where its visible rows start (the scoped
/// finder, or the whole of a public table).
pub trait Table: Lean {
    fn id_column() -> Self::Column;
    fn id_of(m: &Self::Model) -> i32;
    fn select(scope: &Scope) -> Select<Self>;
}

macro_rules! table {
    ($($entity:ident: $how:ident;)*) => { $(
        impl Table for entity::$entity::Entity {
            fn id_column() -> Self::Column {
                entity::$entity::Column::Id
            }
            fn id_of(m: &Self::Model) -> i32 {
                m.id
            }
            fn select(scope: &Scope) -> Select<Self> {
                table!(@$how scope)
            }
        }
    )* };
    (@scoped $scope:ident) => { $scope.find::<Self>() };
    (@public $scope:ident) => {{ let _ = $scope; public::<Self>() }};
}

table! {
    agency: public;
    agency_succession: public;
    directive: scoped;
    task: scoped;
    task_milestone: scoped;
    deadline_extension: scoped;
    assignment: scoped;
    assignment_transfer: scoped;
    task_addressee: scoped;
    progress_report: scoped;
    indicator: scoped;
    indicator_value: scoped;
    reporting_regime: scoped;
}

/// Loads rows by primary key, within the scope.
pub struct ById<E: Table> {
    db: Reads,
    scope: Scope,
    budget: Arc<Budget>,
    lean: Option<Arc<Fields>>,
    _e: PhantomData<E>,
}

impl<E: Table> ById<E>
where
    Self: Loader<i32>,
{
    pub fn new(env: &Env) -> Batcher<i32, Self> {
        Batcher::new(
            ById {
                db: env.reads.clone(),
                scope: env.scope.clone(),
                budget: env.budget.clone(),
                lean: env.lean.clone(),
                _e: PhantomData,
            },
            env.delay,
        )
    }

    /// Like [`ById::new`], keeping the rows other loaders fetch alongside theirs (`Env::prime`).
    pub fn primed(env: &Env) -> Arc<Batcher<i32, Self>> {
        Arc::new(Self::new(env).primeable(env.prime))
    }
}

impl<E> Loader<i32> for ById<E>
where
    E: Table + Send + Sync + 'static,
    E::Model: Positional + Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let lean = self.lean.as_deref();
        let shape = (
            std::any::type_name::<Self>(),
            "id",
            Some(&self.scope),
            kept_mask::<E>(lean),
        );
        let stmt = kept_statement(&self.db, shape, keys, |backend, ids| {
            let among = crate::db::among(backend, E::id_column().into_expr(), ids.iter().copied());
            let mut query = E::select(&self.scope).filter(among);
            lean_columns::<E>(QueryTrait::query(&mut query), lean);
            query.build(backend)
        });
        let rows: Vec<E::Model> = fetch_all_raw(&self.db, stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
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
pub struct ByParent<E: Table> {
    db: Reads,
    scope: Scope,
    budget: Arc<Budget>,
    lean: Option<Arc<Fields>>,
    column: E::Column,
    parent_of: fn(&E::Model) -> i32,
    order: fn(&E::Model, &E::Model) -> std::cmp::Ordering,
}

impl<E: Table> ByParent<E>
where
    Self: Loader<i32>,
{
    pub fn new(
        env: &Env,
        column: E::Column,
        parent_of: fn(&E::Model) -> i32,
        order: fn(&E::Model, &E::Model) -> std::cmp::Ordering,
    ) -> Batcher<i32, Self> {
        Batcher::new(
            ByParent {
                db: env.reads.clone(),
                scope: env.scope.clone(),
                budget: env.budget.clone(),
                lean: env.lean.clone(),
                column,
                parent_of,
                order,
            },
            env.delay,
        )
    }
}

impl<E> Loader<i32> for ByParent<E>
where
    E: Table + Send + Sync + 'static,
    E::Model: Positional + Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Value = Arc<Vec<E::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let lean = self.lean.as_deref();
        let shape = (
            std::any::type_name::<Self>(),
            self.column.as_str(),
            Some(&self.scope),
            kept_mask::<E>(lean),
        );
        let stmt = kept_statement(&self.db, shape, keys, |backend, ids| {
            let among = crate::db::among(backend, self.column.into_expr(), ids.iter().copied());
            let mut query = E::select(&self.scope).filter(among);
            lean_columns::<E>(QueryTrait::query(&mut query), lean);
            query.build(backend)
        });
        let rows: Vec<E::Model> = fetch_all_raw(&self.db, stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
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

/// Turns a loader failure into the API's error: past the node budget, TOO_COMPLEX.
pub fn load_err(e: LoadError) -> crate::error::ApiError {
    if matches!(&*e, sea_orm::DbErr::Custom(m) if m == OVER_BUDGET) {
        return over_budget();
    }
    crate::error::ApiError::Internal(Box::new(ArcErr(e)))
}

/// The refusal of a request past its node budget.
pub fn over_budget() -> crate::error::ApiError {
    crate::error::ApiError::TooComplex(
        "Truy vấn đọc quá nhiều dữ liệu (maxNodes); hãy chia nhỏ, ví dụ giảm `first` hoặc bớt danh sách lồng nhau"
            .into(),
    )
}

impl Budget {
    /// Whether the budget was exceeded.
    pub fn exceeded(&self) -> bool {
        self.used() > self.max()
    }
}

#[derive(Debug)]
struct ArcErr(LoadError);

impl std::fmt::Display for ArcErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ArcErr {}
