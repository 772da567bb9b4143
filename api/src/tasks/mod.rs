//! Tasks (nhiệm vụ) and assignments (phân công): the types, their root fields, lists and
//! filters (`queries`), loaders, the writes (`mutations`), the dashboard's counts (`stats`,
//! over the one SQL definition of status in `status_sql`), and `taskEvents` (`subscription`).

mod deadlines;
pub mod holders;
pub mod loaders;
pub mod mutations;
mod queries;
pub mod stats;
pub mod status_sql;
pub mod subscription;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, Value};
use chrono::NaiveDate;
use entity::{assignment, task};

pub use deadlines::{Deadline, DeadlineExtension, DeadlineKind, Milestone, stored};
pub use loaders::TaskLoaders;
pub use queries::{
    AssignmentConnection, AssignmentFilter, TaskConnection, TaskFilter, TaskOrder, TaskOrderField,
    task_condition,
};

use crate::agencies::{Agency, AgencyLoaders, load_agency};
use crate::auth::{Caller, Permission};
use crate::clock::today;
use crate::directives::Directive;
use crate::domain::status::{self as st};
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::load_err;
use crate::graphql::plain::{Plain, PlainList, PlainOne, opt_text, out, text};
use crate::graphql::relay::{self, NodeKind, PageArgs, Within, decode_id};
use crate::graphql::scalars::Date;
use crate::reports::{ProgressReport, ReportLoaders};
use crate::state::State;
use status_sql::{due_as_of, status_of};

/// Status of a task or assignment as of a date: the six categories the Government Office
/// (Văn phòng Chính phủ) publishes.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "crate::domain::status::TaskStatus")]
pub enum TaskStatus {
    /// Hoàn thành đúng hạn: completed on or before the due date.
    CompletedOnTime,
    /// Hoàn thành quá hạn: completed after the due date.
    CompletedLate,
    /// Hoàn thành, không giao hạn: completed; the task had no due date.
    CompletedNoDeadline,
    /// Chưa hoàn thành, trong hạn: not completed, due date not passed.
    InProgressOnTime,
    /// Chưa hoàn thành, quá hạn: not completed, due date passed.
    InProgressOverdue,
    /// Chưa hoàn thành, không giao hạn: not completed, ongoing duty without due date.
    InProgressNoDeadline,
}

/// An agency's role on a task.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AssignmentRole")]
pub enum AssignmentRole {
    /// Chủ trì: responsible for the task.
    Lead,
    /// Phối hợp: helps; reports its contribution.
    Coordinator,
}

/// Role filter: lead, coordinator, or either.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum RoleFilter {
    /// Chủ trì only.
    Lead,
    /// Phối hợp only.
    Coordinator,
    /// Either role.
    #[default]
    Any,
}

impl RoleFilter {
    pub fn role(self) -> Option<entity::enums::AssignmentRole> {
        match self {
            RoleFilter::Lead => Some(entity::enums::AssignmentRole::Lead),
            RoleFilter::Coordinator => Some(entity::enums::AssignmentRole::Coordinator),
            RoleFilter::Any => None,
        }
    }
}

/// A task (nhiệm vụ): one assignment item of a directive.
#[derive(Clone)]
pub struct Task {
    pub(crate) m: Arc<task::Model>,
    /// The date a list was asked about; a field's own `asOf` wins over it.
    pub(crate) as_of: Option<NaiveDate>,
}

impl Task {
    pub fn new(m: task::Model, as_of: Option<NaiveDate>) -> Self {
        Task {
            m: Arc::new(m),
            as_of,
        }
    }

    pub(crate) fn from_arc(m: Arc<task::Model>) -> Self {
        Task { m, as_of: None }
    }

    fn date(&self, as_of: Option<Date>) -> NaiveDate {
        as_of.map(|d| d.0).or(self.as_of).unwrap_or_else(today)
    }

    /// The task's milestones as dated parts (one batched statement for a page of tasks).
    async fn parts(&self, ctx: &Context<'_>, as_of: NaiveDate) -> Result<Vec<st::Part>> {
        parts_of(ctx, &self.m, as_of).await
    }

