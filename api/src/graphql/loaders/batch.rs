//! Request-scoped batching of loader keys without a timer.
//!
//! async-graphql's `DataLoader` collects keys for a fixed window (a tokio timer, so at least
//! a millisecond) and then runs the batch on a spawned task. Every nested level of a query
//! paid that window, so a three-level query spent most of its time asleep; a zero window
//! spawns the batch on another worker thread at once, which splits the keys of one level
//! into many statements.
//!
//! A request's whole resolver tree runs inside one tokio task, and async-graphql polls the
//! sibling fields and list items of one level together (`join_all`). So the first resolver to
//! ask for a key becomes the batch's leader and yields to the scheduler; tokio defers that
//! wake-up until the task's current poll has finished, by which time every sibling that
//! could make progress has registered its keys in the same batch. The leader yields again
//! while the batch is still growing (a bounded number of times), then closes it and runs one
//! load for all its keys; everyone else waits on the same result. The batch boundary is the
//! structure of the query, not a clock, so the statement count does not depend on how fast
//! the machine is.
//!
//! Nothing is cached across batches, with one exception: a loader that fetches a row's
//! neighbours in the same statement (an assignment's agency, a task's directive) may
//! `prime` the neighbour's batcher, so the next level needs no statement. A query keeps
//! primed rows for its request; a mutation's loaders keep none (`prime` is then a no-op),
//! so a mutation never reads back a row as it was before it changed it.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_graphql::dataloader::Loader;
use tokio::sync::OnceCell;

/// The largest batch; more keys open a new batch (one `IN (…)` list stays bounded).
const MAX_BATCH: usize = 1000;
/// How many times the leader yields while its batch keeps growing.
const MAX_YIELDS: usize = 8;

type Outcome<K, V, E> = Result<Arc<HashMap<K, V>>, E>;

struct Batch<K, V, E> {
    keys: Mutex<HashSet<K>>,
    done: OnceCell<Outcome<K, V, E>>,
}

/// The batch of `L` that is still taking keys, if any.
type Open<K, L> = Mutex<Option<Arc<Batch<K, <L as Loader<K>>::Value, <L as Loader<K>>::Error>>>>;

