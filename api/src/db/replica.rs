//! Reads from a PostgreSQL streaming replica (`DATABASE_READ_URL`), with read-your-writes.
//!
//! When the province outgrows one database server, a hot standby (`pg_basebackup -R`) takes
//! the query load: a GraphQL *query* request (and an export) reads from it. Mutations,
//! subscriptions, webhook delivery, the change listener, the duty reminders and every answer
//! that is kept for reuse stay on the primary (a kept answer is keyed by the primary's change
//! generation, which a lagging replica may not have reached).
//!
//! A caller reads its own writes: after a mutation commits, the primary's WAL position
//! (`pg_current_wal_lsn()`, at or past that commit) is remembered for the token's subject.
//! The caller's next query request is routed once, before it runs:
//! * the replica has replayed that position: the replica (and the position is forgotten);
//! * not yet: the request waits, asking the replica every [`POLL`], at most
//!   `CHIDAO_REPLICA_WAIT_MS`, and then reads from the primary;
//! * the replica is unreachable or no longer a standby (last check every [`CHECK`]): the
//!   primary.
//!
//! What is remembered is per instance: behind a load balancer with several chidao instances,
//! a caller's requests reach the instance that took its write only with sticky routing (by
//! token). Other callers may see a write only once the replica replays it (the lag is
//! `chidao_replica_lag_bytes`; a healthy standby on the same network replays within
//! milliseconds).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _, Row as _};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

use super::StatementCounter;
use super::reads::Reads;

/// How often a waiting request asks the replica how far it has replayed.
pub const POLL: Duration = Duration::from_millis(2);

/// How often the replica's health and lag are checked in the background.
pub const CHECK: Duration = Duration::from_millis(500);

/// Callers with a write not yet seen replayed, at most. Past it (a flood of writers), every
/// query request waits for the highest such position instead: slower, never stale.
const MOST_REMEMBERED: usize = 100_000;

/// A WAL position, `pg_lsn` as a number.
pub type Lsn = u64;

