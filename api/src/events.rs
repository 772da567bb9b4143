//! What happened to tasks, for subscriptions (`taskEvents` over `/graphql/ws`).
//!
//! A mutation records an [`Event`] in its transaction ([`crate::graphql::write::Write::publish`]);
//! the event is sent only once the transaction has committed, so a subscriber never hears of a
//! change that was rolled back.
//! * Subscribers of this instance get it from an in-process broadcast at once.
//! * On PostgreSQL the event is also sent with `pg_notify` inside the transaction, which
//!   PostgreSQL delivers at commit to every listening connection: other chidao instances
//!   receive it through their change listener (`changes.rs`) and pass it to their own
//!   subscribers. An instance skips the notifications of its own events (it sent those
//!   already), recognising them by the random `origin` it stamps on them.
//!
//! A COMMIT that fails but may have been applied (the connection broke after the server
//! committed) sends nothing to this instance's subscribers, while PostgreSQL may still deliver
//! the notification to the other instances.
//!
//! An event names the task (and the report) only. Each subscriber loads the rows again with
//! its own scope before anything is sent, so what it receives is what `task(id)` would show
//! it at that moment, and an event about rows it may not see is not sent to it at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The PostgreSQL channel events are notified on (the change listener `LISTEN`s to it).
pub const CHANNEL: &str = "chidao_event";

/// How many events a slow subscriber may fall behind before it is told it missed some.
const BACKLOG: usize = 1024;

/// What happened.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "TaskEventKind")]
pub enum EventKind {
    /// A task was created (`createTask`).
    TaskCreated,
    /// A task's text, deadline or assignments were edited (`updateTask`).
    TaskUpdated,
    /// A task's deadline was extended (`extendTaskDeadline`).
    DeadlineExtended,
    /// A progress report on the task was submitted (`submitProgressReport`, or a draft sent
    /// with `updateProgressReport`).
    ReportSubmitted,
    /// A progress report on the task was accepted or returned (`reviewProgressReport`).
    ReportReviewed,
    /// The task's assignments moved to other agencies (`reassignAssignments`, `mergeAgencies`).
    AssignmentsReassigned,
    /// One of the task's milestones was recorded as reached, or the record undone
    /// (`completeMilestone`).
    MilestoneRecorded,
    /// A reporting duty on the task falls due within `CHIDAO_DUE_SOON_DAYS` and is not met
    /// yet (sent once per duty; the event's `duty` says which). Only subscribers who may see
    /// the duty (its holder, and the province-wide roles) receive it.
    ReportDueSoon,
    /// A reporting duty on the task is past due and not met (sent once per duty).
    ReportOverdue,
}

/// What a webhook endpoint may ask for: every task event above, and the changes that are
/// not about one task (heard by webhooks only; subscriptions follow tasks).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WebhookEventKind {
    /// A task was created.
    TaskCreated,
    /// A task's text, deadline or assignments were edited.
    TaskUpdated,
    /// A task's deadline was extended.
    DeadlineExtended,
    /// A progress report on a task was submitted.
    ReportSubmitted,
    /// A progress report on a task was accepted or returned.
    ReportReviewed,
    /// A task's assignments moved to other agencies.
    AssignmentsReassigned,
    /// A milestone of a task was recorded as reached, or the record undone.
    MilestoneRecorded,
    /// A reporting duty falls due soon and is not met yet.
    ReportDueSoon,
    /// A reporting duty is past due and not met.
    ReportOverdue,
    /// A directive was created (`createDirective`). An agency endpoint hears of it only
    /// once the directive gives the agency a task, as a token of the agency would see it.
    DirectiveCreated,
    /// An indicator's value was recorded (`recordIndicatorValue`). An agency endpoint hears
    /// of the indicators it is responsible for.
    IndicatorValueRecorded,
    /// An agency ended and others took over its work (`mergeAgencies`, or
    /// `reassignAssignments` with `endSource`): one event per ended agency.
    AgencyReorganised,
}

impl From<EventKind> for WebhookEventKind {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::TaskCreated => Self::TaskCreated,
            EventKind::TaskUpdated => Self::TaskUpdated,
            EventKind::DeadlineExtended => Self::DeadlineExtended,
            EventKind::ReportSubmitted => Self::ReportSubmitted,
            EventKind::ReportReviewed => Self::ReportReviewed,
            EventKind::AssignmentsReassigned => Self::AssignmentsReassigned,
            EventKind::MilestoneRecorded => Self::MilestoneRecorded,
            EventKind::ReportDueSoon => Self::ReportDueSoon,
            EventKind::ReportOverdue => Self::ReportOverdue,
        }
    }
}

