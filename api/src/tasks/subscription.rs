//! `taskEvents`: committed changes to the tasks a subscriber may see, over `/graphql/ws`
//! (`http::ws` holds the socket; `events.rs` says where events come from). Each event's task
//! and report are read again with the subscriber's scope before anything is sent, so a
//! subscriber sees what `task(id)` would show it then, and nothing about rows it may not see.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, Subscription};
use axum::http::HeaderMap;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Task, TaskLoaders};
use crate::agencies::AgencyLoaders;
use crate::auth::caller::authenticate;
use crate::auth::{Caller, Permission, Scope};
use crate::directives::DirectiveLoaders;
use crate::error::ApiError;
use crate::events::{Event, EventKind, Notice};
use crate::graphql::loaders::{Env, load_err};
use crate::graphql::relay::{NodeKind, decode_id};
use crate::reports::{ProgressReport, ReportLoaders};
use crate::state::State;

/// Subscriptions running on one socket at most.
pub const MAX_PER_SOCKET: usize = 20;

/// The estimated cost of one event of a subscription (its document's, checked by the socket),
/// admitted against `State::in_flight` while the event's fields are resolved.
#[derive(Debug, Clone, Copy)]
pub struct EventCost(pub u64);

/// The subscription root.
#[derive(Default)]
pub struct TaskSubscription;

/// The root of every subscription (over `/graphql/ws`, graphql-transport-ws).
#[Subscription(name = "Subscription")]
impl TaskSubscription {
    /// Changes to the tasks the caller may see, as they are committed: a task created, edited
    /// or given a new deadline, a progress report on it submitted or reviewed. The event
    /// carries the task as it is when the event is sent. A subscriber that falls more than
    /// 1,024 events behind gets an EVENTS_MISSED error and the subscription ends: read the
    /// tasks again and subscribe anew.
    async fn task_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskEventFilter>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<TaskEvent>> + use<>> {
        let caller = Caller::of(ctx);
        caller.scope.require(Permission::ReadRows)?;
        let socket = ctx.data_opt::<Socket>();
        if socket.is_some_and(|s| s.expires <= tokio::time::Instant::now()) {
            return Err(expired().into());
        }
        let filter = filter.unwrap_or_default().parse()?;
        let slot = match socket {
            Some(s) => Some(Slot::take(&s.open)?),
            None => None,
        };
        let state = ctx.data_unchecked::<Arc<State>>().clone();
        let feed = Feed {
            rx: state.events.subscribe(),
            state,
            scope: caller.scope.clone(),
            filter,
            expires: socket.map(|s| s.expires),
            auth: socket.map(|s| s.auth.clone()),
            checked: tokio::time::Instant::now(),
            _slot: slot,
            cost: ctx.data_opt::<EventCost>().map_or(1, |c| c.0),
            budget: ctx.data_opt::<Arc<crate::graphql::loaders::Budget>>().cloned(),
            done: false,
        };
        Ok(futures::stream::unfold(feed, Feed::next))
    }
}

/// Which events `taskEvents` sends.
#[derive(InputObject, Default)]
pub struct TaskEventFilter {
    /// Only tasks of this directive.
    pub directive_id: Option<ID>,
    /// Only tasks this agency holds an assignment on (lead or coordinator), or the directive
    /// named it for.
    pub agency_id: Option<ID>,
    /// Only these kinds of event (default: all).
    pub kinds: Option<Vec<EventKind>>,
}

struct Filter {
    directive_id: Option<i32>,
    agency_id: Option<i32>,
    kinds: Option<Vec<EventKind>>,
}

impl TaskEventFilter {
    fn parse(self) -> Result<Filter, ApiError> {
        Ok(Filter {
            directive_id: self
                .directive_id
                .map(|id| decode_id(&id, NodeKind::Directive, "filter.directiveId"))
                .transpose()?,
            agency_id: self
                .agency_id
                .map(|id| decode_id(&id, NodeKind::Agency, "filter.agencyId"))
                .transpose()?,
            kinds: match self.kinds {
                Some(k) if k.is_empty() => {
                    return Err(ApiError::bad_input(
                        "filter.kinds",
                        "`kinds` rỗng thì không sự kiện nào khớp; bỏ trường này để nhận mọi loại",
                    ));
                }
                k => k,
            },
        })
    }
}

