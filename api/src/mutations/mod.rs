//! The write side. Every mutation takes one `input`, returns one payload, runs in one
//! transaction, and writes an audit-log entry (who, when, what, before → after) in that
//! same transaction: either all of it lands or none of it does.

mod agencies;
mod indicators;
mod reports;
mod tasks;

use async_graphql::{Context, Object, Result};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, Set, TransactionTrait};
use serde::Serialize;

use crate::auth::Role;
use crate::context::{Caller, State};
use crate::error::{ApiError, ApiResult};

pub use agencies::{MergeAgenciesInput, MergeAgenciesPayload};
pub use indicators::{RecordIndicatorValueInput, RecordIndicatorValuePayload};
pub use reports::{
    ReviewDecision, ReviewProgressReportInput, ReviewProgressReportPayload, SubmitProgressReportInput,
    SubmitProgressReportPayload, UpdateProgressReportInput, UpdateProgressReportPayload,
};
pub use tasks::{
    CreateDirectiveInput, CreateDirectivePayload, CreateTaskInput, CreateTaskPayload,
    ExtendTaskDeadlineInput, ExtendTaskDeadlinePayload, UpdateTaskInput, UpdateTaskPayload,
};

/// The root of every change.
pub struct Mutation;

/// Changes (mutations). Each takes one `input` and returns a payload; each runs in one
/// transaction with an audit-log entry.
#[Object]
impl Mutation {
    /// An agency posts a progress report (báo cáo tiến độ) on one of its own assignments,
    /// as a draft or submitted. A retried post with the same `idempotencyKey` returns the
    /// first report instead of creating another.
    async fn submit_progress_report(
        &self,
        ctx: &Context<'_>,
        input: SubmitProgressReportInput,
    ) -> Result<SubmitProgressReportPayload> {
        Ok(reports::submit(ctx, input).await?)
    }

    /// An agency edits its own draft (or a returned report), stating the `version` it read:
    /// a stale version is a CONFLICT, so two editors never overwrite each other silently.
    async fn update_progress_report(
        &self,
        ctx: &Context<'_>,
        input: UpdateProgressReportInput,
    ) -> Result<UpdateProgressReportPayload> {
        Ok(reports::update(ctx, input).await?)
    }

    /// The monitoring office accepts or returns a submitted report. Accepting a lead's
    /// report marked done completes the assignment, and the task once all its leads are done.
    async fn review_progress_report(
        &self,
        ctx: &Context<'_>,
        input: ReviewProgressReportInput,
    ) -> Result<ReviewProgressReportPayload> {
        Ok(reports::review(ctx, input).await?)
    }

    /// Grants a task a later due date (gia hạn). The original due date and every extension
    /// are kept; status follows the new date.
    async fn extend_task_deadline(
        &self,
        ctx: &Context<'_>,
        input: ExtendTaskDeadlineInput,
    ) -> Result<ExtendTaskDeadlinePayload> {
        Ok(tasks::extend(ctx, input).await?)
    }

    /// Registers a directing document (admin).
    async fn create_directive(
        &self,
        ctx: &Context<'_>,
        input: CreateDirectiveInput,
    ) -> Result<CreateDirectivePayload> {
        Ok(tasks::create_directive(ctx, input).await?)
    }

    /// Adds a task to a directive with its lead and coordinating agencies (admin).
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<CreateTaskPayload> {
        Ok(tasks::create_task(ctx, input).await?)
    }

    /// Changes a task's text, deadline or assignments (admin). An assignment that already
    /// has reports cannot be removed.
    async fn update_task(&self, ctx: &Context<'_>, input: UpdateTaskInput) -> Result<UpdateTaskPayload> {
        Ok(tasks::update_task(ctx, input).await?)
    }

    /// Records an indicator's value for a calendar period (monitor, admin, or the agency
    /// responsible for the indicator).
    async fn record_indicator_value(
        &self,
        ctx: &Context<'_>,
        input: RecordIndicatorValueInput,
    ) -> Result<RecordIndicatorValuePayload> {
        Ok(indicators::record(ctx, input).await?)
    }

    /// Merges agencies (admin), as in the 2025 reorganisation: the dissolved agencies end
    /// the day before `effectiveOn`, their open assignments move to the successor, and the
    /// history keeps the original assignee.
    async fn merge_agencies(
        &self,
        ctx: &Context<'_>,
        input: MergeAgenciesInput,
    ) -> Result<MergeAgenciesPayload> {
        Ok(agencies::merge(ctx, input).await?)
    }
}

