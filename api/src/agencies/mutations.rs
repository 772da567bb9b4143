//! Reorganisations of agencies: mergers (the 2025 reorganisation and any later one), and the
//! move of open assignments to a successor that the seed's successions also use.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{NaiveDate, Utc};
use entity::{agency, agency_group, agency_group_member, agency_succession, assignment};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::Agency;
use crate::auth::scope::{public, public_by_id};
use crate::auth::{Caller, Permission, directory};
use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::events::EventKind;
use crate::graphql::input::{agency_code, opt_text, text};
use crate::graphql::relay::{NodeKind, decode_id};
use crate::graphql::scalars::Date;
use crate::graphql::write::{Write, audit, snap};
use crate::tasks::{Assignment, AssignmentRole};

use super::transfer::{Plan, Selection, reassign};

/// Input of `mergeAgencies`.
#[derive(InputObject)]
pub struct MergeAgenciesInput {
    /// Codes of the agencies dissolved into the successor.
    pub dissolved_agency_codes: Vec<String>,
    /// Code of the agency that takes over their duties.
    pub successor_code: String,
    /// First day the successor carries the duties; today or earlier (a merger is recorded
    /// once it has taken effect).
    pub effective_on: Date,
    /// The deciding document, e.g. "Nghị quyết 05/NQ-HĐND".
    pub note: Option<String>,
}

/// Result of `mergeAgencies`.
#[derive(SimpleObject)]
pub struct MergeAgenciesPayload {
    /// The successor.
    pub successor: Agency,
    /// The dissolved agencies, now ending the day before `effectiveOn`.
    pub dissolved: Vec<Agency>,
    /// How many open assignments moved to the successor.
    pub moved_assignments: i32,
}

/// The agency mutations of the root.
#[derive(Default)]
pub struct AgencyMutation;

/// The agency mutations of the root.
#[Object]
impl AgencyMutation {
    /// Merges agencies (admin), as in the 2025 reorganisation: the dissolved agencies end
    /// the day before `effectiveOn`, their open assignments move to the successor, and the
    /// history keeps the original assignee.
    async fn merge_agencies(
        &self,
        ctx: &Context<'_>,
        input: MergeAgenciesInput,
    ) -> Result<MergeAgenciesPayload> {
        Ok(merge(ctx, input).await?)
    }

    /// Moves an agency's open assignments (admin): all of them or a chosen set (by task,
    /// directive or role), to one or several agencies, from a date, with a reason. The first
    /// target keeps each row; every further target (each member of `toGroupCode`) gets its own.
    /// `parts` split the work: their tasks go to their agencies, the rest to the primary
    /// targets. A target that already holds a task keeps one assignment of it (lead wins over
    /// coordinator). Every move is kept in `Assignment.transfers`; events and the audit log
    /// record it. `endSource` also ends the source agency the day before, recording the
    /// targets as its successors.
    async fn reassign_assignments(
        &self,
        ctx: &Context<'_>,
        input: ReassignAssignmentsInput,
    ) -> Result<ReassignAssignmentsPayload> {
        Ok(reassign_assignments(ctx, input).await?)
    }
}

