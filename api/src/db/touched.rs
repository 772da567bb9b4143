//! Which of chidao's tables the statements of one piece of work named.
//!
//! A kept GraphQL answer (`http::answers`) may be reused until a write commits to a table it
//! read. What it read is told here: the request runs inside [`tracking`], and every statement
//! any connection runs for it (the read pool, sea-orm's pool, a transaction: all report to
//! `StatementCounter::record`, which calls [`record`]) adds the tables its SQL names. A
//! request's whole resolver tree runs in one tokio task (`graphql::loaders::batch`), so the
//! task-local sees every statement of it.
//!
//! The SQL is read word by word: any word (quoted or not) that is a table's name counts, so a
//! column or alias that happens to share a table's name only makes the answer depend on one
//! table more (dropped sooner, never kept too long). No statement reads a table without
//! naming it: chidao has no views, and its only functions are triggers.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

/// Every table chidao keeps data in, each with a bit of [`Tables`]. Migration
/// `m20261203_000010` makes each of them announce its changes (`crate::changes`); a test
/// checks this list against the database's tables. `reporting_calendar` is not here: its
/// reference rows are written once at set-up and never change.
pub const TABLES: [&str; 21] = [
    "agencies",
    "agency_group_members",
    "agency_groups",
    "agency_successions",
    "assignment_transfers",
    "assignments",
    "audit_log",
    "deadline_extensions",
    "directives",
    "duty_reminders",
    "indicator_values",
    "indicators",
    "progress_reports",
    "reporting_regimes",
    "reporting_waivers",
    "task_addressees",
    "task_milestones",
    "tasks",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
];

/// A set of [`TABLES`], one bit each.
pub type Tables = u32;

/// Every table.
pub const ALL: Tables = (1 << TABLES.len()) - 1;

/// The bit of the table called `name`, if chidao has one.
pub fn bit(name: &str) -> Option<Tables> {
    // Most words of a statement (keywords, columns, aliases) fail on their first letter.
    if !matches!(
        name.as_bytes().first(),
        Some(b'a' | b'd' | b'i' | b'p' | b'r' | b't' | b'w')
    ) {
        return None;
    }
    TABLES.iter().position(|t| *t == name).map(|i| 1 << i)
}

/// The tables `sql` names.
pub fn named_in(sql: &str) -> Tables {
    let mut found = 0;
    for word in sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        // Every table's name is 5 to 20 lower-case letters and underscores.
        if (5..=20).contains(&word.len())
            && let Some(b) = bit(word)
        {
            found |= b;
        }
    }
    found
}

tokio::task_local! {
    static TOUCHED: AtomicU32;
}

/// Runs `work`, answering also the tables its statements named.
pub async fn tracking<F: Future>(work: F) -> (F::Output, Tables) {
    TOUCHED
        .scope(AtomicU32::new(0), async move {
            let out = work.await;
            let tables = TOUCHED.with(|t| t.load(Ordering::Acquire));
            (out, tables)
        })
        .await
}

/// Notes a statement run by the current task, when it is being tracked.
pub fn record(sql: &str) {
    let _ = TOUCHED.try_with(|t| {
        t.fetch_or(named_in(sql), Ordering::AcqRel);
    });
}

/// Notes that the current task's work depends on `tables` though it may run no statement
/// that names them (it used something kept from before).
pub fn depends_on(tables: Tables) {
    let _ = TOUCHED.try_with(|t| {
        t.fetch_or(tables, Ordering::AcqRel);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_its_own_bit() {
        let all = TABLES.iter().map(|t| bit(t).expect(t)).fold(0, |acc, b| {
            assert_eq!(acc & b, 0);
            acc | b
        });
        assert_eq!(all, ALL);
    }

    #[test]
    fn tables_are_found_quoted_or_not_and_nothing_else() {
        let t = |n: &str| bit(n).expect("a table");
        assert_eq!(
            named_in(
                r#"SELECT "tasks"."id" FROM "tasks" INNER JOIN "assignments" ON "assignments"."task_id" = "tasks"."id""#
            ),
            t("tasks") | t("assignments")
        );
        assert_eq!(
            named_in("SELECT count(*) FROM progress_reports pr JOIN reporting_calendar c ON true"),
            t("progress_reports")
        );
        assert_eq!(named_in("SELECT pg_current_wal_lsn()::text AS lsn"), 0);
        // Names that only contain a table's name are other words.
        assert_eq!(
            named_in(r#"SELECT "task_id", "agency_id", "directives_count" FROM x"#),
            0
        );
        assert_eq!(ALL.count_ones() as usize, TABLES.len());
        let mut sorted = TABLES;
        sorted.sort_unstable();
        assert_eq!(sorted, TABLES, "sorted, each once");
        assert!(sorted.windows(2).all(|w| w[0] != w[1]));
    }

    #[tokio::test]
    async fn only_the_tracked_task_is_told() {
        record("SELECT * FROM tasks"); // outside any tracking: ignored
        let ((), tables) = tracking(async {
            record("SELECT * FROM directives");
            tokio::task::yield_now().await;
            record(r#"SELECT * FROM "agencies""#);
        })
        .await;
        assert_eq!(
            tables,
            bit("directives").expect("t") | bit("agencies").expect("t")
        );
        let ((), none) = tracking(async {}).await;
        assert_eq!(none, 0);
    }
}
