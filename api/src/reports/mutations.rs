//! Progress reports: an agency posts and edits them; the monitoring office reviews them.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use entity::enums::{AssignmentRole, ReportState};
use entity::{assignment, progress_report, task};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    Set, TryInsertResult,
};

use super::ProgressReport;
use crate::auth::{Caller, Permission, Scope};
use crate::clock::{civil_date, today};
use crate::domain::period::PeriodId;
use crate::domain::status::task_completed_on;
use crate::error::{ApiError, ApiResult};
use crate::events::EventKind;
use crate::graphql::input::{self, Percent, opt_text, text};
use crate::graphql::relay::{NodeKind, decode_id};
use crate::graphql::write::{Write, audit, snap};
use crate::tasks::{Assignment, Task};

/// The report mutations of the root.
#[derive(Default)]
pub struct ReportMutation;

/// The report mutations of the root.
#[Object]
impl ReportMutation {
    /// An agency posts a progress report (báo cáo tiến độ) on one of its own assignments,
    /// as a draft or submitted. A retried post with the same `idempotencyKey` returns the
    /// first report instead of creating another.
    async fn submit_progress_report(
        &self,
        ctx: &Context<'_>,
        input: SubmitProgressReportInput,
    ) -> Result<SubmitProgressReportPayload> {
        Ok(submit(ctx, input).await?)
    }

    /// An agency edits its own draft (or a returned report), stating the `version` it read:
    /// a stale version is a CONFLICT, so two editors never overwrite each other silently.
    async fn update_progress_report(
        &self,
        ctx: &Context<'_>,
        input: UpdateProgressReportInput,
    ) -> Result<UpdateProgressReportPayload> {
        Ok(update(ctx, input).await?)
    }

    /// The monitoring office accepts or returns a submitted report. Accepting a lead's
    /// report marked done completes the assignment, and the task once all its leads are done.
    async fn review_progress_report(
        &self,
        ctx: &Context<'_>,
        input: ReviewProgressReportInput,
    ) -> Result<ReviewProgressReportPayload> {
        Ok(review(ctx, input).await?)
    }
}

const LONG_TEXT: usize = 8000;

/// Input of `submitProgressReport`.
#[derive(InputObject)]
pub struct SubmitProgressReportInput {
    /// The caller's assignment (as lead or coordinator).
    pub assignment_id: ID,
    /// Reporting period id: `2025` year, `2025S1` half, `2025Q1` quarter, `202501` month.
    pub period: String,
    /// Percent complete, 0–100.
    pub percent_complete: i32,
    /// The agency's part is done. Only a lead may set it, with `percentComplete: 100`.
    #[graphql(default)]
    pub done: bool,
    /// Results so far (kết quả thực hiện).
    pub summary: String,
    /// Difficulties (khó khăn, vướng mắc).
    pub obstacles: Option<String>,
    /// Proposals (kiến nghị, đề xuất).
    pub proposals: Option<String>,
    /// Submit now (true, the default) or keep a draft (false).
    #[graphql(default = true)]
    pub submit: bool,
    /// A key the client makes once per report (e.g. a UUID): retrying with it returns the
    /// first report instead of creating another. At most 100 characters.
    pub idempotency_key: Option<String>,
}

/// Result of `submitProgressReport`.
#[derive(SimpleObject)]
pub struct SubmitProgressReportPayload {
    /// The report.
    pub progress_report: ProgressReport,
    /// True when this was a retry and the report already existed.
    pub replayed: bool,
}

/// Input of `updateProgressReport`. Fields left out keep their value.
#[derive(InputObject)]
pub struct UpdateProgressReportInput {
    /// The report (a draft, or one returned for changes).
    pub id: ID,
    /// The version the client read; a different current version is a CONFLICT.
    pub version: i32,
    /// Reporting period id.
    pub period: Option<String>,
    /// Percent complete, 0–100.
    pub percent_complete: Option<i32>,
    /// The agency's part is done (leads only, with 100 %).
    pub done: Option<bool>,
    /// Results so far.
    pub summary: Option<String>,
    /// Difficulties; an empty string clears them.
    pub obstacles: Option<String>,
    /// Proposals; an empty string clears them.
    pub proposals: Option<String>,
    /// True submits the report; false keeps (or makes) it a draft.
    pub submit: Option<bool>,
}

