//! Progress reports (báo cáo tiến độ): what agencies report on their assignments.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::{assignment, progress_report};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::agencies::{Agency, load_agency};
use crate::auth::Scope;
use crate::context::{Caller, State};
use crate::domain::period::PeriodId;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{LoadError, Loaders, load_err};
use crate::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey, Within};
use crate::tasks::Assignment;

/// Life cycle of a progress report.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ReportState")]
pub enum ReportState {
    /// Bản nháp: visible to its agency only.
    Draft,
    /// Đã gửi: awaiting review.
    Submitted,
    /// Đã chấp nhận by the monitoring office.
    Accepted,
    /// Trả lại: returned with a comment.
    Returned,
}

/// A progress report (báo cáo tiến độ) of an agency on one of its assignments, for a period.
#[derive(Clone)]
pub struct ProgressReport(pub Arc<progress_report::Model>);

impl ProgressReport {
    pub fn new(m: progress_report::Model) -> Self {
        ProgressReport(Arc::new(m))
    }
}

/// A progress report (báo cáo tiến độ) of an agency on one of its assignments, for a period.
#[Object]
impl ProgressReport {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::ProgressReport, self.0.id)
    }
    /// The assignment reported on.
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Assignment> {
        Loaders::of(ctx)
            .assignment
            .load_one(self.0.assignment_id)
            .await
            .map_err(load_err)?
            .map(|m| Assignment::new(m, None))
            .ok_or_else(|| ApiError::not_found("phân công").into())
    }
    /// The agency that wrote it.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        load_agency(ctx, self.0.agency_id)
            .await?
            .ok_or_else(|| ApiError::not_found("cơ quan").into())
    }
    /// Reporting period id (kỳ báo cáo): `2025` year, `2025S1` half, `2025Q1` quarter,
    /// `202501` month; administrative calendar (Decree 09/2019/NĐ-CP).
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// Percent complete, 0–100.
    async fn percent_complete(&self) -> i32 {
        i32::from(self.0.percent_complete)
    }
    /// Whether the agency reports its part done (only a lead's report can complete it).
    async fn done(&self) -> bool {
        self.0.done
    }
    /// Summary of results (kết quả thực hiện).
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// Difficulties and obstacles (khó khăn, vướng mắc). Internal: not shown to viewers.
    #[graphql(guard = "crate::auth::Allow(crate::auth::READS_INTERNAL)")]
    async fn obstacles(&self) -> Option<&str> {
        self.0.obstacles.as_deref()
    }
    /// Proposals (kiến nghị, đề xuất). Internal: not shown to viewers.
    #[graphql(guard = "crate::auth::Allow(crate::auth::READS_INTERNAL)")]
    async fn proposals(&self) -> Option<&str> {
        self.0.proposals.as_deref()
    }
    /// State.
    async fn state(&self) -> ReportState {
        self.0.state.into()
    }
    /// Version, for optimistic concurrency on edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Reviewer's comment when accepted or returned. Internal: not shown to viewers.
    #[graphql(guard = "crate::auth::Allow(crate::auth::READS_INTERNAL)")]
    async fn review_comment(&self) -> Option<&str> {
        self.0.review_comment.as_deref()
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.submitted_at
    }
    /// When it was reviewed.
    async fn reviewed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.reviewed_at
    }
    /// When it was created.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
}

/// Loads the latest non-draft report of each assignment in one statement.
pub struct LatestReport {
    db: crate::reads::Reads,
    scope: Scope,
}

impl LatestReport {
    pub fn loader(
        db: crate::reads::Reads,
        scope: Scope,
        delay: std::time::Duration,
    ) -> crate::batch::Batcher<i32, Self> {
        crate::batch::Batcher::new(LatestReport { db, scope }, delay)
    }
}