/// Parses PostgreSQL's text form of a `pg_lsn` (`16/B374D848`).
pub fn parse_lsn(s: &str) -> Option<Lsn> {
    let (hi, lo) = s.trim().split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

/// Where each query request reads (see the module documentation).
pub struct Replica {
    reads: Reads,
    /// The highest replay position seen.
    replayed: AtomicU64,
    /// Whether the last check found the replica reachable and still a standby.
    healthy: AtomicBool,
    /// Per token subject, the position of its latest commit not yet seen replayed.
    floors: Mutex<HashMap<String, Lsn>>,
    /// Applies to every caller while [`MOST_REMEMBERED`] is exceeded (0: none).
    global_floor: AtomicU64,
    wait: Duration,
    opts: PgConnectOptions,
    routes: Routes,
    lag: Gauge,
}

/// The time each routing took, by what it chose.
struct Routes {
    replica: Histogram,
    replica_after_wait: Histogram,
    primary_after_wait: Histogram,
    primary_replica_down: Histogram,
}

impl Replica {
    /// The replica at `url` (`size` pooled connections; a read that cannot reach it runs on
    /// `primary`; each routing timed in `route_histogram(choice)`, the lag set in `lag`), refused when it is not a standby:
    /// a second primary would never replay this one's commits.
    pub async fn connect(
        url: &str,
        primary: &Reads,
        size: u32,
        counter: StatementCounter,
        wait: Duration,
        route_histogram: impl Fn(&str) -> Histogram,
        lag: Gauge,
    ) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url)?.disable_statement_logging();
        let mut conn = opts.connect().await?;
        let (standby, replayed) = standing(&mut conn).await?;
        conn.close().await.ok();
        if !standby {
            anyhow::bail!(
                "DATABASE_READ_URL is not a standby (pg_is_in_recovery() is false): reads would not follow the primary's writes"
            );
        }
        let reads = Reads::pg(url, size, counter, Some(primary))?;
        Ok(Replica {
            reads,
            replayed: AtomicU64::new(replayed),
            healthy: AtomicBool::new(true),
            floors: Mutex::new(HashMap::new()),
            global_floor: AtomicU64::new(0),
            wait,
            opts,
            routes: Routes {
                replica: route_histogram("replica"),
                replica_after_wait: route_histogram("replica_after_wait"),
                primary_after_wait: route_histogram("primary_after_wait"),
                primary_replica_down: route_histogram("primary_replica_down"),
            },
            lag,
        })
    }

    /// The replica's read pool.
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// Checks the replica every [`CHECK`] in a task of its own: its health, how far it has
    /// replayed (forgetting the positions it has passed) and its lag behind `primary`.
    pub fn watch(self: &Arc<Self>, primary: DatabaseConnection) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut conn: Option<PgConnection> = None;
            loop {
                tokio::time::sleep(CHECK).await;
                let Some(me) = me.upgrade() else { return };
                if conn.is_none() {
                    conn = me.opts.connect().await.ok();
                }
                let standing = match conn.as_mut() {
                    Some(c) => standing(c).await.ok(),
                    None => None,
                };
                match standing {
                    Some((true, replayed)) => {
                        me.healthy.store(true, Ordering::Release);
                        me.saw(replayed);
                        if let Ok(Some(at)) = primary_position(&primary).await {
                            me.lag.set(at.saturating_sub(replayed) as i64);
                        }
                    }
                    other => {
                        if me.healthy.swap(false, Ordering::AcqRel) {
                            match other {
                                Some(_) => tracing::error!(
                                    "read replica is no longer a standby; reading from the primary"
                                ),
                                None => tracing::warn!("read replica unreachable; reading from the primary"),
                            }
                        }
                        conn = None;
                    }
                }
            }
        });
    }

    /// Records how far the replica has replayed, forgetting the positions it has passed.
    fn saw(&self, replayed: Lsn) {
        let before = self.replayed.fetch_max(replayed, Ordering::AcqRel);
        if replayed > before {
            let mut floors = self
                .floors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            floors.retain(|_, lsn| *lsn > replayed);
            if floors.len() < MOST_REMEMBERED {
                let _ = self
                    .global_floor
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| {
                        (g <= replayed && g > 0).then_some(0)
                    });
            }
        }
    }

    /// `subject` committed a write; `lsn` is the primary's position after it.
    pub fn wrote(&self, subject: &str, lsn: Lsn) {
        if lsn <= self.replayed.load(Ordering::Acquire) {
            return;
        }
        let mut floors = self
            .floors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if floors.len() >= MOST_REMEMBERED && !floors.contains_key(subject) {
            self.global_floor.fetch_max(lsn, Ordering::AcqRel);
            return;
        }
        let at = floors.entry(subject.to_owned()).or_insert(0);
        *at = (*at).max(lsn);
    }

    /// Where the next query request of `subject` reads: see the module documentation.
    pub async fn route(&self, subject: &str, primary: &Reads) -> Reads {
        let started = Instant::now();
        let (to_replica, chose) = self.choose(subject).await;
        chose.observe(started.elapsed().as_secs_f64());
        if to_replica {
            self.reads.clone()
        } else {
            primary.clone()
        }
    }

    /// Whether to read the replica, and the histogram the choice counts in.
    async fn choose(&self, subject: &str) -> (bool, &Histogram) {
        if !self.healthy.load(Ordering::Acquire) {
            return (false, &self.routes.primary_replica_down);
        }
        let own = self
            .floors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(subject)
            .copied()
            .unwrap_or(0);
        let floor = own.max(self.global_floor.load(Ordering::Acquire));
        if floor <= self.replayed.load(Ordering::Acquire) {
            return (true, &self.routes.replica);
        }
        let deadline = Instant::now() + self.wait;
        loop {
            match self.replay_position().await {
                Ok(replayed) => {
                    self.saw(replayed);
                    if replayed >= floor {
                        return (true, &self.routes.replica_after_wait);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "read replica: cannot read its replay position; reading from the primary");
                    return (false, &self.routes.primary_replica_down);
                }
            }
            if Instant::now() + POLL > deadline {
                return (false, &self.routes.primary_after_wait);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// How far the replica has replayed, asked now (through its pool).
    async fn replay_position(&self) -> Result<Lsn, DbErr> {
        position(&self.reads, "pg_last_wal_replay_lsn()")
            .await?
            .ok_or_else(|| DbErr::Custom("the read replica is not replaying WAL".into()))
    }
}

/// The WAL position `function` answers (`pg_current_wal_lsn()`, …), null as `None`.
async fn position(db: &impl ConnectionTrait, function: &str) -> Result<Option<Lsn>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT {function}::text AS lsn"),
        ))
        .await?;
    let text: Option<String> = match row {
        Some(r) => r.try_get("", "lsn")?,
        None => None,
    };
    Ok(text.as_deref().and_then(parse_lsn))
}

