//! Tasks, their assignments and deadline extensions: created and changed by the
//! administrator, extended by the monitoring office.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use entity::enums::AssignmentRole;
use entity::{agency, assignment, deadline_extension, directive, progress_report, task, task_milestone};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{DeadlineExtension, Milestone, Task, stored};
use crate::auth::{Caller, Permission, Scope, directory};
use crate::clock::today;
use crate::domain::deadline::parse_deadline;
use crate::domain::status::task_completed_on;
use crate::domain::text::SearchKeys;
use crate::error::{ApiError, ApiResult};
use crate::events::EventKind;
use crate::graphql::input::{opt_text, text};
use crate::graphql::relay::{NodeKind, decode_id};
use crate::graphql::scalars::Date;
use crate::graphql::write::{Write, audit, snap};

/// `extendTaskDeadline`, the monitoring office's mutation on tasks (a root part of its own so
/// that the root keeps its order: reports, extensions, directives, tasks, indicators, agencies).
#[derive(Default)]
pub struct DeadlineMutation;

/// Deadline extensions.
#[Object]
impl DeadlineMutation {
    /// Grants a task a later due date (gia hạn). The original due date and every extension
    /// are kept; status follows the new date.
    async fn extend_task_deadline(
        &self,
        ctx: &Context<'_>,
        input: ExtendTaskDeadlineInput,
    ) -> Result<ExtendTaskDeadlinePayload> {
        Ok(extend(ctx, input).await?)
    }

    /// Records that a milestone of a task was reached on a day (`completedOn`), or undoes the
    /// record (`completedOn: null`). The monitoring office records it, on the lead agency's
    /// report; the milestone's status, and the task's, follow (a missed milestone makes the
    /// unfinished task overdue).
    async fn complete_milestone(
        &self,
        ctx: &Context<'_>,
        input: CompleteMilestoneInput,
    ) -> Result<CompleteMilestonePayload> {
        Ok(complete_milestone(ctx, input).await?)
    }
}

/// Input of `completeMilestone`.
#[derive(InputObject)]
pub struct CompleteMilestoneInput {
    /// The milestone (`Task.milestones { id }`).
    pub milestone_id: ID,
    /// The day it was reached: not after today. Null undoes an earlier record.
    pub completed_on: Option<Date>,
}

/// Result of `completeMilestone`.
#[derive(SimpleObject)]
pub struct CompleteMilestonePayload {
    /// The milestone as recorded.
    pub milestone: Milestone,
    /// Its task, whose status follows.
    pub task: Task,
}

async fn complete_milestone(
    ctx: &Context<'_>,
    input: CompleteMilestoneInput,
) -> ApiResult<CompleteMilestonePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Extend)?;
    let id = decode_id(&input.milestone_id, NodeKind::Milestone, "input.milestoneId")?;
    let day = input.completed_on.map(|d| d.0);
    if let Some(d) = day
        && d > today()
    {
        return Err(ApiError::bad_input(
            "input.completedOn",
            "Ngày đạt mốc không được sau hôm nay",
        ));
    }
    let w = Write::begin(ctx).await?;
    let before = caller
        .scope
        .find_by_id::<task_milestone::Entity>(id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("mốc thời hạn"))?;
    let t = caller
        .scope
        .find_by_id::<task::Entity>(before.task_id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
    if before.completed_on == day {
        // Nothing to change: the same answer, no audit entry, no event.
        drop(w); // rolls back: nothing was written
        return Ok(CompleteMilestonePayload {
            milestone: Milestone::new(before, Some(t.completed_on), None),
            task: Task::new(t, None),
        });
    }
    let mut am = before.clone().into_active_model();
    am.completed_on = Set(day);
    am.completed_by = Set(day.map(|_| caller.principal.subject.clone()));
    let after = am.update(&w.txn).await?;
    audit(
        &w,
        ctx,
        "completeMilestone",
        "task_milestone",
        Some(id),
        snap(&before),
        snap(&after),
    )
    .await?;
    w.publish(EventKind::MilestoneRecorded, t.id, None).await?;
    w.commit().await?;
    Ok(CompleteMilestonePayload {
        milestone: Milestone::new(after, Some(t.completed_on), None),
        task: Task::new(t, None),
    })
}

/// The administrator's task mutations of the root.
#[derive(Default)]
pub struct TaskMutation;

/// The administrator's task mutations of the root.
#[Object]
impl TaskMutation {
    /// Adds a task to a directive with its lead and coordinating agencies (admin).
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<CreateTaskPayload> {
        Ok(create_task(ctx, input).await?)
    }

