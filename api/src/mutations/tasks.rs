//! Directives, tasks, their assignments and deadline extensions.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, SimpleObject};
use chrono::Utc;
use entity::enums::AssignmentRole;
use entity::{agency, assignment, deadline_extension, directive, progress_report, task};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Write, audit, opt_text, require, snap, text};
use crate::auth::Role;
use crate::context::today;
use crate::directives::{Directive, DirectiveKind};
use crate::domain::deadline::parse_deadline;
use crate::domain::text::fold;
use crate::error::{ApiError, ApiResult};
use crate::events::EventKind;
use crate::relay::{NodeKind, decode_id};
use crate::scalars::Date;
use crate::tasks::{DeadlineExtension, Task};

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

/// Input of `createDirective`.
#[derive(InputObject)]
pub struct CreateDirectiveInput {
    /// Stable code (lowercase letters, digits and hyphens), e.g. `15-ct-ubnd-2026`.
    pub code: String,
    /// Document number as printed (số hiệu), e.g. `15/CT-UBND`.
    pub number: Option<String>,
    /// Kind of document.
    pub kind: DirectiveKind,
    /// Title (trích yếu).
    pub title: String,
    /// Date of issue.
    pub issued_on: Option<Date>,
    /// Issuing body; defaults to the provincial People's Committee.
    pub issuer: Option<String>,
    /// Signer's name.
    pub signer: Option<String>,
    /// Signer's title.
    pub signer_title: Option<String>,
}

