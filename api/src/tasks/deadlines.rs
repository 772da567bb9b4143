//! How a task's deadline reads: the words as written, their kind and due date, its dated
//! milestones, and the extensions granted; and how kinds and recurrences are stored.

use async_graphql::{Enum, ID, Object};
use chrono::NaiveDate;
use entity::{deadline_extension, task_milestone};

use crate::auth::Permission;
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
pub struct Milestone(pub(super) task_milestone::Model);

/// A dated milestone within a task (mốc thời hạn).
#[Object]
impl Milestone {
    /// What is due, e.g. "Bệnh viện Đa khoa tỉnh giai đoạn 2".
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Its deadline.
    async fn deadline(&self) -> Deadline {
        Deadline {
            text: self.0.deadline_text.clone(),
            kind: self.0.deadline_kind,
            due_on: self.0.due_on,
            recurrence: None,
        }
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
