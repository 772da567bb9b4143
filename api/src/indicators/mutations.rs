//! Indicator values: the monitoring office, or the agency responsible, records them.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use entity::{indicator, indicator_value};
use sea_orm::{ActiveModelTrait, Set};

use super::{Indicator, IndicatorValue, ValueKind};
use crate::auth::{Caller, Permission};
use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::graphql::input::{self, opt_text};
use crate::graphql::relay::{NodeKind, decode_id};
use crate::graphql::scalars::Decimal;
use crate::graphql::write::{Write, audit, snap};

/// The indicator mutations of the root.
#[derive(Default)]
pub struct IndicatorMutation;

/// The indicator mutations of the root.
#[Object]
impl IndicatorMutation {
    /// Records an indicator's value for a calendar period (monitor, admin, or the agency
    /// responsible for the indicator).
    async fn record_indicator_value(
        &self,
        ctx: &Context<'_>,
        input: RecordIndicatorValueInput,
    ) -> Result<RecordIndicatorValuePayload> {
        Ok(record(ctx, input).await?)
    }
}

/// Input of `recordIndicatorValue`.
#[derive(InputObject)]
pub struct RecordIndicatorValueInput {
    /// The indicator.
    pub indicator_id: ID,
    /// Calendar period id within the indicator's year: `2025`, `2025S1`, `2025Q1`, `202501`.
    pub period: String,
    /// The value, in the indicator's unit, with `.` as the decimal mark (e.g. `"5230.5"`).
    pub value: Decimal,
    /// Estimate or official figure. A later official value supersedes an estimate; both stay.
    pub kind: ValueKind,
    /// Source or remark.
    pub note: Option<String>,
}

/// Result of `recordIndicatorValue`.
#[derive(SimpleObject)]
pub struct RecordIndicatorValuePayload {
    /// The recorded value.
    pub indicator_value: IndicatorValue,
    /// The indicator, with its achievement updated.
    pub indicator: Indicator,
}

async fn record(
    ctx: &Context<'_>,
    input: RecordIndicatorValueInput,
) -> ApiResult<RecordIndicatorValuePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::RecordValues)?;
    let id = decode_id(&input.indicator_id, NodeKind::Indicator, "input.indicatorId")?;
    let note = opt_text("input.note", input.note.as_deref(), 2000)?;
    let period = input::period("input.period", &input.period)?;
    // Far beyond any statistic, and keeps derived arithmetic (deviation, ratios) in range.
    let limit = rust_decimal::Decimal::from(1_000_000_000_000_000_i64);
    if input.value.0.abs() > limit || input.value.0.scale() > 10 {
        return Err(ApiError::bad_input(
            "input.value",
            "Giá trị phải trong khoảng ±10^18 và tối đa 10 chữ số thập phân",
        ));
    }
    let w = Write::begin(ctx).await?;
    // An agency reaches only the indicators it is responsible for; others are NOT_FOUND.
    let ind = caller
        .scope
        .find_by_id::<indicator::Entity>(id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("chỉ tiêu"))?;
    if ind.qualitative {
        return Err(ApiError::bad_input(
            "input.indicatorId",
            "Chỉ tiêu định tính không có giá trị số để ghi",
        ));
    }
    if period.year() != ind.year {
        return Err(ApiError::bad_input(
            "input.period",
            format!(
                "Chỉ tiêu {} thuộc năm {}; kỳ {period} không thuộc năm đó",
                ind.code, ind.year
            ),
        ));
    }
    if period.calendar_range().0 > today() {
        return Err(ApiError::bad_input(
            "input.period",
            format!("Kỳ {period} chưa bắt đầu"),
        ));
    }
    let m = indicator_value::ActiveModel {
        indicator_id: Set(ind.id),
        period: Set(period.to_string()),
        value: Set(input.value.0.normalize().to_string()),
        kind: Set(input.kind.into()),
        note: Set(note),
        recorded_by: Set(caller.principal.subject.clone()),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    w.publish_other(crate::events::OtherEvent::IndicatorValueRecorded {
        indicator_id: ind.id,
        value_id: m.id,
        period: m.period.clone(),
    })
    .await?;
    audit(
        &w,
        ctx,
        "recordIndicatorValue",
        "indicator_value",
        Some(m.id),
        None,
        snap(&m),
    )
    .await?;
    w.commit().await?;
    let ind = Arc::new(ind);
    Ok(RecordIndicatorValuePayload {
        indicator_value: IndicatorValue::new(m, ind.clone()),
        indicator: Indicator(ind),
    })
}