/// Result of `createDirective`.
#[derive(SimpleObject)]
pub struct CreateDirectivePayload {
    /// The new directive.
    pub directive: Directive,
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

pub async fn extend(
    ctx: &Context<'_>,
    input: ExtendTaskDeadlineInput,
) -> ApiResult<ExtendTaskDeadlinePayload> {
    require(ctx, &[Role::Admin, Role::Monitor], "gia hạn nhiệm vụ")?;
    let id = decode_id(&input.task_id, NodeKind::Task, "input.taskId")?;
    let reason = text("input.reason", &input.reason, 2000)?;
    let w = Write::begin(ctx).await?;
    // Locked: concurrent changes to one task (two extensions at once) chain instead of
    // both starting from the same old row. SQLite's write lock already serialises them.
    let before = task::Entity::find_by_id(id)
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
        granted_by: Set(crate::context::Caller::of(ctx).principal.subject.clone()),
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

fn code(field: &str, c: &str) -> ApiResult<String> {
    let c = c.trim();
    let ok = !c.is_empty()
        && c.len() <= 60
        && c.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    if ok {
        Ok(c.to_owned())
    } else {
        Err(ApiError::bad_input(
            field,
            "Mã chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang, tối đa 60 ký tự",
        ))
    }
}

pub async fn create_directive(
    ctx: &Context<'_>,
    input: CreateDirectiveInput,
) -> ApiResult<CreateDirectivePayload> {
    require(ctx, &[Role::Admin], "tạo văn bản chỉ đạo")?;
    let code = code("input.code", &input.code)?;
    let number = opt_text("input.number", input.number.as_deref(), 60)?;
    let title = text("input.title", &input.title, 1000)?;
    let issuer =
        opt_text("input.issuer", input.issuer.as_deref(), 200)?.unwrap_or_else(|| "UBND tỉnh".to_owned());
    let signer = opt_text("input.signer", input.signer.as_deref(), 200)?;
    let signer_title = opt_text("input.signerTitle", input.signer_title.as_deref(), 200)?;
    let w = Write::begin(ctx).await?;
    let mut same = sea_orm::Condition::any().add(directive::Column::Code.eq(&code));
    if let Some(n) = &number {
        same = same.add(directive::Column::Number.eq(n));
    }
    let taken = directive::Entity::find().filter(same).count(&w.txn).await?;
    if taken > 0 {
        return Err(ApiError::Conflict(format!(
            "Đã có văn bản mã '{code}'{}",
            number
                .as_deref()
                .map(|n| format!(" hoặc số hiệu '{n}'"))
                .unwrap_or_default()
        )));
    }
    let search_title = fold(&format!("{} {}", number.as_deref().unwrap_or(""), title));
    let search_text = fold(&format!("{search_title} {issuer}"));
    let now = Utc::now();
    let m = directive::ActiveModel {
        code: Set(code),
        number: Set(number),
        kind: Set(input.kind.into()),
        title: Set(title),
        issued_on: Set(input.issued_on.map(|d| d.0)),
        issuer: Set(issuer),
        signer: Set(signer),
        signer_title: Set(signer_title),
        search_title: Set(search_title),
        search_text: Set(search_text),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    audit(
        &w,
        ctx,
        "createDirective",
        "directive",
        Some(m.id),
        None,
        snap(&m),
    )
    .await?;
    w.commit().await?;
    Ok(CreateDirectivePayload {
        directive: Directive(Arc::new(m)),
    })
}

/// Resolves agency codes to active agencies; the field path names the bad entry.
async fn agencies_by_code(
    db: &impl ConnectionTrait,
    field: &str,
    codes: &[String],
) -> ApiResult<Vec<agency::Model>> {
    let mut out: Vec<agency::Model> = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let c = c.trim();
        let a = agency::Entity::find()
            .filter(agency::Column::Code.eq(c))
            .one(db)
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, format!("Không có cơ quan mã '{c}'")))?;
        if a.valid_to.is_some_and(|end| end < today()) {
            return Err(ApiError::bad_input(
                &path,
                format!(
                    "{} đã giải thể hoặc sáp nhập; hãy giao cho cơ quan kế thừa",
                    a.name
                ),
            ));
        }
        if out.iter().any(|o| o.id == a.id) {
            return Err(ApiError::bad_input(
                &path,
                format!("Cơ quan '{c}' được liệt kê hai lần"),
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

pub async fn create_task(ctx: &Context<'_>, input: CreateTaskInput) -> ApiResult<CreateTaskPayload> {
    require(ctx, &[Role::Admin], "tạo nhiệm vụ")?;
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
    directive::Entity::find_by_id(directive_id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("văn bản"))?;
    let taken = task::Entity::find()
        .filter(task::Column::DirectiveId.eq(directive_id))
        .filter(task::Column::Code.eq(&code))
        .count(&w.txn)
        .await?;
    if taken > 0 {
        return Err(ApiError::Conflict(format!(
            "Văn bản này đã có nhiệm vụ mã '{code}'"
        )));
    }
    let last = task::Entity::find()
        .filter(task::Column::DirectiveId.eq(directive_id))
        .order_by_desc(task::Column::Ordinal)
        .one(&w.txn)
        .await?;
    let people = roster(&w.txn, &input.lead_agency_codes, &input.coordinator_agency_codes).await?;
    let now = Utc::now();
    let m = task::ActiveModel {
        directive_id: Set(directive_id),
        search_title: Set(fold(&title)),
        search_text: Set(fold(&format!("{code} {title} {full_text}"))),
        code: Set(code),
        section: Set(section),
        section_title: Set(section_title),
        item: Set(item),
        ordinal: Set(last.map_or(0, |t| t.ordinal + 1)),
        title: Set(title),
        full_text: Set(full_text),
        deadline_text: Set(deadline.text.clone()),
        deadline_kind: Set(deadline.kind.as_str().to_owned()),
        recurrence: Set(deadline.recurrence.map(|r| r.as_str().to_owned())),
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

pub async fn update_task(ctx: &Context<'_>, input: UpdateTaskInput) -> ApiResult<UpdateTaskPayload> {
    require(ctx, &[Role::Admin], "sửa nhiệm vụ")?;
    let id = decode_id(&input.id, NodeKind::Task, "input.id")?;
    let w = Write::begin(ctx).await?;
    // Locked: concurrent changes to one task (two extensions at once) chain instead of
    // both starting from the same old row. SQLite's write lock already serialises them.
    let before = task::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
    let before_assignments = assignment::Entity::find()
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
    am.search_title = Set(fold(&title));
    am.search_text = Set(fold(&format!("{} {title} {full_text}", before.code)));
    am.title = Set(title);
    am.full_text = Set(full_text);
    if let Some(r) = input.requires_report {
        am.requires_report = Set(r);
    }
    if let Some(d) = &input.deadline_text {
        let extended = deadline_extension::Entity::find()
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
        am.deadline_kind = Set(deadline.kind.as_str().to_owned());
        am.recurrence = Set(deadline.recurrence.map(|r| r.as_str().to_owned()));
        am.original_due_on = Set(deadline.due_on);
        am.due_on = Set(deadline.due_on);
    }
    am.updated_at = Set(Utc::now());
    let after = am.update(&w.txn).await?;

    if input.lead_agency_codes.is_some() || input.coordinator_agency_codes.is_some() {
        if let Some(codes) = &input.lead_agency_codes {
            replace_role(&w, id, AssignmentRole::Lead, codes, "input.leadAgencyCodes").await?;
        }
        if let Some(codes) = &input.coordinator_agency_codes {
            replace_role(
                &w,
                id,
                AssignmentRole::Coordinator,
                codes,
                "input.coordinatorAgencyCodes",
            )
            .await?;
        }
        // A task whose remaining leads are all done is complete; a new open lead reopens it.
        let leads = assignment::Entity::find()
            .filter(assignment::Column::TaskId.eq(id))
            .filter(assignment::Column::Role.eq(AssignmentRole::Lead))
            .all(&w.txn)
            .await?;
        let completed = if leads.iter().all(|l| l.completed_on.is_some()) {
            leads.iter().filter_map(|l| l.completed_on).max()
        } else {
            None
        };
        task::Entity::update_many()
            .col_expr(task::Column::CompletedOn, Expr::value(completed))
            .filter(task::Column::Id.eq(id))
            .exec(&w.txn)
            .await?;
    }
    let after = task::Entity::find_by_id(id).one(&w.txn).await?.unwrap_or(after);
    let after_assignments = assignment::Entity::find()
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
    let rows = assignment::Entity::find()
        .filter(assignment::Column::TaskId.eq(task_id))
        .all(&w.txn)
        .await?;
    let mut wanted = BTreeSet::new();
    for (i, code) in codes.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let c = code.trim();
        let a = agency::Entity::find()
            .filter(agency::Column::Code.eq(c))
            .one(&w.txn)
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, format!("Không có cơ quan mã '{c}'")))?;
        let holds = |r: AssignmentRole| rows.iter().any(|x| x.agency_id == a.id && x.role == r);
        if !wanted.insert(a.id) || holds(role) {
            continue;
        }
        if a.valid_to.is_some_and(|end| end < today()) {
            return Err(ApiError::bad_input(
                &path,
                format!(
                    "{} đã giải thể hoặc sáp nhập; hãy giao cho cơ quan kế thừa",
                    a.name
                ),
            ));
        }
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
        let reports = progress_report::Entity::find()
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