impl Loader<i32> for LatestReport {
    type Value = progress_report::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        use progress_report::Column as C;
        let latest = Query::select()
            .expr(Func::max(Expr::col(C::Id)))
            .from(progress_report::Entity)
            .and_where(C::AssignmentId.is_in(keys.iter().copied()))
            .and_where(C::State.ne(entity::enums::ReportState::Draft))
            .cond_where(self.scope.reports())
            .group_by_col(C::AssignmentId)
            .to_owned();
        let query = progress_report::Entity::find().filter(C::Id.in_subquery(latest));
        let rows: Vec<progress_report::Model> = crate::positional::fetch_all(&self.db, &query)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|m| (m.assignment_id, m)).collect())
    }
}

/// Filter of `progressReports`.
#[derive(InputObject, Default)]
pub struct ReportFilter {
    /// Only this period id (`2025Q1`, `202501`…).
    pub period: Option<String>,
    /// Only these states.
    pub state: Option<Vec<ReportState>>,
    /// Only reports written by this agency.
    pub agency_id: Option<ID>,
    /// Only reports on this assignment.
    pub assignment_id: Option<ID>,
    /// Only reports on this task.
    pub task_id: Option<ID>,
}

/// Progress reports, newest first.
pub async fn list_reports(
    ctx: &Context<'_>,
    filter: ReportFilter,
    args: PageArgs,
    task: Option<i32>,
) -> ApiResult<ProgressReportConnection> {
    use progress_report::Column as C;
    Caller::of(ctx).scope.require_rows()?;
    let mut cond = Condition::all().add(Caller::of(ctx).scope.reports());
    if let Some(p) = &filter.period {
        let period: PeriodId = p.parse().map_err(|e: crate::domain::period::PeriodError| {
            ApiError::bad_input("filter.period", e.to_string())
        })?;
        cond = cond.add(C::Period.eq(period.to_string()));
    }
    if let Some(states) = filter.state {
        cond = cond.add(C::State.is_in(states.into_iter().map(entity::enums::ReportState::from)));
    }
    if let Some(id) = &filter.agency_id {
        cond = cond.add(C::AgencyId.eq(relay::decode_id(id, NodeKind::Agency, "filter.agencyId")?));
    }
    if let Some(id) = &filter.assignment_id {
        cond =
            cond.add(C::AssignmentId.eq(relay::decode_id(id, NodeKind::Assignment, "filter.assignmentId")?));
    }
    if let Some(id) = &filter.task_id {
        let t = relay::decode_id(id, NodeKind::Task, "filter.taskId")?;
        cond = cond.add(
            C::AssignmentId.in_subquery(
                Query::select()
                    .column(assignment::Column::Id)
                    .from(assignment::Entity)
                    .and_where(assignment::Column::TaskId.eq(t))
                    .to_owned(),
            ),
        );
    }
    let sort = SortKey {
        expr: Expr::col((progress_report::Entity, C::Id)),
        id: Expr::col((progress_report::Entity, C::Id)),
        direction: OrderDirection::Desc,
        to_value: relay::json_int,
    };
    let db = &State::of(ctx).reads;
    let within = match task {
        None => Within::Root,
        Some(id) => Within::Parent {
            loader: &crate::loaders::Loaders::of(ctx).report_pages,
            // A report's task, through its assignment.
            column: Query::select()
                .column((assignment::Entity, assignment::Column::TaskId))
                .from(assignment::Entity)
                .and_where(
                    Expr::col((assignment::Entity, assignment::Column::Id))
                        .equals((progress_report::Entity, C::AssignmentId)),
                )
                .take()
                .into(),
            id,
        },
    };
    let (page, count) = relay::fetch(
        db,
        within,
        progress_report::Entity::find().filter(cond),
        &sort,
        &args,
        |m| Cursor {
            key: m.id.into(),
            id: m.id,
        },
    )
    .await?;
    Ok(ProgressReportConnection::new(
        page.map(ProgressReport::new),
        count,
    ))
}

crate::connection!(
    ProgressReport,
    ProgressReportConnection,
    ProgressReportEdge,
    "progress reports"
);
