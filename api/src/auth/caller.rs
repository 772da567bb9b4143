//! The caller of one request: the `Authorization` header checked, the token's agency looked up,
//! and the scope that follows.
//!
//! An agency token's agency and scope take two or three statements to look up (the agency by
//! its code, whether it has ended, the agencies it succeeded). On PostgreSQL the result is
//! kept ([`KeptAgencies`]) until a write commits to a table the lookup read
//! (`crate::changes`): a portal polling with agency tokens then runs no statement to learn who
//! it is. The lookup that is kept reads the primary, never a replica (whose lag could let it
//! keep a row older than the change feed's snapshot), and a refusal is never kept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use chrono::NaiveDate;
use prometheus_client::metrics::counter::Counter;

use super::jwt::Verifier;
use super::{Principal, Role, Scope, directory};
use crate::changes::{Changes, Snapshot};
use crate::db::reads::Reads;
use crate::db::touched::{self, Tables};
use crate::error::{ApiError, ApiResult};

/// At most this many agencies' lookups are kept (the province has a few hundred agencies).
const KEPT_AGENCIES: usize = 4096;

/// Agency lookups kept per agency code; see the module documentation.
pub struct KeptAgencies {
    entries: Mutex<HashMap<String, KeptAgency>>,
    max_age: Duration,
    hits: Counter,
    misses: Counter,
}

#[derive(Clone)]
struct KeptAgency {
    /// The Vietnam date it was looked up for (an agency's end date is compared with it).
    on: NaiveDate,
    seen: Snapshot,
    read: Tables,
    at: Instant,
    agency_id: i32,
    scope: Scope,
}

impl KeptAgencies {
    /// Keeps each lookup for at most `max_age` (`CHIDAO_STATISTICS_REUSE_SECS`; zero keeps
    /// none). `hits` and `misses` count lookups (for `/metrics`).
    pub fn new(max_age: Duration, hits: Counter, misses: Counter) -> Self {
        KeptAgencies {
            entries: Mutex::new(HashMap::new()),
            max_age,
            hits,
            misses,
        }
    }

    fn get(&self, code: &str, on: NaiveDate, changes: &Changes) -> Option<KeptAgency> {
        // Nothing can be kept (reuse off, SQLite, the listener down): no lookup to count.
        if self.max_age.is_zero() || changes.current().is_none() {
            return None;
        }
        let found = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .filter(|k| k.on == on && k.at.elapsed() < self.max_age && changes.unchanged(&k.seen, k.read))
            .cloned();
        match &found {
            Some(_) => self.hits.inc(),
            None => self.misses.inc(),
        };
        found
    }

    /// Keeps a lookup made after `seen`, unless a write to what it read has been announced
    /// since (it may have read the row before that write or after).
    fn put(&self, code: &str, kept: KeptAgency, changes: &Changes) {
        if self.max_age.is_zero() || kept.read == 0 || !changes.unchanged(&kept.seen, kept.read) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= KEPT_AGENCIES && !entries.contains_key(code) {
            entries.clear();
        }
        entries.insert(code.to_owned(), kept);
    }
}

/// Where a token's agency is looked up: the primary's read pool, with the kept lookups and
/// the change feed that says when they are stale.
#[derive(Clone, Copy)]
pub struct Directory<'a> {
    pub reads: &'a Reads,
    pub changes: &'a Changes,
    pub kept: &'a KeptAgencies,
    /// Look the agency up even when a lookup is kept (and keep the new one).
    pub fresh: bool,
}

/// Whether a GraphQL document may hold a mutation or a subscription: it has either word
/// anywhere (in a string or a comment too: such a query only costs a fresh lookup).
pub fn may_write(document: &str) -> bool {
    document.contains("mutation") || document.contains("subscription")
}

