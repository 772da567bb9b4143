//! The write helper every mutation runs in: one transaction (on SQLite under the service's
//! write lock), an audit-log entry for each change (who, when, what, before → after) in that
//! same transaction, and events sent to subscribers only once it has committed. Either all of
//! it lands or none of it does.

use async_graphql::Context;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, Set, TransactionTrait};
use serde::Serialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::State;

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
    sizes: &'a crate::db::sizes::ListSizes,
    /// Events of this transaction, sent to subscribers once it has committed.
    pending: std::sync::Mutex<Vec<crate::events::Event>>,
    /// Webhook deliveries this transaction wrote (the workers are woken after COMMIT).
    outboxed: std::sync::atomic::AtomicU64,
    /// With a read replica: the primary and the token subject whose next reads must see
    /// this commit (`db::replica`).
    read_your_writes: Option<(
        &'a crate::db::replica::Replica,
        &'a sea_orm::DatabaseConnection,
        String,
    )>,
}

impl Write<'_> {
    pub async fn begin<'a>(ctx: &Context<'a>) -> ApiResult<Write<'a>> {
        let state = State::of(ctx);
        let mut w = Self::begin_on(state).await?;
        if let Some(replica) = &state.replica {
            let subject = Caller::of(ctx).principal.subject.clone();
            w.read_your_writes = Some((replica, &state.db, subject));
        }
        Ok(w)
    }

    /// A write outside a request (background work such as the duty reminders).
    pub async fn begin_on(state: &State) -> ApiResult<Write<'_>> {
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
                Err(e) if crate::db::reads::connection_broken(&e) && tries < MAX_BEGIN_RETRIES => {
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
            sizes: &state.sizes,
            pending: std::sync::Mutex::new(Vec::new()),
            outboxed: std::sync::atomic::AtomicU64::new(0),
            read_your_writes: None,
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
        self.publish_event(self.events.event(kind, task_id, report_id))
            .await
    }

    /// Records a reminder about a reporting duty, sent only if the transaction commits.
    pub async fn publish_duty(
        &self,
        kind: crate::events::EventKind,
        task_id: i32,
        duty: crate::events::DutyRef,
    ) -> ApiResult<()> {
        let mut event = self.events.event(kind, task_id, None);
        event.duty = Some(duty);
        self.publish_event(event).await
    }

    /// Records a change that is not about one task (a directive created, an indicator value
    /// recorded, an agency reorganised) for the webhook endpoints that asked for it, in this
    /// transaction. Subscriptions follow tasks and do not hear of it.
    pub async fn publish_other(&self, event: crate::events::OtherEvent) -> ApiResult<()> {
        let n = crate::graphql::outbox::enqueue_other(&self.txn, &event).await?;
        self.outboxed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    async fn publish_event(&self, event: crate::events::Event) -> ApiResult<()> {
        // The webhook outbox, in this transaction: committed with the change or not at all.
        let n = crate::graphql::outbox::enqueue(&self.txn, &event).await?;
        self.outboxed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
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
        self.sizes.touch();
        committed?;
        if let Some((replica, primary, subject)) = &self.read_your_writes {
            // The primary's position now is at or past this commit's.
            match crate::db::replica::primary_position(*primary).await {
                Ok(Some(lsn)) => replica.wrote(subject, lsn),
                other => tracing::warn!(
                    ?other,
                    "no WAL position after a commit: the caller's next reads may not see it"
                ),
            }
        }
        let pending = self
            .pending
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in pending {
            self.events.send(event);
        }
        if self.outboxed.into_inner() > 0 {
            self.events.wake_outbox();
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
