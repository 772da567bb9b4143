//! Whole GraphQL answers kept and reused while nothing they read has changed.
//!
//! A query's answer depends on the committed data, the caller and Vietnam's date, and on
//! nothing else: no field of `Query` reads the clock finer than the day, the process's state
//! or anything outside the database. So an answer is kept under its [`Key`] (the document,
//! the operation, the variables, the caller's subject, agency and scope, and the day) with the
//! tables its statements named (`db::touched`) and every table's generation read before it
//! was computed (`changes::Snapshot`). It is reused, as the bytes that were sent, until a
//! write commits to one of those tables (this instance's writes at once, anyone else's when
//! PostgreSQL's notification arrives, milliseconds later), the day changes, or
//! `CHIDAO_STATISTICS_REUSE_SECS` pass. A reused answer runs no statement, no resolver and
//! no serialisation.
//!
//! Kept: answers of queries without a single error, of a document and variables small enough
//! for a key ([`MAX_DOCUMENT`], [`MAX_VARIABLES`]) and at most [`MAX_ANSWER`] bytes, within
//! [`BUDGET`] bytes in all (least recently used first out). Never kept: mutations (and so
//! anything a mutation answers), anything on SQLite or while the change listener is
//! reconnecting (`Changes::snapshot` is `None`), anything computed while a write to its
//! tables committed.
//!
//! With a read replica (`db::replica`), an answer that will be kept is computed on the
//! primary: the generations are the primary's, which a lagging replica may not have reached.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

use crate::auth::{Caller, Scope};
use crate::changes::{Changes, Snapshot};
use crate::db::touched::Tables;

/// Longer documents are computed every time.
pub const MAX_DOCUMENT: usize = 16 * 1024;
/// Variables longer than this (as JSON) are computed every time.
pub const MAX_VARIABLES: usize = 4 * 1024;
/// Longer answers are computed every time.
pub const MAX_ANSWER: usize = 1024 * 1024;
/// What all kept answers and their keys may hold together.
pub const BUDGET: usize = 32 * 1024 * 1024;
/// The most answers kept.
const ENTRIES: usize = 4096;
/// Bytes an entry takes besides its texts and answer (the key's scope, the map's slot).
const OVERHEAD: usize = 256;

/// What an answer depends on besides the data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    query: Box<str>,
    operation: Option<Box<str>>,
    variables: Box<str>,
    subject: Box<str>,
    agency: Option<i32>,
    scope: Scope,
    day: NaiveDate,
}

impl Key {
    /// The key of a request (`variables` as the client sent them: the same values in
    /// another order are another key, computed once more), or `None` when it is too large to keep.
    pub fn of(
        query: &str,
        operation: Option<&str>,
        variables: Option<&serde_json::Map<String, serde_json::Value>>,
        caller: &Caller,
        day: NaiveDate,
    ) -> Option<Key> {
        if query.len() > MAX_DOCUMENT || operation.is_some_and(|o| o.len() > 256) {
            return None;
        }
        let variables = match variables {
            Some(v) if !v.is_empty() => serde_json::to_string(v).ok()?,
            _ => String::new(),
        };
        if variables.len() > MAX_VARIABLES {
            return None;
        }
        if let crate::auth::Rows::Agencies(ids) = &caller.scope.rows
            && ids.len() > 256
        {
            return None;
        }
        Some(Key {
            query: query.into(),
            operation: operation.map(Into::into),
            variables: variables.into(),
            subject: caller.principal.subject.as_str().into(),
            agency: caller.principal.agency_id,
            scope: caller.scope.clone(),
            day,
        })
    }

    /// Vietnam's date the answer is for.
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    fn size(&self) -> usize {
        OVERHEAD
            + self.query.len()
            + self.operation.as_ref().map_or(0, |o| o.len())
            + self.variables.len()
            + self.subject.len()
            + match &self.scope.rows {
                crate::auth::Rows::Agencies(ids) => ids.len() * 4,
                _ => 0,
            }
    }
}

/// A kept answer: the response body as sent, and the operation's name (for the metrics and
/// the log line of a reused answer, whose document is not parsed again).
pub struct Answer {
    pub body: Box<[u8]>,
    pub operation: Box<str>,
}

struct Kept {
    tables: Tables,
    seen: Snapshot,
    at: Instant,
    answer: Arc<Answer>,
    size: usize,
}

struct Entries {
    map: lru::LruCache<Key, Kept>,
    bytes: usize,
}

/// The kept answers of one running service.
pub struct Answers {
    entries: Mutex<Entries>,
    max_age: Duration,
    hits: Counter,
    misses: Counter,
    bytes: Gauge,
}

