//! The agency directory of `seeds/agencies.yaml`: agencies, groups, successions, and the move
//! of open assignments to a single successor.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::{agency, agency_group, agency_group_member, agency_succession};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use super::format::*;
use super::{Groups, Ids, SeedError, SeedReport, invalid};
use crate::agencies::transfer::{Plan, Selection, reassign};
use crate::auth::{Role, Scope};
use crate::domain::text::SearchKeys;

pub(super) async fn load_agencies(
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
        let search = SearchKeys::agency(&a.name, a.short_name.as_deref());
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

pub(super) fn lookup(ids: &Ids, code: &str, file: &str, context: &str) -> Result<i32, SeedError> {
    ids.get(code)
        .copied()
        .ok_or_else(|| invalid(file, format!("{context}: không có cơ quan mã '{code}'")))
}

pub(super) async fn load_groups(
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
        out.insert(
            g.code.clone(),
            super::Group {
                id,
                code: g.code.clone(),
                name: g.name.clone(),
                members: want.into_iter().collect(),
            },
        );
    }
    Ok(out)
}

/// Moves the open assignments of each dissolved agency to whoever took over its duties, from
/// the day after its last (Resolution 190/2025/QH15: the receiving agency carries on the
/// duties, coordination included), through the one reassignment of `agencies::transfer`: the
/// first successor takes what no `split` names; a `successor_group` gives each member its own
/// row. The original assignee and every move stay in the history. A succession is recorded
/// for each member of a successor group.
pub(super) async fn apply_successions(
    txn: &impl ConnectionTrait,
    file: &AgenciesFile,
    ids: &Ids,
    groups: &Groups,
    tasks: &HashMap<String, i32>,
    report: &mut SeedReport,
) -> Result<(), SeedError> {
    const F: &str = "agencies.yaml";
    // The seed runs as the system, before any request: it sees every row.
    let scope = Scope::for_role(Role::Admin, None);
    let existing_succ: BTreeSet<(i32, i32)> = agency_succession::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|s| (s.predecessor_id, s.successor_id))
        .collect();
    for a in &file.agencies {
        let Some(last_day) = a.valid_to else {
            if a.successor_group.is_some() || !a.split.is_empty() {
                return Err(invalid(
                    F,
                    format!("{}: có cơ quan kế thừa nhưng thiếu valid_to", a.code),
                ));
            }
            continue;
        };
        let Some(effective_on) = last_day.succ_opt() else {
            continue;
        };
        let mut primary: Vec<i32> = a.successors.first().map(|s| ids[s]).into_iter().collect();
        if let Some(code) = &a.successor_group {
            if !a.successors.is_empty() {
                return Err(invalid(
                    F,
                    format!("{}: dùng một trong successors hoặc successor_group", a.code),
                ));
            }
            let g = groups
                .get(code)
                .ok_or_else(|| invalid(F, format!("{}: không có nhóm '{code}'", a.code)))?;
            if g.members.is_empty() {
                report.warnings.push(format!(
                    "{}: nhóm kế thừa '{code}' chưa có thành viên; phân công chưa hoàn thành vẫn chưa có cơ quan nhận",
                    a.code
                ));
            }
            for m in &g.members {
                if !existing_succ.contains(&(ids[&a.code], *m)) {
                    agency_succession::ActiveModel {
                        predecessor_id: Set(ids[&a.code]),
                        successor_id: Set(*m),
                        effective_on: Set(effective_on),
                        note: Set(Some(format!("Thành viên nhóm {}", g.name))),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    report.insert("agency_successions");
                }
            }
            primary.extend(g.members.iter().copied());
        }
        let mut parts = Vec::new();
        for p in &a.split {
            let mut to = Vec::new();
            for code in &p.to {
                if !a.successors.contains(code) {
                    return Err(invalid(
                        F,
                        format!("{}: split.to '{code}' không nằm trong successors", a.code),
                    ));
                }
                to.push(ids[code]);
            }
            let mut chosen = BTreeSet::new();
            for t in &p.tasks {
                let id = tasks.get(t).ok_or_else(|| {
                    invalid(
                        F,
                        format!(
                            "{}: split.tasks: không có nhiệm vụ '{t}' (dạng văn-bản/mã)",
                            a.code
                        ),
                    )
                })?;
                chosen.insert(*id);
            }
            parts.push((chosen, to));
        }
        if primary.is_empty() && parts.is_empty() {
            continue;
        }
        let reason = format!(
            "Kế thừa nhiệm vụ của {} từ ngày {} (seeds/agencies.yaml)",
            a.name,
            effective_on.format("%d/%m/%Y")
        );
        let plan = Plan {
            from: ids[&a.code],
            selection: Selection::default(),
            primary,
            parts,
            effective_on,
            reason: &reason,
            actor: "seed",
        };
        let done = reassign(txn, &scope, &plan).await?;
        for _ in 0..done.moved {
            report.update("assignments");
        }
        for _ in 0..done.shared {
            report.insert("assignments");
        }
        for _ in 0..done.merged {
            report.update("assignments");
        }
    }
    Ok(())
}
