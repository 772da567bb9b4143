//! One directive file of `seeds/directives/`: the directive, its tasks, their assignments
//! (groups expanded) and milestones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use entity::enums::{AddresseeKind, AssignmentRole, TransferKind};
use entity::{assignment, assignment_transfer, directive, task, task_addressee, task_milestone};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

use super::agencies::lookup;
use super::format::*;
use super::{Group, Groups, Ids, SeedError, SeedReport, invalid};
use crate::domain::{deadline::parse_deadline, text::SearchKeys};
use crate::tasks::stored;

/// The agencies a list of assignees names, each as (agency id, via group id).
type Holders = Vec<(i32, Option<i32>)>;

/// Expands a list of assignees (`code` or `@group`) into (agency id, via group id), and the
/// groups named that have no members yet (their names become the task's addressees).
pub(super) fn expand<'g>(
    names: &[String],
    agency_ids: &Ids,
    groups: &'g Groups,
    file: &str,
    task: &str,
) -> Result<(Holders, Vec<&'g Group>), SeedError> {
    let mut out: Holders = Vec::new();
    let mut empty = Vec::new();
    for name in names {
        if let Some(group) = name.strip_prefix('@') {
            let g = groups
                .get(group)
                .ok_or_else(|| invalid(file, format!("{task}: không có nhóm '{group}'")))?;
            if g.members.is_empty() {
                empty.push(g);
            }
            for m in &g.members {
                if !out.iter().any(|(a, _)| a == m) {
                    out.push((*m, Some(g.id)));
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
    Ok((out, empty))
}

pub(super) async fn load_directive(
    txn: &impl ConnectionTrait,
    file: &DirectiveFile,
    agency_ids: &Ids,
    groups: &Groups,
    report: &mut SeedReport,
    now: chrono::DateTime<Utc>,
) -> Result<(i32, HashMap<String, i32>), SeedError> {
    let d = &file.directive;
    let fname = format!("directives/{}", d.code);
    let SearchKeys {
        title: search_title,
        text: search_text,
    } = SearchKeys::directive(d.number.as_deref(), &d.title, &d.issuer);
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

    if let Some(r) = &d.reporting_regime {
        load_regime(txn, &fname, directive_id, r, report, now).await?;
    }

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
    let mut merged: HashMap<i32, Vec<assignment_transfer::Model>> = HashMap::new();
    let mut addressees: HashMap<i32, Vec<task_addressee::Model>> = HashMap::new();
    let mut task_ids_by_code: HashMap<String, i32> = HashMap::new();
    if !task_ids.is_empty() {
        for m in task_milestone::Entity::find()
            .filter(task_milestone::Column::TaskId.is_in(task_ids.clone()))
            .all(txn)
            .await?
        {
            milestones.entry(m.task_id).or_default().push(m);
        }
        for a in assignment::Entity::find()
            .filter(assignment::Column::TaskId.is_in(task_ids.clone()))
            .all(txn)
            .await?
        {
            assignments.entry(a.task_id).or_default().push(a);
        }
        for m in assignment_transfer::Entity::find()
            .filter(assignment_transfer::Column::TaskId.is_in(task_ids.clone()))
            .filter(assignment_transfer::Column::Kind.eq(TransferKind::Merged))
            .all(txn)
            .await?
        {
            merged.entry(m.task_id).or_default().push(m);
        }
        for a in task_addressee::Entity::find()
            .filter(task_addressee::Column::TaskId.is_in(task_ids))
            .order_by_asc(task_addressee::Column::Ordinal)
            .all(txn)
            .await?
        {
            addressees.entry(a.task_id).or_default().push(a);
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
        let kind = entity::enums::DeadlineKind::from(deadline.kind);
        let recurrence = deadline.recurrence.map(stored::recurrence);
        let SearchKeys {
            title: search_title,
            text: search_text,
        } = SearchKeys::task(&t.code, &t.title, &t.text);
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
                entity::enums::DeadlineKind::from(dl.kind),
                dl.due_on,
            ));
        }
        let had_ms = milestones.remove(&task_id).unwrap_or_default();
        // A milestone already recorded as reached keeps that record when the text is replaced
        // (matched by its label): the seed states the document, not the progress.
        let reached: HashMap<String, (Option<chrono::NaiveDate>, Option<String>)> = had_ms
            .iter()
            .filter(|m| m.completed_on.is_some())
            .map(|m| (m.label.clone(), (m.completed_on, m.completed_by.clone())))
            .collect();
        let mut have_ms: Vec<_> = had_ms
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
                let (completed_on, completed_by) = reached.get(&label).cloned().unwrap_or_default();
                task_milestone::ActiveModel {
                    completed_on: Set(completed_on),
                    completed_by: Set(completed_by),
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
        let (leads, lead_addressees) = expand(&t.leads, agency_ids, groups, &fname, &ctx)?;
        if leads.is_empty() && !t.leads.is_empty() {
            report
                .warnings
                .push(format!("{ctx}: đơn vị chủ trì là nhóm chưa có thành viên"));
        }
        let lead_ids: BTreeSet<i32> = leads.iter().map(|(a, _)| *a).collect();
        let (coordinators, coordinator_addressees) =
            expand(&t.coordinators, agency_ids, groups, &fname, &ctx)?;
        let coordinators: Vec<(i32, Option<i32>)> = coordinators
            .into_iter()
            .filter(|(a, _)| !lead_ids.contains(a))
            .collect();
        let mut written_as: HashMap<i32, &str> = HashMap::new();
        for (code, words) in &t.written_as {
            let id = lookup(agency_ids, code, &fname, &ctx)?;
            if !lead_ids.contains(&id) && !coordinators.iter().any(|(a, _)| *a == id) {
                return Err(invalid(
                    &fname,
                    format!("{ctx}: written_as cho '{code}', cơ quan không được giao nhiệm vụ này"),
                ));
            }
            written_as.insert(id, words.as_str());
        }
        let mut want: BTreeMap<(i32, AssignmentRole), Option<i32>> = BTreeMap::new();
        for (a, g) in leads {
            want.insert((a, AssignmentRole::Lead), g);
        }
        for (a, g) in coordinators {
            want.insert((a, AssignmentRole::Coordinator), g);
        }
        let have = assignments.remove(&task_id).unwrap_or_default();
        // A row answers for the duty it was given and for those merged into it since (a
        // successor holding the task already): none of them is given again.
        let mut answers: HashMap<i32, Vec<(i32, AssignmentRole)>> = HashMap::new();
        for a in &have {
            answers
                .entry(a.id)
                .or_default()
                .push((a.original_agency_id, a.role));
        }
        for m in merged.remove(&task_id).unwrap_or_default() {
            answers
                .entry(m.assignment_id)
                .or_default()
                .push((m.original_agency_id, m.role));
        }
        let mut given = BTreeSet::new();
        for a in &have {
            let keys = &answers[&a.id];
            if keys.iter().any(|k| want.contains_key(k)) {
                given.extend(keys.iter().copied());
                let group = want
                    .get(&(a.original_agency_id, a.role))
                    .copied()
                    .unwrap_or(a.via_group_id);
                let words = written_as.get(&a.original_agency_id).map(|w| (*w).to_owned());
                if group != a.via_group_id || words != a.written_as {
                    let mut am = a.clone().into_active_model();
                    am.via_group_id = Set(group);
                    am.written_as = Set(words);
                    am.updated_at = Set(now);
                    am.update(txn).await?;
                    report.update("assignments");
                }
                continue;
            }
            // Removed from the file. Progress reports cascade with the row, so a row that has
            // any is kept and flagged for a person to decide.
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
        for key in given {
            want.remove(&key);
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
                written_as: Set(written_as.get(&agency_id).map(|w| (*w).to_owned())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            report.insert("assignments");
        }

        // Names the text addresses that hold no assignment: those the file lists, then the
        // groups it names that have no members yet.
        let mut names: Vec<(String, AssignmentRole, AddresseeKind, Option<String>)> = t
            .addressees
            .iter()
            .map(|a| (a.name.clone(), a.role, a.kind, a.note.clone()))
            .collect();
        for (group, role) in lead_addressees
            .into_iter()
            .map(|g| (g, AssignmentRole::Lead))
            .chain(
                coordinator_addressees
                    .into_iter()
                    .map(|g| (g, AssignmentRole::Coordinator)),
            )
        {
            names.push((
                group.name.clone(),
                role,
                AddresseeKind::GroupWithoutMembers,
                Some(format!(
                    "Nhóm '{}' chưa có thành viên trong danh mục cơ quan: chưa giao được cho cơ quan nào",
                    group.code
                )),
            ));
        }
        let now_named: Vec<_> = addressees
            .remove(&task_id)
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.name, a.role, a.kind, a.note))
            .collect();
        if now_named != names {
            let gone = task_addressee::Entity::delete_many()
                .filter(task_addressee::Column::TaskId.eq(task_id))
                .exec(txn)
                .await?
                .rows_affected;
            for _ in 0..gone {
                report.delete("task_addressees");
            }
            for (i, (name, role, kind, note)) in names.into_iter().enumerate() {
                task_addressee::ActiveModel {
                    task_id: Set(task_id),
                    ordinal: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                    name: Set(name),
                    role: Set(role),
                    kind: Set(kind),
                    note: Set(note),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                report.insert("task_addressees");
            }
        }
        task_ids_by_code.insert(t.code.clone(), task_id);
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
    Ok((directive_id, task_ids_by_code))
}

/// The directive's reporting regime as the file sets it, checked as `setReportingRegime`
/// checks it (`domain::duty::check_regime`). A directive whose file sets none keeps whatever
/// an administrator set.
async fn load_regime(
    txn: &impl ConnectionTrait,
    fname: &str,
    directive_id: i32,
    r: &super::format::RegimeSeed,
    report: &mut SeedReport,
    now: chrono::DateTime<Utc>,
) -> Result<(), SeedError> {
    use crate::domain::duty::{DueRule, check_regime};
    use entity::enums::DueRule as Stored;
    use entity::reporting_regime;
    let pt = crate::duties::twin::period_type_of_regime(r.period_type);
    let rule = match r.due_rule {
        Stored::DayOfLastMonth => DueRule::DayOfLastMonth(r.due_value),
        Stored::DaysAfterCutoff => DueRule::DaysAfterCutoff(r.due_value),
    };
    let years = crate::db::calendar::FIRST_YEAR..=crate::db::calendar::LAST_YEAR;
    let spec = check_regime(pt, rule, &r.first_period, r.last_period.as_deref(), years)
        .map_err(|e| super::invalid(fname, format!("reporting_regime: {}: {}", e.field, e.message)))?;
    let existing = reporting_regime::Entity::find()
        .filter(reporting_regime::Column::DirectiveId.eq(directive_id))
        .one(txn)
        .await?;
    let (first, last) = (spec.first.to_string(), spec.last.map(|l| l.to_string()));
    let due_value = r.due_value as i32;
    match existing {
        Some(m)
            if m.period_type == r.period_type
                && m.due_rule == r.due_rule
                && m.due_value == due_value
                && m.reporters == r.reporters
                && m.first_period == first
                && m.last_period == last => {}
        found => {
            let mut am = match found {
                Some(m) => {
                    report.update("reporting_regimes");
                    m.into_active_model()
                }
                None => {
                    report.insert("reporting_regimes");
                    reporting_regime::ActiveModel {
                        directive_id: Set(directive_id),
                        created_at: Set(now),
                        ..Default::default()
                    }
                }
            };
            am.period_type = Set(r.period_type);
            am.due_rule = Set(r.due_rule);
            am.due_value = Set(due_value);
            am.reporters = Set(r.reporters);
            am.first_period = Set(first);
            am.last_period = Set(last);
            am.set_by = Set("seed".to_owned());
            am.updated_at = Set(now);
            am.save(txn).await?;
        }
    }
    Ok(())
}