async fn merge(ctx: &Context<'_>, input: MergeAgenciesInput) -> ApiResult<MergeAgenciesPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let effective_on = input.effective_on.0;
    if effective_on > today() {
        return Err(ApiError::bad_input(
            "input.effectiveOn",
            "Ghi nhận sáp nhập từ ngày nó có hiệu lực (ngày hiệu lực chưa tới)",
        ));
    }
    if input.dissolved_agency_codes.is_empty() {
        return Err(ApiError::bad_input(
            "input.dissolvedAgencyCodes",
            "Cần ít nhất một cơ quan bị sáp nhập",
        ));
    }
    let note = opt_text("input.note", input.note.as_deref(), 500)?;
    let w = Write::begin(ctx).await?;
    let successor =
        directory::active_by_code(&w.txn, "input.successorCode", &input.successor_code, today()).await?;
    let mut dissolved = Vec::new();
    let mut moved = 0u64;
    for (i, code) in input.dissolved_agency_codes.iter().enumerate() {
        let path = format!("input.dissolvedAgencyCodes[{i}]");
        let code = crate::graphql::input::agency_code(&path, code)?;
        let a = directory::by_code(&w.txn, &code)
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, format!("Không có cơ quan mã '{code}'")))?;
        if a.id == successor.id {
            return Err(ApiError::bad_input(
                &path,
                "Cơ quan kế thừa không thể tự sáp nhập vào chính nó",
            ));
        }
        if dissolved.iter().any(|d: &agency::Model| d.id == a.id) {
            return Err(ApiError::bad_input(
                &path,
                format!("'{}' được liệt kê hai lần", a.code),
            ));
        }
        // Locked, so two merges of one agency at once cannot both pass the check below.
        let a = public_by_id::<agency::Entity>(a.id)
            .lock_exclusive()
            .one(&w.txn)
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, "Cơ quan vừa bị xóa"))?;
        let earlier = public::<agency_succession::Entity>()
            .filter(agency_succession::Column::PredecessorId.eq(a.id))
            .one(&w.txn)
            .await?;
        if earlier.is_some() || a.valid_to.is_some() {
            return Err(ApiError::Conflict(format!(
                "{} đã giải thể hoặc sáp nhập trước đó",
                a.name
            )));
        }
        agency_succession::ActiveModel {
            predecessor_id: Set(a.id),
            successor_id: Set(successor.id),
            effective_on: Set(effective_on),
            note: Set(note.clone()),
            ..Default::default()
        }
        .insert(&w.txn)
        .await?;
        let before = a.clone();
        let mut am = a.into_active_model();
        // In range by the Date input rule (1900 to 2100), so a day before always exists.
        let last_day = effective_on
            .pred_opt()
            .ok_or_else(|| ApiError::bad_input("input.effectiveOn", "Ngày hiệu lực không hợp lệ"))?;
        am.valid_to = Set(Some(last_day));
        am.updated_at = Set(Utc::now());
        let after = am.update(&w.txn).await?;
        let reason = match &note {
            Some(n) => format!("Sáp nhập vào {}: {n}", successor.name),
            None => format!("Sáp nhập vào {}", successor.name),
        };
        let plan = Plan {
            from: after.id,
            selection: Selection::default(),
            primary: vec![successor.id],
            parts: Vec::new(),
            effective_on,
            reason: &reason,
            actor: &caller.principal.subject,
        };
        let done = reassign(&w.txn, &caller.scope, &plan).await?;
        for t in &done.tasks {
            w.publish(EventKind::AssignmentsReassigned, *t, None).await?;
        }
        w.publish_other(crate::events::OtherEvent::AgencyReorganised {
            agency_id: after.id,
            successor_ids: vec![successor.id],
            last_day,
        })
        .await?;
        let n = done.moved + done.merged;
        moved += n;
        audit(
            &w,
            ctx,
            "mergeAgencies",
            "agency",
            Some(after.id),
            snap(&before),
            snap(
                &serde_json::json!({ "agency": &after, "successor": &successor.code, "movedAssignments": n }),
            ),
        )
        .await?;
        dissolved.push(after);
    }
    w.commit().await?;
    Ok(MergeAgenciesPayload {
        successor: Agency(Arc::new(successor)),
        dissolved: dissolved.into_iter().map(|a| Agency(Arc::new(a))).collect(),
        moved_assignments: i32::try_from(moved).unwrap_or(i32::MAX),
    })
}

const MAX_REASSIGNED: usize = crate::graphql::limits::MAX_REASSIGNED as usize;

/// Input of `reassignAssignments`.
#[derive(InputObject)]
pub struct ReassignAssignmentsInput {
    /// Code of the agency whose open assignments move (it may have ended: a former district).
    pub from_agency_code: String,
    /// Who takes the selected assignments (the primary, when `parts` are given): each of
    /// them, the first keeping the row.
    #[graphql(default)]
    pub to_agency_codes: Vec<String>,
    /// A group whose every member takes each selected assignment too (a district's work to
    /// the communes and wards of its area).
    pub to_group_code: Option<String>,
    /// Only the assignments of these tasks (default: every open one).
    pub task_ids: Option<Vec<ID>>,
    /// Only the assignments of this directive's tasks.
    pub directive_id: Option<ID>,
    /// Only this role.
    pub role: Option<AssignmentRole>,
    /// A split by function: these tasks' assignments go to these agencies instead.
    #[graphql(default)]
    pub parts: Vec<ReassignPartInput>,
    /// First day the new holders carry the work; today or earlier.
    pub effective_on: Date,
    /// Why (the deciding document, e.g. "Quyết định 1234/QĐ-UBND").
    pub reason: String,
    /// Also end the source agency the day before `effectiveOn`, with the targets as its
    /// successors (default false).
    #[graphql(default)]
    pub end_source: bool,
}

