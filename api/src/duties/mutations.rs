//! Setting a directive's reporting regime (admin) and waiving a duty (admin, monitor): each in
//! one transaction with its audit entry.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use entity::enums::{DueRule as StoredRule, RegimePeriod, Reporters};
use entity::{assignment, directive, reporting_regime, reporting_waiver};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set};

use super::sql::DutyFilter;
use super::{ReportingDuty, list};
use crate::auth::{Caller, Permission};
use crate::clock::today;
use crate::db::calendar::{FIRST_YEAR, LAST_YEAR};
use crate::domain::duty::{DueRule, check_regime};
use crate::domain::period::PeriodId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::input::period as period_of;
use crate::graphql::input::text;
use crate::graphql::relay::{NodeKind, decode_id, global_id};
use crate::graphql::write::{Write, audit, snap};
use crate::state::State;

/// The period type of a regime.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RegimePeriodType {
    /// Each month (`202501`).
    Month,
    /// Each quarter (`2025Q1`).
    Quarter,
    /// Each half year (`2025S1`).
    Half,
    /// Each year (`2025`).
    Year,
}

/// When a regime's report is due in its period.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReportDueRule {
    /// On day `dueValue` (1–31) of the period's last month (its last day when shorter).
    DayOfLastMonth,
    /// `dueValue` days (0–60) after the period's data cut-off, the 14th of its last month
    /// (Decree 09/2019/NĐ-CP, Art. 12).
    DaysAfterCutoff,
}

/// Who reports under a regime.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RegimeReporters {
    /// Every holder, lead or coordinator.
    AllHolders,
    /// The lead agencies only.
    Leads,
}

/// A directive's reporting regime.
#[derive(Clone)]
pub struct ReportingRegime(pub reporting_regime::Model);

/// A directive's reporting regime (chế độ báo cáo): who reports each period, by when.
#[Object]
impl ReportingRegime {
    /// How often reports are owed.
    async fn period_type(&self) -> RegimePeriodType {
        match self.0.period_type {
            RegimePeriod::Month => RegimePeriodType::Month,
            RegimePeriod::Quarter => RegimePeriodType::Quarter,
            RegimePeriod::Half => RegimePeriodType::Half,
            RegimePeriod::Year => RegimePeriodType::Year,
        }
    }
    /// When in the period a report is due.
    async fn due_rule(&self) -> ReportDueRule {
        match self.0.due_rule {
            StoredRule::DayOfLastMonth => ReportDueRule::DayOfLastMonth,
            StoredRule::DaysAfterCutoff => ReportDueRule::DaysAfterCutoff,
        }
    }
    /// The day of the last month, or the days after the cut-off.
    async fn due_value(&self) -> i32 {
        self.0.due_value
    }
    /// Who reports.
    async fn reporters(&self) -> RegimeReporters {
        match self.0.reporters {
            Reporters::AllHolders => RegimeReporters::AllHolders,
            Reporters::Leads => RegimeReporters::Leads,
        }
    }
    /// The first period reports are owed for.
    async fn first_period(&self) -> &str {
        &self.0.first_period
    }
    /// The last one (null: until the directive's tasks are done).
    async fn last_period(&self) -> Option<&str> {
        self.0.last_period.as_deref()
    }
    /// The directive.
    async fn directive_id(&self) -> ID {
        global_id(NodeKind::Directive, self.0.directive_id)
    }
    /// When the regime was last set.
    async fn updated_at(&self) -> chrono::DateTime<Utc> {
        self.0.updated_at
    }
}

/// Input of `setReportingRegime`.
#[derive(InputObject)]
pub struct SetReportingRegimeInput {
    /// The directive.
    pub directive_id: ID,
    /// How often reports are owed.
    pub period_type: RegimePeriodType,
    /// When in the period a report is due.
    pub due_rule: ReportDueRule,
    /// The day of the last month (1–31) or the days after the cut-off (0–60).
    pub due_value: i32,
    /// Who reports.
    pub reporters: RegimeReporters,
    /// The first period owed, of `periodType` (e.g. `2025Q1`).
    pub first_period: String,
    /// The last period owed, of `periodType`; null: open-ended.
    pub last_period: Option<String>,
}

