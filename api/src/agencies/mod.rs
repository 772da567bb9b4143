//! Agencies (cơ quan, đơn vị): the directory, its 2025 successions, each agency's assignments,
//! and reorganisations (`mutations`).

pub mod loaders;
pub mod mutations;
mod queries;
pub mod transfer;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::NaiveDate;
use entity::{agency, agency_succession};

pub use loaders::AgencyLoaders;
pub use queries::{AgencyConnection, AgencyFilter, AgencyOrder, AgencyOrderField};

use crate::auth::{Caller, Permission, directory};
use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::graphql::Needs;
use crate::graphql::input;
use crate::graphql::loaders::load_err;
use crate::graphql::relay::{self, NodeKind, PageArgs, decode_id};
use crate::graphql::scalars::Date;
use crate::state::State;
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

impl crate::graphql::plain::Plain for Agency {
    fn plain(&self, name: &str) -> Option<async_graphql::Value> {
        use crate::graphql::plain::{opt_text, out, text};
        let m = &self.0;
        Some(match name {
            "id" => out(relay::global_id(NodeKind::Agency, m.id)),
            "code" => text(&m.code),
            "name" => text(&m.name),
            "shortName" => opt_text(m.short_name.as_deref()),
            "kind" => out(AgencyKind::from(m.kind)),
            "validFrom" => out(m.valid_from.map(Date)),
            "validTo" => out(m.valid_to.map(Date)),
            // Asked without `on`: today in Vietnam, as the resolver's default.
            "active" => out(directory::exists_on(m, today())),
            _ => return None,
        })
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
        directory::exists_on(&self.0, on.map_or_else(today, |d| d.0))
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
        let rows = AgencyLoaders::of(ctx)
            .successions_from
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().map(|s| Succession::new(s, true)).collect())
    }
    /// Agencies whose duties this one took over.
    async fn predecessors(&self, ctx: &Context<'_>) -> Result<Vec<Succession>> {
        let rows = AgencyLoaders::of(ctx)
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
        Ok(crate::tasks::assignments_of(ctx, Some(self.0.id), filter.unwrap_or_default(), args).await?)
    }
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

/// The agency with this id, through the request's loader.
pub async fn load_agency(ctx: &Context<'_>, id: i32) -> ApiResult<Option<Agency>> {
    Ok(AgencyLoaders::of(ctx)
        .agency
        .load_one(id)
        .await
        .map_err(load_err)?
        .map(Agency::new))
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

/// The agency fields of the root query.
#[derive(Default)]
pub struct AgencyQuery;

/// The agency fields of the root query.
#[Object]
impl AgencyQuery {
    /// The caller: subject, role and agency.
    async fn me(&self) -> Me {
        Me
    }

    /// Agencies, by name unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AgencyFilter>,
        order_by: Option<AgencyOrder>,
    ) -> Result<AgencyConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(queries::list_agencies(
            State::reads_of(ctx),
            filter.unwrap_or_default(),
            order_by.unwrap_or_default(),
            args,
        )
        .await?)
    }

    /// Open assignments held by an agency that no longer exists on `asOf` (default today in
    /// Vietnam): a dissolved district's work nobody has taken over yet. Nobody can report on
    /// them until `reassignAssignments` gives them a holder. Admin and monitor.
    #[graphql(guard = "Needs(Permission::FollowUp)")]
    #[allow(clippy::too_many_arguments)]
    async fn orphaned_assignments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        as_of: Option<Date>,
    ) -> Result<AssignmentConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(crate::tasks::orphaned_assignments(ctx, day, args).await?)
    }

    /// One agency, by global id or by code.
    async fn agency(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Agency> {
        let row = match (id, code) {
            (Some(id), None) => load_agency(ctx, decode_id(&id, NodeKind::Agency, "id")?).await?,
            (None, Some(code)) => {
                let code = input::agency_code("code", &code)?;
                queries::agency_by_code(State::reads_of(ctx), &code).await?
            }
            _ => return Err(ApiError::bad_input("id", "Cần đúng một trong `id` hoặc `code`").into()),
        };
        row.ok_or_else(|| ApiError::not_found("cơ quan").into())
    }
}
