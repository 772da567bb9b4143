//! The indicator files of `seeds/`: the yearly targets, their composite parts and who answers
//! for them.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::indicator;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};

use super::agencies::lookup;
use super::format::*;
use super::{Ids, SeedError, SeedReport, invalid};
use crate::domain::number::parse_vn_decimal;

pub(super) async fn load_indicators(
    txn: &impl ConnectionTrait,
    file: &IndicatorsFile,
    agency_ids: &Ids,
    directive_ids: &HashMap<String, i32>,
    base: i32,
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
        let ordinal = base.saturating_add(i32::try_from(ordinal).unwrap_or(i32::MAX));
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
