//! The audit log (nhật ký): who changed what, when, before → after. Admin only.

use async_graphql::{Context, InputObject, Object, Result};
use entity::audit_log;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use crate::agencies::{Agency, load_agency};
use crate::auth::{Caller, Permission, Scope};
use crate::db::reads::Reads;
use crate::error::ApiResult;
use crate::graphql::Needs;
use crate::graphql::relay::{self, Cursor, OrderDirection, PageArgs, SortKey};
use crate::state::State;

/// One audit-log entry.
#[derive(Clone)]
pub struct AuditEntry(std::sync::Arc<audit_log::Model>);

/// One change recorded in the audit log.
#[Object]
impl AuditEntry {
    /// Position in the log (increasing).
    async fn sequence(&self) -> i32 {
        self.0.id
    }
    /// When the change was made.
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }
    /// Who made it (the token's `sub`; `seed` for the seed loader).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The actor's role.
    async fn actor_role(&self) -> &str {
        &self.0.actor_role
    }
    /// The actor's agency, for role `agency`.
    async fn actor_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.0.actor_agency_id {
            Some(id) => Ok(load_agency(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The mutation, e.g. `submitProgressReport`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The table changed, e.g. `progress_report`.
    async fn entity(&self) -> &str {
        &self.0.entity
    }
    /// The changed row's id in that table.
    async fn entity_id(&self) -> Option<&str> {
        self.0.entity_id.as_deref()
    }
    /// The row before the change (null for a creation).
    async fn before(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        parse(self.0.before.as_deref())
    }
    /// The row after the change.
    async fn after(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        parse(self.0.after.as_deref())
    }
    /// The request's `x-request-id`, to find it in the service log.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

fn parse(s: Option<&str>) -> Option<async_graphql::Json<serde_json::Value>> {
    s.and_then(|t| serde_json::from_str(t).ok())
        .map(async_graphql::Json)
}

/// Filter of `auditLog`.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// Only this mutation (e.g. `reviewProgressReport`).
    pub action: Option<String>,
    /// Only this table (e.g. `task`).
    pub entity: Option<String>,
    /// Only this row of that table.
    pub entity_id: Option<String>,
    /// Only this actor (`sub`).
    pub actor: Option<String>,
    /// At or after this instant.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

crate::connection!(
    AuditEntry,
    AuditEntryConnection,
    AuditEntryEdge,
    "audit-log entries"
);

/// The audit log, newest first (its scope shows it to the administrator only).
pub async fn list(
    db: &Reads,
    scope: &Scope,
    filter: AuditFilter,
    args: PageArgs,
) -> ApiResult<AuditEntryConnection> {
    use audit_log::Column as C;
    let mut cond = Condition::all();
    if let Some(a) = filter.action {
        cond = cond.add(C::Action.eq(a));
    }
    if let Some(e) = filter.entity {
        cond = cond.add(C::Entity.eq(e));
    }
    if let Some(e) = filter.entity_id {
        cond = cond.add(C::EntityId.eq(e));
    }
    if let Some(a) = filter.actor {
        cond = cond.add(C::Actor.eq(a));
    }
    if let Some(t) = filter.since {
        cond = cond.add(Expr::col(C::At).gte(t));
    }
    let sort = SortKey {
        expr: Expr::col((audit_log::Entity, C::Id)),
        id: Expr::col((audit_log::Entity, C::Id)),
        direction: OrderDirection::Desc,
        to_value: relay::json_int,
    };
    let (page, count) = relay::fetch_page(
        db,
        scope.find::<audit_log::Entity>().filter(cond),
        &sort,
        &args,
        |m| Cursor {
            key: m.id.into(),
            id: m.id,
        },
    )
    .await?;
    Ok(AuditEntryConnection::new(
        page.map(|m| AuditEntry(std::sync::Arc::new(m))),
        count,
    ))
}

/// The audit-log field of the root query.
#[derive(Default)]
pub struct AuditQuery;

/// The audit-log field of the root query.
#[Object]
impl AuditQuery {
    /// The audit log (nhật ký thay đổi), newest first. Admin only.
    #[graphql(guard = "Needs(Permission::ReadAudit)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AuditFilter>,
    ) -> Result<AuditEntryConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(list(
            State::reads_of(ctx),
            &Caller::of(ctx).scope,
            filter.unwrap_or_default(),
            args,
        )
        .await?)
    }
}
