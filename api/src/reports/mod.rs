//! Progress reports (báo cáo tiến độ): what agencies report on their assignments, their
//! lists and loaders, and the writes (`mutations`: submit, edit, review).

pub mod loaders;
pub mod mutations;
mod queries;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::{assignment, progress_report};
use sea_orm::sea_query::{Expr, ExprTrait, Query};

pub use loaders::ReportLoaders;
pub use queries::{ProgressReportConnection, ReportFilter};

use crate::agencies::{Agency, load_agency};
use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult};
use crate::graphql::Needs;
use crate::graphql::loaders::load_err;
use crate::graphql::relay::{self, NodeKind, PageArgs, Within};
use crate::state::State;
use crate::tasks::{Assignment, TaskLoaders};

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

impl crate::graphql::plain::Plain for ProgressReport {
    fn plain(&self, name: &str) -> Option<async_graphql::Value> {
        use crate::graphql::plain::{out, text};
        let m = &self.0;
        Some(match name {
            "id" => out(relay::global_id(NodeKind::ProgressReport, m.id)),
            "period" => text(&m.period),
            "percentComplete" => out(i32::from(m.percent_complete)),
            "done" => out(m.done),
            "summary" => text(&m.summary),
            "state" => out(ReportState::from(m.state)),
            "version" => out(m.version),
            "submittedAt" => out(m.submitted_at),
            "reviewedAt" => out(m.reviewed_at),
            "createdAt" => out(m.created_at),
            "updatedAt" => out(m.updated_at),
            // obstacles, proposals, reviewComment: guarded; assignment, agency: loaders.
            _ => return None,
        })
    }
}

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
        TaskLoaders::of(ctx)
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
    #[graphql(guard = "Needs(Permission::ReadInternal)")]
    async fn obstacles(&self) -> Option<&str> {
        self.0.obstacles.as_deref()
    }
    /// Proposals (kiến nghị, đề xuất). Internal: not shown to viewers.
    #[graphql(guard = "Needs(Permission::ReadInternal)")]
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
    #[graphql(guard = "Needs(Permission::ReadInternal)")]
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

/// Progress reports, at the root (`task: None`) or under a task (batched with its siblings).
pub(crate) async fn reports_of(
    ctx: &Context<'_>,
    filter: ReportFilter,
    args: PageArgs,
    task: Option<i32>,
) -> ApiResult<ProgressReportConnection> {
    let within = match task {
        None => Within::Root,
        Some(id) => Within::Parent {
            loader: &ReportLoaders::of(ctx).report_pages,
            // A report's task, through its assignment.
            column: Query::select()
                .column((assignment::Entity, assignment::Column::TaskId))
                .from(assignment::Entity)
                .and_where(
                    Expr::col((assignment::Entity, assignment::Column::Id))
                        .equals((progress_report::Entity, progress_report::Column::AssignmentId)),
                )
                .take()
                .into(),
            id,
        },
    };
    queries::list_reports(State::reads_of(ctx), &Caller::of(ctx).scope, within, filter, args).await
}

/// The report fields of the root query.
#[derive(Default)]
pub struct ReportQuery;

/// The report fields of the root query.
#[Object]
impl ReportQuery {
    /// Progress reports, newest first.
    async fn progress_reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ReportFilter>,
    ) -> Result<ProgressReportConnection> {
        let args = PageArgs::parse(first, after, None, None)?;
        Ok(reports_of(ctx, filter.unwrap_or_default(), args, None).await?)
    }
}
