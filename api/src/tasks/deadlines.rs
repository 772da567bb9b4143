//! How a task's deadline reads: the words as written, their kind and due date, its dated
//! milestones, and the extensions granted; and how kinds and recurrences are stored.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::NaiveDate;
use entity::{deadline_extension, task_milestone};

use crate::auth::Permission;
use crate::domain::status::Part;
use crate::graphql::Needs;
use crate::graphql::relay::{self, NodeKind};
use crate::graphql::scalars::Date;

/// How a deadline was written and what it means.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DeadlineKind")]
pub enum DeadlineKind {
    /// "trước ngày 15/01/2025": due the day before the date written.
    Date,
    /// "trong tháng 01/2025": last day of the month ("trước tháng 6/2025": last day of May).
    Month,
    /// "trong Quý I/2025": last day of the quarter.
    Quarter,
    /// "6 tháng đầu năm 2025": last day of the half year.
    Half,
    /// "trong năm 2025": 31 December.
    Year,
    /// "hàng tháng", "từng quý": due at the end of each period.
    Recurring,
    /// No deadline written: an ongoing duty, still reported each period.
    Ongoing,
}

/// A deadline (thời hạn): the words as written, their kind and the due date derived from them
/// by the rule in the README ("trước ngày 15/01/2025" is due 14/01/2025).
#[derive(Clone)]
pub struct Deadline {
    pub(super) text: Option<String>,
    pub(super) kind: entity::enums::DeadlineKind,
    pub(super) due_on: Option<NaiveDate>,
    pub(super) recurrence: Option<entity::enums::Recurrence>,
}

/// A deadline (thời hạn): the words as written, their kind and the due date derived from them
/// by the rule in the README ("trước ngày 15/01/2025" is due 14/01/2025).
#[Object]
impl Deadline {
    /// The words as written in the directive, e.g. "trong Quý I/2025".
    async fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
    /// Kind of deadline.
    async fn kind(&self) -> DeadlineKind {
        self.kind.into()
    }
    /// Due date derived from the words (before any extension); null for recurring and ongoing.
    async fn due_on(&self) -> Option<Date> {
        self.due_on.map(Date)
    }
    /// For recurring deadlines: `MONTHLY`, `QUARTERLY`, `HALF_YEARLY` or `YEARLY`.
    async fn recurrence(&self) -> Option<&str> {
        self.recurrence.map(|r| stored::from_recurrence(r).as_str())
    }
}

/// A dated milestone within a task (mốc thời hạn).
#[derive(Clone)]
pub struct Milestone {
    pub(crate) m: task_milestone::Model,
    /// The task's completion date, when the caller has the task at hand (else it is loaded).
    task_completed_on: Option<Option<NaiveDate>>,
    /// The date a list was asked about; a field's own `asOf` wins over it.
    as_of: Option<NaiveDate>,
}

impl Milestone {
    pub fn new(
        m: task_milestone::Model,
        task_completed_on: Option<Option<NaiveDate>>,
        as_of: Option<NaiveDate>,
    ) -> Self {
        Milestone {
            m,
            task_completed_on,
            as_of,
        }
    }

    async fn part(&self, ctx: &Context<'_>) -> Result<Part> {
        let task_done = match self.task_completed_on {
            Some(done) => done,
            None => {
                super::TaskLoaders::of(ctx)
                    .task
                    .load_one(self.m.task_id)
                    .await
                    .map_err(crate::graphql::loaders::load_err)?
                    .ok_or_else(|| crate::error::ApiError::not_found("nhiệm vụ"))?
                    .completed_on
            }
        };
        Ok(Part::new(self.m.due_on, self.m.completed_on, task_done))
    }

    fn date(&self, as_of: Option<Date>) -> NaiveDate {
        as_of
            .map(|d| d.0)
            .or(self.as_of)
            .unwrap_or_else(crate::clock::today)
    }
}