/// Batches the keys asked for by one request's resolvers and loads them with `L`.
pub struct Batcher<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    loader: L,
    open: Open<K, L>,
    /// Rows another loader fetched already (see `prime`); `None` when priming is off.
    primed: Option<Mutex<HashMap<K, L::Value>>>,
    /// Extra time the leader waits before closing its batch (`CHIDAO_LOADER_DELAY_MS`; 0 by
    /// default: the yields alone gather one level's keys).
    wait: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these short, non-reentrant locks cannot leave them inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K, L> Batcher<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    pub fn new(loader: L, wait: Duration) -> Self {
        Batcher {
            loader,
            open: Mutex::new(None),
            primed: None,
            wait,
        }
    }

    /// Lets `prime` keep rows for the rest of the request.
    pub fn primeable(mut self, on: bool) -> Self {
        self.primed = on.then(|| Mutex::new(HashMap::new()));
        self
    }

    /// Keeps rows fetched by another loader, so that asking for these keys later runs no
    /// statement. The caller vouches that the rows are what `L` would return for the keys
    /// (the same scope applies).
    pub fn prime(&self, rows: impl IntoIterator<Item = (K, L::Value)>) {
        if let Some(primed) = &self.primed {
            let mut primed = lock(primed);
            for (k, v) in rows {
                primed.entry(k).or_insert(v);
            }
        }
    }

    /// The value of one key, or `None` when the loader found no row for it.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        // `load_many` of one key, without the vector and the map of its answer: a list of 50
        // indicators asks for each one's values alone.
        if let Some(primed) = &self.primed
            && let Some(v) = lock(primed).get(&key)
        {
            return Ok(Some(v.clone()));
        }
        let found = self.settle(std::slice::from_ref(&key)).await?;
        Ok(found.get(&key).cloned())
    }

    /// The values of the keys the loader found rows for.
    pub async fn load_many(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, L::Value>, L::Error> {
        let mut keys: Vec<K> = keys.into_iter().collect();
        let mut out = HashMap::with_capacity(keys.len());
        if let Some(primed) = &self.primed {
            let primed = lock(primed);
            keys.retain(|k| match primed.get(k) {
                Some(v) => {
                    out.insert(k.clone(), v.clone());
                    false
                }
                None => true,
            });
        }
        if keys.is_empty() {
            return Ok(out);
        }
        let found = self.settle(&keys).await?;
        out.extend(
            keys.into_iter()
                .filter_map(|k| found.get(&k).cloned().map(|v| (k, v))),
        );
        Ok(out)
    }

    /// Joins `keys` to the open batch and waits for its answer (running it, if this caller
    /// is the one to).
    async fn settle(&self, keys: &[K]) -> Outcome<K, L::Value, L::Error> {
        let batch = self.join(keys);
        // Boxed: the SQL round trip's state would otherwise sit inline in every resolver future
        // that loads through a batcher, and async-graphql allocates and moves each field's
        // future at the size of its type's largest resolver.
        batch
            .done
            .get_or_init(|| Box::pin(self.run(&batch)))
            .await
            .clone()
    }

    /// Adds the keys to the open batch (opening one if there is none or it is full).
    fn join(&self, keys: &[K]) -> Arc<Batch<K, L::Value, L::Error>> {
        let mut open = lock(&self.open);
        let batch = match open.as_ref() {
            Some(b) if lock(&b.keys).len() + keys.len() <= MAX_BATCH => b.clone(),
            _ => {
                let b = Arc::new(Batch {
                    keys: Mutex::new(HashSet::new()),
                    done: OnceCell::new(),
                });
                *open = Some(b.clone());
                b
            }
        };
        lock(&batch.keys).extend(keys.iter().cloned());
        batch
    }

    /// Runs by whichever participant initialises the batch's result (another takes over if
    /// that one is cancelled): lets the level's siblings join, closes the batch, loads it.
    async fn run(&self, batch: &Arc<Batch<K, L::Value, L::Error>>) -> Outcome<K, L::Value, L::Error> {
        let mut seen = lock(&batch.keys).len();
        for _ in 0..MAX_YIELDS {
            tokio::task::yield_now().await;
            let now = lock(&batch.keys).len();
            if now == seen {
                break;
            }
            seen = now;
        }
        if !self.wait.is_zero() {
            tokio::time::sleep(self.wait).await;
        }
        let keys: Vec<K> = {
            let mut open = lock(&self.open);
            if open.as_ref().is_some_and(|b| Arc::ptr_eq(b, batch)) {
                *open = None;
            }
            lock(&batch.keys).iter().cloned().collect()
        };
        self.loader.load(&keys).await.map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Doubles its keys and counts its batches; fails for key -13.
    struct Doubler {
        batches: Arc<AtomicUsize>,
    }

    impl Loader<i32> for Doubler {
        type Value = i32;
        type Error = String;

        async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, i32>, String> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            if keys.contains(&-13) {
                return Err("unlucky".into());
            }
            Ok(keys.iter().filter(|k| **k >= 0).map(|k| (*k, k * 2)).collect())
        }
    }

    fn batcher() -> (Arc<Batcher<i32, Doubler>>, Arc<AtomicUsize>) {
        let batches = Arc::new(AtomicUsize::new(0));
        let b = Batcher::new(
            Doubler {
                batches: batches.clone(),
            },
            Duration::ZERO,
        );
        (Arc::new(b), batches)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn siblings_of_one_level_share_one_batch() {
        let (b, batches) = batcher();
        let b2 = b.clone();
        // One task, like a request: 200 siblings, each asking for a key and then a second one
        // that depends on the first answer (a nested level).
        let values = tokio::spawn(async move {
            futures::future::join_all((0..200).map(|i| {
                let b = b2.clone();
                async move {
                    let first = b.load_one(i).await.expect("load").expect("found");
                    b.load_one(first + 1000).await.expect("load").expect("found")
                }
            }))
            .await
        })
        .await
        .expect("task");
        assert_eq!(values[0], 2000);
        assert_eq!(values[199], (398 + 1000) * 2);
        assert_eq!(batches.load(Ordering::SeqCst), 2, "one batch per level");
    }

    #[tokio::test]
    async fn missing_keys_and_errors() {
        let (b, batches) = batcher();
        assert_eq!(b.load_one(-1).await, Ok(None));
        let (ok, bad) = tokio::join!(b.load_one(1), b.load_one(-13));
        // Both keys were in one batch, and the batch failed: both see the error.
        assert_eq!(ok, Err("unlucky".into()));
        assert_eq!(bad, Err("unlucky".into()));
        assert_eq!(b.load_many(Vec::new()).await, Ok(HashMap::new()));
        assert_eq!(batches.load(Ordering::SeqCst), 2);
        // Nothing is cached: a failed batch does not poison later ones.
        assert_eq!(b.load_one(1).await, Ok(Some(2)));
    }

    #[tokio::test]
    async fn a_full_batch_opens_another() {
        let (b, batches) = batcher();
        let many = b.load_many(0..(MAX_BATCH as i32));
        let more = b.load_many([5000, 5001]);
        let (many, more) = tokio::join!(many, more);
        assert_eq!(many.expect("many").len(), MAX_BATCH);
        assert_eq!(more.expect("more").len(), 2);
        assert_eq!(batches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn primed_rows_need_no_batch_unless_priming_is_off() {
        let (b, batches) = batcher();
        let b = Arc::try_unwrap(b).ok().expect("sole owner").primeable(true);
        b.prime([(1, 100), (2, 200)]);
        b.prime([(1, -1)]); // the first row primed stands
        assert_eq!(b.load_one(1).await, Ok(Some(100)));
        let both = b.load_many([2, 3]).await.expect("load");
        assert_eq!((both[&2], both[&3]), (200, 6));
        assert_eq!(batches.load(Ordering::SeqCst), 1, "only key 3 was loaded");

        let (off, batches) = batcher();
        off.prime([(1, 100)]);
        assert_eq!(off.load_one(1).await, Ok(Some(2)));
        assert_eq!(batches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_cancelled_leader_hands_the_batch_over() {
        let (b, batches) = batcher();
        // The leader joins, starts yielding and is dropped before it loads anything.
        let mut leader = Box::pin(b.load_one(7));
        assert!(futures::poll!(&mut leader).is_pending());
        drop(leader);
        // The next caller joins the still-open batch and runs it, the leader's key included.
        assert_eq!(b.load_one(8).await, Ok(Some(16)));
        assert_eq!(batches.load(Ordering::SeqCst), 1);
    }
}
