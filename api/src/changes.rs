//! When the data that cached results were computed from may have changed.
//!
//! A [`Changes`] holds a generation number. Anything computed from the database can be kept
//! with the generation read *before* the computation started and reused while the
//! generation is unchanged. The generation moves when:
//! * this instance commits a write ([`Changes::bump`], called by every mutation's commit), so
//!   a client sees its own write on its next request;
//! * PostgreSQL tells of a committed write to a table from anywhere (another chidao
//!   instance, `chidao seed`, an operator's `psql`): migrations `m20261129_000003` and
//!   `m20261203_000010` add statement-level triggers on every table that
//!   `NOTIFY chidao_change, '<table>'`, and a listener connection here `LISTEN`s. A
//!   notification is sent at commit and arrives within milliseconds;
//! * the listener's connection is lost or re-made: notifications may have been missed, so
//!   everything computed before is dropped, and while the listener is down
//!   [`Changes::current`] is `None` (nothing is cached or reused).
//!
//! Besides the one generation, each table has its own ([`Changes::snapshot`]), which moves
//! only with that table's notifications (and with everything above but them): an answer that
//! read directives and tasks stays reusable while progress reports are written.
//!
//! On SQLite (the embedded development default) there is no notification channel and the
//! feed is [`Changes::off`]: nothing is cached.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use sea_orm::sqlx::postgres::PgListener;

use crate::db::touched::{TABLES, Tables};

/// The channel the triggers notify on.
pub const CHANNEL: &str = "chidao_change";

/// How long start-up waits for the first `LISTEN`.
const FIRST_LISTEN: Duration = Duration::from_secs(5);

/// How long the listener waits before reconnecting, at first and at most.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct Inner {
    generation: AtomicU64,
    /// One generation per table of `db::touched::TABLES`, moved by that table's changes.
    tables: [AtomicU64; TABLES.len()],
    live: AtomicBool,
}

