//! How long the data's plain lists are: the most assignments a task has, the most values an
//! indicator has, and so on, measured from the database and kept current (at start, after this
//! instance's writes, and every [`REFRESH`]). The cost estimate multiplies a plain list's
//! children by these (`graphql::limits`), so it follows the data instead of guessing: a
//! directive's tasks with three agencies each cost what they are, and the day a task goes to
//! every commune of the province its lists cost that. Between a write elsewhere and the next
//! refresh the node budget (`CHIDAO_MAX_NODES`) stops what the estimate did not foresee.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// How often the sizes are measured again whatever happens.
pub const REFRESH: Duration = Duration::from_secs(30);

/// The lists measured, each with the statement that measures its longest.
const LISTS: [(&str, &str); 9] = [
    (
        "assignments",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM assignments GROUP BY task_id) t",
    ),
    (
        "milestones",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM task_milestones GROUP BY task_id) t",
    ),
    (
        "extensions",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM deadline_extensions GROUP BY task_id) t",
    ),
    (
        "children",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM indicators WHERE parent_id IS NOT NULL GROUP BY parent_id) t",
    ),
    (
        "values",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM indicator_values GROUP BY indicator_id) t",
    ),
    (
        "transfers",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM assignment_transfers GROUP BY assignment_id) t",
    ),
    (
        "addressees",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM task_addressees GROUP BY task_id) t",
    ),
    (
        "successors",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM agency_successions GROUP BY predecessor_id) t",
    ),
    (
        "predecessors",
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM agency_successions GROUP BY successor_id) t",
    ),
];

/// The longest of each list, as last measured (at least 1).
#[derive(Debug)]
pub struct ListSizes {
    sizes: [AtomicU64; LISTS.len()],
    /// Woken by this instance's writes, so a refresh follows at once.
    changed: tokio::sync::Notify,
}

impl Default for ListSizes {
    fn default() -> Self {
        ListSizes {
            sizes: std::array::from_fn(|_| AtomicU64::new(1)),
            changed: tokio::sync::Notify::new(),
        }
    }
}

impl ListSizes {
    /// The longest `list` (a field name: `assignments`, `values`…), or `None` if not measured.
    pub fn get(&self, list: &str) -> Option<u64> {
        let i = LISTS.iter().position(|(name, _)| *name == list)?;
        Some(self.sizes[i].load(Ordering::Relaxed).max(1))
    }

    /// Measures every list again.
    pub async fn refresh(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        for (i, (_, sql)) in LISTS.iter().enumerate() {
            let n = match db.query_one_raw(Statement::from_string(backend, *sql)).await? {
                Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
                None => 0,
            };
            self.sizes[i].store(u64::try_from(n).unwrap_or(0).max(1), Ordering::Relaxed);
        }
        Ok(())
    }

    /// Asks for a refresh soon (after a write of this instance has committed).
    pub fn touch(&self) {
        self.changed.notify_one();
    }

    /// Keeps the sizes current until the service stops: after each write of this instance (at
    /// most once a second) and every [`REFRESH`].
    pub fn keep_current(self: &Arc<Self>, db: DatabaseConnection) {
        let sizes = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(s) = sizes.upgrade() else { return };
                let _ = tokio::time::timeout(REFRESH, s.changed.notified()).await;
                if let Err(e) = s.refresh(&db).await {
                    tracing::warn!(error = %e, "measuring list sizes");
                }
                drop(s);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}
