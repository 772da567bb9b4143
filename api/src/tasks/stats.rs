//! `taskStatistics`: the dashboard's counts, computed in SQL from the same filter and the
//! same status conditions as `tasks`, so the totals equal the list's `totalCount`.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::{assignment, task};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr};
use sea_orm::{Condition, ConnectionTrait, EntityName, QueryFilter, QueryResult, QueryTrait};

use super::holders::{orphaned_on, orphaned_on_as};
use super::status_sql::{
    Parts, add_part_columns, assignment_completed, fallen_due, overdue_by_more_than, status_condition_with,
    task_completed,
};
use super::{TaskFilter, task_condition};
use crate::agencies::{Agency, load_agency};
use crate::auth::{Caller, Scope};
use crate::changes::Reuse;
use crate::clock::today;
use crate::db::reads::Reads;
use crate::directives::{Directive, load_directive};
use crate::domain::status::TaskStatus as S;
use crate::error::ApiResult;
use crate::graphql::scalars::Date;
use crate::state::State;

/// How many `taskStatistics` answers are kept at most. An answer is under 1 KB plus ~150
/// bytes a group, and only answers of at most [`MAX_KEPT_GROUPS`] groups are kept, so the
/// whole stays under ~10 MB whatever callers ask; a dashboard asks for a handful of filters,
/// each agency for its own.
const KEPT: usize = 1024;

/// How many built statements are kept (each a few kilobytes of SQL and its values).
const BUILT: usize = 256;

/// `taskStatistics` answers kept until the data changes (schema data, made by `lib.rs`), and
/// the statements that compute them.
pub struct StatisticsCache(
    Reuse<StatisticsKey, Arc<TaskStatistics>>,
    std::sync::Mutex<lru::LruCache<(StatisticsKey, u64), Arc<Built>>>,
);

impl StatisticsCache {
    /// Answers kept at most `reuse_for` (0: none), counted in `metrics`.
    pub fn new(reuse_for: std::time::Duration, metrics: &crate::metrics::Metrics) -> Self {
        let (hits, misses) = metrics.reuse_counters("task_statistics");
        StatisticsCache(
            Reuse::new(reuse_for, KEPT, hits, misses),
            std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(BUILT).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        )
    }

    /// The statements of `key` built under data generation `generation`, built now if not
    /// kept. Building (the condition's lookups, the expression tree, its SQL) was most of a
    /// computed answer's server time; the database still runs them for every answer.
    async fn built(&self, db: &Reads, key: &StatisticsKey, generation: u64) -> ApiResult<Arc<Built>> {
        let k = (key.clone(), generation);
        if let Some(b) = self
            .1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&k)
        {
            return Ok(b.clone());
        }
        let b = Arc::new(build(db, &key.scope, &key.filter, key.as_of, &key.group_by, key.needs).await?);
        self.1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(k, b.clone());
        Ok(b)
    }
}

/// The `taskStatistics` field of the root query.
#[derive(Default)]
pub struct TaskStatisticsQuery;

/// The `taskStatistics` field of the root query.
#[Object]
impl TaskStatisticsQuery {
    /// The dashboard's counts for the tasks `tasks(filter)` would list, as of `asOf` (default
    /// today in Vietnam), optionally grouped.
    async fn task_statistics(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilter>,
        as_of: Option<Date>,
        group_by: Option<Vec<TaskGroupBy>>,
    ) -> Result<TaskStatistics> {
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(task_statistics(ctx, filter.unwrap_or_default(), day, group_by.unwrap_or_default()).await?)
    }
}

/// What `taskStatistics` groups by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TaskGroupBy {
    /// Per agency holding an assignment (the role filter applies); a task with several lead
    /// agencies counts once per agency, with that agency's own completion.
    Agency,
    /// Per directive.
    Directive,
    /// Per section path.
    Section,
}

/// Which counts an answer computes; the others stay 0. A request computes what its selection
/// asks for (`Needs::of`): the portal's status counts need none of the overdue-age sums nor the
/// orphan set, and leaving them out of the statement spares PostgreSQL their work on every row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Needs {
    /// The six status counts.
    statuses: bool,
    /// `fallenDue`.
    fallen_due: bool,
    /// `overdueOver30Days`, `…60…`, `…120…`.
    overdue_ages: bool,
    /// `orphaned`.
    orphaned: bool,
}

