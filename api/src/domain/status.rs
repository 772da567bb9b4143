//! Derived task status: the six categories the Government Office (Văn phòng Chính phủ) publishes, computed from due and completion dates as of a day, never typed by hand.
//!
//! Rules, all inclusive of the due date itself:
//! - completed on or before the due date is on time; the day after is late;
//! - not completed and `as_of` is the due date is still on time; from the day after it is overdue;
//! - a completion dated after `as_of` did not exist yet on `as_of`, so the task counts as not completed
//!   (this is what lets a dashboard be replayed for a past date);
//! - no due date (an ongoing duty) gives the two "không giao hạn" categories.
//!
//! A task's completion date comes from its lead assignments: it is complete only when every lead is,
//! on the latest lead's date ([`task_completed_on`]).

use chrono::NaiveDate;

/// Status of a task or an assignment as of a date. Serialised as the `as_str` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    CompletedOnTime,
    CompletedLate,
    CompletedNoDeadline,
    InProgressOnTime,
    InProgressOverdue,
    InProgressNoDeadline,
}

impl TaskStatus {
    /// All six, in the order the Government Office lists them.
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::CompletedOnTime,
        TaskStatus::CompletedLate,
        TaskStatus::CompletedNoDeadline,
        TaskStatus::InProgressOnTime,
        TaskStatus::InProgressOverdue,
        TaskStatus::InProgressNoDeadline,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TaskStatus::CompletedOnTime => "COMPLETED_ON_TIME",
            TaskStatus::CompletedLate => "COMPLETED_LATE",
            TaskStatus::CompletedNoDeadline => "COMPLETED_NO_DEADLINE",
            TaskStatus::InProgressOnTime => "IN_PROGRESS_ON_TIME",
            TaskStatus::InProgressOverdue => "IN_PROGRESS_OVERDUE",
            TaskStatus::InProgressNoDeadline => "IN_PROGRESS_NO_DEADLINE",
        }
    }

    /// Reads [`TaskStatus::as_str`] back, ignoring ASCII case and surrounding spaces.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The label officials read, as the Government Office words it.
    pub fn label_vi(&self) -> &'static str {
        match self {
            TaskStatus::CompletedOnTime => "Hoàn thành đúng hạn",
            TaskStatus::CompletedLate => "Hoàn thành quá hạn",
            TaskStatus::CompletedNoDeadline => "Hoàn thành (không giao hạn)",
            TaskStatus::InProgressOnTime => "Chưa hoàn thành, trong hạn",
            TaskStatus::InProgressOverdue => "Chưa hoàn thành, quá hạn",
            TaskStatus::InProgressNoDeadline => "Chưa hoàn thành (không giao hạn)",
        }
    }

    pub fn is_completed(&self) -> bool {
        matches!(
            self,
            TaskStatus::CompletedOnTime | TaskStatus::CompletedLate | TaskStatus::CompletedNoDeadline
        )
    }
}

/// The completion date as seen on `as_of`: a completion recorded for a later day had not happened yet.
fn completed_by(completed_on: Option<NaiveDate>, as_of: NaiveDate) -> Option<NaiveDate> {
    completed_on.filter(|c| *c <= as_of)
}

/// The status as of `as_of` (see the module rules).
pub fn status_as_of(
    due_on: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    as_of: NaiveDate,
) -> TaskStatus {
    match (due_on, completed_by(completed_on, as_of)) {
        (None, Some(_)) => TaskStatus::CompletedNoDeadline,
        (None, None) => TaskStatus::InProgressNoDeadline,
        (Some(due), Some(done)) if done <= due => TaskStatus::CompletedOnTime,
        (Some(_), Some(_)) => TaskStatus::CompletedLate,
        (Some(due), None) if as_of <= due => TaskStatus::InProgressOnTime,
        (Some(_), None) => TaskStatus::InProgressOverdue,
    }
}

/// When a task with these lead assignments was completed: the latest lead completion date, since the
/// task is done only when all its leads are. `None` if any lead is not complete, or if there are no
/// leads (a task nobody leads cannot have been completed).
pub fn task_completed_on(lead_completions: &[Option<NaiveDate>]) -> Option<NaiveDate> {
    lead_completions
        .iter()
        .try_fold(None, |latest: Option<NaiveDate>, lead| {
            lead.map(|d| Some(latest.map_or(d, |l| l.max(d))))
        })
        .flatten()
}

