//! Agencies (cơ quan, đơn vị): the directory, its 2025 successions, and each agency's
//! assignments.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::NaiveDate;
use entity::{agency, agency_succession, assignment};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Value};

use crate::context::{Caller, State, today};
use crate::error::{ApiError, ApiResult};
use crate::loaders::{Loaders, load_err};
use crate::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey};
use crate::scalars::Date;
use crate::tasks::{AssignmentConnection, AssignmentFilter};

/// What kind of body an agency is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AgencyKind")]
pub enum AgencyKind {
    /// Văn phòng UBND tỉnh.
    ProvincialOffice,
    /// Sở and department-level bodies (Thanh tra tỉnh).
    Department,
    /// Ban (Ban Quản lý Khu kinh tế, Ban Dân tộc).
    Board,
    /// UBND huyện, thị xã, thành phố (district level; abolished 1 July 2025).
    District,
    /// UBND xã, phường (commune level).
    Commune,
    /// Central agencies located in the province (Công an tỉnh, Thuế tỉnh…).
    Sector,
    /// Ủy ban MTTQ and mass organisations (đoàn thể).
    MassOrganization,
    /// Anything else (enterprises…).
    Other,
}

/// An agency (cơ quan, đơn vị) that directives assign tasks to.
#[derive(Clone)]
pub struct Agency(pub Arc<agency::Model>);

impl Agency {
    pub fn new(m: agency::Model) -> Self {
        Agency(Arc::new(m))
    }
}

/// An agency (cơ quan, đơn vị) that directives assign tasks to.
#[Object]
impl Agency {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Agency, self.0.id)
    }
    /// Stable code, e.g. `so-tai-chinh`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Full name (tên cơ quan), e.g. "Sở Tài chính".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Short name (tên viết tắt), e.g. "Sở KH&ĐT".
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    /// Kind of body.
    async fn kind(&self) -> AgencyKind {
        self.0.kind.into()
    }
    /// First day the agency exists; null when it predates the records.
    async fn valid_from(&self) -> Option<Date> {
        self.0.valid_from.map(Date)
    }
    /// Last day the agency exists (inclusive); null while it exists.
    async fn valid_to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
    /// Whether the agency exists on `on` (default: today in Vietnam).
    async fn active(&self, on: Option<Date>) -> bool {
        is_active(&self.0, on.map_or_else(today, |d| d.0))
    }
    /// Parent agency (cơ quan chủ quản), if any.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        let Some(pid) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(load_agency(ctx, pid).await?)
    }
    /// Agencies that took over this one's duties (cơ quan kế thừa) after a merger.
    async fn successors(&self, ctx: &Context<'_>) -> Result<Vec<Succession>> {
        let rows = Loaders::of(ctx)
            .successions_from
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().map(|s| Succession::new(s, true)).collect())
    }
    /// Agencies whose duties this one took over.
    async fn predecessors(&self, ctx: &Context<'_>) -> Result<Vec<Succession>> {
        let rows = Loaders::of(ctx)
            .successions_to
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().map(|s| Succession::new(s, false)).collect())
    }
    /// Assignments this agency holds (as lead or coordinator), within what the caller may see.
    #[allow(clippy::too_many_arguments)]
    async fn assignments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AssignmentFilter>,
    ) -> Result<AssignmentConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(crate::tasks::list_assignments(ctx, Some(self.0.id), filter.unwrap_or_default(), args).await?)
    }
}

pub fn is_active(m: &agency::Model, on: NaiveDate) -> bool {
    m.valid_from.is_none_or(|f| f <= on) && m.valid_to.is_none_or(|t| on <= t)
}

/// A succession between two agencies (the 2025 mergers): who, and from when.
#[derive(Clone)]
pub struct Succession {
    other_id: i32,
    effective_on: NaiveDate,
    note: Option<String>,
}

impl Succession {
    fn new(s: &agency_succession::Model, forward: bool) -> Self {
        Succession {
            other_id: if forward { s.successor_id } else { s.predecessor_id },
            effective_on: s.effective_on,
            note: s.note.clone(),
        }
    }
}

/// A succession between two agencies (the 2025 mergers): who, and from when.
#[Object]
impl Succession {
    /// The other agency of the succession (the successor in `successors`, the predecessor in
    /// `predecessors`).
    async fn agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        load_agency(ctx, self.other_id)
            .await?
            .ok_or_else(|| ApiError::not_found("cơ quan").into())
    }
    /// First day the successor carries the duties.
    async fn effective_on(&self) -> Date {
        Date(self.effective_on)
    }
    /// Legal basis or remark.
    async fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

pub async fn load_agency(ctx: &Context<'_>, id: i32) -> ApiResult<Option<Agency>> {
    Ok(Loaders::of(ctx)
        .agency
        .load_one(id)
        .await
        .map_err(load_err)?
        .map(Agency::new))
}

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

pub async fn list_agencies(
    ctx: &Context<'_>,
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
    let db = &State::of(ctx).reads;
    let (page, count) = relay::fetch_page(db, agency::Entity::find().filter(cond), &sort, &args, |m| {
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

crate::connection!(Agency, AgencyConnection, AgencyEdge, "agencies");

/// Moves the open assignments (lead and coordinator) of `from` to `to`, effective on a date:
/// the holder changes, `original_agency_id` keeps the assignee the directive named. Returns
/// how many moved. Used by the seed's successions and by `mergeAgencies`.
pub async fn transfer_open_assignments(
    db: &impl ConnectionTrait,
    from: i32,
    to: i32,
    effective_on: NaiveDate,
) -> Result<u64, sea_orm::DbErr> {
    let res = assignment::Entity::update_many()
        .col_expr(assignment::Column::AgencyId, Expr::value(to))
        .col_expr(assignment::Column::TransferredOn, Expr::value(effective_on))
        .filter(assignment::Column::AgencyId.eq(from))
        .filter(
            Condition::any()
                .add(assignment::Column::CompletedOn.is_null())
                .add(assignment::Column::CompletedOn.gte(effective_on)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The agencies whose assignments an agency holds: itself and, transitively, those it
/// succeeded. Used to build an agency token's scope.
pub async fn holder_scope(db: &impl ConnectionTrait, agency_id: i32) -> ApiResult<std::sync::Arc<[i32]>> {
    let mut ids = vec![agency_id];
    let mut frontier = vec![agency_id];
    while !frontier.is_empty() {
        let preds: Vec<i32> = agency_succession::Entity::find()
            .filter(agency_succession::Column::SuccessorId.is_in(frontier.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.predecessor_id)
            .filter(|p| !ids.contains(p))
            .collect();
        ids.extend(&preds);
        frontier = preds;
    }
    Ok(ids.into())
}

/// `me`: the caller as the API sees it.
pub struct Me;

/// `me`: the caller as the API sees it.
#[Object]
impl Me {
    /// The token's subject (`sub`).
    async fn subject(&self, ctx: &Context<'_>) -> String {
        Caller::of(ctx).principal.subject.clone()
    }
    /// The caller's role.
    async fn role(&self, ctx: &Context<'_>) -> crate::auth::Role {
        Caller::of(ctx).principal.role
    }
    /// The caller's agency (for role `AGENCY`).
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match Caller::of(ctx).principal.agency_id {
            Some(id) => Ok(load_agency(ctx, id).await?),
            None => Ok(None),
        }
    }
}