    async fn assignment_rows(&self, ctx: &Context<'_>) -> Result<Arc<Vec<assignment::Model>>> {
        Ok(TaskLoaders::of(ctx)
            .assignments_of_task
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }

    async fn agencies_with(
        &self,
        ctx: &Context<'_>,
        role: entity::enums::AssignmentRole,
    ) -> Result<Vec<Agency>> {
        let ids: Vec<i32> = self
            .assignment_rows(ctx)
            .await?
            .iter()
            .filter(|a| a.role == role)
            .map(|a| a.agency_id)
            .collect();
        let found = AgencyLoaders::of(ctx)
            .agency
            .load_many(ids.iter().copied())
            .await
            .map_err(load_err)?;
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Agency::new))
            .collect())
    }
}

impl Plain for Task {
    fn plain(&self, name: &str) -> Option<Value> {
        let m = &self.m;
        Some(match name {
            "id" => out(relay::global_id(NodeKind::Task, m.id)),
            "code" => text(&m.code),
            "title" => text(&m.title),
            "fullText" => text(&m.full_text),
            "section" => text(&m.section),
            "sectionTitle" => opt_text(m.section_title.as_deref()),
            "item" => opt_text(m.item.as_deref()),
            "originalDueOn" => out(m.original_due_on.map(Date)),
            // Asked without `asOf`: the list's date, else today, as the resolver's default.
            "dueOn" => out(due_as_of(m.due_on, m.recurrence, self.date(None)).map(Date)),
            "completedOn" => out(m.completed_on.map(Date)),
            "metOriginalDeadline" => out(st::met_original(m.original_due_on, m.completed_on)),
            "requiresReport" => out(m.requires_report),
            "createdAt" => out(m.created_at),
            "updatedAt" => out(m.updated_at),
            _ => return None,
        })
    }
}

