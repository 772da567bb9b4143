//! The indicator list, within the caller's scope.

use std::sync::Arc;

use async_graphql::{ID, InputObject};
use entity::{indicator, indicator_value};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter};

use super::{Indicator, achievement_of, dec, latest};
use crate::auth::Scope;
use crate::db::reads::Reads;
use crate::error::ApiResult;
use crate::graphql::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey};

/// Filter of `indicators`.
#[derive(InputObject, Default)]
pub struct IndicatorFilter {
    /// Only targets of this year.
    pub year: Option<i32>,
    /// Only this unit (`%`, `tỷ đồng`…).
    pub unit: Option<String>,
    /// Only those this agency is responsible for.
    pub responsible_agency_id: Option<ID>,
    /// Only top-level targets (true) or only parts of composite ones (false).
    pub top_level: Option<bool>,
    /// Only these codes.
    pub codes: Option<Vec<String>>,
    /// Only the targets set by this document (a directive's global id).
    pub directive_id: Option<ID>,
    /// Only indicators whose achievement is below this ratio (e.g. 0.9); indicators without
    /// a value or target are left out.
    pub achievement_below: Option<f64>,
}

/// `indicators`, within the scope (an agency sees those it is responsible for).
pub async fn list_indicators(
    db: &Reads,
    scope: &Scope,
    filter: IndicatorFilter,
    args: PageArgs,
    lean: Option<&crate::db::lean::Fields>,
) -> ApiResult<IndicatorConnection> {
    use indicator::Column as Col;
    let mut cond = Condition::all();
    if let Some(y) = filter.year {
        cond = cond.add(Col::Year.eq(y));
    }
    if let Some(u) = &filter.unit {
        cond = cond.add(Col::Unit.eq(u.as_str()));
    }
    if let Some(id) = &filter.responsible_agency_id {
        cond = cond.add(Col::ResponsibleAgencyId.eq(relay::decode_id(
            id,
            NodeKind::Agency,
            "filter.responsibleAgencyId",
        )?));
    }
    match filter.top_level {
        Some(true) => cond = cond.add(Col::ParentId.is_null()),
        Some(false) => cond = cond.add(Col::ParentId.is_not_null()),
        None => {}
    }
    if let Some(codes) = &filter.codes {
        cond = cond.add(Col::Code.is_in(codes.iter().map(String::as_str)));
    }
    if let Some(id) = &filter.directive_id {
        cond =
            cond.add(Col::DirectiveId.eq(relay::decode_id(id, NodeKind::Directive, "filter.directiveId")?));
    }
    if let Some(limit) = filter.achievement_below {
        // Achievement depends on comparator and the latest value, so it is computed here
        // over the (few hundred) candidates, and the page is then cut in SQL.
        let candidates = scope
            .find::<indicator::Entity>()
            .filter(cond.clone())
            .filter(Col::Target.is_not_null())
            .all(db)
            .await?;
        let ids: Vec<i32> = candidates.iter().map(|m| m.id).collect();
        let values = scope
            .find::<indicator_value::Entity>()
            .filter(crate::db::among(
                db.get_database_backend(),
                indicator_value::Column::IndicatorId.into_expr(),
                ids,
            ))
            .all(db)
            .await?;
        let mut by_indicator: std::collections::HashMap<i32, Vec<indicator_value::Model>> =
            std::collections::HashMap::new();
        for v in values {
            by_indicator.entry(v.indicator_id).or_default().push(v);
        }
        let below: Vec<i32> = candidates
            .iter()
            .filter(|m| {
                let mine = by_indicator.get(&m.id).map(Vec::as_slice).unwrap_or_default();
                let a = latest(mine)
                    .and_then(|v| dec(&v.value))
                    .and_then(|v| achievement_of(m, v));
                a.is_some_and(|a| a < limit)
            })
            .map(|m| m.id)
            .collect();
        cond = cond.add(crate::db::among(
            db.get_database_backend(),
            Col::Id.into_expr(),
            below,
        ));
    }
    let sort = SortKey {
        expr: Expr::col((indicator::Entity, Col::Ordinal)),
        id: Expr::col((indicator::Entity, Col::Id)),
        direction: OrderDirection::Asc,
        to_value: relay::json_int,
    };
    let mut select = scope.find::<indicator::Entity>().filter(cond);
    // The cursor reads the ordinal: the droppable columns are free to go.
    crate::db::lean::lean_columns::<indicator::Entity>(sea_orm::QueryTrait::query(&mut select), lean);
    let (page, count) = relay::fetch_page(db, select, &sort, &args, |m| Cursor {
        key: m.ordinal.into(),
        id: m.id,
    })
    .await?;
    Ok(IndicatorConnection::new(
        page.map(|m| Indicator(Arc::new(m))),
        count,
    ))
}

crate::connection!(Indicator, IndicatorConnection, IndicatorEdge, "indicators", plain);