/// Result of `updateProgressReport`.
#[derive(SimpleObject)]
pub struct UpdateProgressReportPayload {
    /// The report after the change.
    pub progress_report: ProgressReport,
}

/// What a reviewer decides.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Accept (chấp nhận).
    Accept,
    /// Return for changes (trả lại), with a comment.
    Return,
}

/// Input of `reviewProgressReport`.
#[derive(InputObject)]
pub struct ReviewProgressReportInput {
    /// A submitted report.
    pub id: ID,
    /// Accept or return.
    pub decision: ReviewDecision,
    /// The reviewer's comment; required to return a report.
    pub comment: Option<String>,
}

/// Result of `reviewProgressReport`.
#[derive(SimpleObject)]
pub struct ReviewProgressReportPayload {
    /// The report after review.
    pub progress_report: ProgressReport,
    /// Its assignment (completed when a lead's done report is accepted).
    pub assignment: Assignment,
    /// Its task (completed when all its leads are).
    pub task: Task,
}

/// A reporting period that has begun (administrative calendar).
fn period(field: &str, p: &str) -> ApiResult<PeriodId> {
    let id = input::period(field, p)?;
    if id.reporting_range().0 > today() {
        return Err(ApiError::bad_input(
            field,
            format!("Kỳ báo cáo {id} chưa bắt đầu"),
        ));
    }
    Ok(id)
}

fn check_done(done: bool, pct: Percent, role: AssignmentRole) -> ApiResult<()> {
    if done && role == AssignmentRole::Coordinator {
        return Err(ApiError::bad_input(
            "input.done",
            "Báo cáo của cơ quan phối hợp là phần đóng góp, không đánh dấu hoàn thành nhiệm vụ được",
        ));
    }
    if done && !pct.is_whole() {
        return Err(ApiError::bad_input(
            "input.percentComplete",
            "Báo cáo hoàn thành phải có `percentComplete: 100`",
        ));
    }
    Ok(())
}

/// The assignment, if the caller may see it.
async fn visible_assignment(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: i32,
) -> ApiResult<assignment::Model> {
    // Held (FOR SHARE on PostgreSQL) so a review completing it cannot slip in between a
    // check that it is open and the write; SQLite's write lock already serialises that.
    scope
        .find_by_id::<assignment::Entity>(id)
        .lock_shared()
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("phân công"))
}