/// A task (nhiệm vụ): one assignment item of a directive.
#[Object]
impl Task {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Task, self.m.id)
    }
    /// Code, unique within the directive: section, bullet and item (`II.1.1-2.3`).
    async fn code(&self) -> &str {
        &self.m.code
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.m.title
    }
    /// The task's full text as written in the directive.
    async fn full_text(&self) -> &str {
        &self.m.full_text
    }
    /// The directive that assigns it.
    async fn directive(&self, ctx: &Context<'_>) -> Result<PlainOne<Directive>> {
        crate::directives::load_directive(ctx, self.m.directive_id)
            .await?
            .map(PlainOne)
            .ok_or_else(|| ApiError::not_found("văn bản").into())
    }
    /// Section path in the directive (mục), e.g. `II.1.1`.
    async fn section(&self) -> &str {
        &self.m.section
    }
    /// Title of that section.
    async fn section_title(&self) -> Option<&str> {
        self.m.section_title.as_deref()
    }
    /// Item marker as written, e.g. `(3)`.
    async fn item(&self) -> Option<&str> {
        self.m.item.as_deref()
    }
    /// The deadline as written, its kind, and the due date derived from it.
    async fn deadline(&self) -> Deadline {
        Deadline {
            text: self.m.deadline_text.clone(),
            kind: self.m.deadline_kind,
            due_on: self.m.original_due_on,
            recurrence: self.m.recurrence,
        }
    }
    /// Dated milestones within the task, when it has several, each with its status as of the
    /// list's `asOf` (or its own).
    async fn milestones(&self, ctx: &Context<'_>) -> Result<Vec<Milestone>> {
        let rows = TaskLoaders::of(ctx)
            .milestones
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .cloned()
            .map(|m| Milestone::new(m, Some(self.m.completed_on), self.as_of))
            .collect())
    }
    /// Due date derived from the words, before any extension.
    async fn original_due_on(&self) -> Option<Date> {
        self.m.original_due_on.map(Date)
    }
    /// Current due date, after extensions; for a recurring task, the end of the period
    /// containing `asOf` (default today).
    async fn due_on(&self, as_of: Option<Date>) -> Option<Date> {
        due_as_of(self.m.due_on, self.m.recurrence, self.date(as_of)).map(Date)
    }
    /// Extensions granted, oldest first.
    async fn extensions(&self, ctx: &Context<'_>) -> Result<Vec<DeadlineExtension>> {
        let rows = TaskLoaders::of(ctx)
            .extensions
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(DeadlineExtension).collect())
    }
    /// Date the task was completed: when the last of its lead agencies completed.
    async fn completed_on(&self) -> Option<Date> {
        self.m.completed_on.map(Date)
    }
    /// Status as of `asOf` (default: the list's `asOf`, else today in Vietnam). An unfinished
    /// task with a missed milestone is `IN_PROGRESS_OVERDUE` from the day after that milestone,
    /// before its own date: the Government Office counts a task overdue when any dated part of
    /// it is. A finished task is judged against its own due date.
    async fn status(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<TaskStatus> {
        let as_of = self.date(as_of);
        let own = status_of(self.m.due_on, self.m.recurrence, self.m.completed_on, as_of);
        let parts = self.parts(ctx, as_of).await?;
        Ok(st::with_parts(own, &parts, as_of).into())
    }
    /// Days past the due date: for an unfinished task as of `asOf`, or for one completed late;
    /// for an unfinished task with a missed milestone, since that milestone when it is older.
    async fn days_overdue(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Option<i64>> {
        let as_of = self.date(as_of);
        let due = due_as_of(self.m.due_on, self.m.recurrence, as_of);
        let parts = self.parts(ctx, as_of).await?;
        Ok(st::days_overdue_with_parts(
            due,
            self.m.completed_on,
            &parts,
            as_of,
        ))
    }
    /// After an extension: whether the original due date was met (null until completed).
    async fn met_original_deadline(&self) -> Option<bool> {
        st::met_original(self.m.original_due_on, self.m.completed_on)
    }
    /// Whether the task's product is a report to the provincial People's Committee
    /// (báo cáo UBND tỉnh).
    async fn requires_report(&self) -> bool {
        self.m.requires_report
    }
    /// Every assignment of the task (lead and coordinator agencies).
    async fn assignments(
        &self,
        ctx: &Context<'_>,
        role: Option<RoleFilter>,
    ) -> Result<PlainList<Assignment>> {
        let role = role.unwrap_or_default().role();
        Ok(PlainList(
            self.assignment_rows(ctx)
                .await?
                .iter()
                .filter(|a| role.is_none_or(|r| a.role == r))
                .map(|a| Assignment::of_task(a.clone(), self))
                .collect(),
        ))
    }
    /// Names the text addresses that hold no assignment ("các chủ đầu tư", "các doanh
    /// nghiệp", a group whose members are not recorded yet), in the document's order.
    async fn addressees(&self, ctx: &Context<'_>) -> Result<Vec<holders::TaskAddressee>> {
        let rows = TaskLoaders::of(ctx)
            .addressees
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(holders::TaskAddressee).collect())
    }
    /// Lead agencies (chủ trì), each once.
    async fn leads(&self, ctx: &Context<'_>) -> Result<PlainList<Agency>> {
        Ok(PlainList(
            self.agencies_with(ctx, entity::enums::AssignmentRole::Lead)
                .await?,
        ))
    }
    /// Coordinating agencies (phối hợp), each once; an agency that also leads is a lead.
    async fn coordinators(&self, ctx: &Context<'_>) -> Result<PlainList<Agency>> {
        Ok(PlainList(
            self.agencies_with(ctx, entity::enums::AssignmentRole::Coordinator)
                .await?,
        ))
    }
    /// Progress reports on the task, newest first, within what the caller may see.
    async fn reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<crate::reports::ProgressReportConnection> {
        let args = PageArgs::parse(first, after, None, None)?;
        Ok(crate::reports::reports_of(ctx, Default::default(), args, Some(self.m.id)).await?)
    }
    /// When the row was created.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.m.created_at
    }
    /// When the row last changed.
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.m.updated_at
    }
}

/// An assignment (phân công): one agency's role on one task, the unit it owns and reports on.
#[derive(Clone)]
pub struct Assignment {
    pub(crate) m: Arc<assignment::Model>,
    as_of: Option<NaiveDate>,
    /// The task, when the parent already holds it (saves a round trip per level).
    task: Option<Arc<task::Model>>,
}

impl Assignment {
    pub fn new(m: assignment::Model, as_of: Option<NaiveDate>) -> Self {
        Assignment {
            m: Arc::new(m),
            as_of,
            task: None,
        }
    }

    /// An assignment whose task row the caller already holds.
    pub(crate) fn with_task(m: assignment::Model, task: Arc<task::Model>) -> Self {
        Assignment {
            m: Arc::new(m),
            as_of: None,
            task: Some(task),
        }
    }

    fn of_task(m: assignment::Model, task: &Task) -> Self {
        Assignment {
            m: Arc::new(m),
            as_of: task.as_of,
            task: Some(task.m.clone()),
        }
    }

    /// The task row, shared with the parent when it has it (no copy of its full text).
    async fn task_row(&self, ctx: &Context<'_>) -> Result<Arc<task::Model>> {
        if let Some(t) = &self.task {
            return Ok(t.clone());
        }
        TaskLoaders::of(ctx)
            .task
            .load_one(self.m.task_id)
            .await
            .map_err(load_err)?
            .map(Arc::new)
            .ok_or_else(|| ApiError::not_found("nhiệm vụ").into())
    }
}

