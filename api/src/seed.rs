//! Loading the reviewable seed files (`seeds/`) into the database, idempotently: rows are
//! matched by stable code, only what differs is written, and all of it in one transaction.
//! A second run over unchanged files writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use entity::enums::{AgencyKind, AssignmentRole, Comparator, Direction, DirectiveKind, Measure};
use entity::{
    agency, agency_group, agency_group_member, agency_succession, assignment, audit_log, directive,
    indicator, task, task_milestone,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};
use serde::Deserialize;

use crate::domain::{deadline::parse_deadline, number::parse_vn_decimal, text::fold};

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

fn invalid(file: &str, message: impl Into<String>) -> SeedError {
    SeedError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------
// File format (documented for clerks in seeds/README.md)

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgenciesFile {
    pub agencies: Vec<AgencySeed>,
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySeed {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub short_name: Option<String>,
    pub kind: AgencyKind,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub successors: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveFile {
    pub directive: DirectiveSeed,
    pub tasks: Vec<TaskSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveSeed {
    pub code: String,
    #[serde(default)]
    pub number: Option<String>,
    pub kind: DirectiveKind,
    pub title: String,
    #[serde(default)]
    pub issued_on: Option<NaiveDate>,
    pub issuer: String,
    #[serde(default)]
    pub signer: Option<String>,
    #[serde(default)]
    pub signer_title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSeed {
    pub code: String,
    pub section: String,
    #[serde(default)]
    pub section_title: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub milestones: Vec<MilestoneSeed>,
    #[serde(default)]
    pub requires_report: bool,
    #[serde(default)]
    pub leads: Vec<String>,
    #[serde(default)]
    pub coordinators: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneSeed {
    pub label: String,
    #[serde(default)]
    pub deadline: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsFile {
    #[serde(default)]
    pub source_directive: Option<String>,
    pub year: i32,
    pub indicators: Vec<IndicatorSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSeed {
    pub code: String,
    #[serde(default)]
    pub item: Option<String>,
    pub name: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub comparator: Option<Comparator>,
    pub direction: Direction,
    pub measure: Measure,
    #[serde(default)]
    pub qualitative: bool,
    #[serde(default)]
    pub responsible: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source_text: Option<String>,
    #[serde(default)]
    pub children: Vec<IndicatorSeed>,
}

/// Every seed file, parsed.
#[derive(Debug)]
pub struct SeedSet {
    pub agencies: AgenciesFile,
    pub directives: Vec<DirectiveFile>,
    pub indicators: Vec<IndicatorsFile>,
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_norway::from_str(&text).map_err(|source| SeedError::Yaml {
        path: path.to_owned(),
        source,
    })
}

fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, SeedError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SeedError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

impl SeedSet {
    /// Reads `agencies.yaml`, `directives/*.yaml` and `indicators-*.yaml` from `dir`.
    pub fn read(dir: &Path) -> Result<Self, SeedError> {
        let agencies = read_yaml(&dir.join("agencies.yaml"))?;
        let directives = yaml_files_in(&dir.join("directives"))?
            .iter()
            .map(|p| read_yaml(p))
            .collect::<Result<_, _>>()?;
        let indicators = yaml_files_in(dir)?
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("indicators"))
            })
            .map(|p| read_yaml(p))
            .collect::<Result<_, _>>()?;
        Ok(SeedSet {
            agencies,
            directives,
            indicators,
        })
    }
}

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
    fn insert(&mut self, table: &'static str) {
        *self.inserted.entry(table).or_default() += 1;
    }
    fn update(&mut self, table: &'static str) {
        *self.updated.entry(table).or_default() += 1;
    }
    fn delete(&mut self, table: &'static str) {
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
    for file in &set.directives {
        let id = load_directive(&txn, file, &agency_ids, &group_members, &mut report, now).await?;
        directive_ids.insert(file.directive.code.clone(), id);
    }
    apply_successions(&txn, &set.agencies, &agency_ids, &mut report).await?;
    for file in &set.indicators {
        load_indicators(&txn, file, &agency_ids, &directive_ids, &mut report, now).await?;
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

type Ids = HashMap<String, i32>;

/// Members of each group, by group code: (group id, member agency ids).
type Groups = HashMap<String, (i32, Vec<i32>)>;

async fn load_agencies(
    txn: &impl ConnectionTrait,
    file: &AgenciesFile,
    report: &mut SeedReport,
    now: chrono::DateTime<Utc>,
) -> Result<Ids, SeedError> {
    const F: &str = "agencies.yaml";
    let existing: HashMap<String, agency::Model> = agency::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();
    let mut seen = BTreeSet::new();
    let mut ids = Ids::new();
    for a in &file.agencies {
        if !seen.insert(a.code.as_str()) {
            return Err(invalid(F, format!("mã cơ quan trùng: {}", a.code)));
        }
        if let (Some(from), Some(to)) = (a.valid_from, a.valid_to)
            && to < from
        {
            return Err(invalid(F, format!("{}: valid_to trước valid_from", a.code)));
        }
        let search = fold(&format!("{} {}", a.name, a.short_name.as_deref().unwrap_or("")));
        match existing.get(&a.code) {
            Some(m) => {
                ids.insert(a.code.clone(), m.id);
                let same = m.name == a.name
                    && m.short_name == a.short_name
                    && m.kind == a.kind
                    && m.valid_from == a.valid_from
                    && m.valid_to == a.valid_to
                    && m.search_text == search;
                if !same {
                    let mut am = m.clone().into_active_model();
                    am.name = Set(a.name.clone());
                    am.short_name = Set(a.short_name.clone());
                    am.kind = Set(a.kind);
                    am.valid_from = Set(a.valid_from);
                    am.valid_to = Set(a.valid_to);
                    am.search_text = Set(search);
                    am.updated_at = Set(now);
                    am.update(txn).await?;
                    report.update("agencies");
                }
            }
            None => {
                let m = agency::ActiveModel {
                    code: Set(a.code.clone()),
                    name: Set(a.name.clone()),
                    short_name: Set(a.short_name.clone()),
                    kind: Set(a.kind),
                    parent_id: Set(None),
                    valid_from: Set(a.valid_from),
                    valid_to: Set(a.valid_to),
                    search_text: Set(search),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                ids.insert(a.code.clone(), m.id);
                report.insert("agencies");
            }
        }
    }
    // Parents, once every agency has an id.
    for a in &file.agencies {
        let parent_id = match &a.parent {
            Some(p) => Some(lookup(&ids, p, F, &a.code)?),
            None => None,
        };
        let current = existing.get(&a.code).and_then(|m| m.parent_id);
        let inserted_now = !existing.contains_key(&a.code);
        if current != parent_id && (parent_id.is_some() || !inserted_now) {
            agency::Entity::update_many()
                .col_expr(agency::Column::ParentId, Expr::value(parent_id))
                .filter(agency::Column::Id.eq(ids[&a.code]))
                .exec(txn)
                .await?;
            if !inserted_now {
                report.update("agencies");
            }
        }
    }
    // Successions: effective the day after the predecessor's last day.
    let existing_succ: BTreeSet<(i32, i32)> = agency_succession::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|s| (s.predecessor_id, s.successor_id))
        .collect();
    for a in &file.agencies {
        if a.successors.is_empty() {
            continue;
        }
        let Some(last_day) = a.valid_to else {
            return Err(invalid(
                F,
                format!("{}: có cơ quan kế thừa nhưng thiếu valid_to", a.code),
            ));
        };
        let effective_on = last_day
            .succ_opt()
            .ok_or_else(|| invalid(F, format!("{}: valid_to không hợp lệ", a.code)))?;
        for s in &a.successors {
            let pair = (ids[&a.code], lookup(&ids, s, F, &a.code)?);
            if !existing_succ.contains(&pair) {
                agency_succession::ActiveModel {
                    predecessor_id: Set(pair.0),
                    successor_id: Set(pair.1),
                    effective_on: Set(effective_on),
                    note: Set(None),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                report.insert("agency_successions");
            }
        }
    }
    Ok(ids)
}

fn lookup(ids: &Ids, code: &str, file: &str, context: &str) -> Result<i32, SeedError> {
    ids.get(code)
        .copied()
        .ok_or_else(|| invalid(file, format!("{context}: không có cơ quan mã '{code}'")))
}

async fn load_groups(
    txn: &impl ConnectionTrait,
    groups: &[GroupSeed],
    agency_ids: &Ids,
    report: &mut SeedReport,
) -> Result<Groups, SeedError> {
    const F: &str = "agencies.yaml";
    let existing: HashMap<String, agency_group::Model> = agency_group::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();
    let mut members_now: HashMap<i32, BTreeSet<i32>> = HashMap::new();
    for m in agency_group_member::Entity::find().all(txn).await? {
        members_now.entry(m.group_id).or_default().insert(m.agency_id);
    }
    let mut out = Groups::new();
    for g in groups {
        let id = match existing.get(&g.code) {
            Some(m) => {
                if m.name != g.name || m.note != g.note {
                    let mut am = m.clone().into_active_model();
                    am.name = Set(g.name.clone());
                    am.note = Set(g.note.clone());
                    am.update(txn).await?;
                    report.update("agency_groups");
                }
                m.id
            }
            None => {
                report.insert("agency_groups");
                agency_group::ActiveModel {
                    code: Set(g.code.clone()),
                    name: Set(g.name.clone()),
                    note: Set(g.note.clone()),
                    ..Default::default()
                }
                .insert(txn)
                .await?
                .id
            }
        };
        let want: BTreeSet<i32> = g
            .members
            .iter()
            .map(|c| lookup(agency_ids, c, F, &g.code))
            .collect::<Result<_, _>>()?;
        let have = members_now.remove(&id).unwrap_or_default();
        for add in want.difference(&have) {
            agency_group_member::ActiveModel {
                group_id: Set(id),
                agency_id: Set(*add),
            }
            .insert(txn)
            .await?;
            report.insert("agency_group_members");
        }
        let gone: Vec<i32> = have.difference(&want).copied().collect();
        if !gone.is_empty() {
            agency_group_member::Entity::delete_many()
                .filter(agency_group_member::Column::GroupId.eq(id))
                .filter(agency_group_member::Column::AgencyId.is_in(gone.clone()))
                .exec(txn)
                .await?;
            for _ in gone {
                report.delete("agency_group_members");
            }
        }
        if g.members.is_empty() {
            report.warnings.push(format!(
                "nhóm '{}' chưa có thành viên: giao việc cho nhóm này chưa tới được cơ quan nào",
                g.code
            ));
        }
        out.insert(g.code.clone(), (id, want.into_iter().collect()));
    }
    Ok(out)
}

/// Expands a list of assignees (`code` or `@group`) into (agency id, via group id).
fn expand(
    names: &[String],
    agency_ids: &Ids,
    groups: &Groups,
    file: &str,
    task: &str,
) -> Result<Vec<(i32, Option<i32>)>, SeedError> {
    let mut out: Vec<(i32, Option<i32>)> = Vec::new();
    for name in names {
        if let Some(group) = name.strip_prefix('@') {
            let (gid, members) = groups
                .get(group)
                .ok_or_else(|| invalid(file, format!("{task}: không có nhóm '{group}'")))?;
            for m in members {
                if !out.iter().any(|(a, _)| a == m) {
                    out.push((*m, Some(*gid)));
                }
            }
        } else {
            let id = lookup(agency_ids, name, file, task)?;
            // Naming an agency directly wins over reaching it through a group.
            match out.iter_mut().find(|(a, _)| *a == id) {
                Some(entry) => entry.1 = None,
                None => out.push((id, None)),
            }
        }
    }
    Ok(out)
}

async fn load_directive(
    txn: &impl ConnectionTrait,
    file: &DirectiveFile,
    agency_ids: &Ids,
    groups: &Groups,
    report: &mut SeedReport,
    now: chrono::DateTime<Utc>,
) -> Result<i32, SeedError> {
    let d = &file.directive;
    let fname = format!("directives/{}", d.code);
    let search_title = fold(&format!("{} {}", d.number.as_deref().unwrap_or(""), d.title));
    let search_text = fold(&format!("{search_title} {}", d.issuer));
    let existing = directive::Entity::find()
        .filter(directive::Column::Code.eq(&d.code))
        .one(txn)
        .await?;
    let directive_id = match existing {
        Some(m) => {
            let same = m.number == d.number
                && m.kind == d.kind
                && m.title == d.title
                && m.issued_on == d.issued_on
                && m.issuer == d.issuer
                && m.signer == d.signer
                && m.signer_title == d.signer_title
                && m.search_title == search_title
                && m.search_text == search_text;
            if !same {
                let id = m.id;
                let mut am = m.into_active_model();
                am.number = Set(d.number.clone());
                am.kind = Set(d.kind);
                am.title = Set(d.title.clone());
                am.issued_on = Set(d.issued_on);
                am.issuer = Set(d.issuer.clone());
                am.signer = Set(d.signer.clone());
                am.signer_title = Set(d.signer_title.clone());
                am.search_title = Set(search_title);
                am.search_text = Set(search_text);
                am.updated_at = Set(now);
                am.update(txn).await?;
                report.update("directives");
                id
            } else {
                m.id
            }
        }
        None => {
            report.insert("directives");
            directive::ActiveModel {
                code: Set(d.code.clone()),
                number: Set(d.number.clone()),
                kind: Set(d.kind),
                title: Set(d.title.clone()),
                issued_on: Set(d.issued_on),
                issuer: Set(d.issuer.clone()),
                signer: Set(d.signer.clone()),
                signer_title: Set(d.signer_title.clone()),
                search_title: Set(search_title),
                search_text: Set(search_text),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?
            .id
        }
    };

    let existing_tasks: HashMap<String, task::Model> = task::Entity::find()
        .filter(task::Column::DirectiveId.eq(directive_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.code.clone(), t))
        .collect();
    let task_ids: Vec<i32> = existing_tasks.values().map(|t| t.id).collect();
    let mut milestones: HashMap<i32, Vec<task_milestone::Model>> = HashMap::new();
    let mut assignments: HashMap<i32, Vec<assignment::Model>> = HashMap::new();
    if !task_ids.is_empty() {
        for m in task_milestone::Entity::find()
            .filter(task_milestone::Column::TaskId.is_in(task_ids.clone()))
            .all(txn)
            .await?
        {
            milestones.entry(m.task_id).or_default().push(m);
        }
        for a in assignment::Entity::find()
            .filter(assignment::Column::TaskId.is_in(task_ids))
            .all(txn)
            .await?
        {
            assignments.entry(a.task_id).or_default().push(a);
        }
    }
    let extended: BTreeSet<i32> = entity::deadline_extension::Entity::find()
        .filter(entity::deadline_extension::Column::TaskId.is_in(existing_tasks.values().map(|t| t.id)))
        .all(txn)
        .await?
        .into_iter()
        .map(|e| e.task_id)
        .collect();

    let mut seen = BTreeSet::new();
    for (ordinal, t) in file.tasks.iter().enumerate() {
        if !seen.insert(t.code.as_str()) {
            return Err(invalid(&fname, format!("mã nhiệm vụ trùng: {}", t.code)));
        }
        let ctx = format!("{} {}", d.code, t.code);
        let deadline =
            parse_deadline(t.deadline.as_deref()).map_err(|e| invalid(&fname, format!("{}: {e}", t.code)))?;
        let kind = deadline.kind.as_str().to_owned();
        let recurrence = deadline.recurrence.map(|r| r.as_str().to_owned());
        let search_title = fold(&t.title);
        let search_text = fold(&format!("{} {} {}", t.code, t.title, t.text));
        let ordinal = i32::try_from(ordinal).unwrap_or(i32::MAX);

        let task_id = match existing_tasks.get(&t.code) {
            Some(m) => {
                // An extension moved `due_on`; the seed only owns the original date then.
                let due_on = if extended.contains(&m.id) {
                    m.due_on
                } else {
                    deadline.due_on
                };
                let same = m.section == t.section
                    && m.section_title == t.section_title
                    && m.item == t.item
                    && m.ordinal == ordinal
                    && m.title == t.title
                    && m.full_text == t.text
                    && m.deadline_text == t.deadline
                    && m.deadline_kind == kind
                    && m.recurrence == recurrence
                    && m.original_due_on == deadline.due_on
                    && m.due_on == due_on
                    && m.requires_report == t.requires_report
                    && m.search_title == search_title
                    && m.search_text == search_text;
                if !same {
                    let mut am = m.clone().into_active_model();
                    am.section = Set(t.section.clone());
                    am.section_title = Set(t.section_title.clone());
                    am.item = Set(t.item.clone());
                    am.ordinal = Set(ordinal);
                    am.title = Set(t.title.clone());
                    am.full_text = Set(t.text.clone());
                    am.deadline_text = Set(t.deadline.clone());
                    am.deadline_kind = Set(kind);
                    am.recurrence = Set(recurrence);
                    am.original_due_on = Set(deadline.due_on);
                    am.due_on = Set(due_on);
                    am.requires_report = Set(t.requires_report);
                    am.search_title = Set(search_title);
                    am.search_text = Set(search_text);
                    am.updated_at = Set(now);
                    am.update(txn).await?;
                    report.update("tasks");
                }
                m.id
            }
            None => {
                report.insert("tasks");
                task::ActiveModel {
                    directive_id: Set(directive_id),
                    code: Set(t.code.clone()),
                    section: Set(t.section.clone()),
                    section_title: Set(t.section_title.clone()),
                    item: Set(t.item.clone()),
                    ordinal: Set(ordinal),
                    title: Set(t.title.clone()),
                    full_text: Set(t.text.clone()),
                    deadline_text: Set(t.deadline.clone()),
                    deadline_kind: Set(kind),
                    recurrence: Set(recurrence),
                    original_due_on: Set(deadline.due_on),
                    due_on: Set(deadline.due_on),
                    completed_on: Set(None),
                    requires_report: Set(t.requires_report),
                    search_title: Set(search_title),
                    search_text: Set(search_text),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?
                .id
            }
        };

        // Milestones: replaced as a whole when they differ.
        let mut want_ms = Vec::new();
        for (i, ms) in t.milestones.iter().enumerate() {
            let dl = parse_deadline(ms.deadline.as_deref())
                .map_err(|e| invalid(&fname, format!("{} / {}: {e}", t.code, ms.label)))?;
            want_ms.push((
                i32::try_from(i).unwrap_or(i32::MAX),
                ms.label.clone(),
                ms.deadline.clone(),
                dl.kind.as_str().to_owned(),
                dl.due_on,
            ));
        }
        let mut have_ms: Vec<_> = milestones
            .remove(&task_id)
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.ordinal, m.label, m.deadline_text, m.deadline_kind, m.due_on))
            .collect();
        have_ms.sort();
        if have_ms != want_ms {
            let removed = task_milestone::Entity::delete_many()
                .filter(task_milestone::Column::TaskId.eq(task_id))
                .exec(txn)
                .await?
                .rows_affected;
            for _ in 0..removed {
                report.delete("task_milestones");
            }
            for (ordinal, label, text, kind, due_on) in want_ms {
                task_milestone::ActiveModel {
                    task_id: Set(task_id),
                    ordinal: Set(ordinal),
                    label: Set(label),
                    deadline_text: Set(text),
                    deadline_kind: Set(kind),
                    due_on: Set(due_on),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                report.insert("task_milestones");
            }
        }

        // Assignments, keyed by the agency the directive named and the role.
        let leads = expand(&t.leads, agency_ids, groups, &fname, &ctx)?;
        if leads.is_empty() && !t.leads.is_empty() {
            report
                .warnings
                .push(format!("{ctx}: đơn vị chủ trì là nhóm chưa có thành viên"));
        }
        let lead_ids: BTreeSet<i32> = leads.iter().map(|(a, _)| *a).collect();
        let coordinators: Vec<(i32, Option<i32>)> =
            expand(&t.coordinators, agency_ids, groups, &fname, &ctx)?
                .into_iter()
                .filter(|(a, _)| !lead_ids.contains(a))
                .collect();
        let mut want: BTreeMap<(i32, AssignmentRole), Option<i32>> = BTreeMap::new();
        for (a, g) in leads {
            want.insert((a, AssignmentRole::Lead), g);
        }
        for (a, g) in coordinators {
            want.insert((a, AssignmentRole::Coordinator), g);
        }
        let have = assignments.remove(&task_id).unwrap_or_default();
        for a in &have {
            match want.remove(&(a.original_agency_id, a.role)) {
                Some(g) if g == a.via_group_id => {}
                Some(g) => {
                    let mut am = a.clone().into_active_model();
                    am.via_group_id = Set(g);
                    am.updated_at = Set(now);
                    am.update(txn).await?;
                    report.update("assignments");
                }
                None => {
                    // Removed from the file. Progress reports cascade with the row, so a row
                    // that has any is kept and flagged for a person to decide.
                    let reports = entity::progress_report::Entity::find()
                        .filter(entity::progress_report::Column::AssignmentId.eq(a.id))
                        .one(txn)
                        .await?;
                    if reports.is_some() {
                        report.warnings.push(format!(
                            "{ctx}: phân công #{} không còn trong tệp nhưng đã có báo cáo, giữ lại",
                            a.id
                        ));
                    } else {
                        assignment::Entity::delete_by_id(a.id).exec(txn).await?;
                        report.delete("assignments");
                    }
                }
            }
        }
        for ((agency_id, role), via_group_id) in want {
            assignment::ActiveModel {
                task_id: Set(task_id),
                agency_id: Set(agency_id),
                original_agency_id: Set(agency_id),
                role: Set(role),
                via_group_id: Set(via_group_id),
                completed_on: Set(None),
                transferred_on: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            report.insert("assignments");
        }
    }
    let missing: Vec<&String> = existing_tasks
        .keys()
        .filter(|c| !seen.contains(c.as_str()))
        .collect();
    if !missing.is_empty() {
        report.warnings.push(format!(
            "{}: {} nhiệm vụ trong cơ sở dữ liệu không có trong tệp (giữ nguyên): {:?}",
            d.code,
            missing.len(),
            missing
        ));
    }
    Ok(directive_id)
}

/// Moves the open assignments of agencies dissolved with exactly one successor to that
/// successor (Resolution 190/2025/QH15: the receiving agency carries on the duties,
/// coordination included). The original assignee stays in `original_agency_id`.
async fn apply_successions(
    txn: &impl ConnectionTrait,
    file: &AgenciesFile,
    ids: &Ids,
    report: &mut SeedReport,
) -> Result<(), SeedError> {
    for a in &file.agencies {
        let (Some(last_day), [successor]) = (a.valid_to, a.successors.as_slice()) else {
            if a.successors.len() > 1 {
                report.warnings.push(format!(
                    "{}: nhiều cơ quan kế thừa, phân công chưa hoàn thành không tự chuyển",
                    a.code
                ));
            }
            continue;
        };
        let Some(effective_on) = last_day.succ_opt() else {
            continue;
        };
        let moved =
            crate::agencies::transfer_open_assignments(txn, ids[&a.code], ids[successor], effective_on)
                .await?;
        for _ in 0..moved {
            report.update("assignments");
        }
    }
    Ok(())
}

async fn load_indicators(
    txn: &impl ConnectionTrait,
    file: &IndicatorsFile,
    agency_ids: &Ids,
    directive_ids: &HashMap<String, i32>,
    report: &mut SeedReport,
    now: chrono::DateTime<Utc>,
) -> Result<(), SeedError> {
    let fname = format!("indicators-{}.yaml", file.year);
    let directive_id = match &file.source_directive {
        Some(code) => Some(
            *directive_ids
                .get(code)
                .ok_or_else(|| invalid(&fname, format!("không có văn bản mã '{code}'")))?,
        ),
        None => None,
    };
    let existing: HashMap<String, indicator::Model> = indicator::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();
    // Flatten parents before children, keeping document order.
    let mut flat: Vec<(&IndicatorSeed, Option<&str>)> = Vec::new();
    fn walk<'a>(
        items: &'a [IndicatorSeed],
        parent: Option<&'a str>,
        out: &mut Vec<(&'a IndicatorSeed, Option<&'a str>)>,
    ) {
        for i in items {
            out.push((i, parent));
            walk(&i.children, Some(&i.code), out);
        }
    }
    walk(&file.indicators, None, &mut flat);

    let mut ids: HashMap<&str, i32> = HashMap::new();
    let mut seen = BTreeSet::new();
    for (ordinal, (i, parent)) in flat.into_iter().enumerate() {
        if !seen.insert(i.code.as_str()) {
            return Err(invalid(&fname, format!("mã chỉ tiêu trùng: {}", i.code)));
        }
        let target = match &i.target {
            Some(t) => Some(
                parse_vn_decimal(t)
                    .map_err(|e| invalid(&fname, format!("{}: {e}", i.code)))?
                    .normalize()
                    .to_string(),
            ),
            None => None,
        };
        if target.is_some() && i.qualitative {
            return Err(invalid(
                &fname,
                format!("{}: chỉ tiêu định tính không có giá trị mục tiêu", i.code),
            ));
        }
        let responsible = match &i.responsible {
            Some(c) => Some(lookup(agency_ids, c, &fname, &i.code)?),
            None => None,
        };
        let parent_id = parent.map(|p| ids[p]);
        let ordinal = i32::try_from(ordinal).unwrap_or(i32::MAX);
        let id = match existing.get(&i.code) {
            Some(m) => {
                let same = m.item == i.item
                    && m.name == i.name
                    && m.unit == i.unit
                    && m.target == target
                    && m.target_text == i.target
                    && m.comparator == i.comparator
                    && m.direction == i.direction
                    && m.measure == i.measure
                    && m.year == file.year
                    && m.parent_id == parent_id
                    && m.responsible_agency_id == responsible
                    && m.directive_id == directive_id
                    && m.qualitative == i.qualitative
                    && m.description == i.description
                    && m.source_text == i.source_text
                    && m.ordinal == ordinal;
                if !same {
                    let mut am = m.clone().into_active_model();
                    am.item = Set(i.item.clone());
                    am.name = Set(i.name.clone());
                    am.unit = Set(i.unit.clone());
                    am.target = Set(target);
                    am.target_text = Set(i.target.clone());
                    am.comparator = Set(i.comparator);
                    am.direction = Set(i.direction);
                    am.measure = Set(i.measure);
                    am.year = Set(file.year);
                    am.parent_id = Set(parent_id);
                    am.responsible_agency_id = Set(responsible);
                    am.directive_id = Set(directive_id);
                    am.qualitative = Set(i.qualitative);
                    am.description = Set(i.description.clone());
                    am.source_text = Set(i.source_text.clone());
                    am.ordinal = Set(ordinal);
                    am.updated_at = Set(now);
                    am.update(txn).await?;
                    report.update("indicators");
                }
                m.id
            }
            None => {
                report.insert("indicators");
                indicator::ActiveModel {
                    code: Set(i.code.clone()),
                    item: Set(i.item.clone()),
                    name: Set(i.name.clone()),
                    unit: Set(i.unit.clone()),
                    target: Set(target),
                    target_text: Set(i.target.clone()),
                    comparator: Set(i.comparator),
                    direction: Set(i.direction),
                    measure: Set(i.measure),
                    year: Set(file.year),
                    parent_id: Set(parent_id),
                    responsible_agency_id: Set(responsible),
                    directive_id: Set(directive_id),
                    qualitative: Set(i.qualitative),
                    description: Set(i.description.clone()),
                    source_text: Set(i.source_text.clone()),
                    ordinal: Set(ordinal),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?
                .id
            }
        };
        ids.insert(i.code.as_str(), id);
    }
    Ok(())
}
