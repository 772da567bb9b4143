//! The task and assignment loaders of one request: tasks by id (each with its directive from
//! the same statement), tasks with their assignments and agencies in one statement (for
//! `task(id)`), assignments of tasks (each with its agency), milestones, extensions, and the
//! nested pages of `directive.tasks` and `agency.assignments`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{
    agency, assignment, assignment_transfer, deadline_extension, directive, task, task_addressee,
    task_milestone,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, Order, QueryFilter, QueryOrder, QueryTrait};

use crate::agencies::AgencyLoaders;
use crate::auth::{Scope, Scoped};
use crate::db::lean::{Fields, kept_mask, masks, select_lean};
use crate::db::positional::Positional;
use crate::db::reads::Reads;
use crate::directives::DirectiveLoaders;
use crate::graphql::loaders::{Batcher, Budget, ById, ByParent, Env, LoadError, kept_statement};
use crate::graphql::relay::{PageKey, Paged};

/// Every task and assignment loader of a request.
pub struct TaskLoaders {
    pub task: Batcher<i32, TaskById>,
    pub task_with_assignments: Batcher<i32, TaskWithAssignments>,
    pub milestones: Batcher<i32, ByParent<task_milestone::Entity>>,
    pub extensions: Batcher<i32, ByParent<deadline_extension::Entity>>,
    pub extension: Batcher<i32, ById<deadline_extension::Entity>>,
    pub addressees: Batcher<i32, ByParent<task_addressee::Entity>>,
    pub transfers: Batcher<i32, ByParent<assignment_transfer::Entity>>,
    pub assignment: Batcher<i32, ById<assignment::Entity>>,
    pub assignments_of_task: Arc<Batcher<i32, AssignmentsOfTask>>,
    /// What a task's status needs of its dated parts (milestones, a recurring task's reports).
    pub parts: Batcher<i32, crate::duties::loaders::TaskPartsLoader>,
    /// `directive.tasks` under a list of directives.
    pub task_pages: Batcher<PageKey, Paged<task::Entity>>,
    /// `agency.assignments` under a list of agencies.
    pub assignment_pages: Batcher<PageKey, Paged<assignment::Entity>>,
}