impl Plain for Assignment {
    fn plain(&self, name: &str) -> Option<Value> {
        let m = &self.m;
        Some(match name {
            "id" => out(relay::global_id(NodeKind::Assignment, m.id)),
            "role" => out(AssignmentRole::from(m.role)),
            "completedOn" => out(m.completed_on.map(Date)),
            "transferredOn" => out(m.transferred_on.map(Date)),
            "owesFrom" => out(m.owes_from.map(Date)),
            "writtenAs" => opt_text(m.written_as.as_deref()),
            _ => return None,
        })
    }
}

/// An assignment (phân công): one agency's role on one task, the unit it owns and reports on.
#[Object]
impl Assignment {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Assignment, self.m.id)
    }
    /// The task.
    async fn task(&self, ctx: &Context<'_>) -> Result<Task> {
        Ok(Task {
            m: self.task_row(ctx).await?,
            as_of: self.as_of,
        })
    }
    /// The agency holding the assignment now (a successor after a merger).
    async fn agency(&self, ctx: &Context<'_>) -> Result<PlainOne<Agency>> {
        load_agency(ctx, self.m.agency_id)
            .await?
            .map(PlainOne)
            .ok_or_else(|| ApiError::not_found("cơ quan").into())
    }
    /// The agency the directive named; differs from `agency` after a merger.
    async fn original_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        load_agency(ctx, self.m.original_agency_id)
            .await?
            .ok_or_else(|| ApiError::not_found("cơ quan").into())
    }
    /// Lead (chủ trì) or coordinator (phối hợp).
    async fn role(&self) -> AssignmentRole {
        self.m.role.into()
    }
    /// Status of this agency's part as of `asOf`, against the task's due date and its
    /// milestones (a missed one makes an unfinished part overdue, as for the task).
    async fn status(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<TaskStatus> {
        let t = self.task_row(ctx).await?;
        let as_of = as_of.map(|d| d.0).or(self.as_of).unwrap_or_else(today);
        let own = status_of(t.due_on, t.recurrence, self.m.completed_on, as_of);
        let parts = parts_of(ctx, &t, as_of).await?;
        Ok(st::with_parts(own, &parts, as_of).into())
    }
    /// Date this agency's part was completed (its done report accepted).
    async fn completed_on(&self) -> Option<Date> {
        self.m.completed_on.map(Date)
    }
    /// Date the assignment last moved to another holder, if it did.
    async fn transferred_on(&self) -> Option<Date> {
        self.m.transferred_on.map(Date)
    }
    /// The first day this holder answers for reports on the assignment: set when a duty was
    /// shared among successors (each commune of a former district's area gets its own row on
    /// the day the succession took effect); the reports that fell due before belong to the row
    /// that held the duty then. Null: from the directive's start.
    async fn owes_from(&self) -> Option<Date> {
        self.m.owes_from.map(Date)
    }
    /// The document's words for the agency, when it meant this one under another name (10/CT-UBND
    /// writes "Bảo hiểm xã hội Việt Nam"; the province's branch holds the assignment).
    async fn written_as(&self) -> Option<&str> {
        self.m.written_as.as_deref()
    }
    /// Every move of the duties this assignment carries, oldest first: from whom, to whom,
    /// from when, why; a duty that joined it from another row (`MERGED`) keeps its origin here.
    async fn transfers(&self, ctx: &Context<'_>) -> Result<Vec<holders::AssignmentTransfer>> {
        let rows = TaskLoaders::of(ctx)
            .transfers
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(holders::AssignmentTransfer).collect())
    }
    /// The latest submitted progress report on this assignment.
    async fn latest_report(&self, ctx: &Context<'_>) -> Result<Option<PlainOne<ProgressReport>>> {
        Ok(ReportLoaders::of(ctx)
            .latest_report
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .map(|m| PlainOne(ProgressReport::new(m))))
    }
}