/// One committed change to a task.
pub struct TaskEvent {
    kind: EventKind,
    at: chrono::DateTime<chrono::Utc>,
    task: Task,
    report: Option<ProgressReport>,
    duty: Option<crate::duties::ReportingDuty>,
    /// Its share of the cost running at once, given back when the event has been resolved
    /// (async-graphql drops the event then).
    _admitted: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// One committed change to a task the subscriber may see.
#[Object]
impl TaskEvent {
    /// What happened.
    async fn kind(&self) -> EventKind {
        self.kind
    }
    /// When the change was made (the writing instance's clock, just before it committed).
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.at
    }
    /// The task, as it is now.
    async fn task(&self) -> &Task {
        &self.task
    }
    /// For REPORT_SUBMITTED and REPORT_REVIEWED: the report, as it is now.
    async fn report(&self) -> Option<&ProgressReport> {
        self.report.as_ref()
    }
    /// For REPORT_DUE_SOON and REPORT_OVERDUE: the duty, as it is now (as of today).
    async fn duty(&self) -> Option<&crate::duties::ReportingDuty> {
        self.duty.as_ref()
    }
}

/// What a socket's `connection_init` established, for its subscriptions (`http::ws` puts it
/// in the socket's data).
pub struct Socket {
    /// When the token expires.
    pub expires: tokio::time::Instant,
    /// The `Authorization` (and `x-request-id`) the socket was opened with, to check again.
    pub auth: HeaderMap,
    /// Subscriptions running on the socket.
    pub open: Arc<std::sync::atomic::AtomicUsize>,
}

/// One of a socket's [`MAX_PER_SOCKET`] subscriptions, given back when the feed ends.
struct Slot(Arc<std::sync::atomic::AtomicUsize>);