/// A dated milestone within a task (mốc thời hạn).
#[Object]
impl Milestone {
    /// Global id (for `completeMilestone`).
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Milestone, self.m.id)
    }
    /// What is due, e.g. "Bệnh viện Đa khoa tỉnh giai đoạn 2".
    async fn label(&self) -> &str {
        &self.m.label
    }
    /// Its deadline.
    async fn deadline(&self) -> Deadline {
        Deadline {
            text: self.m.deadline_text.clone(),
            kind: self.m.deadline_kind,
            due_on: self.m.due_on,
            recurrence: None,
        }
    }
    /// The day it was reached: as recorded (`completeMilestone`), or at the latest the day
    /// the whole task was completed.
    async fn completed_on(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        Ok(self.part(ctx).await?.completed_on.map(Date))
    }
    /// Who recorded it as reached. Internal: not shown to viewers.
    #[graphql(guard = "crate::graphql::Needs(crate::auth::Permission::ReadInternal)")]
    async fn completed_by(&self) -> Option<&str> {
        self.m.completed_by.as_deref()
    }
    /// Its status as of `asOf` (default: the list's `asOf`, else today), in the six categories:
    /// January's milestone of II.2-4.1 (due 31/01/2025) not reached reads `IN_PROGRESS_OVERDUE`
    /// on 01/02/2025, and so does its task.
    async fn status(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<super::TaskStatus> {
        let as_of = self.date(as_of);
        Ok(self.part(ctx).await?.status(as_of).into())
    }
    /// Days past its due date: unreached as of `asOf`, or reached late.
    async fn days_overdue(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Option<i64>> {
        let as_of = self.date(as_of);
        let p = self.part(ctx).await?;
        Ok(crate::domain::status::days_overdue(
            p.due_on,
            p.completed_on,
            as_of,
        ))
    }
}

/// A deadline extension (gia hạn) granted on a task; the history is kept.
#[derive(Clone)]
pub struct DeadlineExtension(pub deadline_extension::Model);

/// A deadline extension (gia hạn) granted on a task; the history is kept.
#[Object]
impl DeadlineExtension {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::DeadlineExtension, self.0.id)
    }
    /// Due date before this extension.
    async fn previous_due_on(&self) -> Option<Date> {
        self.0.previous_due_on.map(Date)
    }
    /// Due date granted.
    async fn new_due_on(&self) -> Date {
        Date(self.0.new_due_on)
    }
    /// Reason given (lý do gia hạn).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Who granted it.
    #[graphql(guard = "Needs(Permission::ReadInternal)")]
    async fn granted_by(&self) -> &str {
        &self.0.granted_by
    }
    /// When it was granted.
    async fn granted_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.granted_at
    }
}

/// The stored forms (`entity::enums`) of the domain's deadline kinds and recurrences.
pub mod stored {
    use crate::domain::deadline as d;
    use entity::enums as e;

    impl From<d::DeadlineKind> for e::DeadlineKind {
        fn from(k: d::DeadlineKind) -> Self {
            match k {
                d::DeadlineKind::Date => e::DeadlineKind::Date,
                d::DeadlineKind::Month => e::DeadlineKind::Month,
                d::DeadlineKind::Quarter => e::DeadlineKind::Quarter,
                d::DeadlineKind::Half => e::DeadlineKind::Half,
                d::DeadlineKind::Year => e::DeadlineKind::Year,
                d::DeadlineKind::Recurring => e::DeadlineKind::Recurring,
                d::DeadlineKind::Ongoing => e::DeadlineKind::Ongoing,
            }
        }
    }

    /// A recurrence as stored.
    pub fn recurrence(r: d::Recurrence) -> e::Recurrence {
        match r {
            d::Recurrence::Monthly => e::Recurrence::Monthly,
            d::Recurrence::Quarterly => e::Recurrence::Quarterly,
            d::Recurrence::HalfYearly => e::Recurrence::HalfYearly,
            d::Recurrence::Yearly => e::Recurrence::Yearly,
        }
    }

    /// A stored recurrence as the domain's.
    pub fn from_recurrence(r: e::Recurrence) -> d::Recurrence {
        match r {
            e::Recurrence::Monthly => d::Recurrence::Monthly,
            e::Recurrence::Quarterly => d::Recurrence::Quarterly,
            e::Recurrence::HalfYearly => d::Recurrence::HalfYearly,
            e::Recurrence::Yearly => d::Recurrence::Yearly,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use sea_orm::ActiveEnum;

        #[test]
        fn stored_names_are_the_domain_names() {
            for k in d::DeadlineKind::ALL {
                assert_eq!(e::DeadlineKind::from(k).to_value(), k.as_str());
            }
            for r in d::Recurrence::ALL {
                assert_eq!(recurrence(r).to_value(), r.as_str());
                assert_eq!(from_recurrence(recurrence(r)), r);
            }
        }
    }
}