    /// Changes a task's text, deadline or assignments (admin). An assignment that already
    /// has reports cannot be removed.
    async fn update_task(&self, ctx: &Context<'_>, input: UpdateTaskInput) -> Result<UpdateTaskPayload> {
        Ok(update_task(ctx, input).await?)
    }
}

/// Input of `extendTaskDeadline`.
#[derive(InputObject)]
pub struct ExtendTaskDeadlineInput {
    /// The task.
    pub task_id: ID,
    /// The new due date; later than the current one.
    pub new_due_on: Date,
    /// Why (lý do gia hạn), as written in the approving document.
    pub reason: String,
}

/// Result of `extendTaskDeadline`.
#[derive(SimpleObject)]
pub struct ExtendTaskDeadlinePayload {
    /// The task with its new due date.
    pub task: Task,
    /// The extension granted.
    pub extension: DeadlineExtension,
}

/// Input of `createTask`.
#[derive(InputObject)]
pub struct CreateTaskInput {
    /// The directive that assigns it.
    pub directive_id: ID,
    /// Code within the directive, e.g. `II.1.17`.
    pub code: String,
    /// Section (mục), e.g. `II.1.1`.
    pub section: String,
    /// Section heading.
    pub section_title: Option<String>,
    /// Item label within the section (e.g. `a`).
    pub item: Option<String>,
    /// Short title.
    pub title: String,
    /// Full text as written.
    pub full_text: String,
    /// Deadline as written ("trước ngày 15/01/2026", "trong Quý I/2026", "hàng tháng"); none
    /// for an ongoing duty.
    pub deadline_text: Option<String>,
    /// A report to the People's Committee is owed.
    #[graphql(default)]
    pub requires_report: bool,
    /// Codes of the lead agencies (chủ trì); at least one.
    pub lead_agency_codes: Vec<String>,
    /// Codes of the coordinating agencies (phối hợp).
    #[graphql(default)]
    pub coordinator_agency_codes: Vec<String>,
}

/// Result of `createTask`.
#[derive(SimpleObject)]
pub struct CreateTaskPayload {
    /// The new task.
    pub task: Task,
}

/// Input of `updateTask`. Fields left out keep their value; agency lists, when given,
/// replace the current holders of that role.
#[derive(InputObject)]
pub struct UpdateTaskInput {
    /// The task.
    pub id: ID,
    /// Short title.
    pub title: Option<String>,
    /// Full text.
    pub full_text: Option<String>,
    /// Deadline as written (an empty string makes it an ongoing duty). Refused once the
    /// deadline was extended: extend it instead.
    pub deadline_text: Option<String>,
    /// A report to the People's Committee is owed.
    pub requires_report: Option<bool>,
    /// New set of lead agencies' codes.
    pub lead_agency_codes: Option<Vec<String>>,
    /// New set of coordinating agencies' codes.
    pub coordinator_agency_codes: Option<Vec<String>>,
}

/// Result of `updateTask`.
#[derive(SimpleObject)]
pub struct UpdateTaskPayload {
    /// The task after the change.
    pub task: Task,
}