/// The status counts' GraphQL names.
const STATUS_FIELDS: [&str; 6] = [
    "completedOnTime",
    "completedLate",
    "completedNoDeadline",
    "inProgressOnTime",
    "inProgressOverdue",
    "inProgressNoDeadline",
];

impl Needs {
    /// Every count (the follow-up table, and any caller outside a GraphQL selection).
    pub const ALL: Needs = Needs {
        statuses: true,
        fallen_due: true,
        overdue_ages: true,
        orphaned: true,
    };

    /// What the selection of the `taskStatistics` field being resolved reads, through
    /// fragments too, at the top and in `groups`.
    fn of(ctx: &Context<'_>) -> Needs {
        let top = ctx.look_ahead();
        let mut n = Needs {
            statuses: false,
            fallen_due: false,
            overdue_ages: false,
            orphaned: false,
        };
        let groups = top.field("groups");
        for part in [&top, &groups] {
            let counts = part.field("counts");
            let share = part.field("overdueShare").exists();
            n.statuses |= share
                || part.field("byStatus").exists()
                || STATUS_FIELDS.iter().any(|f| counts.field(f).exists());
            n.fallen_due |= share || counts.field("fallenDue").exists();
            n.overdue_ages |= ["overdueOver30Days", "overdueOver60Days", "overdueOver120Days"]
                .iter()
                .any(|f| counts.field(f).exists());
            n.orphaned |= counts.field("orphaned").exists();
        }
        n
    }
}

/// Counts of tasks per status, and the dashboard's derived figures.
#[derive(SimpleObject, Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// Number of tasks (per agency: the tasks it holds, each once).
    pub total: i64,
    /// Hoàn thành đúng hạn.
    pub completed_on_time: i64,
    /// Hoàn thành quá hạn.
    pub completed_late: i64,
    /// Hoàn thành, không giao hạn.
    pub completed_no_deadline: i64,
    /// Chưa hoàn thành, trong hạn.
    pub in_progress_on_time: i64,
    /// Chưa hoàn thành, quá hạn.
    pub in_progress_overdue: i64,
    /// Chưa hoàn thành, không giao hạn.
    pub in_progress_no_deadline: i64,
    /// Tasks whose (one-off) due date has passed, completed or not.
    pub fallen_due: i64,
    /// Unfinished tasks more than 30 days past due.
    pub overdue_over_30_days: i64,
    /// Unfinished tasks more than 60 days past due.
    pub overdue_over_60_days: i64,
    /// Unfinished tasks more than 120 days past due.
    pub overdue_over_120_days: i64,
    /// Tasks with an assignment unfinished on `asOf` whose holder no longer exists then (a
    /// dissolved district's work nobody has taken over: see `orphanedAssignments`); per
    /// agency, whether the agency's own assignment is such.
    pub orphaned: i64,
}

impl TaskCounts {
    /// Share of fallen-due tasks that are overdue and unfinished (the Government's headline
    /// figure), from 0 to 1; null when nothing has fallen due.
    pub fn overdue_share(&self) -> Option<f64> {
        (self.fallen_due > 0).then(|| self.in_progress_overdue as f64 / self.fallen_due as f64)
    }

    fn from_row(row: &QueryResult, needs: Needs) -> ApiResult<Self> {
        let get = |c: &str, asked: bool| -> ApiResult<i64> {
            if !asked {
                return Ok(0);
            }
            Ok(row.try_get::<Option<i64>>("", c)?.unwrap_or(0))
        };
        let st = needs.statuses;
        Ok(TaskCounts {
            total: get("total", true)?,
            completed_on_time: get("completed_on_time", st)?,
            completed_late: get("completed_late", st)?,
            completed_no_deadline: get("completed_no_deadline", st)?,
            in_progress_on_time: get("in_progress_on_time", st)?,
            in_progress_overdue: get("in_progress_overdue", st)?,
            in_progress_no_deadline: get("in_progress_no_deadline", st)?,
            fallen_due: get("fallen_due", needs.fallen_due)?,
            overdue_over_30_days: get("over_30", needs.overdue_ages)?,
            overdue_over_60_days: get("over_60", needs.overdue_ages)?,
            overdue_over_120_days: get("over_120", needs.overdue_ages)?,
            orphaned: get("orphaned", needs.orphaned)?,
        })
    }
}

