//! Loading the reviewable seed files (`seeds/`) into the database, idempotently: rows are
//! matched by stable code, only what differs is written, and all of it in one transaction.
//! A second run over unchanged files writes nothing. `synthetic` makes the benchmark data.
//!
//! The seed loader runs as the system, before any request and outside any caller's scope, so
//! it reads tables with sea-orm's own finders (the one place besides `auth::scope` allowed to).
#![allow(clippy::disallowed_methods)]

mod agencies;
mod directives;
pub mod format;
mod indicators;
pub mod synthetic;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::Utc;
use entity::{audit_log, directive};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};

pub use format::SeedSet;

use agencies::{apply_successions, load_agencies, load_groups};
use directives::load_directive;
use indicators::load_indicators;
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("không đọc được {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Yaml {
        path: PathBuf,
        source: serde_norway::Error,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

pub(crate) fn invalid(file: &str, message: impl Into<String>) -> SeedError {
    SeedError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}

pub(crate) type Ids = HashMap<String, i32>;

/// A group as the seed uses it: its id, name and member agency ids.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub members: Vec<i32>,
}

/// The groups, by code.
pub(crate) type Groups = HashMap<String, Group>;

// ---------------------------------------------------------------------------------------
// Loading

/// What a seed run wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub inserted: BTreeMap<&'static str, usize>,
    pub updated: BTreeMap<&'static str, usize>,
    pub deleted: BTreeMap<&'static str, usize>,
    pub warnings: Vec<String>,
}

impl SeedReport {
    pub(crate) fn insert(&mut self, table: &'static str) {
        *self.inserted.entry(table).or_default() += 1;
    }
    pub(crate) fn update(&mut self, table: &'static str) {
        *self.updated.entry(table).or_default() += 1;
    }
    pub(crate) fn delete(&mut self, table: &'static str) {
        *self.deleted.entry(table).or_default() += 1;
    }
    /// Whether the run wrote anything.
    pub fn changed(&self) -> bool {
        !(self.inserted.is_empty() && self.updated.is_empty() && self.deleted.is_empty())
    }
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.changed() {
            return write!(f, "seed: nothing to change");
        }
        write!(
            f,
            "seed: inserted {:?}, updated {:?}, deleted {:?}",
            self.inserted, self.updated, self.deleted
        )
    }
}

/// Loads the seed folder when the database holds no directive yet (what `serve` does).
pub async fn seed_if_empty(db: &DatabaseConnection, dir: &Path) -> Result<Option<SeedReport>, SeedError> {
    let any = directive::Entity::find().one(db).await?;
    if any.is_some() {
        return Ok(None);
    }
    let set = SeedSet::read(dir)?;
    load(db, &set).await.map(Some)
}

/// Applies the seed set: inserts what is new, updates what differs, all in one transaction.
pub async fn load(db: &DatabaseConnection, set: &SeedSet) -> Result<SeedReport, SeedError> {
    let txn = db.begin().await?;
    let mut report = SeedReport::default();
    let now = Utc::now();

    let agency_ids = load_agencies(&txn, &set.agencies, &mut report, now).await?;
    let group_members = load_groups(&txn, &set.agencies.groups, &agency_ids, &mut report).await?;
    let mut directive_ids = HashMap::new();
    let mut task_ids = HashMap::new();
    for file in &set.directives {
        let (id, tasks) = load_directive(&txn, file, &agency_ids, &group_members, &mut report, now).await?;
        directive_ids.insert(file.directive.code.clone(), id);
        for (code, task) in tasks {
            task_ids.insert(format!("{}/{code}", file.directive.code), task);
        }
    }
    apply_successions(
        &txn,
        &set.agencies,
        &agency_ids,
        &group_members,
        &task_ids,
        &mut report,
    )
    .await?;
    // Each file's entries keep document order in a block of their own (file order is by name),
    // so the list never interleaves two documents' targets.
    for (block, file) in set.indicators.iter().enumerate() {
        let base = i32::try_from(block).unwrap_or(i32::MAX / 10_000) * 10_000;
        load_indicators(&txn, file, &agency_ids, &directive_ids, base, &mut report, now).await?;
    }

    if report.changed() {
        audit_log::ActiveModel {
            at: Set(now),
            actor: Set("seed".into()),
            actor_role: Set("system".into()),
            action: Set("seed".into()),
            entity: Set("seed".into()),
            after: Set(Some(report.to_string())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    for w in &report.warnings {
        tracing::warn!("{w}");
    }
    Ok(report)
}

/// Loads one directive file (a reviewed import draft, `publishDirectiveDraft`) in `txn`, against
/// the agencies and groups already in the database, as `chidao seed` would load it. Returns the
/// directive's id and its tasks' ids by code. The caller refuses a code that exists.
pub async fn load_one_directive(
    txn: &impl sea_orm::ConnectionTrait,
    file: &format::DirectiveFile,
) -> Result<(i32, HashMap<String, i32>), SeedError> {
    use entity::{agency, agency_group, agency_group_member};
    let agency_ids: Ids = agency::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|a| (a.code, a.id))
        .collect();
    let mut members: HashMap<i32, Vec<i32>> = HashMap::new();
    for m in agency_group_member::Entity::find().all(txn).await? {
        members.entry(m.group_id).or_default().push(m.agency_id);
    }
    let groups: Groups = agency_group::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|g| {
            let mut ms = members.remove(&g.id).unwrap_or_default();
            ms.sort_unstable();
            (
                g.code.clone(),
                Group {
                    id: g.id,
                    code: g.code,
                    name: g.name,
                    members: ms,
                },
            )
        })
        .collect();
    let mut report = SeedReport::default();
    load_directive(txn, file, &agency_ids, &groups, &mut report, Utc::now()).await
}

/// Migrates and, when the database has no directive yet, loads the seed files of `seeds`,
/// both under the set-up lock: what `chidao serve` does before it listens.
pub async fn prepare(db: &DatabaseConnection, seeds: &Path) -> Result<Option<SeedReport>, SeedError> {
    crate::db::set_up(db, || async {
        Migrator::up(db, None).await?;
        crate::db::calendar::ensure(db).await?;
        seed_if_empty(db, seeds).await
    })
    .await
}
