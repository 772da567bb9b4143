//! Tasks (nhiệm vụ) and assignments (phân công): the types, their filters and their lists.

mod queries;
pub mod stats;
pub mod status_sql;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::NaiveDate;
use entity::{assignment, deadline_extension, task, task_milestone};

pub use queries::{
    AssignmentConnection, AssignmentFilter, TaskConnection, TaskFilter, TaskOrder, TaskOrderField,
    list_assignments, list_tasks, task_condition,
};

use crate::agencies::{Agency, load_agency};
use crate::context::today;
use crate::directives::Directive;
use crate::domain::status::{self as st};
use crate::error::ApiError;
use crate::loaders::{Loaders, load_err};
use crate::relay::{self, NodeKind};
use crate::reports::ProgressReport;
use crate::scalars::Date;
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

/// How a deadline was written and what it means.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::deadline::DeadlineKind")]
pub enum DeadlineKind {
    /// "trước ngày 15/01/2025": due the day before the date written.
    Date,
    /// "trong tháng 01/2025": last day of the month ("trước tháng 6/2025": last day of May).
    Month,
    /// "trong Quý I/2025": last day of the quarter.
    Quarter,
    /// "6 tháng đầu năm 2025": last day of the half year.
    Half,
    /// "trong năm 2025": 31 December.
    Year,
    /// "hàng tháng", "từng quý": due at the end of each period.
    Recurring,
    /// No deadline written: an ongoing duty, still reported each period.
    Ongoing,
}

impl DeadlineKind {
    /// The stored kind (`MONTH`…); anything unreadable is an ongoing duty.
    fn parse(s: &str) -> Self {
        use crate::domain::deadline::DeadlineKind as D;
        D::parse(s).unwrap_or(D::Ongoing).into()
    }
}

/// A deadline (thời hạn): the words as written, their kind and the due date derived from them
/// by the rule in the README ("trước ngày 15/01/2025" is due 14/01/2025).
#[derive(Clone)]
pub struct Deadline {
    text: Option<String>,
    kind: String,
    due_on: Option<NaiveDate>,
    recurrence: Option<String>,
}

/// A deadline (thời hạn): the words as written, their kind and the due date derived from them
/// by the rule in the README ("trước ngày 15/01/2025" is due 14/01/2025).
#[Object]
impl Deadline {
    /// The words as written in the directive, e.g. "trong Quý I/2025".
    async fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
    /// Kind of deadline.
    async fn kind(&self) -> DeadlineKind {
        DeadlineKind::parse(&self.kind)
    }
    /// Due date derived from the words (before any extension); null for recurring and ongoing.
    async fn due_on(&self) -> Option<Date> {
        self.due_on.map(Date)
    }
    /// For recurring deadlines: `MONTHLY`, `QUARTERLY`, `HALF_YEARLY` or `YEARLY`.
    async fn recurrence(&self) -> Option<&str> {
        self.recurrence.as_deref()
    }
}

/// A dated milestone within a task (mốc thời hạn).
#[derive(Clone)]
pub struct Milestone(task_milestone::Model);

/// A dated milestone within a task (mốc thời hạn).
#[Object]
impl Milestone {
    /// What is due, e.g. "Bệnh viện Đa khoa tỉnh giai đoạn 2".
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Its deadline.
    async fn deadline(&self) -> Deadline {
        Deadline {
            text: self.0.deadline_text.clone(),
            kind: self.0.deadline_kind.clone(),
            due_on: self.0.due_on,
            recurrence: None,
        }
    }
}

/// A deadline extension (gia hạn) granted on a task; the history is kept.
#[derive(Clone)]
pub struct DeadlineExtension(pub deadline_extension::Model);

