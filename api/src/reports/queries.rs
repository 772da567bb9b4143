//! The report list, within the caller's scope (an agency sees its own reports, drafts
//! included; others see submitted ones; drafts of others only the administrator).

use async_graphql::{ID, InputObject};
use entity::{assignment, progress_report};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use super::{ProgressReport, ReportState};
use crate::auth::{Permission, Scope};
use crate::db::reads::Reads;
use crate::error::ApiResult;
use crate::graphql::input;
use crate::graphql::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey, Within};

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

/// Progress reports, newest first, within the scope.
pub async fn list_reports(
    db: &Reads,
    scope: &Scope,
    within: Within<'_, progress_report::Entity>,
    filter: ReportFilter,
    args: PageArgs,
) -> ApiResult<ProgressReportConnection> {
    use progress_report::Column as C;
    scope.require(Permission::ReadRows)?;
    let mut cond = Condition::all();
    if let Some(p) = &filter.period {
        cond = cond.add(C::Period.eq(input::period("filter.period", p)?.to_string()));
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
    let (page, count) = relay::fetch(
        db,
        within,
        scope.find::<progress_report::Entity>().filter(cond),
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
    "progress reports",
    plain
);