/// Task counts for a filter, as of a date, with optional groups.
#[derive(Clone)]
pub struct TaskStatistics {
    as_of: NaiveDate,
    counts: TaskCounts,
    groups: Vec<TaskStatisticsGroup>,
}

/// Task counts for a filter, as of a date, with optional groups.
#[Object]
impl TaskStatistics {
    /// The date the statuses are computed for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// Number of tasks matching the filter (equals `tasks(filter).totalCount`).
    async fn total(&self) -> i64 {
        self.counts.total
    }
    /// Counts per status and the derived figures.
    async fn counts(&self) -> &TaskCounts {
        &self.counts
    }
    /// Counts per status, as a list.
    async fn by_status(&self) -> Vec<StatusCount> {
        by_status(&self.counts)
    }
    /// Share of fallen-due tasks that are overdue and unfinished, 0–1; null when none fell due.
    async fn overdue_share(&self) -> Option<f64> {
        self.counts.overdue_share()
    }
    /// One row per group, when `groupBy` was given.
    async fn groups(&self) -> &[TaskStatisticsGroup] {
        &self.groups
    }
}

/// A status and how many tasks have it.
#[derive(SimpleObject, Clone, Copy)]
pub struct StatusCount {
    /// The status.
    pub status: super::TaskStatus,
    /// Its Vietnamese label.
    pub label: &'static str,
    /// Number of tasks.
    pub count: i64,
}

fn by_status(c: &TaskCounts) -> Vec<StatusCount> {
    S::ALL
        .iter()
        .map(|s| StatusCount {
            status: (*s).into(),
            label: s.label_vi(),
            count: match s {
                S::CompletedOnTime => c.completed_on_time,
                S::CompletedLate => c.completed_late,
                S::CompletedNoDeadline => c.completed_no_deadline,
                S::InProgressOnTime => c.in_progress_on_time,
                S::InProgressOverdue => c.in_progress_overdue,
                S::InProgressNoDeadline => c.in_progress_no_deadline,
            },
        })
        .collect()
}

impl TaskStatistics {
    /// The groups, for other outputs of the same counts (the follow-up table).
    pub fn group_rows(&self) -> &[TaskStatisticsGroup] {
        &self.groups
    }
    pub fn totals(&self) -> &TaskCounts {
        &self.counts
    }
}

impl TaskStatisticsGroup {
    pub fn agency_id(&self) -> Option<i32> {
        self.agency_id
    }
    pub fn totals(&self) -> &TaskCounts {
        &self.counts
    }
}

/// One group of `taskStatistics`.
#[derive(Clone)]
pub struct TaskStatisticsGroup {
    agency_id: Option<i32>,
    directive_id: Option<i32>,
    section: Option<String>,
    counts: TaskCounts,
}

