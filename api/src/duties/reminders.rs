//! Reminders as events: a `REPORT_DUE_SOON` and a `REPORT_OVERDUE` event per duty, once each,
//! delivered to the `taskEvents` subscribers who may see the duty, so the portal and the
//! agencies' own systems can remind people.
//!
//! A sweep (every `CHIDAO_REMINDER_INTERVAL_SECS`, or `sendReportingReminders`) takes the duties
//! that are DUE_SOON or OVERDUE today, fell due at most `CHIDAO_REMINDER_LOOKBACK_DAYS` ago (so
//! turning reminders on does not remind of years of history) and have no reminder of that kind
//! yet. Each gets a `duty_reminders` row and its event in one transaction: the row's primary key
//! makes "once" hold across instances (the instance whose insert lands sends the event), and a
//! rollback sends nothing.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query};

use super::sql::{DutyFilter, duties};
use super::{DutyRow, DutySettings};
use crate::auth::{Role, Scope};
use crate::domain::duty::DutyState;
use crate::error::ApiResult;
use crate::events::{DutyRef, EventKind};
use crate::graphql::write::Write;
use crate::state::State;

/// Most reminders one sweep sends (the next sweep takes the rest).
pub const MAX_PER_SWEEP: u64 = 500;

/// What a sweep sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct ReminderSweep {
    /// REPORT_DUE_SOON events sent.
    pub due_soon: i32,
    /// REPORT_OVERDUE events sent.
    pub overdue: i32,
    /// Whether more reminders were due than one sweep sends.
    pub more: bool,
}

/// Sends the reminders due on `day`.
pub async fn sweep(
    state: &State,
    settings: &DutySettings,
    lookback_days: u32,
    day: NaiveDate,
) -> ApiResult<ReminderSweep> {
    let scope = Scope::for_role(Role::Admin, None);
    let filter = DutyFilter {
        states: Some(vec![DutyState::DueSoon, DutyState::Overdue]),
        ..Default::default()
    };
    let p = settings.params(day);
    let inner = duties(state.reads.get_database_backend(), &scope, &filter, &p, false);
    let d = |c: &str| Expr::col((Alias::new("d"), Alias::new(c)));
    let sent = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new("duty_reminders"))
        .and_where(
            Expr::col((Alias::new("duty_reminders"), Alias::new("assignment_id")))
                .equals((Alias::new("d"), Alias::new("assignment_id"))),
        )
        .and_where(
            Expr::col((Alias::new("duty_reminders"), Alias::new("period")))
                .equals((Alias::new("d"), Alias::new("period"))),
        )
        .and_where(
            Expr::col((Alias::new("duty_reminders"), Alias::new("kind")))
                .equals((Alias::new("d"), Alias::new("state"))),
        )
        .to_owned();
    let mut q = Query::select();
    q.expr(Expr::col(sea_orm::sea_query::Asterisk))
        .from_subquery(inner, Alias::new("d"))
        .and_where(d("due_on").gte(day - chrono::Duration::days(i64::from(lookback_days))))
        .and_where(Expr::exists(sent).not())
        .order_by_expr(d("due_on"), Order::Asc)
        .order_by_expr(d("assignment_id"), Order::Asc)
        .limit(MAX_PER_SWEEP + 1);
    let rows = state
        .reads
        .query_all(&q)
        .await?
        .iter()
        .map(|r| DutyRow::from_row(r, false))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut out = ReminderSweep {
        more: rows.len() as u64 > MAX_PER_SWEEP,
        ..Default::default()
    };
    if rows.is_empty() {
        return Ok(out);
    }
    let w = Write::begin_on(state).await?;
    let now = Utc::now();
    for r in rows.iter().take(MAX_PER_SWEEP as usize) {
        let kind = r.state.as_str();
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("duty_reminders"))
            .columns(["assignment_id", "period", "kind", "sent_at"].map(Alias::new))
            .values_panic([
                r.assignment_id.into(),
                r.period.clone().into(),
                kind.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::columns(["assignment_id", "period", "kind"].map(Alias::new))
                    .do_nothing()
                    .to_owned(),
            );
        let landed = w.txn.execute(&insert).await?.rows_affected() == 1;
        if !landed {
            continue;
        }
        let (event, counter) = match r.state {
            DutyState::DueSoon => (EventKind::ReportDueSoon, &mut out.due_soon),
            _ => (EventKind::ReportOverdue, &mut out.overdue),
        };
        *counter += 1;
        w.publish_duty(
            event,
            r.task_id,
            DutyRef {
                assignment_id: r.assignment_id,
                period: r.period.clone(),
            },
        )
        .await?;
    }
    w.commit().await?;
    Ok(out)
}

/// Runs a sweep every `every` (for as long as the process runs), as of today in Vietnam.
pub fn start(state: Arc<State>, every: std::time::Duration, lookback_days: u32) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        // The first sweep one interval after start: a starting instance is busy enough.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let settings = state.duties;
            match sweep(&state, &settings, lookback_days, crate::clock::today()).await {
                Ok(s) if s.due_soon + s.overdue > 0 => {
                    tracing::info!(
                        due_soon = s.due_soon,
                        overdue = s.overdue,
                        more = s.more,
                        "reporting reminders sent"
                    )
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = ?e, "reporting reminders: sweep failed; trying again next time")
                }
            }
        }
    });
}
