//! The GraphQL schema: the root query and the `Node` interface over every type with an id.

use std::sync::Arc;

use async_graphql::{Context, ID, Interface, Object, Result, Schema};
use entity::{deadline_extension, directive, indicator};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::agencies::{self, Agency, AgencyConnection, AgencyFilter, AgencyOrder, Me};
use crate::context::{Caller, State, today};
use crate::directives::{self, Directive, DirectiveConnection, DirectiveFilter, DirectiveOrder};
use crate::error::ApiError;
use crate::indicators::{self, Indicator, IndicatorConnection, IndicatorFilter};
use crate::loaders::{Loaders, load_err};
use crate::mutations::Mutation;
use crate::relay::{NodeKind, PageArgs, decode_any, decode_id};
use crate::reports::{self, ProgressReport, ProgressReportConnection, ReportFilter};
use crate::scalars::Date;
use crate::tasks::stats::{TaskGroupBy, TaskStatistics, task_statistics};
use crate::tasks::{self, Assignment, DeadlineExtension, Task, TaskConnection, TaskFilter, TaskOrder};

pub type ChidaoSchema = Schema<Query, Mutation, crate::subscriptions::Subscription>;

/// An object with a global id (Relay): fetch any of them with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id."))]
pub enum Node {
    Agency(Agency),
    Directive(Directive),
    Task(Task),
    Assignment(Assignment),
    ProgressReport(ProgressReport),
    Indicator(Indicator),
    DeadlineExtension(DeadlineExtension),
}

/// The root of every read.
pub struct Query;