async fn submit(
    ctx: &Context<'_>,
    input: SubmitProgressReportInput,
) -> ApiResult<SubmitProgressReportPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Report)?;
    let writer = caller
        .principal
        .agency_id
        .ok_or_else(|| ApiError::Forbidden("Token không gắn với cơ quan".into()))?;
    let assignment_id = decode_id(&input.assignment_id, NodeKind::Assignment, "input.assignmentId")?;
    let period = period("input.period", &input.period)?;
    let pct = Percent::parse("input.percentComplete", input.percent_complete)?;
    let summary = text("input.summary", &input.summary, LONG_TEXT)?;
    let obstacles = opt_text("input.obstacles", input.obstacles.as_deref(), LONG_TEXT)?;
    let proposals = opt_text("input.proposals", input.proposals.as_deref(), LONG_TEXT)?;
    let key = opt_text("input.idempotencyKey", input.idempotency_key.as_deref(), 100)?;

    let w = Write::begin(ctx).await?;
    let a = visible_assignment(&w.txn, &caller.scope, assignment_id).await?;
    if !caller.scope.covers_agency(a.agency_id) {
        return Err(ApiError::Forbidden(
            "Chỉ cơ quan đang giữ phân công này (chủ trì hoặc phối hợp) mới gửi báo cáo cho nó".into(),
        ));
    }
    check_done(input.done, pct, a.role)?;

    let now = Utc::now();
    let row = progress_report::ActiveModel {
        assignment_id: Set(a.id),
        agency_id: Set(writer),
        period: Set(period.to_string()),
        percent_complete: Set(pct.get()),
        done: Set(input.done),
        summary: Set(summary),
        obstacles: Set(obstacles),
        proposals: Set(proposals),
        state: Set(if input.submit {
            ReportState::Submitted
        } else {
            ReportState::Draft
        }),
        author: Set(caller.principal.subject.clone()),
        idempotency_key: Set(key.clone()),
        version: Set(1),
        submitted_at: Set(input.submit.then_some(now)),
        submitted_on: Set(input.submit.then(|| civil_date(now))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    // A retry that arrives after the first try committed finds it here; one that races it
    // meets the unique (agency, key) index and inserts nothing.
    if let Some(k) = &key
        && let Some(existing) = by_key(&w.txn, &caller.scope, writer, k).await?
    {
        drop(w);
        return replay(existing, &row);
    }
    if a.completed_on.is_some() {
        return Err(ApiError::Conflict(
            "Phân công này đã hoàn thành; không nhận thêm báo cáo".into(),
        ));
    }
    let inserted = progress_report::Entity::insert(row.clone())
        .on_conflict_do_nothing_on([
            progress_report::Column::AgencyId,
            progress_report::Column::IdempotencyKey,
        ])
        .exec(&w.txn)
        .await?;
    let id = match inserted {
        TryInsertResult::Inserted(r) => r.last_insert_id,
        TryInsertResult::Empty | TryInsertResult::Conflicted => {
            // Lost the race: the other try committed first. Read its report.
            drop(w);
            let k = key.as_deref().unwrap_or_default();
            let existing = by_key(&crate::state::State::of(ctx).db, &caller.scope, writer, k)
                .await?
                .ok_or_else(|| {
                    ApiError::Conflict("Báo cáo với khóa này đang được ghi; hãy thử lại".into())
                })?;
            return replay(existing, &row);
        }
    };
    let m = caller
        .scope
        .find_by_id::<progress_report::Entity>(id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("báo cáo"))?;
    audit(
        &w,
        ctx,
        "submitProgressReport",
        "progress_report",
        Some(m.id),
        None,
        snap(&m),
    )
    .await?;
    if m.state == ReportState::Submitted {
        w.publish(EventKind::ReportSubmitted, a.task_id, Some(m.id))
            .await?;
    }
    w.commit().await?;
    Ok(SubmitProgressReportPayload {
        progress_report: ProgressReport::new(m),
        replayed: false,
    })
}

async fn by_key(
    db: &impl ConnectionTrait,
    scope: &Scope,
    agency: i32,
    key: &str,
) -> ApiResult<Option<progress_report::Model>> {
    Ok(scope
        .find::<progress_report::Entity>()
        .filter(progress_report::Column::AgencyId.eq(agency))
        .filter(progress_report::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// A retry returns the first report, provided it asks for the same thing.
fn replay(
    existing: progress_report::Model,
    asked: &progress_report::ActiveModel,
) -> ApiResult<SubmitProgressReportPayload> {
    // Everything the client sent must match, `submit` included: a retry that would submit
    // what was kept as a draft (or the reverse) is another request, not the same one again.
    let submitted = |state: &ReportState| *state != ReportState::Draft;
    let same = asked.assignment_id.as_ref() == &existing.assignment_id
        && asked.period.as_ref() == &existing.period
        && asked.percent_complete.as_ref() == &existing.percent_complete
        && asked.done.as_ref() == &existing.done
        && asked.summary.as_ref() == &existing.summary
        && asked.obstacles.as_ref() == &existing.obstacles
        && asked.proposals.as_ref() == &existing.proposals
        && submitted(asked.state.as_ref()) == submitted(&existing.state);
    if !same {
        return Err(ApiError::Conflict(
            "`idempotencyKey` này đã dùng cho một báo cáo khác; hãy tạo khóa mới cho báo cáo mới".into(),
        ));
    }
    Ok(SubmitProgressReportPayload {
        progress_report: ProgressReport::new(existing),
        replayed: true,
    })
}

async fn update(
    ctx: &Context<'_>,
    input: UpdateProgressReportInput,
) -> ApiResult<UpdateProgressReportPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Report)?;
    let id = decode_id(&input.id, NodeKind::ProgressReport, "input.id")?;
    let w = Write::begin(ctx).await?;
    let before = caller
        .scope
        .find_by_id::<progress_report::Entity>(id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("báo cáo"))?;
    if !matches!(before.state, ReportState::Draft | ReportState::Returned) {
        return Err(ApiError::Conflict(
            "Báo cáo đã nộp không sửa được; chỉ sửa bản nháp hoặc báo cáo bị trả lại".into(),
        ));
    }
    if before.version != input.version {
        return Err(ApiError::Conflict(format!(
            "Báo cáo đã được sửa (phiên bản hiện tại {}, bạn gửi {}); hãy tải lại rồi sửa",
            before.version, input.version
        )));
    }
    let a = visible_assignment(&w.txn, &caller.scope, before.assignment_id).await?;
    if a.completed_on.is_some() {
        return Err(ApiError::Conflict(
            "Phân công này đã hoàn thành; không nhận thêm báo cáo".into(),
        ));
    }
    let mut m = before.clone().into_active_model();
    if let Some(p) = &input.period {
        m.period = Set(period("input.period", p)?.to_string());
    }
    if let Some(p) = input.percent_complete {
        m.percent_complete = Set(Percent::parse("input.percentComplete", p)?.get());
    }
    if let Some(d) = input.done {
        m.done = Set(d);
    }
    if let Some(s) = &input.summary {
        m.summary = Set(text("input.summary", s, LONG_TEXT)?);
    }
    if let Some(o) = &input.obstacles {
        m.obstacles = Set(opt_text("input.obstacles", Some(o), LONG_TEXT)?);
    }
    if let Some(p) = &input.proposals {
        m.proposals = Set(opt_text("input.proposals", Some(p), LONG_TEXT)?);
    }
    check_done(
        *m.done.as_ref(),
        Percent::parse("input.percentComplete", i32::from(*m.percent_complete.as_ref()))?,
        a.role,
    )?;
    let now = Utc::now();
    match input.submit {
        Some(true) => {
            m.state = Set(ReportState::Submitted);
            m.submitted_at = Set(Some(now));
            m.submitted_on = Set(Some(civil_date(now)));
        }
        Some(false) => m.state = Set(ReportState::Draft),
        None => {}
    }
    m.version = Set(before.version + 1);
    m.updated_at = Set(now);
    let after = save_versioned(
        &w,
        &caller.scope,
        m,
        id,
        input.version,
        "Báo cáo vừa được sửa ở nơi khác; hãy tải lại rồi sửa",
    )
    .await?;
    audit(
        &w,
        ctx,
        "updateProgressReport",
        "progress_report",
        Some(id),
        snap(&before),
        snap(&after),
    )
    .await?;
    if after.state == ReportState::Submitted {
        w.publish(EventKind::ReportSubmitted, a.task_id, Some(id)).await?;
    }
    w.commit().await?;
    Ok(UpdateProgressReportPayload {
        progress_report: ProgressReport::new(after),
    })
}

/// Writes a report only if its version is still `version` (the check and the write are one
/// statement, so a concurrent change that committed in between leaves nothing to update:
/// CONFLICT), and returns the stored row.
async fn save_versioned(
    w: &Write<'_>,
    scope: &Scope,
    m: progress_report::ActiveModel,
    id: i32,
    version: i32,
    conflict: &str,
) -> ApiResult<progress_report::Model> {
    let res = progress_report::Entity::update_many()
        .set(m)
        .filter(progress_report::Column::Id.eq(id))
        .filter(progress_report::Column::Version.eq(version))
        .exec(&w.txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ApiError::Conflict(conflict.to_owned()));
    }
    scope
        .find_by_id::<progress_report::Entity>(id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("báo cáo"))
}

async fn review(
    ctx: &Context<'_>,
    input: ReviewProgressReportInput,
) -> ApiResult<ReviewProgressReportPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Review)?;
    let scope = &caller.scope;
    let id = decode_id(&input.id, NodeKind::ProgressReport, "input.id")?;
    let comment = opt_text("input.comment", input.comment.as_deref(), LONG_TEXT)?;
    if input.decision == ReviewDecision::Return && comment.is_none() {
        return Err(ApiError::bad_input(
            "input.comment",
            "Trả lại báo cáo cần ghi rõ lý do (`comment`)",
        ));
    }
    let w = Write::begin(ctx).await?;
    let before = scope
        .find_by_id::<progress_report::Entity>(id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("báo cáo"))?;
    if before.state != ReportState::Submitted {
        return Err(ApiError::Conflict(format!(
            "Chỉ duyệt được báo cáo đã nộp (báo cáo đang ở trạng thái {:?})",
            before.state
        )));
    }
    let now = Utc::now();
    let mut m = before.clone().into_active_model();
    m.state = Set(match input.decision {
        ReviewDecision::Accept => ReportState::Accepted,
        ReviewDecision::Return => ReportState::Returned,
    });
    m.review_comment = Set(comment);
    m.reviewed_by = Set(Some(caller.principal.subject.clone()));
    m.reviewed_at = Set(Some(now));
    m.version = Set(before.version + 1);
    m.updated_at = Set(now);
    let report = save_versioned(
        &w,
        scope,
        m,
        id,
        before.version,
        "Báo cáo vừa thay đổi; hãy tải lại rồi duyệt",
    )
    .await?;
    audit(
        &w,
        ctx,
        "reviewProgressReport",
        "progress_report",
        Some(id),
        snap(&before),
        snap(&report),
    )
    .await?;

    // Lock the task, then the assignment (always in that order): two reviews finishing a
    // task's last two leads at once must not both miss that the task is now complete.
    // SQLite has no row locks; its service-wide write lock already serialises this.
    let task_id = scope
        .find_by_id::<assignment::Entity>(report.assignment_id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("phân công"))?
        .task_id;
    let mut t = scope
        .find_by_id::<task::Entity>(task_id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
    let mut a = scope
        .find_by_id::<assignment::Entity>(report.assignment_id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("phân công"))?;
    if input.decision == ReviewDecision::Accept
        && report.done
        && a.role == AssignmentRole::Lead
        && a.completed_on.is_none()
    {
        // Done on the day the agency reported it, not the day the office got to it.
        let done_on = civil_date(report.submitted_at.unwrap_or(now));
        let before_a = a.clone();
        let mut am = a.clone().into_active_model();
        am.completed_on = Set(Some(done_on));
        am.updated_at = Set(now);
        a = am.update(&w.txn).await?;
        audit(
            &w,
            ctx,
            "reviewProgressReport",
            "assignment",
            Some(a.id),
            snap(&before_a),
            snap(&a),
        )
        .await?;

        let leads = scope
            .find::<assignment::Entity>()
            .filter(assignment::Column::TaskId.eq(t.id))
            .filter(assignment::Column::Role.eq(AssignmentRole::Lead))
            .all(&w.txn)
            .await?;
        let last = task_completed_on(&leads.iter().map(|l| l.completed_on).collect::<Vec<_>>());
        if t.completed_on.is_none() && last.is_some() {
            let before_t = t.clone();
            task::Entity::update_many()
                .col_expr(task::Column::CompletedOn, Expr::value(last))
                .col_expr(task::Column::UpdatedAt, Expr::value(now))
                .filter(task::Column::Id.eq(t.id))
                .exec(&w.txn)
                .await?;
            t.completed_on = last;
            t.updated_at = now;
            audit(
                &w,
                ctx,
                "reviewProgressReport",
                "task",
                Some(t.id),
                snap(&before_t),
                snap(&t),
            )
            .await?;
        }
    }
    w.publish(EventKind::ReportReviewed, t.id, Some(report.id))
        .await?;
    w.commit().await?;
    let t = std::sync::Arc::new(t);
    Ok(ReviewProgressReportPayload {
        progress_report: ProgressReport::new(report),
        assignment: Assignment::with_task(a, t.clone()),
        task: Task::from_arc(t),
    })
}