/// A deadline extension (gia hạn) granted on a task; the history is kept.
#[Object]
impl DeadlineExtension {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::DeadlineExtension, self.0.id)
    }
    /// Due date before this extension.
    async fn previous_due_on(&self) -> Option<Date> {
        self.0.previous_due_on.map(Date)
    }
    /// Due date granted.
    async fn new_due_on(&self) -> Date {
        Date(self.0.new_due_on)
    }
    /// Reason given (lý do gia hạn).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Who granted it.
    #[graphql(guard = "crate::auth::Allow(crate::auth::READS_INTERNAL)")]
    async fn granted_by(&self) -> &str {
        &self.0.granted_by
    }
    /// When it was granted.
    async fn granted_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.granted_at
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

    async fn assignment_rows(&self, ctx: &Context<'_>) -> Result<Arc<Vec<assignment::Model>>> {
        Ok(Loaders::of(ctx)
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
        let found = Loaders::of(ctx)
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
    async fn directive(&self, ctx: &Context<'_>) -> Result<Directive> {
        crate::directives::load_directive(ctx, self.m.directive_id)
            .await?
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
            kind: self.m.deadline_kind.clone(),
            due_on: self.m.original_due_on,
            recurrence: self.m.recurrence.clone(),
        }
    }
    /// Dated milestones within the task, when it has several.
    async fn milestones(&self, ctx: &Context<'_>) -> Result<Vec<Milestone>> {
        let rows = Loaders::of(ctx)
            .milestones
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(Milestone).collect())
    }
    /// Due date derived from the words, before any extension.
    async fn original_due_on(&self) -> Option<Date> {
        self.m.original_due_on.map(Date)
    }
    /// Current due date, after extensions; for a recurring task, the end of the period
    /// containing `asOf` (default today).
    async fn due_on(&self, as_of: Option<Date>) -> Option<Date> {
        due_as_of(self.m.due_on, self.m.recurrence.as_deref(), self.date(as_of)).map(Date)
    }
    /// Extensions granted, oldest first.
    async fn extensions(&self, ctx: &Context<'_>) -> Result<Vec<DeadlineExtension>> {
        let rows = Loaders::of(ctx)
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
    /// Status as of `asOf` (default: the list's `asOf`, else today in Vietnam).
    async fn status(&self, as_of: Option<Date>) -> TaskStatus {
        status_of(
            self.m.due_on,
            self.m.recurrence.as_deref(),
            self.m.completed_on,
            self.date(as_of),
        )
        .into()
    }
    /// Days past the due date: for an unfinished task as of `asOf`, or for one completed late.
    async fn days_overdue(&self, as_of: Option<Date>) -> Option<i64> {
        let as_of = self.date(as_of);
        let due = due_as_of(self.m.due_on, self.m.recurrence.as_deref(), as_of);
        st::days_overdue(due, self.m.completed_on, as_of)
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
    async fn assignments(&self, ctx: &Context<'_>, role: Option<RoleFilter>) -> Result<Vec<Assignment>> {
        let role = role.unwrap_or_default().role();
        Ok(self
            .assignment_rows(ctx)
            .await?
            .iter()
            .filter(|a| role.is_none_or(|r| a.role == r))
            .map(|a| Assignment::of_task(a.clone(), self))
            .collect())
    }
    /// Lead agencies (chủ trì).
    async fn leads(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        self.agencies_with(ctx, entity::enums::AssignmentRole::Lead).await
    }
    /// Coordinating agencies (phối hợp).
    async fn coordinators(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        self.agencies_with(ctx, entity::enums::AssignmentRole::Coordinator)
            .await
    }
    /// Progress reports on the task, newest first, within what the caller may see.
    async fn reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<crate::reports::ProgressReportConnection> {
        let args = relay::PageArgs::parse(first, after, None, None)?;
        Ok(crate::reports::list_reports(ctx, Default::default(), args, Some(self.m.id)).await?)
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
        Loaders::of(ctx)
            .task
            .load_one(self.m.task_id)
            .await
            .map_err(load_err)?
            .map(Arc::new)
            .ok_or_else(|| ApiError::not_found("nhiệm vụ").into())
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
    async fn agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        load_agency(ctx, self.m.agency_id)
            .await?
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
    /// Status of this agency's part as of `asOf`, against the task's due date.
    async fn status(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<TaskStatus> {
        let t = self.task_row(ctx).await?;
        let as_of = as_of.map(|d| d.0).or(self.as_of).unwrap_or_else(today);
        Ok(status_of(t.due_on, t.recurrence.as_deref(), self.m.completed_on, as_of).into())
    }
    /// Date this agency's part was completed (its done report accepted).
    async fn completed_on(&self) -> Option<Date> {
        self.m.completed_on.map(Date)
    }
    /// Date the assignment moved to a successor agency, if it did.
    async fn transferred_on(&self) -> Option<Date> {
        self.m.transferred_on.map(Date)
    }
    /// The latest submitted progress report on this assignment.
    async fn latest_report(&self, ctx: &Context<'_>) -> Result<Option<ProgressReport>> {
        Ok(Loaders::of(ctx)
            .latest_report
            .load_one(self.m.id)
            .await
            .map_err(load_err)?
            .map(ProgressReport::new))
    }
}