/// Refuses callers whose role is not in `roles`.
pub(crate) fn require(ctx: &Context<'_>, roles: &[Role], what: &str) -> ApiResult<()> {
    let role = Caller::of(ctx).principal.role;
    if roles.contains(&role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Vai trò {} không được {what}",
            role.as_str()
        )))
    }
}

/// A cap on retrying a mutation's BEGIN on broken connections. Each failed try retires one
/// dead connection, so the cap only matters for a pool larger than this whose every
/// connection died at once; the request then fails (INTERNAL) instead of looping.
const MAX_BEGIN_RETRIES: usize = 64;

/// A write transaction. On SQLite the service-wide write lock is held for its whole life,
/// so concurrent mutations queue instead of failing with "database is locked".
pub(crate) struct Write<'a> {
    pub txn: DatabaseTransaction,
    _lock: Option<tokio::sync::MutexGuard<'a, ()>>,
    changes: &'a crate::changes::Changes,
    events: &'a crate::events::Events,
    /// Events of this transaction, sent to subscribers once it has committed.
    pending: std::sync::Mutex<Vec<crate::events::Event>>,
}

impl Write<'_> {
    pub async fn begin<'a>(ctx: &Context<'a>) -> ApiResult<Write<'a>> {
        let state = State::of(ctx);
        let lock = match &state.write_lock {
            Some(m) => Some(m.lock().await),
            None => None,
        };
        // BEGIN on a connection the server has ended fails before anything is written, so
        // it is safe to try again; sqlx closes the dead connection when it comes back, and
        // the pool opens a new one after at most as many tries as it holds connections.
        let mut tries = 0;
        let txn = loop {
            match state.db.begin().await {
                Err(e) if crate::reads::connection_broken(&e) && tries < MAX_BEGIN_RETRIES => {
                    tries += 1;
                    tracing::warn!(error = %e, "BEGIN on a broken connection; trying another");
                }
                other => break other?,
            }
        };
        Ok(Write {
            txn,
            _lock: lock,
            changes: &state.changes,
            events: &state.events,
            pending: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Records an event for subscribers (`events.rs`), sent only if the transaction commits.
    /// On PostgreSQL it is also notified inside the transaction, which PostgreSQL delivers
    /// to the other instances at commit (and drops on rollback).
    pub async fn publish(
        &self,
        kind: crate::events::EventKind,
        task_id: i32,
        report_id: Option<i32>,
    ) -> ApiResult<()> {
        let event = self.events.event(kind, task_id, report_id);
        if self.txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            let payload = serde_json::to_string(&event).map_err(|e| ApiError::Internal(e.into()))?;
            self.txn
                .execute_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [crate::events::CHANNEL.into(), payload.into()],
                ))
                .await?;
        }
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event);
        Ok(())
    }

    /// Commits, and drops this instance's kept answers at once (other instances drop
    /// theirs when PostgreSQL's notification of the commit reaches them).
    /// A COMMIT that fails may still have been applied (the connection broke after the
    /// server committed), so the kept answers are dropped whatever the outcome.
    pub async fn commit(self) -> ApiResult<()> {
        let committed = self.txn.commit().await;
        self.changes.bump();
        committed?;
        let pending = self
            .pending
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in pending {
            self.events.send(event);
        }
        Ok(())
    }
}

/// Appends an audit-log entry inside the mutation's transaction.
pub(crate) async fn audit(
    w: &Write<'_>,
    ctx: &Context<'_>,
    action: &str,
    entity: &str,
    entity_id: Option<i32>,
    before: Option<String>,
    after: Option<String>,
) -> ApiResult<()> {
    let caller = Caller::of(ctx);
    entity::audit_log::ActiveModel {
        at: Set(chrono::Utc::now()),
        actor: Set(caller.principal.subject.clone()),
        actor_role: Set(caller.principal.role.as_str().to_owned()),
        actor_agency_id: Set(caller.principal.agency_id),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id.map(|i| i.to_string())),
        before: Set(before),
        after: Set(after),
        request_id: Set(caller.request_id.clone()),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    Ok(())
}

/// A row as JSON text for the audit log.
pub(crate) fn snap(row: &impl Serialize) -> Option<String> {
    serde_json::to_string(row).ok()
}

/// Checks a text input: trimmed, non-empty when required, at most `max` characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let t = value.trim();
    if t.is_empty() {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` không được để trống"),
        ));
    }
    if t.chars().count() > max {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` dài tối đa {max} ký tự"),
        ));
    }
    Ok(t.to_owned())
}

/// Like [`text`] for an optional input; blank becomes `None`.
pub(crate) fn opt_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => text(field, t, max).map(Some),
        None => Ok(None),
    }
}