async fn extend(ctx: &Context<'_>, input: ExtendTaskDeadlineInput) -> ApiResult<ExtendTaskDeadlinePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Extend)?;
    let id = decode_id(&input.task_id, NodeKind::Task, "input.taskId")?;
    let reason = text("input.reason", &input.reason, 2000)?;
    let w = Write::begin(ctx).await?;
    // Locked: concurrent changes to one task (two extensions at once) chain instead of
    // both starting from the same old row. SQLite's write lock already serialises them.
    let before = caller
        .scope
        .find_by_id::<task::Entity>(id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
    if before.completed_on.is_some() {
        return Err(ApiError::Conflict(
            "Nhiệm vụ đã hoàn thành; không gia hạn được".into(),
        ));
    }
    let Some(current) = before.due_on else {
        return Err(ApiError::bad_input(
            "input.taskId",
            "Nhiệm vụ thường xuyên hoặc định kỳ không có hạn cố định để gia hạn",
        ));
    };
    let new_due = input.new_due_on.0;
    if new_due <= current {
        return Err(ApiError::bad_input(
            "input.newDueOn",
            format!("Hạn mới phải sau hạn hiện tại ({})", current.format("%d/%m/%Y")),
        ));
    }
    let now = Utc::now();
    let ext = deadline_extension::ActiveModel {
        task_id: Set(id),
        previous_due_on: Set(Some(current)),
        new_due_on: Set(new_due),
        reason: Set(reason),
        granted_by: Set(caller.principal.subject.clone()),
        granted_at: Set(now),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    let mut am = before.clone().into_active_model();
    am.due_on = Set(Some(new_due));
    am.updated_at = Set(now);
    let after = am.update(&w.txn).await?;
    audit(
        &w,
        ctx,
        "extendTaskDeadline",
        "task",
        Some(id),
        snap(&before),
        snap(&after),
    )
    .await?;
    w.publish(EventKind::DeadlineExtended, id, None).await?;
    w.commit().await?;
    Ok(ExtendTaskDeadlinePayload {
        task: Task::new(after, None),
        extension: DeadlineExtension(ext),
    })
}

/// Resolves agency codes to agencies existing today; the field path names the bad entry.
async fn agencies_by_code(
    db: &impl ConnectionTrait,
    field: &str,
    codes: &[String],
) -> ApiResult<Vec<agency::Model>> {
    let mut out: Vec<agency::Model> = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let a = directory::active_by_code(db, &path, c, today()).await?;
        if out.iter().any(|o| o.id == a.id) {
            return Err(ApiError::bad_input(
                &path,
                format!("Cơ quan '{}' được liệt kê hai lần", a.code),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

/// Leads and coordinators, checked: at least one lead, no agency in both roles.
async fn roster(
    db: &impl ConnectionTrait,
    leads: &[String],
    coordinators: &[String],
) -> ApiResult<Vec<(agency::Model, AssignmentRole)>> {
    if leads.is_empty() {
        return Err(ApiError::bad_input(
            "input.leadAgencyCodes",
            "Nhiệm vụ cần ít nhất một cơ quan chủ trì",
        ));
    }
    let most = crate::graphql::limits::MAX_HOLDERS as usize;
    if leads.len() + coordinators.len() > most {
        return Err(ApiError::bad_input(
            "input.coordinatorAgencyCodes",
            format!("Một nhiệm vụ giao tối đa {most} cơ quan"),
        ));
    }
    let l = agencies_by_code(db, "input.leadAgencyCodes", leads).await?;
    let c = agencies_by_code(db, "input.coordinatorAgencyCodes", coordinators).await?;
    if let Some((i, both)) = c.iter().enumerate().find(|(_, a)| l.iter().any(|x| x.id == a.id)) {
        return Err(ApiError::bad_input(
            format!("input.coordinatorAgencyCodes[{i}]"),
            format!("{} đã là cơ quan chủ trì", both.name),
        ));
    }
    Ok(l.into_iter()
        .map(|a| (a, AssignmentRole::Lead))
        .chain(c.into_iter().map(|a| (a, AssignmentRole::Coordinator)))
        .collect())
}

async fn create_task(ctx: &Context<'_>, input: CreateTaskInput) -> ApiResult<CreateTaskPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let directive_id = decode_id(&input.directive_id, NodeKind::Directive, "input.directiveId")?;
    let code = text("input.code", &input.code, 40)?;
    let section = text("input.section", &input.section, 40)?;
    let section_title = opt_text("input.sectionTitle", input.section_title.as_deref(), 500)?;
    let item = opt_text("input.item", input.item.as_deref(), 20)?;
    let title = text("input.title", &input.title, 1000)?;
    let full_text = text("input.fullText", &input.full_text, 20_000)?;
    let deadline_text = opt_text("input.deadlineText", input.deadline_text.as_deref(), 500)?;
    let deadline = parse_deadline(deadline_text.as_deref())
        .map_err(|e| ApiError::bad_input("input.deadlineText", e.to_string()))?;

    let w = Write::begin(ctx).await?;
    caller
        .scope
        .find_by_id::<directive::Entity>(directive_id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("văn bản"))?;
    let taken = caller
        .scope
        .find::<task::Entity>()
        .filter(task::Column::DirectiveId.eq(directive_id))
        .filter(task::Column::Code.eq(&code))
        .count(&w.txn)
        .await?;
    if taken > 0 {
        return Err(ApiError::Conflict(format!(
            "Văn bản này đã có nhiệm vụ mã '{code}'"
        )));
    }
    let last = caller
        .scope
        .find::<task::Entity>()
        .filter(task::Column::DirectiveId.eq(directive_id))
        .order_by_desc(task::Column::Ordinal)
        .one(&w.txn)
        .await?;
    let people = roster(&w.txn, &input.lead_agency_codes, &input.coordinator_agency_codes).await?;
    let now = Utc::now();
    let search = SearchKeys::task(&code, &title, &full_text);
    let m = task::ActiveModel {
        directive_id: Set(directive_id),
        search_title: Set(search.title),
        search_text: Set(search.text),
        code: Set(code),
        section: Set(section),
        section_title: Set(section_title),
        item: Set(item),
        ordinal: Set(last.map_or(0, |t| t.ordinal + 1)),
        title: Set(title),
        full_text: Set(full_text),
        deadline_text: Set(deadline.text.clone()),
        deadline_kind: Set(deadline.kind.into()),
        recurrence: Set(deadline.recurrence.map(stored::recurrence)),
        original_due_on: Set(deadline.due_on),
        due_on: Set(deadline.due_on),
        completed_on: Set(None),
        requires_report: Set(input.requires_report),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    let mut assignments = Vec::new();
    for (a, role) in people {
        assignments.push(insert_assignment(&w, m.id, a.id, role).await?);
    }
    audit(
        &w,
        ctx,
        "createTask",
        "task",
        Some(m.id),
        None,
        snap(&serde_json::json!({ "task": &m, "assignments": &assignments })),
    )
    .await?;
    w.publish(EventKind::TaskCreated, m.id, None).await?;
    w.commit().await?;
    Ok(CreateTaskPayload {
        task: Task::new(m, None),
    })
}

async fn insert_assignment(
    w: &Write<'_>,
    task_id: i32,
    agency_id: i32,
    role: AssignmentRole,
) -> ApiResult<assignment::Model> {
    let now = Utc::now();
    Ok(assignment::ActiveModel {
        task_id: Set(task_id),
        agency_id: Set(agency_id),
        original_agency_id: Set(agency_id),
        role: Set(role),
        via_group_id: Set(None),
        completed_on: Set(None),
        transferred_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?)
}

async fn update_task(ctx: &Context<'_>, input: UpdateTaskInput) -> ApiResult<UpdateTaskPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let scope = &caller.scope;
    let id = decode_id(&input.id, NodeKind::Task, "input.id")?;
    let w = Write::begin(ctx).await?;
    // Locked: concurrent changes to one task (two extensions at once) chain instead of
    // both starting from the same old row. SQLite's write lock already serialises them.
    let before = scope
        .find_by_id::<task::Entity>(id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
    let before_assignments = scope
        .find::<assignment::Entity>()
        .filter(assignment::Column::TaskId.eq(id))
        .all(&w.txn)
        .await?;
    let mut am = before.clone().into_active_model();
    let title = match &input.title {
        Some(t) => text("input.title", t, 1000)?,
        None => before.title.clone(),
    };
    let full_text = match &input.full_text {
        Some(t) => text("input.fullText", t, 20_000)?,
        None => before.full_text.clone(),
    };
    let search = SearchKeys::task(&before.code, &title, &full_text);
    am.search_title = Set(search.title);
    am.search_text = Set(search.text);
    am.title = Set(title);
    am.full_text = Set(full_text);
    if let Some(r) = input.requires_report {
        am.requires_report = Set(r);
    }
    if let Some(d) = &input.deadline_text {
        let extended = scope
            .find::<deadline_extension::Entity>()
            .filter(deadline_extension::Column::TaskId.eq(id))
            .count(&w.txn)
            .await?;
        if extended > 0 {
            return Err(ApiError::Conflict(
                "Nhiệm vụ đã được gia hạn; đổi hạn bằng extendTaskDeadline để giữ lịch sử".into(),
            ));
        }
        let text = opt_text("input.deadlineText", Some(d), 500)?;
        let deadline = parse_deadline(text.as_deref())
            .map_err(|e| ApiError::bad_input("input.deadlineText", e.to_string()))?;
        am.deadline_text = Set(deadline.text.clone());
        am.deadline_kind = Set(deadline.kind.into());
        am.recurrence = Set(deadline.recurrence.map(stored::recurrence));
        am.original_due_on = Set(deadline.due_on);
        am.due_on = Set(deadline.due_on);
    }
    am.updated_at = Set(Utc::now());
    let after = am.update(&w.txn).await?;

    if input.lead_agency_codes.is_some() || input.coordinator_agency_codes.is_some() {
        if let Some(codes) = &input.lead_agency_codes {
            replace_role(
                &w,
                scope,
                id,
                AssignmentRole::Lead,
                codes,
                "input.leadAgencyCodes",
            )
            .await?;
        }
        if let Some(codes) = &input.coordinator_agency_codes {
            replace_role(
                &w,
                scope,
                id,
                AssignmentRole::Coordinator,
                codes,
                "input.coordinatorAgencyCodes",
            )
            .await?;
        }
        let held = scope
            .find::<assignment::Entity>()
            .filter(assignment::Column::TaskId.eq(id))
            .count(&w.txn)
            .await?;
        let most = crate::graphql::limits::MAX_HOLDERS;
        if held > most {
            return Err(ApiError::bad_input(
                "input.coordinatorAgencyCodes",
                format!("Một nhiệm vụ giao tối đa {most} cơ quan (sẽ là {held})"),
            ));
        }
        // A task whose remaining leads are all done is complete; a new open lead reopens it.
        let leads = scope
            .find::<assignment::Entity>()
            .filter(assignment::Column::TaskId.eq(id))
            .filter(assignment::Column::Role.eq(AssignmentRole::Lead))
            .all(&w.txn)
            .await?;
        let completed = task_completed_on(&leads.iter().map(|l| l.completed_on).collect::<Vec<_>>());
        task::Entity::update_many()
            .col_expr(task::Column::CompletedOn, Expr::value(completed))
            .filter(task::Column::Id.eq(id))
            .exec(&w.txn)
            .await?;
    }
    let after = scope
        .find_by_id::<task::Entity>(id)
        .one(&w.txn)
        .await?
        .unwrap_or(after);
    let after_assignments = scope
        .find::<assignment::Entity>()
        .filter(assignment::Column::TaskId.eq(id))
        .all(&w.txn)
        .await?;
    audit(
        &w,
        ctx,
        "updateTask",
        "task",
        Some(id),
        snap(&serde_json::json!({ "task": &before, "assignments": &before_assignments })),
        snap(&serde_json::json!({ "task": &after, "assignments": &after_assignments })),
    )
    .await?;
    w.publish(EventKind::TaskUpdated, id, None).await?;
    w.commit().await?;
    Ok(UpdateTaskPayload {
        task: Task::new(after, None),
    })
}

/// Makes the holders of `role` on a task the agencies listed, changing only what differs:
/// holders already listed keep their rows (dissolved districts included, and a successor
/// holding several inherited rows keeps them all); newly listed agencies must be active
/// and not hold the other role; holders no longer listed lose their row unless it has
/// reports (CONFLICT), which keeps who reported in the history.
async fn replace_role(
    w: &Write<'_>,
    scope: &Scope,
    task_id: i32,
    role: AssignmentRole,
    codes: &[String],
    field: &str,
) -> ApiResult<()> {
    if role == AssignmentRole::Lead && codes.is_empty() {
        return Err(ApiError::bad_input(
            field,
            "Nhiệm vụ cần ít nhất một cơ quan chủ trì",
        ));
    }
    let rows = scope
        .find::<assignment::Entity>()
        .filter(assignment::Column::TaskId.eq(task_id))
        .all(&w.txn)
        .await?;
    let mut wanted = BTreeSet::new();
    for (i, code) in codes.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let c = crate::graphql::input::agency_code(&path, code)?;
        let a = directory::by_code(&w.txn, &c)
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, format!("Không có cơ quan mã '{c}'")))?;
        let holds = |r: AssignmentRole| rows.iter().any(|x| x.agency_id == a.id && x.role == r);
        if !wanted.insert(a.id) || holds(role) {
            continue;
        }
        // A holder already listed keeps its row even if it has ended; a new one must exist.
        let a = directory::active_by_code(&w.txn, &path, c.as_str(), today()).await?;
        let other = match role {
            AssignmentRole::Lead => AssignmentRole::Coordinator,
            AssignmentRole::Coordinator => AssignmentRole::Lead,
        };
        if holds(other) {
            return Err(ApiError::bad_input(
                &path,
                format!(
                    "{} đã có vai trò khác trong nhiệm vụ này; bỏ vai trò đó trước",
                    a.name
                ),
            ));
        }
        if rows
            .iter()
            .any(|x| x.original_agency_id == a.id && x.role == role)
        {
            return Err(ApiError::Conflict(format!(
                "{} từng được giao vai trò này và đã chuyển cho cơ quan kế thừa",
                a.name
            )));
        }
        insert_assignment(w, task_id, a.id, role).await?;
    }
    for x in rows
        .iter()
        .filter(|x| x.role == role && !wanted.contains(&x.agency_id))
    {
        let reports = scope
            .find::<progress_report::Entity>()
            .filter(progress_report::Column::AssignmentId.eq(x.id))
            .count(&w.txn)
            .await?;
        if reports > 0 {
            return Err(ApiError::Conflict(format!(
                "Không bỏ được phân công đã có {reports} báo cáo; hãy giữ cơ quan đó trong danh sách"
            )));
        }
        assignment::Entity::delete_by_id(x.id).exec(&w.txn).await?;
    }
    Ok(())
}
