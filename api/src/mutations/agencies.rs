//! Mergers of agencies (the 2025 reorganisation and any later one).

use std::sync::Arc;

use async_graphql::{Context, InputObject, SimpleObject};
use chrono::Utc;
use entity::{agency, agency_succession};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set};

use super::{Write, audit, opt_text, require, snap};
use crate::agencies::{Agency, transfer_open_assignments};
use crate::auth::Role;
use crate::context::today;
use crate::error::{ApiError, ApiResult};
use crate::scalars::Date;

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

pub async fn merge(ctx: &Context<'_>, input: MergeAgenciesInput) -> ApiResult<MergeAgenciesPayload> {
    require(ctx, &[Role::Admin], "sáp nhập cơ quan")?;
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
    let by_code = |c: String| {
        let txn = &w.txn;
        async move {
            agency::Entity::find()
                .filter(agency::Column::Code.eq(c.trim()))
                .one(txn)
                .await
        }
    };
    let successor = by_code(input.successor_code.clone()).await?.ok_or_else(|| {
        ApiError::bad_input(
            "input.successorCode",
            format!("Không có cơ quan mã '{}'", input.successor_code.trim()),
        )
    })?;
    if successor.valid_to.is_some_and(|end| end < today()) {
        return Err(ApiError::bad_input(
            "input.successorCode",
            format!(
                "{} không còn hoạt động; hãy chọn cơ quan đang hoạt động",
                successor.name
            ),
        ));
    }
    let mut dissolved = Vec::new();
    let mut moved = 0u64;
    for (i, code) in input.dissolved_agency_codes.iter().enumerate() {
        let path = format!("input.dissolvedAgencyCodes[{i}]");
        let a = by_code(code.clone())
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, format!("Không có cơ quan mã '{}'", code.trim())))?;
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
        let a = agency::Entity::find_by_id(a.id)
            .lock_exclusive()
            .one(&w.txn)
            .await?
            .ok_or_else(|| ApiError::bad_input(&path, "Cơ quan vừa bị xóa"))?;
        let earlier = agency_succession::Entity::find()
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
        am.valid_to = Set(effective_on.pred_opt());
        am.updated_at = Set(Utc::now());
        let after = am.update(&w.txn).await?;
        let n = transfer_open_assignments(&w.txn, after.id, successor.id, effective_on).await?;
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