/// Result of `setReportingRegime`.
#[derive(SimpleObject)]
pub struct SetReportingRegimePayload {
    /// The regime as set.
    pub regime: ReportingRegime,
}

/// Input of `removeReportingRegime`.
#[derive(InputObject)]
pub struct RemoveReportingRegimeInput {
    /// The directive.
    pub directive_id: ID,
}

/// Result of `removeReportingRegime`.
#[derive(SimpleObject)]
pub struct RemoveReportingRegimePayload {
    /// Whether there was a regime to remove.
    pub removed: bool,
}

/// Input of `waiveReportingDuty`.
#[derive(InputObject)]
pub struct WaiveReportingDutyInput {
    /// The assignment owing the report (`ReportingDuty.assignment { id }`).
    pub assignment_id: ID,
    /// The duty's period (`ReportingDuty.period`).
    pub period: String,
    /// Why it is excused (kept in the audit log).
    pub reason: String,
}

/// Result of `waiveReportingDuty` and `revokeReportingWaiver`.
#[derive(SimpleObject)]
pub struct ReportingDutyPayload {
    /// The duty as it is now (as of today).
    pub duty: ReportingDuty,
}

/// Input of `revokeReportingWaiver`.
#[derive(InputObject)]
pub struct RevokeReportingWaiverInput {
    /// The assignment whose duty was waived.
    pub assignment_id: ID,
    /// The duty's period.
    pub period: String,
    /// Why the waiver is withdrawn.
    pub reason: String,
}

const REASON_MAX: usize = 2000;

#[derive(Default)]
pub struct DutyMutation;

#[Object]
impl DutyMutation {
    /// Sets (or replaces) a directive's reporting regime (admin): every holder, or every lead,
    /// of its tasks then owes a progress report each period from `firstPeriod`.
    async fn set_reporting_regime(
        &self,
        ctx: &Context<'_>,
        input: SetReportingRegimeInput,
    ) -> Result<SetReportingRegimePayload> {
        Ok(set_regime(ctx, input).await?)
    }

    /// Removes a directive's reporting regime (admin); its duties are no longer owed.
    async fn remove_reporting_regime(
        &self,
        ctx: &Context<'_>,
        input: RemoveReportingRegimeInput,
    ) -> Result<RemoveReportingRegimePayload> {
        Ok(remove_regime(ctx, input).await?)
    }

    /// Excuses one duty (admin, monitor), with a reason kept in the audit log: the duty reads
    /// WAIVED and counts neither as expected nor as overdue.
    async fn waive_reporting_duty(
        &self,
        ctx: &Context<'_>,
        input: WaiveReportingDutyInput,
    ) -> Result<ReportingDutyPayload> {
        Ok(waive(ctx, input).await?)
    }

    /// Sends the reporting reminders due as of `asOf` (default today) now, as the periodic
    /// sweep does (admin): one REPORT_DUE_SOON and one REPORT_OVERDUE event per duty, never twice.
    async fn send_reporting_reminders(
        &self,
        ctx: &Context<'_>,
        as_of: Option<crate::graphql::scalars::Date>,
    ) -> Result<super::reminders::ReminderSweep> {
        let caller = Caller::of(ctx);
        caller.principal.role.require(Permission::Administer)?;
        let state = State::of(ctx);
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(super::reminders::sweep(state, &state.duties, state.reminder_lookback_days, day).await?)
    }

    /// Withdraws a waiver (admin, monitor): the duty is owed again.
    async fn revoke_reporting_waiver(
        &self,
        ctx: &Context<'_>,
        input: RevokeReportingWaiverInput,
    ) -> Result<ReportingDutyPayload> {
        Ok(revoke(ctx, input).await?)
    }
}