impl Slot {
    fn take(open: &Arc<std::sync::atomic::AtomicUsize>) -> Result<Slot, ApiError> {
        use std::sync::atomic::Ordering;
        if open.fetch_add(1, Ordering::AcqRel) >= MAX_PER_SOCKET {
            open.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::BadUserInput {
                message: format!(
                    "Mỗi kết nối chạy tối đa {MAX_PER_SOCKET} subscription; hãy dừng bớt hoặc mở kết nối khác"
                ),
                field: None,
            });
        }
        Ok(Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The events of one subscription, filtered and read again with the subscriber's scope.
struct Feed {
    rx: tokio::sync::broadcast::Receiver<Notice>,
    state: Arc<State>,
    scope: Scope,
    filter: Filter,
    expires: Option<tokio::time::Instant>,
    /// The socket's credentials, checked again every `CHIDAO_WS_RECHECK_SECS`.
    auth: Option<HeaderMap>,
    checked: tokio::time::Instant,
    _slot: Option<Slot>,
    /// The node budget of the socket's loaders, which resolve each event's fields: each event
    /// starts it again.
    budget: Option<Arc<crate::graphql::loaders::Budget>>,
    /// What each event is admitted at.
    cost: u64,
    done: bool,
}

impl Feed {
    async fn next(mut self) -> Option<(async_graphql::Result<TaskEvent>, Feed)> {
        if self.done {
            return None;
        }
        loop {
            let received = match self.expires {
                Some(at) => tokio::select! {
                    r = self.rx.recv() => r,
                    () = tokio::time::sleep_until(at) => {
                        self.done = true;
                        return Some((Err(expired().into()), self));
                    }
                },
                None => self.rx.recv().await,
            };
            let event = match received {
                Ok(Notice::Event(event)) => event,
                Ok(Notice::Missed) | Err(RecvError::Lagged(_)) => {
                    self.done = true;
                    let e = async_graphql::Error::new(
                        "Có thể đã bỏ lỡ sự kiện; hãy đọc lại nhiệm vụ rồi đăng ký lại",
                    )
                    .extend_with(|_, x| x.set("code", "EVENTS_MISSED"));
                    return Some((Err(e), self));
                }
                Err(RecvError::Closed) => return None,
            };
            let checked = match self.recheck().await {
                Ok(()) => self.visible(&event).await,
                Err(e) => Err(e),
            };
            match checked {
                Ok(Some(mut e)) => {
                    if let Some(b) = &self.budget {
                        b.reset();
                    }
                    e._admitted = self.state.in_flight.admit(self.cost).await;
                    return Some((Ok(e), self));
                }
                Ok(None) => continue,
                Err(e) => {
                    self.done = true;
                    return Some((Err(e.into()), self));
                }
            }
        }
    }

    /// Checks the socket's token again when `CHIDAO_WS_RECHECK_SECS` have passed: a token refused now
    /// (its agency merged away) or whose rows changed (a successor's new rows) ends the
    /// subscription; the client reconnects.
    async fn recheck(&mut self) -> Result<(), ApiError> {
        let Some(auth) = &self.auth else {
            return Ok(());
        };
        if self.checked.elapsed() < self.state.socket_recheck {
            return Ok(());
        }
        let now = authenticate(&self.state.verifier, self.state.directory().fresh_if(true), auth).await?;
        if now.scope != self.scope {
            return Err(ApiError::Unauthenticated(
                "Phạm vi của token đã thay đổi (sáp nhập cơ quan); hãy kết nối lại".into(),
            ));
        }
        self.checked = tokio::time::Instant::now();
        Ok(())
    }

    /// The event as this subscriber may see it, or `None` when it may not see the task (or
    /// the report) or the filter leaves it out.
    async fn visible(&self, event: &Event) -> Result<Option<TaskEvent>, ApiError> {
        let f = &self.filter;
        if f.kinds.as_ref().is_some_and(|k| !k.contains(&event.kind)) {
            return Ok(None);
        }
        let Some(seen) = seen_by(&self.state, &self.scope, event).await? else {
            return Ok(None);
        };
        if f.directive_id.is_some_and(|d| d != seen.task.directive_id) {
            return Ok(None);
        }
        if let Some(agency) = f.agency_id
            && !seen
                .holders
                .iter()
                .any(|a| a.agency_id == agency || a.original_agency_id == agency)
        {
            return Ok(None);
        }
        let day = crate::clock::today();
        Ok(Some(TaskEvent {
            kind: event.kind,
            at: event.at,
            task: Task::new(seen.task, None),
            report: seen.report.map(ProgressReport::new),
            duty: seen.duty.map(|r| crate::duties::ReportingDuty::new(r, day)),
            _admitted: None,
        }))
    }
}

/// An event as one scope sees it: the rows it names, read again with that scope.
pub struct SeenEvent {
    pub task: entity::task::Model,
    /// The task's assignments the scope sees.
    pub holders: Arc<Vec<entity::assignment::Model>>,
    pub report: Option<entity::progress_report::Model>,
    pub duty: Option<crate::duties::DutyRow>,
}

/// The rows an event names as `scope` sees them now, or `None` when it may not see the task,
/// the report, or (for a reminder) the duty: a reminder reaches only the duty's holder (not
/// the task's other agencies) and the province-wide roles. Subscriptions and webhooks both
/// decide what a receiver hears here.
pub async fn seen_by(state: &State, scope: &Scope, event: &Event) -> Result<Option<SeenEvent>, ApiError> {
    // Fresh loaders: nothing read for an earlier event is reused.
    let env = Env {
        reads: state.reads.clone(),
        scope: scope.clone(),
        delay: state.loader_delay,
        prime: false,
        budget: crate::graphql::loaders::Budget::new(u64::MAX),
        lean: None,
    };
    let (agencies, directives) = (AgencyLoaders::new(&env), DirectiveLoaders::new(&env));
    let tasks = TaskLoaders::new(&env, &agencies, &directives);
    let reports = ReportLoaders::new(&env);
    let load = load_err;
    let Some(task) = tasks.task.load_one(event.task_id).await.map_err(load)? else {
        return Ok(None);
    };
    let holders = tasks
        .assignments_of_task
        .load_one(task.id)
        .await
        .map_err(load)?
        .unwrap_or_default();
    let report = match event.report_id {
        Some(id) => match reports.report.load_one(id).await.map_err(load)? {
            Some(r) => Some(r),
            None => return Ok(None),
        },
        None => None,
    };
    let duty = match &event.duty {
        Some(d) => {
            let Ok(period) = d.period.parse() else {
                return Ok(None);
            };
            let filter = crate::duties::sql::DutyFilter {
                assignment_id: Some(d.assignment_id),
                period: Some(period),
                ..Default::default()
            };
            let p = state.duties.params(crate::clock::today());
            let rows = crate::duties::list(&state.reads, scope, &filter, &p, 100).await?;
            match rows.into_iter().find(|r| r.period == d.period) {
                Some(r) => Some(r),
                None => return Ok(None),
            }
        }
        None => None,
    };
    Ok(Some(SeenEvent {
        task,
        holders,
        report,
        duty,
    }))
}

pub fn expired() -> ApiError {
    ApiError::Unauthenticated("Token đã hết hạn; hãy kết nối lại với token mới".into())
}