impl<'a> Directory<'a> {
    /// This directory, looking up afresh when `fresh`: what writes or holds a socket open is
    /// let in by the agencies as they are now, not as a kept lookup says (were the change
    /// feed's connection to die unnoticed, a kept lookup could be up to
    /// `CHIDAO_STATISTICS_REUSE_SECS` old).
    pub fn fresh_if(self, fresh: bool) -> Directory<'a> {
        Directory {
            fresh: self.fresh || fresh,
            ..self
        }
    }

    /// The agency of the token's `agency` claim on `on`, and its scope: kept, or looked up.
    async fn agency(&self, code: &str, on: NaiveDate) -> ApiResult<(i32, Scope)> {
        if !self.fresh
            && let Some(k) = self.kept.get(code, on, self.changes)
        {
            // Whatever is computed with this caller depends on what the lookup read.
            touched::depends_on(k.read);
            return Ok((k.agency_id, k.scope));
        }
        let seen = self.changes.snapshot();
        let (found, read) = touched::tracking(async {
            let id = directory::token_agency(self.reads, code, on).await?;
            let scope = directory::scope_of_role(self.reads, Role::Agency, Some(id)).await?;
            Ok::<_, ApiError>((id, scope))
        })
        .await;
        touched::depends_on(read);
        let (agency_id, scope) = found?;
        if let Some(seen) = seen {
            let kept = KeptAgency {
                on,
                seen,
                read,
                at: Instant::now(),
                agency_id,
                scope: scope.clone(),
            };
            self.kept.put(code, kept, self.changes);
        }
        Ok((agency_id, scope))
    }
}

/// The caller of one request and what it may see.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub scope: Scope,
    /// The request's `x-request-id`, for the audit log and error reports.
    pub request_id: Option<String>,
    /// When the token expires (seconds since the Unix epoch): a socket's subscriptions end then.
    pub expires_at: u64,
}

impl Caller {
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Caller {
        ctx.data_unchecked::<Caller>()
    }
}