/// Whether the server is a standby, and how far it has replayed.
async fn standing(conn: &mut PgConnection) -> Result<(bool, Lsn), sqlx::Error> {
    let row = sqlx::query("SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS lsn")
        .fetch_one(conn)
        .await?;
    let standby: bool = row.try_get("standby")?;
    let lsn: Option<String> = row.try_get("lsn")?;
    Ok((standby, lsn.as_deref().and_then(parse_lsn).unwrap_or(0)))
}

/// The primary's WAL position now: at or past every commit that has returned.
pub async fn primary_position(db: &impl ConnectionTrait) -> Result<Option<Lsn>, DbErr> {
    position(db, "pg_current_wal_lsn()").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(replayed: Lsn) -> Replica {
        let url = "postgres://nobody@127.0.0.1:1/none";
        let h = || Histogram::new([1.0]);
        Replica {
            reads: Reads::pg(url, 1, StatementCounter::default(), None).expect("a pool opens lazily"),
            replayed: AtomicU64::new(replayed),
            healthy: AtomicBool::new(true),
            floors: Mutex::new(HashMap::new()),
            global_floor: AtomicU64::new(0),
            wait: Duration::ZERO,
            opts: PgConnectOptions::from_str(url).expect("a URL"),
            routes: Routes {
                replica: h(),
                replica_after_wait: h(),
                primary_after_wait: h(),
                primary_replica_down: h(),
            },
            lag: Default::default(),
        }
    }

    fn floor_of(r: &Replica, subject: &str) -> Option<Lsn> {
        r.floors.lock().expect("not poisoned").get(subject).copied()
    }

    #[tokio::test]
    async fn a_write_is_remembered_until_the_replica_passes_it() {
        let r = replica(100);
        r.wrote("a", 90); // already replayed: nothing to wait for
        assert_eq!(floor_of(&r, "a"), None);
        r.wrote("a", 150);
        r.wrote("a", 120); // an earlier position never lowers the floor
        r.wrote("b", 200);
        assert_eq!(floor_of(&r, "a"), Some(150));
        // Caller without a write, and callers below the replayed position: the replica at once.
        assert!(r.choose("c").await.0);
        r.saw(160);
        assert_eq!(floor_of(&r, "a"), None, "passed, forgotten");
        assert_eq!(floor_of(&r, "b"), Some(200));
        assert!(r.choose("a").await.0);
        // b's write is not replayed and the replica cannot be asked (no server): the primary.
        assert!(!r.choose("b").await.0);
        r.saw(140); // an older answer never moves the position back
        assert_eq!(r.replayed.load(Ordering::Acquire), 160);
        r.healthy.store(false, Ordering::Release);
        assert!(!r.choose("c").await.0, "a replica found down is not read");
    }

    #[tokio::test]
    async fn past_the_remembered_callers_everyone_waits_for_the_newest_write() {
        let r = replica(0);
        {
            let mut f = r.floors.lock().expect("not poisoned");
            for i in 0..MOST_REMEMBERED {
                f.insert(format!("s{i}"), 10);
            }
        }
        r.wrote("newcomer", 500);
        assert_eq!(floor_of(&r, "newcomer"), None);
        assert_eq!(r.global_floor.load(Ordering::Acquire), 500);
        r.saw(20); // the remembered are forgotten, the newest write is not yet replayed
        assert_eq!(r.global_floor.load(Ordering::Acquire), 500);
        assert!(!r.choose("anyone").await.0);
        r.saw(500);
        assert_eq!(r.global_floor.load(Ordering::Acquire), 0);
        assert!(r.choose("anyone").await.0);
    }

    #[test]
    fn positions_parse_as_postgresql_writes_them() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("16/B374D848") > parse_lsn("16/B374D847"));
        assert!(parse_lsn("17/0") > parse_lsn("16/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(parse_lsn("1/"), None);
    }
}