impl Answers {
    /// Keeps answers for at most `max_age` (zero: none); lookups counted in `hits` and
    /// `misses`, the bytes kept shown in `bytes`.
    pub fn new(max_age: Duration, hits: Counter, misses: Counter, bytes: Gauge) -> Self {
        let entries = std::num::NonZeroUsize::new(ENTRIES).unwrap_or(std::num::NonZeroUsize::MIN);
        Answers {
            entries: Mutex::new(Entries {
                map: lru::LruCache::new(entries),
                bytes: 0,
            }),
            max_age,
            hits,
            misses,
            bytes,
        }
    }

    /// Whether anything is kept at all.
    pub fn enabled(&self) -> bool {
        !self.max_age.is_zero()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer kept for `key`, if nothing it read has changed since.
    pub fn get(&self, key: &Key, changes: &Changes) -> Option<Arc<Answer>> {
        let mut entries = self.lock();
        let fresh = entries.map.get(key).map(|k| {
            (
                k.at.elapsed() < self.max_age && changes.unchanged(&k.seen, k.tables),
                k.answer.clone(),
            )
        });
        match fresh {
            Some((true, answer)) => {
                drop(entries);
                self.hits.inc();
                Some(answer)
            }
            Some((false, _)) => {
                if let Some(old) = entries.map.pop(key) {
                    entries.bytes = entries.bytes.saturating_sub(old.size);
                    self.bytes.set(entries.bytes as i64);
                }
                drop(entries);
                self.misses.inc();
                None
            }
            None => {
                drop(entries);
                self.misses.inc();
                None
            }
        }
    }

    /// Keeps `body`, computed from `tables` as they were at `seen`, unless one of them has
    /// changed since (a slow answer must not outlive a newer write) or it is too large.
    pub fn put(&self, key: Key, seen: Snapshot, tables: Tables, answer: Answer, changes: &Changes) {
        if !self.enabled() || answer.body.len() > MAX_ANSWER || !changes.unchanged(&seen, tables) {
            return;
        }
        let size = key.size() + answer.body.len() + answer.operation.len();
        let kept = Kept {
            tables,
            seen,
            at: Instant::now(),
            answer: Arc::new(answer),
            size,
        };
        let mut entries = self.lock();
        if let Some((_, old)) = entries.map.push(key, kept) {
            entries.bytes = entries.bytes.saturating_sub(old.size);
        }
        entries.bytes += size;
        while entries.bytes > BUDGET {
            match entries.map.pop_lru() {
                Some((_, old)) => entries.bytes = entries.bytes.saturating_sub(old.size),
                None => {
                    entries.bytes = 0;
                    break;
                }
            }
        }
        self.bytes.set(entries.bytes as i64);
    }

    /// (answers kept, bytes they take).
    #[cfg(test)]
    pub fn usage(&self) -> (usize, usize) {
        let e = self.lock();
        (e.map.len(), e.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Principal, Role};
    use crate::db::touched::bit;

    fn caller(subject: &str, role: Role, agencies: Option<&[i32]>) -> Caller {
        Caller {
            principal: Principal {
                subject: subject.into(),
                role,
                agency_id: agencies.map(|a| a[0]),
            },
            scope: Scope::for_role(role, agencies.map(Into::into)),
            request_id: None,
            expires_at: 0,
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 1).expect("date")
    }

    fn key(q: &str, who: &Caller) -> Key {
        Key::of(q, None, None, who, day()).expect("small")
    }

    fn answer(body: &str) -> Answer {
        Answer {
            body: body.as_bytes().into(),
            operation: "Q".into(),
        }
    }

    fn answers(max_age: Duration) -> Answers {
        Answers::new(max_age, Counter::default(), Counter::default(), Gauge::default())
    }

    fn table(name: &str) -> Tables {
        bit(name).expect("a table")
    }

    #[test]
    fn an_answer_lives_until_a_table_it_read_changes() {
        let changes = Changes::live_for_tests();
        let a = answers(Duration::from_secs(60));
        let admin = caller("admin", Role::Admin, None);
        let k = key("{ directives { totalCount } }", &admin);
        let seen = changes.snapshot().expect("live");
        let read = table("directives") | table("tasks");
        a.put(k.clone(), seen, read, answer("one"), &changes);
        assert_eq!(&*a.get(&k, &changes).expect("kept").body, b"one");
        // A write elsewhere leaves it.
        changes.announce_for_tests("progress_reports");
        changes.announce_for_tests("webhook_attempts");
        assert!(a.get(&k, &changes).is_some());
        // A write to a table it read drops it, and frees its room.
        changes.announce_for_tests("tasks");
        assert!(a.get(&k, &changes).is_none());
        assert_eq!(a.usage(), (0, 0));
        // A table chidao does not know moves every table.
        let seen = changes.snapshot().expect("live");
        a.put(k.clone(), seen, read, answer("two"), &changes);
        changes.announce_for_tests("someone_elses_table");
        assert!(a.get(&k, &changes).is_none());
        // This instance's own commit (`bump`) moves every table at once.
        let seen = changes.snapshot().expect("live");
        a.put(k.clone(), seen, table("indicators"), answer("three"), &changes);
        changes.bump();
        assert!(a.get(&k, &changes).is_none());
        assert_eq!((a.hits.get(), a.misses.get()), (2, 3));
    }

    #[test]
    fn nothing_is_kept_that_a_write_overtook_or_that_the_listener_may_have_missed() {
        let changes = Changes::live_for_tests();
        let a = answers(Duration::from_secs(60));
        let k = key("{ tasks { totalCount } }", &caller("admin", Role::Admin, None));
        // Computed while a write to its table committed: not kept.
        let seen = changes.snapshot().expect("live");
        changes.announce_for_tests("tasks");
        a.put(k.clone(), seen, table("tasks"), answer("old"), &changes);
        assert!(a.get(&k, &changes).is_none());
        // Kept, then the listener drops: not reused while it is down, nor after it is back.
        let seen = changes.snapshot().expect("live");
        a.put(k.clone(), seen, table("tasks"), answer("x"), &changes);
        changes.listener_for_tests(false);
        assert!(changes.snapshot().is_none());
        assert!(a.get(&k, &changes).is_none());
        a.put(k.clone(), seen, table("tasks"), answer("x"), &changes);
        changes.listener_for_tests(true);
        assert!(a.get(&k, &changes).is_none());
        // Reuse off keeps nothing; an old answer expires.
        let off = answers(Duration::ZERO);
        let seen = changes.snapshot().expect("live");
        off.put(k.clone(), seen, table("tasks"), answer("x"), &changes);
        assert!(off.get(&k, &changes).is_none());
        let short = answers(Duration::from_millis(1));
        short.put(k.clone(), seen, table("tasks"), answer("x"), &changes);
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get(&k, &changes).is_none());
    }

    #[test]
    fn callers_never_share_answers() {
        let q = "{ tasks { totalCount } }";
        let a = key(q, &caller("so-tai-chinh", Role::Agency, Some(&[3])));
        let b = key(q, &caller("so-y-te", Role::Agency, Some(&[4])));
        let same_agency_other_person = key(q, &caller("so-tai-chinh-2", Role::Agency, Some(&[3])));
        let monitor = key(q, &caller("so-tai-chinh", Role::Monitor, None));
        assert_ne!(a, b);
        assert_ne!(a, same_agency_other_person);
        assert_ne!(a, monitor);
        assert_eq!(a, key(q, &caller("so-tai-chinh", Role::Agency, Some(&[3]))));
        let later = Key::of(
            q,
            None,
            None,
            &caller("so-tai-chinh", Role::Agency, Some(&[3])),
            day().succ_opt().expect("d"),
        );
        assert_ne!(Some(a), later, "another day is another answer");
        let vars = |v: serde_json::Value| match v {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        let admin = caller("admin", Role::Admin, None);
        let one = Key::of(q, None, Some(&vars(serde_json::json!({"n": 1}))), &admin, day());
        let two = Key::of(q, None, Some(&vars(serde_json::json!({"n": 2}))), &admin, day());
        assert_ne!(one, two);
        assert_eq!(
            Key::of(q, None, Some(&vars(serde_json::json!({}))), &admin, day()),
            Key::of(q, None, None, &admin, day())
        );
        // Too large to keep: computed every time.
        assert!(Key::of(&"x".repeat(MAX_DOCUMENT + 1), None, None, &admin, day()).is_none());
        let big = vars(serde_json::json!({ "s": "y".repeat(MAX_VARIABLES) }));
        assert!(Key::of(q, None, Some(&big), &admin, day()).is_none());
    }

    #[test]
    fn kept_answers_stay_within_their_budget() {
        let changes = Changes::live_for_tests();
        let a = answers(Duration::from_secs(60));
        let admin = caller("admin", Role::Admin, None);
        let seen = changes.snapshot().expect("live");
        let body = "z".repeat(MAX_ANSWER);
        for i in 0..(BUDGET / MAX_ANSWER + 8) {
            a.put(
                key(&format!("{{ q{i} }}"), &admin),
                seen,
                table("tasks"),
                answer(&body),
                &changes,
            );
        }
        let (n, bytes) = a.usage();
        assert!(
            bytes <= BUDGET && n < BUDGET / MAX_ANSWER,
            "{n} answers, {bytes} bytes"
        );
        assert!(
            a.get(&key("{ q0 }", &admin), &changes).is_none(),
            "the oldest went first"
        );
        // Too large an answer is not kept at all.
        let k = key("{ huge }", &admin);
        a.put(
            k.clone(),
            seen,
            table("tasks"),
            answer(&"z".repeat(MAX_ANSWER + 1)),
            &changes,
        );
        assert!(a.get(&k, &changes).is_none());
    }
}