/// Days past due, for the overdue ageing buckets: for a task unfinished and past due on `as_of`,
/// `as_of - due_on`; for a task completed late (by `as_of`), `completed_on - due_on`; otherwise `None`.
/// Always positive when present.
pub fn days_overdue(
    due_on: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Option<i64> {
    let due = due_on?;
    let end = completed_by(completed_on, as_of).unwrap_or(as_of);
    let days = (end - due).num_days();
    (days > 0).then_some(days)
}

/// A dated part of a task (a milestone, mốc thời hạn): its due date, and when it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub due_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
}

impl Part {
    /// A part reached on its own recorded date, or at the latest when the whole task was.
    pub fn new(
        due_on: Option<NaiveDate>,
        own: Option<NaiveDate>,
        task_completed_on: Option<NaiveDate>,
    ) -> Part {
        let completed_on = match (own, task_completed_on) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Part { due_on, completed_on }
    }

    /// The part's own status as of a date, by the module rules.
    pub fn status(&self, as_of: NaiveDate) -> TaskStatus {
        status_as_of(self.due_on, self.completed_on, as_of)
    }
}

/// The earliest due date among the parts missed as of `as_of` (past due and not reached then).
pub fn first_missed(parts: &[Part], as_of: NaiveDate) -> Option<NaiveDate> {
    parts
        .iter()
        .filter(|p| p.status(as_of) == TaskStatus::InProgressOverdue)
        .filter_map(|p| p.due_on)
        .min()
}

/// A task's status with its dated parts. The rule chosen is the Government Office's: a task is
/// overdue as soon as any dated part of it is, so an unfinished task with a missed milestone is
/// `IN_PROGRESS_OVERDUE` from the day after that milestone, not only after its own date. A
/// finished task is judged against its own due date (a late part shows on the part).
pub fn with_parts(status: TaskStatus, parts: &[Part], as_of: NaiveDate) -> TaskStatus {
    if !status.is_completed() && first_missed(parts, as_of).is_some() {
        TaskStatus::InProgressOverdue
    } else {
        status
    }
}

/// [`days_overdue`] with the task's dated parts: an unfinished task is late by the oldest missed
/// part when that is older than its own date.
pub fn days_overdue_with_parts(
    due_on: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    parts: &[Part],
    as_of: NaiveDate,
) -> Option<i64> {
    let own = days_overdue(due_on, completed_on, as_of);
    if completed_by(completed_on, as_of).is_some() {
        return own;
    }
    let part = first_missed(parts, as_of).map(|d| (as_of - d).num_days());
    own.max(part)
}