/// The root of every read.
#[Object]
impl Query {
    /// Any object by its global id. An id outside what the caller may see is NOT_FOUND, as is
    /// an unknown one.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Node> {
        let (kind, n) =
            decode_any(&id).ok_or_else(|| ApiError::bad_input("id", "Mã đối tượng không hợp lệ"))?;
        let l = Loaders::of(ctx);
        let nf = || ApiError::not_found("đối tượng");
        let node = match kind {
            NodeKind::Agency => agencies::load_agency(ctx, n).await?.map(Node::Agency),
            NodeKind::Directive => directives::load_directive(ctx, n).await?.map(Node::Directive),
            NodeKind::Task => l
                .task
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::Task(Task::new(m, None))),
            NodeKind::Assignment => l
                .assignment
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::Assignment(Assignment::new(m, None))),
            NodeKind::ProgressReport => l
                .report
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::ProgressReport(ProgressReport::new(m))),
            NodeKind::Indicator => l
                .indicator
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::Indicator(Indicator(Arc::new(m)))),
            NodeKind::DeadlineExtension => {
                let db = &State::of(ctx).reads;
                let found = deadline_extension::Entity::find_by_id(n).one(db).await?;
                match found {
                    // An extension is visible with its task.
                    Some(e) if l.task.load_one(e.task_id).await.map_err(load_err)?.is_some() => {
                        Some(Node::DeadlineExtension(DeadlineExtension(e)))
                    }
                    _ => None,
                }
            }
            NodeKind::IndicatorValue => {
                return Err(ApiError::bad_input("id", "Giá trị chỉ tiêu đọc qua Indicator.values").into());
            }
        };
        node.ok_or_else(|| nf().into())
    }

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
        Ok(agencies::list_agencies(
            ctx,
            filter.unwrap_or_default(),
            order_by.unwrap_or_default(),
            args,
        )
        .await?)
    }

    /// One agency, by global id or by code.
    async fn agency(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Agency> {
        let row = match (id, code) {
            (Some(id), None) => agencies::load_agency(ctx, decode_id(&id, NodeKind::Agency, "id")?).await?,
            (None, Some(code)) => entity::agency::Entity::find()
                .filter(entity::agency::Column::Code.eq(code.trim()))
                .one(&State::of(ctx).reads)
                .await?
                .map(Agency::new),
            _ => return Err(ApiError::bad_input("id", "Cần đúng một trong `id` hoặc `code`").into()),
        };
        row.ok_or_else(|| ApiError::not_found("cơ quan").into())
    }

    /// Directives, newest last unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn directives(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DirectiveFilter>,
        order_by: Option<DirectiveOrder>,
    ) -> Result<DirectiveConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(directives::list_directives(
            ctx,
            filter.unwrap_or_default(),
            order_by.unwrap_or_default(),
            args,
        )
        .await?)
    }

    /// One directive, by global id or by number (e.g. `10/CT-UBND`).
    async fn directive(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
    ) -> Result<Directive> {
        let row = match (id, number) {
            (Some(id), None) => {
                directives::load_directive(ctx, decode_id(&id, NodeKind::Directive, "id")?).await?
            }
            (None, Some(number)) => {
                let scope = &Caller::of(ctx).scope;
                directive::Entity::find()
                    .filter(directive::Column::Number.eq(number.trim()))
                    .filter(scope.directives())
                    .one(&State::of(ctx).reads)
                    .await?
                    .map(|m| Directive(Arc::new(m)))
            }
            _ => return Err(ApiError::bad_input("id", "Cần đúng một trong `id` hoặc `number`").into()),
        };
        row.ok_or_else(|| ApiError::not_found("văn bản").into())
    }

    /// Tasks across directives. `asOf` (default today in Vietnam) is the date statuses and the
    /// status/overdue filters are computed for.
    #[allow(clippy::too_many_arguments)]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TaskFilter>,
        order_by: Option<TaskOrder>,
        as_of: Option<Date>,
    ) -> Result<TaskConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(tasks::list_tasks(
            ctx,
            filter.unwrap_or_default(),
            order_by,
            day,
            args,
            as_of.map(|d| d.0),
            None,
        )
        .await?)
    }

    /// One task by global id.
    #[graphql(guard = "crate::auth::Allow(crate::auth::READS_ROWS)")]
    async fn task(&self, ctx: &Context<'_>, id: ID, as_of: Option<Date>) -> Result<Task> {
        let n = decode_id(&id, NodeKind::Task, "id")?;
        let l = Loaders::of(ctx);
        // Asked for its agencies: the task, its directive and its assignments in one statement.
        let look = ctx.look_ahead();
        let found = if ["leads", "coordinators", "assignments"]
            .iter()
            .any(|f| look.field(f).exists())
        {
            l.task_with_assignments.load_one(n).await
        } else {
            l.task.load_one(n).await
        };
        found
            .map_err(load_err)?
            .map(|m| Task::new(m, as_of.map(|d| d.0)))
            .ok_or_else(|| ApiError::not_found("nhiệm vụ").into())
    }

    /// Indicators (chỉ tiêu), in document order.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<IndicatorFilter>,
    ) -> Result<IndicatorConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(indicators::list_indicators(ctx, filter.unwrap_or_default(), args).await?)
    }

    /// One indicator, by global id or by code (e.g. `2025.09`).
    async fn indicator(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Indicator> {
        let db = &State::of(ctx).reads;
        let scope = Caller::of(ctx).scope.indicators();
        let row = match (id, code) {
            (Some(id), None) => {
                indicator::Entity::find_by_id(decode_id(&id, NodeKind::Indicator, "id")?)
                    .filter(scope)
                    .one(db)
                    .await?
            }
            (None, Some(code)) => {
                indicator::Entity::find()
                    .filter(indicator::Column::Code.eq(code.trim()))
                    .filter(scope)
                    .one(db)
                    .await?
            }
            _ => return Err(ApiError::bad_input("id", "Cần đúng một trong `id` hoặc `code`").into()),
        };
        row.map(|m| Indicator(Arc::new(m)))
            .ok_or_else(|| ApiError::not_found("chỉ tiêu").into())
    }

    /// Progress reports, newest first.
    async fn progress_reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ReportFilter>,
    ) -> Result<ProgressReportConnection> {
        let args = PageArgs::parse(first, after, None, None)?;
        Ok(reports::list_reports(ctx, filter.unwrap_or_default(), args, None).await?)
    }

    /// The dashboard's counts for the tasks `tasks(filter)` would list, as of `asOf` (default
    /// today in Vietnam), optionally grouped.
    async fn task_statistics(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilter>,
        as_of: Option<Date>,
        group_by: Option<Vec<TaskGroupBy>>,
    ) -> Result<TaskStatistics> {
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(task_statistics(ctx, filter.unwrap_or_default(), day, group_by.unwrap_or_default()).await?)
    }

    /// The audit log (nhật ký thay đổi), newest first. Admin only.
    #[graphql(guard = "crate::auth::Allow(crate::auth::ADMIN)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<crate::audit::AuditFilter>,
    ) -> Result<crate::audit::AuditEntryConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(crate::audit::list(ctx, filter.unwrap_or_default(), args).await?)
    }
}

/// Builds the schema. Per-request data (`Caller`, `Loaders`) is added by the HTTP layer.
pub fn build(state: Arc<State>) -> ChidaoSchema {
    builder(state).finish()
}

/// The schema of `/graphql/ws`: the same, with the socket's checks of each operation
/// (`subscriptions::SocketLimits`).
pub fn build_ws(state: Arc<State>) -> ChidaoSchema {
    builder(state)
        .extension(crate::subscriptions::SocketLimits)
        .finish()
}

fn builder(
    state: Arc<State>,
) -> async_graphql::SchemaBuilder<Query, Mutation, crate::subscriptions::Subscription> {
    let limits = state.limits.clone();
    let mut b = Schema::build(Query, Mutation, crate::subscriptions::Subscription)
        // Backstops behind the checks of `graphql_http` (which run first and name the limit).
        .limit_depth(limits.max_depth + 2)
        .limit_directives(limits.max_directives)
        .limit_recursive_depth(64);
    if !state.dev {
        // "Did you mean …" hints map a private schema for a stranger; only in --dev.
        b = b.disable_suggestions();
    }
    if !state.introspection {
        b = b.disable_introspection();
    }
    b.data(state)
}

/// The SDL other systems build against (`schema/schema.graphql` is its committed copy).
pub fn sdl() -> String {
    Schema::build(Query, Mutation, crate::subscriptions::Subscription)
        .finish()
        .sdl()
}