/// Turns the `Authorization` header into a caller and its scope. Every GraphQL request, export
/// and socket passes here; there is no anonymous access.
pub async fn authenticate(
    verifier: &Verifier,
    agencies: Directory<'_>,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "Cần đăng nhập: gửi token trong header `Authorization: Bearer <token>`".into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("Header Authorization không hợp lệ".into()))?;
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("Header Authorization phải có dạng `Bearer <token>`".into())
        })?;
    let claims = verifier
        .verify(token)
        .await
        .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
    let role = Role::parse(&claims.role).ok_or_else(|| {
        ApiError::Unauthenticated(format!(
            "Vai trò '{}' không hợp lệ: dùng admin, monitor, agency, viewer hoặc analyst",
            claims
                .role
                .chars()
                .filter(|c| !c.is_control())
                .take(40)
                .collect::<String>()
        ))
    })?;
    let (agency_id, scope) = if role == Role::Agency {
        let code = claims.agency.as_deref().ok_or_else(|| {
            ApiError::Unauthenticated("Token vai trò agency phải có trường `agency` (mã cơ quan)".into())
        })?;
        let (id, scope) = agencies.agency(code, crate::clock::today()).await?;
        (Some(id), scope)
    } else {
        (None, Scope::for_role(role, None))
    };
    Ok(Caller {
        principal: Principal {
            subject: claims.sub,
            role,
            agency_id,
        },
        scope,
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(64).collect()),
        expires_at: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    /// A lookup of agency `id` that read the agencies and their successions, made now.
    fn looked_up(changes: &Changes, id: i32, on: NaiveDate) -> KeptAgency {
        let read =
            touched::bit("agencies").expect("table") | touched::bit("agency_successions").expect("table");
        KeptAgency {
            on,
            seen: changes.snapshot().expect("live"),
            read,
            at: Instant::now(),
            agency_id: id,
            scope: Scope::for_role(Role::Agency, Some(Arc::from([id]))),
        }
    }

    fn kept() -> KeptAgencies {
        KeptAgencies::new(Duration::from_secs(60), Counter::default(), Counter::default())
    }

    #[test]
    fn a_lookup_is_kept_until_what_it_read_changes() {
        let changes = Changes::live_for_tests();
        let k = kept();
        k.put("so-y-te", looked_up(&changes, 7, day(3)), &changes);
        assert_eq!(k.get("so-y-te", day(3), &changes).map(|a| a.agency_id), Some(7));
        // Another code, another day: not this lookup.
        assert!(k.get("so-tai-chinh", day(3), &changes).is_none());
        assert!(k.get("so-y-te", day(4), &changes).is_none());
        // A write to a table it did not read leaves it.
        changes.announce_for_tests("tasks");
        changes.announce_for_tests("progress_reports");
        assert!(k.get("so-y-te", day(3), &changes).is_some());
        // A succession (or an agency) written anywhere drops it.
        changes.announce_for_tests("agency_successions");
        assert!(k.get("so-y-te", day(3), &changes).is_none());
        k.put("so-y-te", looked_up(&changes, 7, day(3)), &changes);
        changes.announce_for_tests("agencies");
        assert!(k.get("so-y-te", day(3), &changes).is_none());
        // This instance's own commit drops it.
        k.put("so-y-te", looked_up(&changes, 7, day(3)), &changes);
        changes.bump();
        assert!(k.get("so-y-te", day(3), &changes).is_none());
        assert_eq!((k.hits.get(), k.misses.get()), (2, 5));
    }

    #[test]
    fn nothing_is_kept_that_a_write_overtook_or_while_the_listener_is_down() {
        let changes = Changes::live_for_tests();
        let k = kept();
        // A write announced between the snapshot and the keeping: the lookup may have read
        // the row before it.
        let late = looked_up(&changes, 7, day(3));
        changes.announce_for_tests("agencies");
        k.put("so-y-te", late, &changes);
        assert!(k.get("so-y-te", day(3), &changes).is_none());
        // The listener lost: what was kept is not used, and is dropped for good.
        k.put("so-y-te", looked_up(&changes, 7, day(3)), &changes);
        changes.listener_for_tests(false);
        assert!(k.get("so-y-te", day(3), &changes).is_none());
        changes.listener_for_tests(true);
        assert!(k.get("so-y-te", day(3), &changes).is_none());
        // A lookup that named no table is not kept.
        let mut blind = looked_up(&changes, 7, day(3));
        blind.read = 0;
        k.put("so-y-te", blind, &changes);
        assert!(k.get("so-y-te", day(3), &changes).is_none());
    }

    #[test]
    fn reuse_off_or_too_old_keeps_nothing() {
        let changes = Changes::live_for_tests();
        let off = KeptAgencies::new(Duration::ZERO, Counter::default(), Counter::default());
        off.put("so-y-te", looked_up(&changes, 7, day(3)), &changes);
        assert!(off.get("so-y-te", day(3), &changes).is_none());
        assert_eq!(off.misses.get(), 0, "nothing counted when nothing can be kept");
        let brief = KeptAgencies::new(Duration::from_millis(1), Counter::default(), Counter::default());
        brief.put("so-y-te", looked_up(&changes, 7, day(3)), &changes);
        std::thread::sleep(Duration::from_millis(5));
        assert!(brief.get("so-y-te", day(3), &changes).is_none());
        // SQLite: no change feed, nothing kept and no miss counted.
        let sqlite = Changes::off();
        assert!(kept().get("so-y-te", day(3), &sqlite).is_none());
    }

    #[test]
    fn only_words_that_may_write_ask_for_a_fresh_lookup() {
        assert!(may_write("mutation { submitProgressReport(input: {}) { id } }"));
        assert!(may_write("subscription { taskEvents { kind } }"));
        assert!(!may_write("query Q1($id: ID!) { task(id: $id) { id } }"));
        assert!(!may_write("{ tasks(first: 5) { totalCount } }"));
    }
}