async fn set_regime(
    ctx: &Context<'_>,
    input: SetReportingRegimeInput,
) -> ApiResult<SetReportingRegimePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let directive_id = decode_id(&input.directive_id, NodeKind::Directive, "input.directiveId")?;
    let period_type = match input.period_type {
        RegimePeriodType::Month => RegimePeriod::Month,
        RegimePeriodType::Quarter => RegimePeriod::Quarter,
        RegimePeriodType::Half => RegimePeriod::Half,
        RegimePeriodType::Year => RegimePeriod::Year,
    };
    let pt = super::twin::period_type_of_regime(period_type);
    let (due_rule, rule) = match input.due_rule {
        ReportDueRule::DayOfLastMonth => (
            StoredRule::DayOfLastMonth,
            // A negative day is out of range as 0 is.
            DueRule::DayOfLastMonth(u32::try_from(input.due_value).unwrap_or(0)),
        ),
        ReportDueRule::DaysAfterCutoff => (
            StoredRule::DaysAfterCutoff,
            DueRule::DaysAfterCutoff(u32::try_from(input.due_value).unwrap_or(u32::MAX)),
        ),
    };
    let spec = check_regime(
        pt,
        rule,
        &input.first_period,
        input.last_period.as_deref(),
        FIRST_YEAR..=LAST_YEAR,
    )
    .map_err(|r| ApiError::bad_input(format!("input.{}", r.field), r.message))?;
    let (first, last) = (spec.first, spec.last);
    let reporters = match input.reporters {
        RegimeReporters::AllHolders => Reporters::AllHolders,
        RegimeReporters::Leads => Reporters::Leads,
    };
    let w = Write::begin(ctx).await?;
    caller
        .scope
        .find_by_id::<directive::Entity>(directive_id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("văn bản"))?;
    let before = caller
        .scope
        .find::<reporting_regime::Entity>()
        .filter(reporting_regime::Column::DirectiveId.eq(directive_id))
        .one(&w.txn)
        .await?;
    let now = Utc::now();
    let mut am = match &before {
        Some(b) => b.clone().into_active_model(),
        None => reporting_regime::ActiveModel {
            directive_id: Set(directive_id),
            created_at: Set(now),
            ..Default::default()
        },
    };
    am.period_type = Set(period_type);
    am.due_rule = Set(due_rule);
    am.due_value = Set(input.due_value);
    am.reporters = Set(reporters);
    am.first_period = Set(first.to_string());
    am.last_period = Set(last.map(|l| l.to_string()));
    am.set_by = Set(caller.principal.subject.clone());
    am.updated_at = Set(now);
    let after = if before.is_some() {
        am.update(&w.txn).await?
    } else {
        am.insert(&w.txn).await?
    };
    audit(
        &w,
        ctx,
        "setReportingRegime",
        "reporting_regime",
        Some(after.id),
        before.as_ref().and_then(snap),
        snap(&after),
    )
    .await?;
    w.commit().await?;
    Ok(SetReportingRegimePayload {
        regime: ReportingRegime(after),
    })
}

async fn remove_regime(
    ctx: &Context<'_>,
    input: RemoveReportingRegimeInput,
) -> ApiResult<RemoveReportingRegimePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let directive_id = decode_id(&input.directive_id, NodeKind::Directive, "input.directiveId")?;
    let w = Write::begin(ctx).await?;
    let before = caller
        .scope
        .find::<reporting_regime::Entity>()
        .filter(reporting_regime::Column::DirectiveId.eq(directive_id))
        .lock_exclusive()
        .one(&w.txn)
        .await?;
    let Some(before) = before else {
        drop(w);
        return Ok(RemoveReportingRegimePayload { removed: false });
    };
    reporting_regime::Entity::delete_by_id(before.id)
        .exec(&w.txn)
        .await?;
    audit(
        &w,
        ctx,
        "removeReportingRegime",
        "reporting_regime",
        Some(before.id),
        snap(&before),
        None,
    )
    .await?;
    w.commit().await?;
    Ok(RemoveReportingRegimePayload { removed: true })
}