impl Inner {
    /// Something changed, in any table.
    fn bump(&self) {
        for t in &self.tables {
            t.fetch_add(1, Ordering::AcqRel);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A committed write to the table `name` was announced; a name chidao does not know
    /// moves every table.
    fn bump_table(&self, name: &str) {
        match crate::db::touched::bit(name) {
            Some(b) => {
                self.tables[b.trailing_zeros() as usize].fetch_add(1, Ordering::AcqRel);
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
            None => self.bump(),
        }
    }

    fn current(&self) -> Option<u64> {
        self.live
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    /// Listening again: anything computed while notifications could be missed is dropped
    /// first, then reuse is allowed.
    fn up(&self) {
        self.bump();
        self.live.store(true, Ordering::Release);
    }

    fn down(&self) {
        self.live.store(false, Ordering::Release);
        self.bump();
    }
}

/// Reads a [`Changes`]'s generation, and nothing else.
#[derive(Clone, Debug)]
pub struct Generation(Arc<Inner>);

impl Generation {
    /// As [`Changes::current`].
    pub fn current(&self) -> Option<u64> {
        self.0.current()
    }
}

/// Every table's generation at one moment (`Changes::snapshot`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot([u64; TABLES.len()]);

/// The change feed of one running service; see the module documentation.
#[derive(Debug)]
pub struct Changes {
    inner: Arc<Inner>,
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Changes {
    /// No feed: [`Changes::current`] is always `None`.
    pub fn off() -> Self {
        Changes {
            inner: Arc::default(),
            listener: None,
        }
    }

    /// Listens on PostgreSQL at `url`. The first `LISTEN` is made before this returns (for
    /// at most [`FIRST_LISTEN`]); notifications are then received, and a lost connection
    /// re-made with back-off, in a task of its own. While not listening,
    /// [`Changes::current`] is `None`.
    pub async fn listen(url: &str, events: crate::events::Events) -> Self {
        let inner = Arc::new(Inner::default());
        let first = match tokio::time::timeout(FIRST_LISTEN, subscribe(url)).await {
            Ok(Ok(listener)) => Some(listener),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "change listener cannot LISTEN yet; answers are not reused until it can");
                None
            }
            Err(_) => {
                tracing::warn!("change listener timed out; answers are not reused until it listens");
                None
            }
        };
        if first.is_some() {
            inner.up();
        }
        let task = tokio::spawn(listen(url.to_owned(), inner.clone(), events, first));
        Changes {
            inner,
            listener: Some(task),
        }
    }

    /// The current generation, or `None` when changes cannot be told (no feed, or the
    /// listener is reconnecting).
    pub fn current(&self) -> Option<u64> {
        self.inner.current()
    }

    /// A handle that reads the generation (for tests that write beside the service and wait
    /// until this instance has heard of it).
    pub fn generation(&self) -> Generation {
        Generation(self.inner.clone())
    }

    /// A write of this instance was committed. Which tables it changed is not told, so every
    /// table moves: the writer's next request sees its write at once, whatever that request
    /// reads (PostgreSQL's notifications then arrive, per table, a little later).
    pub fn bump(&self) {
        self.inner.bump();
    }

    /// Every table's generation now, or `None` when changes cannot be told. Read it before
    /// computing something to keep: [`Changes::unchanged`] then says whether it may still be
    /// reused.
    pub fn snapshot(&self) -> Option<Snapshot> {
        if !self.inner.live.load(Ordering::Acquire) {
            return None;
        }
        let mut at = [0; TABLES.len()];
        for (a, t) in at.iter_mut().zip(&self.inner.tables) {
            *a = t.load(Ordering::Acquire);
        }
        // Lost while reading: what was read may mix generations from before the loss.
        self.inner.live.load(Ordering::Acquire).then_some(Snapshot(at))
    }

    /// Whether no write has been announced to any of `tables` since `seen`, and changes can
    /// still be told.
    pub fn unchanged(&self, seen: &Snapshot, tables: Tables) -> bool {
        self.inner.live.load(Ordering::Acquire)
            && self
                .inner
                .tables
                .iter()
                .zip(seen.0)
                .enumerate()
                .all(|(i, (t, s))| tables & (1 << i) == 0 || t.load(Ordering::Acquire) == s)
    }
}

#[cfg(test)]
impl Changes {
    /// A feed that is live with no listener: changes come from the test.
    pub(crate) fn live_for_tests() -> Self {
        let c = Changes::off();
        c.inner.up();
        c
    }

    /// As if PostgreSQL announced a write to `table`.
    pub(crate) fn announce_for_tests(&self, table: &str) {
        self.inner.bump_table(table);
    }

    /// As if the listener lost its connection (`up`: and made it again).
    pub(crate) fn listener_for_tests(&self, up: bool) {
        if up { self.inner.up() } else { self.inner.down() }
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        if let Some(task) = &self.listener {
            task.abort();
        }
    }
}

async fn subscribe(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([CHANNEL, crate::events::CHANNEL]).await?;
    Ok(listener)
}

/// Receives notifications; `ready` is the start-up's listener, already counted as up.
/// A notification on the events channel is another instance's task event (for
/// subscribers), any other a data change.
async fn listen(
    url: String,
    inner: Arc<Inner>,
    events: crate::events::Events,
    mut ready: Option<PgListener>,
) {
    let mut wait = RETRY_FIRST;
    loop {
        let (listener, was_up) = match ready.take() {
            Some(l) => (Ok(l), true),
            None => (subscribe(&url).await, false),
        };
        match listener {
            Ok(mut listener) => {
                if !was_up {
                    inner.up();
                    // Subscribers that started while nothing was heard missed whatever the
                    // other instances sent meanwhile.
                    events.missed();
                }
                wait = RETRY_FIRST;
                tracing::debug!("listening for data changes on {CHANNEL}");
                loop {
                    match listener.try_recv().await {
                        Ok(Some(n)) if n.channel() == crate::events::CHANNEL => events.notified(n.payload()),
                        Ok(Some(n)) => inner.bump_table(n.payload()),
                        Ok(None) => {
                            tracing::warn!("change listener lost its connection; reconnecting");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "change listener failed; reconnecting");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "change listener cannot LISTEN; retrying"),
        }
        inner.down();
        events.missed();
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_MAX);
    }
}

/// Results kept per key while the data they came from is unchanged: an entry is reused
/// only under the generation read before it was computed, and for at most `max_age` (a
/// bound for the case where a lost connection goes unnoticed for a while).
pub struct Reuse<K, V> {
    entries: Mutex<HashMap<K, Kept<V>>>,
    max_age: Duration,
    capacity: usize,
    hits: Counter,
    misses: Counter,
}

struct Kept<V> {
    generation: u64,
    at: Instant,
    value: V,
}

impl<K: Hash + Eq, V: Clone> Reuse<K, V> {
    /// Keeps at most `capacity` entries for at most `max_age` each (zero: keeps nothing).
    /// `hits` and `misses` count lookups (for `/metrics`).
    pub fn new(max_age: Duration, capacity: usize, hits: Counter, misses: Counter) -> Self {
        Reuse {
            entries: Mutex::new(HashMap::new()),
            max_age,
            capacity,
            hits,
            misses,
        }
    }

    /// Whether anything is kept at all.
    pub fn enabled(&self) -> bool {
        !self.max_age.is_zero() && self.capacity > 0
    }

    /// The value kept for `key` under `generation`, if it is still fresh.
    pub fn get(&self, key: &K, generation: u64) -> Option<V> {
        let found = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .get(key)
                .filter(|k| k.generation == generation && k.at.elapsed() < self.max_age)
                .map(|k| k.value.clone())
        };
        match &found {
            Some(_) => self.hits.inc(),
            None => self.misses.inc(),
        };
        found
    }

    /// Keeps `value`, computed from data as of `generation` (read before computing it).
    pub fn put(&self, key: K, generation: u64, value: V) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let max_age = self.max_age;
            entries.retain(|_, k| k.generation == generation && k.at.elapsed() < max_age);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Kept {
                generation,
                at: Instant::now(),
                value,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_never_allows_reuse() {
        let c = Changes::off();
        assert_eq!(c.current(), None);
        c.bump();
        assert_eq!(c.current(), None);
    }

    #[test]
    fn every_event_moves_the_generation() {
        let c = Changes::off();
        c.inner.up();
        let g0 = c.current().expect("live");
        c.bump();
        let g1 = c.current().expect("live");
        assert_ne!(g0, g1);
        c.inner.down();
        assert_eq!(c.current(), None, "no reuse while notifications may be missed");
        c.inner.up();
        let g2 = c.current().expect("live again");
        assert!(
            g2 > g1 + 1,
            "coming back drops what was computed before: {g1} -> {g2}"
        );
    }

    fn reuse(max_age: Duration, capacity: usize) -> Reuse<&'static str, i32> {
        Reuse::new(max_age, capacity, Counter::default(), Counter::default())
    }

    #[test]
    fn kept_values_are_reused_only_under_their_generation() {
        let r = reuse(Duration::from_secs(60), 4);
        assert_eq!(r.get(&"a", 1), None);
        r.put("a", 1, 10);
        assert_eq!(r.get(&"a", 1), Some(10));
        assert_eq!(
            r.get(&"a", 2),
            None,
            "a later generation never sees an older value"
        );
        assert_eq!(r.get(&"b", 1), None);
        assert_eq!((r.hits.get(), r.misses.get()), (1, 3));
    }

    #[test]
    fn kept_values_expire_and_zero_age_keeps_nothing() {
        let r = reuse(Duration::from_millis(1), 4);
        r.put("a", 1, 10);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(r.get(&"a", 1), None);
        let off = reuse(Duration::ZERO, 4);
        assert!(!off.enabled());
        off.put("a", 1, 10);
        assert_eq!(off.get(&"a", 1), None);
    }

    #[test]
    fn a_full_cache_drops_stale_entries_then_everything() {
        let r = reuse(Duration::from_secs(60), 2);
        r.put("a", 1, 10);
        r.put("b", 2, 20);
        r.put("c", 2, 30); // full: "a" (generation 1) goes
        assert_eq!(r.get(&"a", 1), None);
        assert_eq!(r.get(&"b", 2), Some(20));
        r.put("d", 2, 40); // full of current entries: all go
        assert_eq!(r.get(&"b", 2), None);
        assert_eq!(r.get(&"d", 2), Some(40));
        r.put("d", 2, 41); // replacing a key never evicts
        assert_eq!(r.get(&"d", 2), Some(41));
        assert!(r.entries.lock().expect("lock").len() <= 2);
    }
}