/// After an extension the original due date is kept: whether the task met it. `None` when the task is
/// not completed or never had an original due date.
pub fn met_original(original_due_on: Option<NaiveDate>, completed_on: Option<NaiveDate>) -> Option<bool> {
    Some(completed_on? <= original_due_on?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskStatus::*;

    #[test]
    fn a_missed_milestone_makes_the_unfinished_task_overdue_from_the_next_day() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).expect("date");
        // II.2-4.1: the hospital's stage 2 due 31/01/2025, the task itself 31/03/2025.
        let task_due = Some(d(3, 31));
        let january = |reached| Part::new(Some(d(1, 31)), reached, None);
        let open = [january(None)];
        let on_the_day = status_as_of(task_due, None, d(1, 31));
        assert_eq!(
            with_parts(on_the_day, &open, d(1, 31)),
            InProgressOnTime,
            "due day is on time"
        );
        let next_day = status_as_of(task_due, None, d(2, 1));
        assert_eq!(next_day, InProgressOnTime, "the task's own date is still ahead");
        assert_eq!(with_parts(next_day, &open, d(2, 1)), InProgressOverdue);
        assert_eq!(days_overdue_with_parts(task_due, None, &open, d(2, 10)), Some(10));
        assert_eq!(open[0].status(d(2, 1)), InProgressOverdue);
        // Reached late on 5/2: overdue on 4/2, no longer on 6/2 (the part reads COMPLETED_LATE).
        let late = [january(Some(d(2, 5)))];
        assert_eq!(with_parts(next_day, &late, d(2, 4)), InProgressOverdue);
        assert_eq!(with_parts(InProgressOnTime, &late, d(2, 6)), InProgressOnTime);
        assert_eq!(late[0].status(d(2, 6)), CompletedLate);
        assert_eq!(days_overdue_with_parts(task_due, None, &late, d(2, 6)), None);
        // Reached in time.
        assert_eq!(january(Some(d(1, 20))).status(d(2, 1)), CompletedOnTime);
        // A finished task is judged by its own date; its completion reaches every part.
        let done = [Part::new(Some(d(1, 31)), None, Some(d(3, 1)))];
        assert_eq!(with_parts(CompletedOnTime, &done, d(4, 1)), CompletedOnTime);
        assert_eq!(done[0].status(d(4, 1)), CompletedLate);
        assert_eq!(
            done[0].status(d(2, 15)),
            InProgressOverdue,
            "not reached yet on 15/2"
        );
        // A part without a date never makes a task overdue.
        let undated = [Part::new(None, None, None)];
        assert_eq!(with_parts(InProgressOnTime, &undated, d(12, 1)), InProgressOnTime);
    }

    /// (due_on, completed_on, as_of, expected, why)
    type StatusCase = (
        Option<NaiveDate>,
        Option<NaiveDate>,
        NaiveDate,
        TaskStatus,
        &'static str,
    );
    /// (lead completions, expected task completion, why)
    type LeadsCase = (Vec<Option<NaiveDate>>, Option<NaiveDate>, &'static str);
    /// (due_on, completed_on, as_of, expected days, why)
    type OverdueCase = (
        Option<NaiveDate>,
        Option<NaiveDate>,
        NaiveDate,
        Option<i64>,
        &'static str,
    );
    /// (original due, completed_on, expected, why)
    type OriginalCase = (Option<NaiveDate>, Option<NaiveDate>, Option<bool>, &'static str);

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    #[test]
    fn status_table() {
        // Due 31/01/2025, as for "báo cáo UBND tỉnh trong tháng 01/2025".
        let due = Some(d(2025, 1, 31));
        let cases: &[StatusCase] = &[
            (due, None, d(2025, 1, 30), InProgressOnTime, "before the due date"),
            (due, None, d(2025, 1, 31), InProgressOnTime, "due today"),
            (due, None, d(2025, 2, 1), InProgressOverdue, "the day after"),
            (
                due,
                Some(d(2025, 1, 20)),
                d(2025, 3, 1),
                CompletedOnTime,
                "completed early",
            ),
            (
                due,
                Some(d(2025, 1, 31)),
                d(2025, 3, 1),
                CompletedOnTime,
                "completed on the due date",
            ),
            (
                due,
                Some(d(2025, 2, 1)),
                d(2025, 3, 1),
                CompletedLate,
                "completed the day after",
            ),
            (
                due,
                Some(d(2025, 2, 1)),
                d(2025, 2, 1),
                CompletedLate,
                "completed late, as of that day",
            ),
            (
                due,
                Some(d(2025, 1, 25)),
                d(2025, 1, 24),
                InProgressOnTime,
                "completion after as_of, not due yet",
            ),
            (
                due,
                Some(d(2025, 3, 1)),
                d(2025, 2, 10),
                InProgressOverdue,
                "completion after as_of, past due",
            ),
            (
                due,
                Some(d(2025, 1, 31)),
                d(2025, 1, 31),
                CompletedOnTime,
                "completed on as_of = due",
            ),
            (None, None, d(2025, 6, 1), InProgressNoDeadline, "ongoing duty"),
            (
                None,
                Some(d(2025, 5, 1)),
                d(2025, 6, 1),
                CompletedNoDeadline,
                "ongoing duty completed",
            ),
            (
                None,
                Some(d(2025, 7, 1)),
                d(2025, 6, 1),
                InProgressNoDeadline,
                "no deadline, completion after as_of",
            ),
        ];
        for (due, done, as_of, expected, why) in cases {
            assert_eq!(status_as_of(*due, *done, *as_of), *expected, "{why}");
        }
    }

    #[test]
    fn task_completion_from_leads() {
        let cases: Vec<LeadsCase> = vec![
            (vec![], None, "no leads"),
            (vec![None], None, "one lead, not done"),
            (vec![Some(d(2025, 1, 10))], Some(d(2025, 1, 10)), "one lead, done"),
            (
                vec![Some(d(2025, 1, 10)), Some(d(2025, 2, 3))],
                Some(d(2025, 2, 3)),
                "two leads, the latest counts",
            ),
            (
                vec![Some(d(2025, 2, 3)), Some(d(2025, 1, 10))],
                Some(d(2025, 2, 3)),
                "order does not matter",
            ),
            (vec![Some(d(2025, 1, 10)), None], None, "one of two not done"),
            (vec![None, Some(d(2025, 1, 10))], None, "first of two not done"),
        ];
        for (leads, expected, why) in &cases {
            assert_eq!(task_completed_on(leads), *expected, "{why}");
        }
    }

    #[test]
    fn two_leads_one_late() {
        // "Sở Tài nguyên và Môi trường, Sở Nông nghiệp và PTNT chủ trì": two leads, due "trước 30/6/2025"
        // (29/06/2025). One finishes on 20/06, the other on 02/07: each lead has its own status and the
        // task is late, completed on the later date.
        let due = Some(d(2025, 6, 29));
        let as_of = d(2025, 7, 15);
        let leads = [Some(d(2025, 6, 20)), Some(d(2025, 7, 2))];
        assert_eq!(status_as_of(due, leads[0], as_of), CompletedOnTime);
        assert_eq!(status_as_of(due, leads[1], as_of), CompletedLate);
        let task_done = task_completed_on(&leads);
        assert_eq!(task_done, Some(d(2025, 7, 2)));
        assert_eq!(status_as_of(due, task_done, as_of), CompletedLate);
        assert_eq!(days_overdue(due, task_done, as_of), Some(3));
        // Before the late lead finished, the task was overdue and unfinished.
        assert_eq!(status_as_of(due, task_done, d(2025, 7, 1)), InProgressOverdue);
        assert_eq!(days_overdue(due, task_done, d(2025, 7, 1)), Some(2));
    }

    #[test]
    fn days_overdue_table() {
        let due = Some(d(2025, 1, 31));
        let cases: &[OverdueCase] = &[
            (due, None, d(2025, 1, 31), None, "due today"),
            (due, None, d(2025, 2, 1), Some(1), "one day overdue"),
            (due, None, d(2025, 5, 1), Some(90), "ageing: over 60 days"),
            (
                due,
                Some(d(2025, 1, 31)),
                d(2025, 5, 1),
                None,
                "completed on the due date",
            ),
            (
                due,
                Some(d(2025, 2, 1)),
                d(2025, 5, 1),
                Some(1),
                "completed the day after",
            ),
            (
                due,
                Some(d(2025, 3, 2)),
                d(2025, 5, 1),
                Some(30),
                "completed 30 days late",
            ),
            (
                due,
                Some(d(2025, 3, 2)),
                d(2025, 2, 10),
                Some(10),
                "completion after as_of counts as open",
            ),
            (
                due,
                Some(d(2025, 1, 20)),
                d(2025, 1, 10),
                None,
                "completion after as_of, not yet due",
            ),
            (None, None, d(2025, 5, 1), None, "no due date"),
            (
                None,
                Some(d(2025, 2, 1)),
                d(2025, 5, 1),
                None,
                "no due date, completed",
            ),
        ];
        for (due, done, as_of, expected, why) in cases {
            assert_eq!(days_overdue(*due, *done, *as_of), *expected, "{why}");
        }
    }

    #[test]
    fn original_due_date_after_extension() {
        let cases: &[OriginalCase] = &[
            (
                Some(d(2025, 1, 31)),
                Some(d(2025, 1, 31)),
                Some(true),
                "on the original date",
            ),
            (
                Some(d(2025, 1, 31)),
                Some(d(2025, 2, 20)),
                Some(false),
                "met only the extension",
            ),
            (Some(d(2025, 1, 31)), None, None, "not completed"),
            (None, Some(d(2025, 2, 20)), None, "no original due date"),
            (None, None, None, "neither"),
        ];
        for (original, done, expected, why) in cases {
            assert_eq!(met_original(*original, *done), *expected, "{why}");
        }
        // Extended from 31/01 to 28/02, done 20/02: on time against the current date, not the original.
        assert_eq!(
            status_as_of(Some(d(2025, 2, 28)), Some(d(2025, 2, 20)), d(2025, 3, 1)),
            CompletedOnTime
        );
    }

    #[test]
    fn strings_and_labels() {
        let expected = [
            ("COMPLETED_ON_TIME", "Hoàn thành đúng hạn", true),
            ("COMPLETED_LATE", "Hoàn thành quá hạn", true),
            ("COMPLETED_NO_DEADLINE", "Hoàn thành (không giao hạn)", true),
            ("IN_PROGRESS_ON_TIME", "Chưa hoàn thành, trong hạn", false),
            ("IN_PROGRESS_OVERDUE", "Chưa hoàn thành, quá hạn", false),
            (
                "IN_PROGRESS_NO_DEADLINE",
                "Chưa hoàn thành (không giao hạn)",
                false,
            ),
        ];
        for (status, (name, label, completed)) in TaskStatus::ALL.iter().zip(expected) {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.label_vi(), label);
            assert_eq!(status.is_completed(), completed);
            assert_eq!(TaskStatus::parse(name), Some(*status));
            assert_eq!(TaskStatus::parse(&name.to_lowercase()), Some(*status));
        }
        assert_eq!(TaskStatus::parse("DONE"), None);
    }
}