/// Part of a split: these tasks' assignments go to these agencies.
#[derive(InputObject)]
pub struct ReassignPartInput {
    /// The tasks.
    pub task_ids: Vec<ID>,
    /// Who takes them: each of them, the first keeping the row.
    pub to_agency_codes: Vec<String>,
}

/// Result of `reassignAssignments`.
#[derive(SimpleObject)]
pub struct ReassignAssignmentsPayload {
    /// The source agency (ended when `endSource` was given).
    pub from: Agency,
    /// Assignments that changed holder.
    pub moved: i32,
    /// Further targets' new assignments.
    pub shared: i32,
    /// Duties that joined an assignment the target already held.
    pub merged: i32,
    /// Selected assignments no target was given for: they stay with the source.
    pub kept: i32,
    /// The assignments that carry the moved work now, in task order: the first 100 of them
    /// (`reassignedCount` says how many there are; the agencies' lists show them all).
    pub reassigned: Vec<Assignment>,
    /// How many assignments carry the moved work now.
    pub reassigned_count: i32,
}

/// How many of the assignments a reassignment wrote its payload lists.
pub const SHOWN: usize = crate::graphql::limits::MAX_REASSIGNED_SHOWN as usize;

fn count(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The agencies a list of codes names, existing on `on` and today, none twice, none the source.
async fn targets(
    db: &impl ConnectionTrait,
    path: &str,
    codes: &[String],
    source: &agency::Model,
    on: NaiveDate,
) -> ApiResult<Vec<agency::Model>> {
    if codes.len() as u64 > crate::graphql::limits::MAX_HOLDERS {
        return Err(ApiError::bad_input(
            path,
            format!("Nhiều nhất {} cơ quan", crate::graphql::limits::MAX_HOLDERS),
        ));
    }
    let mut out: Vec<agency::Model> = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let field = format!("{path}[{i}]");
        let a = directory::active_by_code(db, &field, code, on).await?;
        directory::active_by_code(db, &field, code, today()).await?;
        if a.id == source.id {
            return Err(ApiError::bad_input(
                &field,
                "Cơ quan nhận trùng với cơ quan chuyển đi",
            ));
        }
        if out.iter().any(|o| o.id == a.id) {
            return Err(ApiError::bad_input(
                &field,
                format!("'{}' được liệt kê hai lần", a.code),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

fn task_ids(path: &str, ids: &[ID]) -> ApiResult<BTreeSet<i32>> {
    if ids.len() > MAX_REASSIGNED {
        return Err(ApiError::bad_input(
            path,
            format!("Nhiều nhất {MAX_REASSIGNED} nhiệm vụ"),
        ));
    }
    let mut out = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let field = format!("{path}[{i}]");
        if !out.insert(decode_id(id, NodeKind::Task, &field)?) {
            return Err(ApiError::bad_input(&field, "Nhiệm vụ được liệt kê hai lần"));
        }
    }
    Ok(out)
}

async fn reassign_assignments(
    ctx: &Context<'_>,
    input: ReassignAssignmentsInput,
) -> ApiResult<ReassignAssignmentsPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let effective_on = input.effective_on.0;
    if effective_on > today() {
        return Err(ApiError::bad_input(
            "input.effectiveOn",
            "Ghi nhận chuyển giao từ ngày nó có hiệu lực (ngày hiệu lực chưa tới)",
        ));
    }
    let reason = text("input.reason", &input.reason, 500)?;
    let source_code = agency_code("input.fromAgencyCode", &input.from_agency_code)?;
    let selection = Selection {
        task_ids: input
            .task_ids
            .as_deref()
            .map(|ids| task_ids("input.taskIds", ids))
            .transpose()?,
        directive_id: input
            .directive_id
            .as_ref()
            .map(|id| decode_id(id, NodeKind::Directive, "input.directiveId"))
            .transpose()?,
        role: input.role.map(Into::into),
    };
    if input.parts.len() > 100 {
        return Err(ApiError::bad_input("input.parts", "Nhiều nhất 100 phần"));
    }

    let w = Write::begin(ctx).await?;
    let source = directory::by_code(&w.txn, &source_code).await?.ok_or_else(|| {
        ApiError::bad_input(
            "input.fromAgencyCode",
            format!("Không có cơ quan mã '{source_code}'"),
        )
    })?;
    // Locked, so an agency is not ended twice at once.
    let source = public_by_id::<agency::Entity>(source.id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::bad_input("input.fromAgencyCode", "Cơ quan vừa bị xóa"))?;
    let mut primary = targets(
        &w.txn,
        "input.toAgencyCodes",
        &input.to_agency_codes,
        &source,
        effective_on,
    )
    .await?;
    if let Some(code) = &input.to_group_code {
        let code = crate::graphql::input::code("input.toGroupCode", code)?;
        let group = public::<agency_group::Entity>()
            .filter(agency_group::Column::Code.eq(code.as_str()))
            .one(&w.txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.toGroupCode", format!("Không có nhóm mã '{code}'")))?;
        let member_ids: Vec<i32> = public::<agency_group_member::Entity>()
            .filter(agency_group_member::Column::GroupId.eq(group.id))
            .all(&w.txn)
            .await?
            .into_iter()
            .map(|m| m.agency_id)
            .collect();
        let mut members = public::<agency::Entity>()
            .filter(agency::Column::Id.is_in(member_ids))
            .order_by_asc(agency::Column::Code)
            .all(&w.txn)
            .await?;
        members.retain(|m| m.id != source.id && !primary.iter().any(|p| p.id == m.id));
        if members.is_empty() {
            return Err(ApiError::bad_input(
                "input.toGroupCode",
                format!("Nhóm '{}' chưa có thành viên nào nhận được", group.name),
            ));
        }
        if let Some(gone) = members
            .iter()
            .find(|m| !directory::exists_on(m, effective_on) || directory::ended_by(m, today()))
        {
            return Err(ApiError::bad_input(
                "input.toGroupCode",
                format!("{} (thành viên nhóm) không hoạt động từ ngày hiệu lực", gone.name),
            ));
        }
        primary.extend(members);
    }
    let mut parts = Vec::new();
    let mut split_tasks = BTreeSet::new();
    for (i, p) in input.parts.iter().enumerate() {
        let path = format!("input.parts[{i}]");
        let tasks = task_ids(&format!("{path}.taskIds"), &p.task_ids)?;
        if tasks.is_empty() {
            return Err(ApiError::bad_input(
                format!("{path}.taskIds"),
                "Cần ít nhất một nhiệm vụ",
            ));
        }
        if let Some(t) = tasks.iter().find(|t| !split_tasks.insert(**t)) {
            return Err(ApiError::bad_input(
                format!("{path}.taskIds"),
                format!(
                    "Nhiệm vụ {} đã thuộc một phần khác",
                    crate::graphql::relay::global_id(NodeKind::Task, *t).as_str()
                ),
            ));
        }
        if let Some(chosen) = &selection.task_ids
            && let Some(t) = tasks.iter().find(|t| !chosen.contains(t))
        {
            return Err(ApiError::bad_input(
                format!("{path}.taskIds"),
                format!(
                    "Nhiệm vụ {} không nằm trong input.taskIds",
                    crate::graphql::relay::global_id(NodeKind::Task, *t).as_str()
                ),
            ));
        }
        let to = targets(
            &w.txn,
            &format!("{path}.toAgencyCodes"),
            &p.to_agency_codes,
            &source,
            effective_on,
        )
        .await?;
        if to.is_empty() {
            return Err(ApiError::bad_input(
                format!("{path}.toAgencyCodes"),
                "Cần ít nhất một cơ quan nhận",
            ));
        }
        parts.push((tasks, to));
    }
    if primary.is_empty() && parts.is_empty() {
        return Err(ApiError::bad_input(
            "input.toAgencyCodes",
            "Cần ít nhất một cơ quan nhận (toAgencyCodes, toGroupCode hoặc parts)",
        ));
    }

    let plan = Plan {
        from: source.id,
        selection: selection.clone(),
        primary: primary.iter().map(|a| a.id).collect(),
        parts: parts
            .iter()
            .map(|(t, to)| (t.clone(), to.iter().map(|a| a.id).collect()))
            .collect(),
        effective_on,
        reason: &reason,
        actor: &caller.principal.subject,
    };
    // Bounded before anything is written: rows the source holds in the selection times the
    // most targets one of them can get.
    let widest = plan
        .parts
        .iter()
        .map(|(_, t)| t.len())
        .chain([plan.primary.len()])
        .max()
        .unwrap_or(1);
    let open = super::transfer::open_count(&w.txn, &caller.scope, &plan).await?;
    if open.saturating_mul(widest as u64) > MAX_REASSIGNED as u64 {
        return Err(ApiError::TooComplex(format!(
            "Chuyển {open} phân công cho {widest} cơ quan vượt quá {MAX_REASSIGNED} dòng một lần; hãy chia nhỏ theo văn bản hoặc nhiệm vụ"
        )));
    }
    let done = reassign(&w.txn, &caller.scope, &plan).await?;
    // A task named that the source does not hold open is a mistake to report, not to skip.
    let named = selection.task_ids.iter().flatten().chain(split_tasks.iter());
    let found: BTreeSet<i32> = done
        .tasks
        .iter()
        .copied()
        .chain(done.kept_tasks.iter().copied())
        .collect();
    if let Some(t) = named.into_iter().find(|t| !found.contains(t)) {
        return Err(ApiError::bad_input(
            "input.taskIds",
            format!(
                "{} không có phân công chưa hoàn thành ở nhiệm vụ {} (tính đến ngày hiệu lực)",
                source.name,
                crate::graphql::relay::global_id(NodeKind::Task, *t).as_str()
            ),
        ));
    }
    if done.tasks.is_empty() {
        return Err(ApiError::bad_input(
            "input.fromAgencyCode",
            format!(
                "{} không có phân công chưa hoàn thành nào phù hợp để chuyển",
                source.name
            ),
        ));
    }

    let mut from = source.clone();
    if input.end_source {
        if from.valid_to.is_some() {
            return Err(ApiError::Conflict(format!(
                "{} đã ngừng hoạt động trước đó",
                from.name
            )));
        }
        let last_day = effective_on
            .pred_opt()
            .ok_or_else(|| ApiError::bad_input("input.effectiveOn", "Ngày hiệu lực không hợp lệ"))?;
        let mut am = from.clone().into_active_model();
        am.valid_to = Set(Some(last_day));
        am.updated_at = Set(Utc::now());
        from = am.update(&w.txn).await?;
        let heirs: BTreeSet<i32> = plan
            .primary
            .iter()
            .chain(plan.parts.iter().flat_map(|(_, t)| t.iter()))
            .copied()
            .collect();
        for heir in &heirs {
            agency_succession::ActiveModel {
                predecessor_id: Set(from.id),
                successor_id: Set(*heir),
                effective_on: Set(effective_on),
                note: Set(Some(reason.clone())),
                ..Default::default()
            }
            .insert(&w.txn)
            .await?;
        }
        if let Some(last_day) = from.valid_to {
            w.publish_other(crate::events::OtherEvent::AgencyReorganised {
                agency_id: from.id,
                successor_ids: heirs.into_iter().collect(),
                last_day,
            })
            .await?;
        }
    }
    for t in &done.tasks {
        w.publish(EventKind::AssignmentsReassigned, *t, None).await?;
    }
    let code_of = |ids: &[agency::Model]| ids.iter().map(|a| a.code.clone()).collect::<Vec<_>>();
    audit(
        &w,
        ctx,
        "reassignAssignments",
        "agency",
        Some(source.id),
        snap(&source),
        snap(&serde_json::json!({
            "from": &from,
            "to": code_of(&primary),
            "group": input.to_group_code,
            "parts": parts.iter().map(|(t, to)| serde_json::json!({ "tasks": t, "to": code_of(to) })).collect::<Vec<_>>(),
            "selection": { "tasks": selection.task_ids, "directive": selection.directive_id, "role": selection.role },
            "effectiveOn": effective_on,
            "reason": &reason,
            "moved": done.moved, "shared": done.shared, "merged": done.merged, "kept": done.kept,
            "tasks": &done.tasks,
        })),
    )
    .await?;
    let rows = caller
        .scope
        .find::<assignment::Entity>()
        .filter(assignment::Column::Id.is_in(done.holders.iter().copied()))
        .limit(SHOWN as u64)
        .order_by_asc(assignment::Column::TaskId)
        .order_by_asc(assignment::Column::Id)
        .all(&w.txn)
        .await?;
    w.commit().await?;
    Ok(ReassignAssignmentsPayload {
        from: Agency(Arc::new(from)),
        moved: count(done.moved),
        shared: count(done.shared),
        merged: count(done.merged),
        kept: count(done.kept),
        reassigned: rows.into_iter().map(|m| Assignment::new(m, None)).collect(),
        reassigned_count: count(done.holders.len() as u64),
    })
}
