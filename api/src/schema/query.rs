//! `node(id)` and the `Node` interface over every type with a global id.

use std::sync::Arc;

use async_graphql::{Context, ID, Interface, Object, Result};

use crate::agencies::{Agency, load_agency};
use crate::auth::{Caller, Permission};
use crate::directives::{Directive, load_directive};
use crate::error::ApiError;
use crate::graphql::loaders::load_err;
use crate::graphql::relay::{NodeKind, decode_any};
use crate::indicators::{Indicator, IndicatorLoaders};
use crate::reports::{ProgressReport, ReportLoaders};
use crate::tasks::{Assignment, DeadlineExtension, Task, TaskLoaders};

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

/// The `node` field of the root query.
#[derive(Default)]
pub struct NodeQuery;

/// The `node` field of the root query.
#[Object]
impl NodeQuery {
    /// Any object by its global id. An id outside what the caller may see is NOT_FOUND, as is
    /// an unknown one; a kind the caller's role may not read at all is FORBIDDEN, as the
    /// kind's own root field answers.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Node> {
        let (kind, n) =
            decode_any(&id).ok_or_else(|| ApiError::bad_input("id", "Mã đối tượng không hợp lệ"))?;
        if matches!(
            kind,
            NodeKind::Task | NodeKind::Assignment | NodeKind::ProgressReport | NodeKind::DeadlineExtension
        ) {
            Caller::of(ctx).scope.require(Permission::ReadRows)?;
        }
        let tasks = || TaskLoaders::of(ctx);
        let node = match kind {
            NodeKind::Agency => load_agency(ctx, n).await?.map(Node::Agency),
            NodeKind::Directive => load_directive(ctx, n).await?.map(Node::Directive),
            NodeKind::Task => tasks()
                .task
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::Task(Task::new(m, None))),
            NodeKind::Assignment => tasks()
                .assignment
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::Assignment(Assignment::new(m, None))),
            NodeKind::ProgressReport => ReportLoaders::of(ctx)
                .report
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::ProgressReport(ProgressReport::new(m))),
            NodeKind::Indicator => IndicatorLoaders::of(ctx)
                .indicator
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::Indicator(Indicator(Arc::new(m)))),
            // An extension is visible with its task (its scope says so).
            NodeKind::DeadlineExtension => tasks()
                .extension
                .load_one(n)
                .await
                .map_err(load_err)?
                .map(|m| Node::DeadlineExtension(DeadlineExtension(m))),
            NodeKind::IndicatorValue => {
                return Err(ApiError::bad_input("id", "Giá trị chỉ tiêu đọc qua Indicator.values").into());
            }
            NodeKind::Milestone => {
                return Err(ApiError::bad_input("id", "Mốc thời hạn đọc qua Task.milestones").into());
            }
            NodeKind::WebhookEndpoint | NodeKind::WebhookDelivery => {
                return Err(ApiError::bad_input(
                    "id",
                    "Webhook đọc qua webhookEndpoints và webhookDeliveries",
                )
                .into());
            }
        };
        node.ok_or_else(|| ApiError::not_found("đối tượng").into())
    }
}
