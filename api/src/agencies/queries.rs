//! The agency directory's lists and lookups.

use async_graphql::{Enum, ID, InputObject};
use entity::{agency, agency_succession};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, QueryFilter, Value};

use super::{Agency, AgencyKind};
use crate::auth::directory;
use crate::auth::scope::public;
use crate::db::reads::Reads;
use crate::domain::code::AgencyCode;
use crate::error::ApiResult;
use crate::graphql::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey};
use crate::graphql::scalars::Date;

/// Filter of `agencies`.
#[derive(InputObject, Default)]
pub struct AgencyFilter {
    /// Only these kinds.
    pub kind: Option<Vec<AgencyKind>>,
    /// Only agencies that exist on this date.
    pub active_on: Option<Date>,
    /// Only the successors of this agency.
    pub successor_of: Option<ID>,
    /// Only the predecessors of this agency.
    pub predecessor_of: Option<ID>,
    /// Only members of this group (code, e.g. `ubnd-cac-huyen-thi-xa-thanh-pho`).
    pub group: Option<String>,
    /// Name contains these words, with or without diacritics.
    pub search: Option<String>,
}

/// Fields `agencies` can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum AgencyOrderField {
    /// Name, alphabetically, ignoring diacritics.
    #[default]
    Name,
    /// Stable code.
    Code,
}

/// Ordering of `agencies`.
#[derive(InputObject, Default)]
pub struct AgencyOrder {
    /// Field to order by.
    pub field: AgencyOrderField,
    /// Direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// `agencies`: the directory is public, so no scope narrows it.
pub async fn list_agencies(
    db: &Reads,
    filter: AgencyFilter,
    order: AgencyOrder,
    args: PageArgs,
) -> ApiResult<AgencyConnection> {
    use agency::Column as C;
    let mut cond = Condition::all();
    if let Some(kinds) = filter.kind {
        cond = cond.add(C::Kind.is_in(kinds.into_iter().map(entity::enums::AgencyKind::from)));
    }
    if let Some(Date(on)) = filter.active_on {
        cond = cond
            .add(
                Condition::any()
                    .add(C::ValidFrom.is_null())
                    .add(C::ValidFrom.lte(on)),
            )
            .add(Condition::any().add(C::ValidTo.is_null()).add(C::ValidTo.gte(on)));
    }
    if let Some(id) = &filter.successor_of {
        let id = relay::decode_id(id, NodeKind::Agency, "filter.successorOf")?;
        cond = cond.add(
            C::Id.in_subquery(
                Query::select()
                    .column(agency_succession::Column::SuccessorId)
                    .from(agency_succession::Entity)
                    .and_where(agency_succession::Column::PredecessorId.eq(id))
                    .to_owned(),
            ),
        );
    }
    if let Some(id) = &filter.predecessor_of {
        let id = relay::decode_id(id, NodeKind::Agency, "filter.predecessorOf")?;
        cond = cond.add(
            C::Id.in_subquery(
                Query::select()
                    .column(agency_succession::Column::PredecessorId)
                    .from(agency_succession::Entity)
                    .and_where(agency_succession::Column::SuccessorId.eq(id))
                    .to_owned(),
            ),
        );
    }
    if let Some(code) = &filter.group {
        cond = cond.add(
            C::Id.in_subquery(
                Query::select()
                    .column((
                        entity::agency_group_member::Entity,
                        entity::agency_group_member::Column::AgencyId,
                    ))
                    .from(entity::agency_group_member::Entity)
                    .inner_join(
                        entity::agency_group::Entity,
                        Expr::col((entity::agency_group::Entity, entity::agency_group::Column::Id)).equals((
                            entity::agency_group_member::Entity,
                            entity::agency_group_member::Column::GroupId,
                        )),
                    )
                    .and_where(
                        Expr::col((entity::agency_group::Entity, entity::agency_group::Column::Code))
                            .eq(code),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(q) = &filter.search {
        for term in crate::domain::text::search_terms(q) {
            cond = cond.add(C::SearchText.like(format!("%{term}%")));
        }
    }
    let (expr, to_value): (_, fn(&serde_json::Value) -> Option<Value>) = match order.field {
        AgencyOrderField::Name => (Expr::col((agency::Entity, C::SearchText)), relay::json_text),
        AgencyOrderField::Code => (Expr::col((agency::Entity, C::Code)), relay::json_text),
    };
    let sort = SortKey {
        expr,
        id: Expr::col((agency::Entity, C::Id)),
        direction: order.direction,
        to_value,
    };
    let field = order.field;
    let (page, count) = relay::fetch_page(db, public::<agency::Entity>().filter(cond), &sort, &args, |m| {
        Cursor {
            key: match field {
                AgencyOrderField::Name => m.search_text.clone().into(),
                AgencyOrderField::Code => m.code.clone().into(),
            },
            id: m.id,
        }
    })
    .await?;
    Ok(AgencyConnection::new(page.map(Agency::new), count))
}

crate::connection!(Agency, AgencyConnection, AgencyEdge, "agencies", plain);

/// `agency(code:)`.
pub async fn agency_by_code(db: &Reads, code: &AgencyCode) -> ApiResult<Option<Agency>> {
    Ok(directory::by_code(db, code).await?.map(Agency::new))
}
