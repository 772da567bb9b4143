//! Reorganisations of agencies: mergers (the 2025 reorganisation and any later one), and the
//! move of open assignments to a successor that the seed's successions also use.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{NaiveDate, Utc};
use entity::{agency, agency_succession, assignment};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};

use super::Agency;
use crate::auth::scope::{public, public_by_id};
use crate::auth::{Caller, Permission, directory};
use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::graphql::input::opt_text;
use crate::graphql::scalars::Date;
use crate::graphql::write::{Write, audit, snap};

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
}

async fn merge(ctx: &Context<'_>, input: MergeAgenciesInput) -> ApiResult<MergeAgenciesPayload> {
    Caller::of(ctx).principal.role.require(Permission::Administer)?;
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

/// Moves the open assignments (lead and coordinator) of `from` to `to`, effective on a date:
/// the holder changes, `original_agency_id` keeps the assignee the directive named. Returns
/// how many moved. Used by the seed's successions and by `mergeAgencies`.
pub async fn transfer_open_assignments(
    db: &impl ConnectionTrait,
    from: i32,
    to: i32,
    effective_on: NaiveDate,
) -> Result<u64, sea_orm::DbErr> {
    let res = assignment::Entity::update_many()
        .col_expr(assignment::Column::AgencyId, Expr::value(to))
        .col_expr(assignment::Column::TransferredOn, Expr::value(effective_on))
        .filter(assignment::Column::AgencyId.eq(from))
        .filter(
            Condition::any()
                .add(assignment::Column::CompletedOn.is_null())
                .add(assignment::Column::CompletedOn.gte(effective_on)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