/// One group of `taskStatistics`.
#[Object]
impl TaskStatisticsGroup {
    /// The agency (when grouped by AGENCY).
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.agency_id {
            Some(id) => Ok(load_agency(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The directive (when grouped by DIRECTIVE).
    async fn directive(&self, ctx: &Context<'_>) -> Result<Option<Directive>> {
        match self.directive_id {
            Some(id) => Ok(load_directive(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The section path (when grouped by SECTION).
    async fn section(&self) -> Option<&str> {
        self.section.as_deref()
    }
    /// Number of tasks in the group.
    async fn total(&self) -> i64 {
        self.counts.total
    }
    /// Counts per status and derived figures.
    async fn counts(&self) -> &TaskCounts {
        &self.counts
    }
    /// Counts per status, as a list.
    async fn by_status(&self) -> Vec<StatusCount> {
        by_status(&self.counts)
    }
    /// Share of the group's fallen-due tasks that are overdue and unfinished.
    async fn overdue_share(&self) -> Option<f64> {
        self.counts.overdue_share()
    }
}

fn sum_if(cond: Condition, alias: &str, q: &mut SelectStatement) {
    let case: SimpleExpr = Expr::case(cond, 1).finally(0).into();
    q.expr_as(Func::sum(case), Alias::new(alias));
}

/// The counts of the selected rows. `per_assignment`: the rows are assignments joined to their
/// tasks (grouped by agency), so an orphan is the row itself.
fn add_counts(
    q: &mut SelectStatement,
    completed: &SimpleExpr,
    as_of: NaiveDate,
    per_assignment: bool,
    needs: Needs,
) {
    q.expr_as(
        Func::count(Expr::col(sea_orm::sea_query::Asterisk)),
        Alias::new("total"),
    );
    let statuses = if needs.statuses { &S::ALL[..] } else { &[] };
    for (s, alias) in [
        (S::CompletedOnTime, "completed_on_time"),
        (S::CompletedLate, "completed_late"),
        (S::CompletedNoDeadline, "completed_no_deadline"),
        (S::InProgressOnTime, "in_progress_on_time"),
        (S::InProgressOverdue, "in_progress_overdue"),
        (S::InProgressNoDeadline, "in_progress_no_deadline"),
    ]
    .into_iter()
    .filter(|(s, _)| statuses.contains(s))
    {
        sum_if(
            status_condition_with(s, completed, as_of, Parts::Columns),
            alias,
            q,
        );
    }
    if needs.fallen_due {
        sum_if(fallen_due(as_of, Parts::Columns), "fallen_due", q);
    }
    if needs.overdue_ages {
        for (days, alias) in [(30, "over_30"), (60, "over_60"), (120, "over_120")] {
            sum_if(
                overdue_by_more_than(completed, as_of, days, Parts::Columns),
                alias,
                q,
            );
        }
    }
    if !needs.orphaned {
        return;
    }
    let orphaned = if per_assignment {
        orphaned_on(as_of)
    } else {
        // The tasks with an orphaned assignment, as one set the statement hashes once (a
        // correlated EXISTS probed every task's assignments).
        let holder = Alias::new("orphan");
        let mut sub = Query::select();
        sub.column((holder.clone(), assignment::Column::TaskId))
            .from_as(assignment::Entity, holder.clone())
            .cond_where(orphaned_on_as(as_of, &holder));
        Condition::all().add(Expr::col((task::Entity, task::Column::Id)).in_subquery(sub.to_owned()))
    };
    sum_if(orphaned, "orphaned", q);
}

/// Answers with more groups than this (per agency over the whole province, say) are not
/// kept, which bounds the memory kept answers take.
pub const MAX_KEPT_GROUPS: usize = 64;

/// Answers whose filter carries more text than this (bytes of search words, codes and ids)
/// or more statuses than there are are not kept either: a request body may hold a filter
/// of hundreds of kilobytes, and kept keys must stay small.
const MAX_KEPT_FILTER_BYTES: usize = 256;

/// What a `taskStatistics` answer depends on besides the data: the caller's rows, the
/// filter, the date and the grouping. Answers are kept under it ([`StatisticsCache`])
/// until the data changes (`crate::changes`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StatisticsKey {
    scope: Scope,
    filter: TaskFilter,
    as_of: NaiveDate,
    group_by: Vec<TaskGroupBy>,
    needs: Needs,
}

impl StatisticsKey {
    /// Whether the key is small enough to keep (see [`MAX_KEPT_FILTER_BYTES`]).
    fn small(&self) -> bool {
        let f = &self.filter;
        let text: usize = [
            f.agency_id.as_ref().map(|i| i.len()),
            f.agency_code.as_ref().map(String::len),
            f.directive_id.as_ref().map(|i| i.len()),
            f.directive_number.as_ref().map(String::len),
            f.section.as_ref().map(String::len),
            f.search.as_ref().map(String::len),
        ]
        .into_iter()
        .flatten()
        .sum();
        text <= MAX_KEPT_FILTER_BYTES
            && f.status.as_ref().is_none_or(|s| s.len() <= S::ALL.len())
            && self.group_by.len() <= 3
            && match &self.scope.rows {
                crate::auth::Rows::Agencies(ids) => ids.len() <= 64,
                _ => true,
            }
    }
}

/// `taskStatistics`: reused from the [`StatisticsCache`] while no write has been committed
/// since it was computed (on PostgreSQL; see `crate::changes`), else computed.
async fn task_statistics(
    ctx: &Context<'_>,
    filter: TaskFilter,
    as_of: NaiveDate,
    group_by: Vec<TaskGroupBy>,
) -> ApiResult<TaskStatistics> {
    // What it reads may come from the answers and statements kept here, which run fewer
    // statements than it depends on: an answer that holds it depends on every table.
    crate::db::touched::depends_on(crate::db::touched::ALL);
    let state = State::of(ctx);
    let cache = ctx.data_unchecked::<Arc<StatisticsCache>>();
    let kept = &cache.0;
    // What is kept (answers, statements) is read from the primary: it is keyed by the
    // primary's change generation, which a lagging read replica may not have reached. What
    // is not kept reads where the request was routed (`db::replica`).
    let primary = &state.reads;
    let routed = State::reads_of(ctx);
    let key = StatisticsKey {
        scope: Caller::of(ctx).scope.for_aggregates(),
        filter,
        as_of,
        group_by,
        needs: Needs::of(ctx),
    };
    // `None` on SQLite or while the listener reconnects: nothing is kept.
    let Some(generation) = state.changes.current().filter(|_| key.small()) else {
        return compute(routed, &key.scope, &key.filter, as_of, &key.group_by, key.needs).await;
    };
    if !kept.enabled() {
        // Every answer computed (CHIDAO_STATISTICS_REUSE_SECS=0): only the statements are kept.
        let built = cache.built(primary, &key, generation).await?;
        return run(routed, &built, as_of, &key.group_by, key.needs).await;
    }
    if let Some(answer) = kept.get(&key, generation) {
        return Ok(TaskStatistics::clone(&answer));
    }
    let built = cache.built(primary, &key, generation).await?;
    let fresh = run(primary, &built, as_of, &key.group_by, key.needs).await?;
    // Not kept when a write was committed meanwhile (a slow request must not replace a
    // newer answer).
    if fresh.groups.len() <= MAX_KEPT_GROUPS && state.changes.current() == Some(generation) {
        kept.put(key, generation, Arc::new(fresh.clone()));
    }
    Ok(fresh)
}

/// The columns of `tasks` that the counts and groups read ([`add_counts`], `status_sql`'s
/// conditions, the group keys): the inner select of [`counted`] carries only these, so its rows
/// are narrow (not a task's text) and, on PostgreSQL, come from `ix_tasks_directive_status_id`
/// alone for one directive. A condition reading another column fails every statistics test.
const COUNTED_COLUMNS: [task::Column; 7] = [
    task::Column::Id,
    task::Column::DirectiveId,
    task::Column::Section,
    task::Column::DueOn,
    task::Column::CompletedOn,
    task::Column::Recurrence,
    task::Column::RequiresReport,
];

/// The tasks a scope may see that match the filter, as a statement to select counts from:
/// `SELECT … FROM (SELECT <COUNTED_COLUMNS>, <missed parts> FROM tasks WHERE …) AS tasks`. The
/// inner select computes each row's missed milestone and recurring report once
/// (`Parts::Columns`), which the counts then ask six times each; its LIMIT is a fence that keeps
/// PostgreSQL from pulling the subquery up and copying the two subqueries into every use again.
fn counted(scope: &Scope, cond: Condition, as_of: NaiveDate) -> SelectStatement {
    let mut inner = scope.find::<task::Entity>().filter(cond).into_query();
    inner.clear_selects();
    for c in COUNTED_COLUMNS {
        inner.column((task::Entity, c));
    }
    add_part_columns(&mut inner, as_of);
    inner.limit(i64::MAX as u64);
    Query::select()
        .from_subquery(inner, Alias::new(task::Entity.table_name()))
        .to_owned()
}

/// A `taskStatistics` answer's statements: the counts, and the groups' when it is grouped.
pub struct Built {
    counts: sea_orm::Statement,
    groups: Option<sea_orm::Statement>,
}

/// Computes an answer (its statements built and run).
pub(crate) async fn compute(
    db: &Reads,
    scope: &Scope,
    filter: &TaskFilter,
    as_of: NaiveDate,
    group_by: &[TaskGroupBy],
    needs: Needs,
) -> ApiResult<TaskStatistics> {
    let built = build(db, scope, filter, as_of, group_by, needs).await?;
    run(db, &built, as_of, group_by, needs).await
}

/// The statements of an answer.
async fn build(
    db: &Reads,
    scope: &Scope,
    filter: &TaskFilter,
    as_of: NaiveDate,
    group_by: &[TaskGroupBy],
    needs: Needs,
) -> ApiResult<Built> {
    let backend = db.get_database_backend();
    let cond = task_condition(db, filter, as_of).await?;
    let mut q = counted(scope, cond.clone(), as_of);
    add_counts(&mut q, &task_completed(), as_of, false, needs);
    let counts = backend.build(&q);
    let groups = if group_by.is_empty() {
        None
    } else {
        let by_agency = group_by.contains(&TaskGroupBy::Agency);
        let mut q = counted(scope, cond, as_of);
        if by_agency {
            q.inner_join(
                assignment::Entity,
                Expr::col((assignment::Entity, assignment::Column::TaskId))
                    .equals((task::Entity, task::Column::Id)),
            );
            if let Some(r) = filter.role.unwrap_or_default().role() {
                q.and_where(Expr::col((assignment::Entity, assignment::Column::Role)).eq(r));
            }
            q.cond_where(scope.assignment_holders());
            q.expr_as(
                Expr::col((assignment::Entity, assignment::Column::AgencyId)),
                Alias::new("g_agency"),
            );
            q.group_by_col((assignment::Entity, assignment::Column::AgencyId));
        }
        if group_by.contains(&TaskGroupBy::Directive) {
            q.expr_as(
                Expr::col((task::Entity, task::Column::DirectiveId)),
                Alias::new("g_directive"),
            );
            q.group_by_col((task::Entity, task::Column::DirectiveId));
        }
        if group_by.contains(&TaskGroupBy::Section) {
            q.expr_as(
                Expr::col((task::Entity, task::Column::Section)),
                Alias::new("g_section"),
            );
            q.group_by_col((task::Entity, task::Column::Section));
        }
        let completed = if by_agency {
            assignment_completed()
        } else {
            task_completed()
        };
        add_counts(&mut q, &completed, as_of, by_agency, needs);
        // A dashboard's table has hundreds of rows at most; agencies × directives × sections
        // over years of directives would be tens of thousands: refused, not built.
        let most = crate::graphql::limits::MAX_GROUPS;
        q.limit(most + 1);
        Some(backend.build(&q))
    };
    Ok(Built { counts, groups })
}

/// Runs an answer's statements.
async fn run(
    db: &Reads,
    built: &Built,
    as_of: NaiveDate,
    group_by: &[TaskGroupBy],
    needs: Needs,
) -> ApiResult<TaskStatistics> {
    let counts = match db.query_one_raw(built.counts.clone()).await? {
        Some(row) => TaskCounts::from_row(&row, needs)?,
        None => TaskCounts::default(),
    };
    let mut groups = Vec::new();
    if let Some(stmt) = &built.groups {
        let by_agency = group_by.contains(&TaskGroupBy::Agency);
        let most = crate::graphql::limits::MAX_GROUPS;
        let rows = db.query_all_raw(stmt.clone()).await?;
        if rows.len() as u64 > most {
            return Err(crate::error::ApiError::TooComplex(format!(
                "Thống kê có hơn {most} nhóm; hãy thu hẹp bộ lọc hoặc bớt tiêu chí groupBy"
            )));
        }
        for row in rows {
            groups.push(TaskStatisticsGroup {
                agency_id: if by_agency {
                    row.try_get("", "g_agency")?
                } else {
                    None
                },
                directive_id: if group_by.contains(&TaskGroupBy::Directive) {
                    row.try_get("", "g_directive")?
                } else {
                    None
                },
                section: if group_by.contains(&TaskGroupBy::Section) {
                    row.try_get("", "g_section")?
                } else {
                    None
                },
                counts: TaskCounts::from_row(&row, needs)?,
            });
        }
        // Stable, readable order: most overdue first, then by key.
        groups.sort_by(|a, b| {
            b.counts
                .in_progress_overdue
                .cmp(&a.counts.in_progress_overdue)
                .then(a.directive_id.cmp(&b.directive_id))
                .then(a.section.cmp(&b.section))
                .then(a.agency_id.cmp(&b.agency_id))
        });
    }
    Ok(TaskStatistics {
        as_of,
        counts,
        groups,
    })
}