impl WebhookEventKind {
    /// Whether the kind is about a task (a role that sees no task hears none of them).
    pub fn is_task_event(self) -> bool {
        !matches!(
            self,
            Self::DirectiveCreated | Self::IndicatorValueRecorded | Self::AgencyReorganised
        )
    }

    /// The stored name (`REPORT_SUBMITTED`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A committed change that is not about one task, for the webhook outbox only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OtherEvent {
    /// A new directive.
    DirectiveCreated { directive_id: i32 },
    /// A new value of an indicator, for a period.
    IndicatorValueRecorded {
        indicator_id: i32,
        value_id: i32,
        period: String,
    },
    /// An agency ended on `last_day`; `successor_ids` carry its work from the day after.
    AgencyReorganised {
        agency_id: i32,
        successor_ids: Vec<i32>,
        last_day: chrono::NaiveDate,
    },
}

impl OtherEvent {
    pub fn kind(&self) -> WebhookEventKind {
        match self {
            Self::DirectiveCreated { .. } => WebhookEventKind::DirectiveCreated,
            Self::IndicatorValueRecorded { .. } => WebhookEventKind::IndicatorValueRecorded,
            Self::AgencyReorganised { .. } => WebhookEventKind::AgencyReorganised,
        }
    }
}

/// The duty an event is about: an assignment and a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyRef {
    pub assignment_id: i32,
    pub period: String,
}

/// One committed change to one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub task_id: i32,
    pub report_id: Option<i32>,
    /// For the reminders: the duty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty: Option<DutyRef>,
    pub at: DateTime<Utc>,
    /// The instance that committed it.
    pub origin: u64,
}

/// What subscribers receive: an event, or word that events may have been missed (this
/// instance's listener lost PostgreSQL and other instances' events did not reach it).
#[derive(Clone, Debug)]
pub enum Notice {
    Event(Arc<Event>),
    Missed,
}

/// The event feed of one running service.
#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Notice>,
    origin: u64,
    /// Wakes this instance's webhook workers when a commit wrote to the outbox.
    outbox: Arc<tokio::sync::Notify>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        Events {
            tx,
            origin: rand::random(),
            outbox: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// An event about `task_id`, stamped with this instance and the time.
    pub fn event(&self, kind: EventKind, task_id: i32, report_id: Option<i32>) -> Event {
        Event {
            kind,
            task_id,
            report_id,
            duty: None,
            at: Utc::now(),
            origin: self.origin,
        }
    }

    /// Wakes the webhook workers: a commit wrote deliveries.
    pub fn wake_outbox(&self) {
        self.outbox.notify_one();
    }

    /// Resolves when [`Events::wake_outbox`] was called (since the last wait).
    pub async fn outbox_woken(&self) {
        self.outbox.notified().await;
    }

    /// Sends a committed event to this instance's subscribers.
    pub fn send(&self, event: Event) {
        // An error only means nobody is subscribed.
        let _ = self.tx.send(Notice::Event(Arc::new(event)));
    }

    /// Tells every subscriber that events may have been missed (the change listener lost
    /// its connection, or has just made it again after a gap).
    pub fn missed(&self) {
        let _ = self.tx.send(Notice::Missed);
    }

    /// A notification from PostgreSQL: another instance's event is sent on, this
    /// instance's own (already sent) and anything unreadable are dropped.
    pub fn notified(&self, payload: &str) {
        match serde_json::from_str::<Event>(payload) {
            Ok(event) if event.origin != self.origin => self.send(event),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "unreadable event notification ignored"),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// Subscriptions listening now (on this instance).
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_notifications_are_dropped_and_others_sent_on() {
        let here = Events::new();
        let there = Events::new();
        let mut rx = here.subscribe();
        let own = serde_json::to_string(&here.event(EventKind::TaskUpdated, 1, None)).expect("json");
        let other =
            serde_json::to_string(&there.event(EventKind::ReportSubmitted, 2, Some(9))).expect("json");
        here.notified(&own);
        here.notified("not json");
        here.notified(&other);
        let Ok(Notice::Event(got)) = rx.try_recv() else {
            panic!("the other instance's event")
        };
        assert_eq!(
            (got.kind, got.task_id, got.report_id),
            (EventKind::ReportSubmitted, 2, Some(9))
        );
        assert!(rx.try_recv().is_err(), "nothing else was sent");
        here.missed();
        assert!(matches!(rx.try_recv(), Ok(Notice::Missed)));
    }
}