/// `tasks`, at the root (`directive: None`) or under a directive: the caller's scope, the
/// request's nested-page loader, and the list query.
pub(crate) async fn tasks_of(
    ctx: &Context<'_>,
    filter: TaskFilter,
    order: Option<TaskOrder>,
    as_of: NaiveDate,
    args: PageArgs,
    list_as_of: Option<NaiveDate>,
    directive: Option<i32>,
) -> ApiResult<TaskConnection> {
    let within = match directive {
        None => Within::Root,
        Some(id) => Within::Parent {
            loader: &TaskLoaders::of(ctx).task_pages,
            column: sea_orm::sea_query::Expr::col((task::Entity, task::Column::DirectiveId)),
            id,
        },
    };
    let q = queries::TaskList {
        filter,
        order,
        as_of,
        list_as_of,
    };
    let lean = crate::db::lean::Fields::of_request(ctx);
    queries::list_tasks(
        State::reads_of(ctx),
        &Caller::of(ctx).scope,
        within,
        q,
        args,
        lean,
    )
    .await
}

/// `assignments`, at the root or under an agency.
pub(crate) async fn assignments_of(
    ctx: &Context<'_>,
    agency: Option<i32>,
    filter: AssignmentFilter,
    args: PageArgs,
) -> ApiResult<AssignmentConnection> {
    let within = match agency {
        None => Within::Root,
        Some(id) => Within::Parent {
            loader: &TaskLoaders::of(ctx).assignment_pages,
            column: sea_orm::sea_query::Expr::col((assignment::Entity, assignment::Column::AgencyId)),
            id,
        },
    };
    queries::list_assignments(
        State::reads_of(ctx),
        &Caller::of(ctx).scope,
        within,
        filter,
        sea_orm::Condition::all(),
        args,
    )
    .await
}

/// `orphanedAssignments`: open assignments on `as_of` whose holder no longer exists then.
pub(crate) async fn orphaned_assignments(
    ctx: &Context<'_>,
    as_of: NaiveDate,
    args: PageArgs,
) -> ApiResult<AssignmentConnection> {
    let caller = Caller::of(ctx);
    caller.scope.require(Permission::FollowUp)?;
    queries::list_assignments(
        State::reads_of(ctx),
        &caller.scope,
        Within::Root,
        AssignmentFilter::default(),
        holders::orphaned_on(as_of),
        args,
    )
    .await
}

/// The task fields of the root query.
#[derive(Default)]
pub struct TaskQuery;

/// The task fields of the root query.
#[Object]
impl TaskQuery {
    /// Tasks across directives. `asOf` (default today in Vietnam) is the date statuses and the
    /// status/overdue filters are computed for.
    #[allow(clippy::too_many_arguments)]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TaskFilter>,
        order_by: Option<TaskOrder>,
        as_of: Option<Date>,
    ) -> Result<TaskConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(tasks_of(
            ctx,
            filter.unwrap_or_default(),
            order_by,
            day,
            args,
            as_of.map(|d| d.0),
            None,
        )
        .await?)
    }

    /// One task by global id.
    async fn task(&self, ctx: &Context<'_>, id: ID, as_of: Option<Date>) -> Result<PlainOne<Task>> {
        Caller::of(ctx).scope.require(Permission::ReadRows)?;
        let n = decode_id(&id, NodeKind::Task, "id")?;
        let l = TaskLoaders::of(ctx);
        // Asked for its agencies: the task, its directive and its assignments in one statement.
        let look = ctx.look_ahead();
        let found = if ["leads", "coordinators", "assignments"]
            .iter()
            .any(|f| look.field(f).exists())
        {
            l.task_with_assignments.load_one(n).await
        } else {
            l.task.load_one(n).await
        };
        found
            .map_err(load_err)?
            .map(|m| PlainOne(Task::new(m, as_of.map(|d| d.0))))
            .ok_or_else(|| ApiError::not_found("nhiệm vụ").into())
    }
}

/// A task's milestones as dated parts: each reached on its own recorded date, or at the latest
/// when the task was ([`st::Part::new`]).
///
/// A recurring task has one more part per lead: the report of the latest period that fell due
/// by `as_of` (`duties::twin::recurring_parts`), so the task is overdue while a lead owes it.
async fn parts_of(ctx: &Context<'_>, t: &task::Model, as_of: NaiveDate) -> Result<Vec<st::Part>> {
    let facts = TaskLoaders::of(ctx)
        .parts
        .load_one(t.id)
        .await
        .map_err(load_err)?
        .unwrap_or_default();
    let mut parts: Vec<st::Part> = facts
        .milestones
        .iter()
        .map(|(due, reached)| st::Part::new(*due, *reached, t.completed_on))
        .collect();
    if let Some(issued) = facts.issued {
        parts.extend(crate::duties::twin::recurring_parts(
            t,
            issued,
            &facts.leads,
            &facts.fulfilments,
            as_of,
        ));
    }
    Ok(parts)
}