/// The duty of an assignment and period as of today, as the caller may see it.
async fn duty_now(
    ctx: &Context<'_>,
    assignment_id: i32,
    period: PeriodId,
) -> ApiResult<Option<ReportingDuty>> {
    let caller = Caller::of(ctx);
    let state = State::of(ctx);
    let day = today();
    let filter = DutyFilter {
        assignment_id: Some(assignment_id),
        period: Some(period),
        ..Default::default()
    };
    let p = state.duties.params(day);
    let rows = list(&state.reads, &caller.scope, &filter, &p, 100).await?;
    let wanted = period.to_string();
    Ok(rows
        .into_iter()
        .find(|r| r.period == wanted)
        .map(|r| ReportingDuty::new(r, day)))
}

fn no_duty(period: PeriodId) -> ApiError {
    ApiError::bad_input(
        "input.period",
        format!("Phân công này không có nghĩa vụ báo cáo kỳ {period} (tính đến hôm nay)"),
    )
}

async fn waive(ctx: &Context<'_>, input: WaiveReportingDutyInput) -> ApiResult<ReportingDutyPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::FollowUp)?;
    let assignment_id = decode_id(&input.assignment_id, NodeKind::Assignment, "input.assignmentId")?;
    let period = period_of("input.period", &input.period)?;
    let reason = text("input.reason", &input.reason, REASON_MAX)?;
    if duty_now(ctx, assignment_id, period).await?.is_none() {
        return Err(no_duty(period));
    }
    let w = Write::begin(ctx).await?;
    caller
        .scope
        .find_by_id::<assignment::Entity>(assignment_id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("phân công"))?;
    let existing = caller
        .scope
        .find::<reporting_waiver::Entity>()
        .filter(reporting_waiver::Column::AssignmentId.eq(assignment_id))
        .filter(reporting_waiver::Column::Period.eq(period.to_string()))
        .one(&w.txn)
        .await?;
    if existing.is_none() {
        let after = reporting_waiver::ActiveModel {
            assignment_id: Set(assignment_id),
            period: Set(period.to_string()),
            reason: Set(reason),
            waived_by: Set(caller.principal.subject.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&w.txn)
        .await?;
        audit(
            &w,
            ctx,
            "waiveReportingDuty",
            "reporting_waiver",
            Some(after.id),
            None,
            snap(&after),
        )
        .await?;
        w.commit().await?;
    } else {
        // Already waived: the same answer, no second entry.
        drop(w);
    }
    let duty = duty_now(ctx, assignment_id, period)
        .await?
        .ok_or_else(|| no_duty(period))?;
    Ok(ReportingDutyPayload { duty })
}

async fn revoke(ctx: &Context<'_>, input: RevokeReportingWaiverInput) -> ApiResult<ReportingDutyPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::FollowUp)?;
    let assignment_id = decode_id(&input.assignment_id, NodeKind::Assignment, "input.assignmentId")?;
    let period = period_of("input.period", &input.period)?;
    let reason = text("input.reason", &input.reason, REASON_MAX)?;
    let w = Write::begin(ctx).await?;
    let existing = caller
        .scope
        .find::<reporting_waiver::Entity>()
        .filter(reporting_waiver::Column::AssignmentId.eq(assignment_id))
        .filter(reporting_waiver::Column::Period.eq(period.to_string()))
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("miễn báo cáo của kỳ này"))?;
    reporting_waiver::Entity::delete_by_id(existing.id)
        .exec(&w.txn)
        .await?;
    audit(
        &w,
        ctx,
        "revokeReportingWaiver",
        "reporting_waiver",
        Some(existing.id),
        snap(&existing),
        Some(serde_json::json!({ "revoked": true, "reason": reason }).to_string()),
    )
    .await?;
    w.commit().await?;
    let duty = duty_now(ctx, assignment_id, period)
        .await?
        .ok_or_else(|| no_duty(period))?;
    Ok(ReportingDutyPayload { duty })
}