impl TaskLoaders {
    /// Primes the agency and directive loaders with what it reads alongside tasks.
    pub fn new(env: &Env, agencies: &AgencyLoaders, directives: &DirectiveLoaders) -> Self {
        let assignments_of_task = Arc::new(
            Batcher::new(
                AssignmentsOfTask {
                    db: env.reads.clone(),
                    scope: env.scope.clone(),
                    agencies: agencies.agency.clone(),
                    budget: env.budget.clone(),
                    lean: env.lean.clone(),
                },
                env.delay,
            )
            .primeable(env.prime),
        );
        TaskLoaders {
            task: Batcher::new(
                TaskById {
                    db: env.reads.clone(),
                    scope: env.scope.clone(),
                    directives: directives.directive.clone(),
                    budget: env.budget.clone(),
                    lean: env.lean.clone(),
                },
                env.delay,
            ),
            task_with_assignments: Batcher::new(
                TaskWithAssignments {
                    db: env.reads.clone(),
                    scope: env.scope.clone(),
                    directives: directives.directive.clone(),
                    assignments: assignments_of_task.clone(),
                    agencies: agencies.agency.clone(),
                    budget: env.budget.clone(),
                    lean: env.lean.clone(),
                },
                env.delay,
            ),
            milestones: ByParent::new(
                env,
                task_milestone::Column::TaskId,
                |m: &task_milestone::Model| m.task_id,
                |a: &task_milestone::Model, b: &task_milestone::Model| {
                    (a.ordinal, a.id).cmp(&(b.ordinal, b.id))
                },
            ),
            extensions: ByParent::new(
                env,
                deadline_extension::Column::TaskId,
                |m: &deadline_extension::Model| m.task_id,
                |a: &deadline_extension::Model, b: &deadline_extension::Model| {
                    (a.granted_at, a.id).cmp(&(b.granted_at, b.id))
                },
            ),
            extension: ById::new(env),
            parts: Batcher::new(
                crate::duties::loaders::TaskPartsLoader {
                    db: env.reads.clone(),
                    budget: env.budget.clone(),
                },
                env.delay,
            ),
            addressees: ByParent::new(
                env,
                task_addressee::Column::TaskId,
                |m: &task_addressee::Model| m.task_id,
                |a: &task_addressee::Model, b: &task_addressee::Model| {
                    (a.ordinal, a.id).cmp(&(b.ordinal, b.id))
                },
            ),
            transfers: ByParent::new(
                env,
                assignment_transfer::Column::AssignmentId,
                |m: &assignment_transfer::Model| m.assignment_id,
                |a: &assignment_transfer::Model, b: &assignment_transfer::Model| {
                    (a.effective_on, a.id).cmp(&(b.effective_on, b.id))
                },
            ),
            assignment: ById::new(env),
            assignments_of_task,
            task_pages: Paged::new(env),
            assignment_pages: Paged::new(env),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Self {
        ctx.data_unchecked::<Self>()
    }
}

/// Tasks by id, each with its directive from the same statement (primed into the
/// directive batcher: a task the scope shows has a directive the scope shows).
pub struct TaskById {
    db: Reads,
    scope: Scope,
    directives: Arc<Batcher<i32, ById<directive::Entity>>>,
    budget: Arc<Budget>,
    lean: Option<Arc<Fields>>,
}

impl Loader<i32> for TaskById {
    type Value = task::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        // The task's columns, then the directive's.
        let lean = self.lean.as_deref();
        let shape = (
            "task_by_id",
            "",
            Some(&self.scope),
            masks(&[
                kept_mask::<task::Entity>(lean),
                kept_mask::<directive::Entity>(lean),
            ]),
        );
        let stmt = kept_statement(&self.db, shape, keys, |backend, keys| {
            let mut sel = self
                .scope
                .find::<task::Entity>()
                .find_also_related(directive::Entity)
                .filter(crate::db::among(
                    backend,
                    task::Column::Id.into_expr(),
                    keys.iter().copied(),
                ));
            let q = QueryTrait::query(&mut sel);
            q.clear_selects();
            select_lean::<task::Entity>(q, lean);
            select_lean::<directive::Entity>(q, lean);
            sel.build(backend)
        });
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
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
    budget: Arc<Budget>,
    lean: Option<Arc<Fields>>,
}

const TASK_WIDTH: usize = <task::Model as Positional>::FIELDS.len();
const DIRECTIVE_WIDTH: usize = <directive::Model as Positional>::FIELDS.len();
const ASSIGNMENT_WIDTH: usize = <assignment::Model as Positional>::FIELDS.len();

impl Loader<i32> for TaskWithAssignments {
    type Value = task::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        use sea_orm::sea_query::JoinType;
        let lean = self.lean.as_deref();
        let shape = (
            "task_with_assignments",
            "",
            Some(&self.scope),
            masks(&[
                kept_mask::<task::Entity>(lean),
                kept_mask::<directive::Entity>(lean),
                kept_mask::<agency::Entity>(lean),
            ]),
        );
        let stmt = kept_statement(&self.db, shape, keys, |backend, keys| {
            let mut q = Query::select();
            q.from(task::Entity);
            // Read back by position: task, directive, assignment, agency.
            select_lean::<task::Entity>(&mut q, lean);
            select_lean::<directive::Entity>(&mut q, lean);
            select_lean::<assignment::Entity>(&mut q, lean);
            select_lean::<agency::Entity>(&mut q, lean);
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
                    .add(assignment::Entity::visible(&self.scope)),
            )
            .join(
                JoinType::LeftJoin,
                agency::Entity,
                Expr::col((agency::Entity, agency::Column::Id))
                    .equals((assignment::Entity, assignment::Column::AgencyId)),
            )
            .cond_where(
                Condition::all()
                    .add(crate::db::among(
                        backend,
                        task::Column::Id.into_expr(),
                        keys.iter().copied(),
                    ))
                    .add(task::Entity::visible(&self.scope)),
            )
            .order_by((task::Entity, task::Column::Id), Order::Asc)
            .order_by((assignment::Entity, assignment::Column::Role), Order::Asc)
            .order_by((assignment::Entity, assignment::Column::Id), Order::Asc);
            backend.build(&q)
        });
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
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
    budget: Arc<Budget>,
    lean: Option<Arc<Fields>>,
}

impl Loader<i32> for AssignmentsOfTask {
    type Value = Arc<Vec<assignment::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        // The assignment's columns, then the agency's.
        let lean = self.lean.as_deref();
        let shape = (
            "assignments_of_task",
            "",
            Some(&self.scope),
            kept_mask::<agency::Entity>(lean),
        );
        let stmt = kept_statement(&self.db, shape, keys, |backend, keys| {
            let mut sel = self
                .scope
                .find::<assignment::Entity>()
                .find_also_related(agency::Entity)
                .filter(crate::db::among(
                    backend,
                    assignment::Column::TaskId.into_expr(),
                    keys.iter().copied(),
                ))
                .order_by_asc(assignment::Column::Role)
                .order_by_asc(assignment::Column::Id);
            let q = QueryTrait::query(&mut sel);
            q.clear_selects();
            select_lean::<assignment::Entity>(q, lean);
            select_lean::<agency::Entity>(q, lean);
            sel.build(backend)
        });
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
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
