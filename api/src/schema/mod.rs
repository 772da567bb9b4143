//! The schema's roots, assembled from each capability's part (`Query`, `Mutation`,
//! `Subscription`), the `Node` interface, and what each request carries (its loaders). Above
//! the capabilities, below `http`; `lib.rs` builds the schema with its caches.

mod query;

use std::sync::Arc;

use async_graphql::{Data, MergedObject, Schema};

pub use query::{Node, NodeQuery};

use crate::agencies::{AgencyLoaders, AgencyQuery, mutations::AgencyMutation};
use crate::audit::AuditQuery;
use crate::auth::Scope;
use crate::directives::{DirectiveLoaders, DirectiveQuery, mutations::DirectiveMutation};
use crate::duties::{DutyQuery, mutations::DutyMutation};
use crate::graphql::limits::Limits;
use crate::graphql::loaders::{Budget, Env};
use crate::graphql::relay::{NestedCountLoader, NestedCounts};
use crate::indicators::{IndicatorLoaders, IndicatorQuery, mutations::IndicatorMutation};
use crate::intake::graphql::IntakeMutation;
use crate::reports::{ReportLoaders, ReportQuery, mutations::ReportMutation};
use crate::state::State;
use crate::tasks::mutations::{DeadlineMutation, TaskMutation};
use crate::tasks::stats::{StatisticsCache, TaskStatisticsQuery};
use crate::tasks::subscription::TaskSubscription;
use crate::tasks::{TaskLoaders, TaskQuery};
use crate::webhooks::{WebhookMutation, WebhookQuery};

/// The root of every read.
#[derive(MergedObject, Default)]
pub struct Query(
    NodeQuery,
    AgencyQuery,
    DirectiveQuery,
    TaskQuery,
    IndicatorQuery,
    ReportQuery,
    TaskStatisticsQuery,
    DutyQuery,
    AuditQuery,
    WebhookQuery,
);

/// Changes (mutations). Each takes one `input` and returns a payload; each runs in one
/// transaction with an audit-log entry.
#[derive(MergedObject, Default)]
pub struct Mutation(
    ReportMutation,
    DeadlineMutation,
    DirectiveMutation,
    TaskMutation,
    IndicatorMutation,
    AgencyMutation,
    DutyMutation,
    WebhookMutation,
    IntakeMutation,
);

pub type ChidaoSchema = Schema<Query, Mutation, TaskSubscription>;

/// What the schema is built with besides the shared state: each capability's kept answers and
/// the document limits (which the socket's checks read).
pub struct Parts {
    pub statistics: Arc<StatisticsCache>,
    pub limits: Limits,
    /// The schema's abstract types, for putting responses in selection order.
    pub types: Arc<crate::graphql::order::Types>,
}

/// Builds the schema. Per-request data (the caller and its loaders, [`request_data`]) is added
/// by the HTTP layer.
pub fn build(state: Arc<State>, parts: Parts) -> ChidaoSchema {
    builder(state, parts).finish()
}

/// The schema of `/graphql/ws`: the same, with the socket's checks of each operation.
pub fn build_ws(
    state: Arc<State>,
    parts: Parts,
    checks: impl async_graphql::extensions::ExtensionFactory,
) -> ChidaoSchema {
    builder(state, parts).extension(checks).finish()
}

fn builder(
    state: Arc<State>,
    parts: Parts,
) -> async_graphql::SchemaBuilder<Query, Mutation, TaskSubscription> {
    let mut b = Schema::build(Query::default(), Mutation::default(), TaskSubscription)
        // Backstops behind the checks of `http::graphql` (which run first and name the limit).
        .limit_depth(parts.limits.max_depth.max(parts.limits.max_introspection_depth) + 2)
        .limit_directives(parts.limits.max_directives)
        .limit_recursive_depth(64);
    if !state.dev {
        // "Did you mean …" hints map a private schema for a stranger; only in --dev.
        b = b.disable_suggestions();
    }
    if !state.introspection {
        b = b.disable_introspection();
    }
    b.data(state)
        .data(parts.statistics)
        .data(parts.limits)
        .data(parts.types)
}

/// Adds one request's loaders, every one holding `scope`, to its data. `prime`: whether rows
/// fetched alongside others are kept for the request (queries; not mutations or subscriptions).
/// `max_nodes`: the rows its loaders may read (`CHIDAO_MAX_NODES`). `reads`: where they and
/// the resolvers read (`State::query_reads` for a query, else `State::reads`). `lean`: a
/// query's field names, when its loaders may leave out the columns none of them reads
/// (`db::lean`; `None` for whole rows).
pub fn request_data(
    data: &mut Data,
    state: &State,
    reads: crate::db::reads::Reads,
    scope: &Scope,
    prime: bool,
    max_nodes: u64,
    lean: Option<Arc<crate::db::lean::Fields>>,
) -> Arc<Budget> {
    data.insert(crate::state::RequestReads(reads.clone()));
    let env = Env {
        reads,
        scope: scope.clone(),
        delay: state.loader_delay,
        prime,
        budget: Budget::new(max_nodes),
        lean: lean.clone(),
    };
    data.insert(crate::db::lean::OfRequest(lean));
    data.insert(env.budget.clone());
    let agencies = AgencyLoaders::new(&env);
    let directives = DirectiveLoaders::new(&env);
    data.insert(TaskLoaders::new(&env, &agencies, &directives));
    data.insert(agencies);
    data.insert(directives);
    data.insert(ReportLoaders::new(&env));
    data.insert(IndicatorLoaders::new(&env));
    data.insert::<NestedCountLoader>(NestedCounts::new(env.reads.clone(), env.delay));
    env.budget
}

/// The SDL other systems build against (`schema/schema.graphql` is its committed copy). It says
/// `@specifiedBy` where introspection does, so a client schema built from the live service
/// prints the same (`tests/clients/run.sh`).
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), TaskSubscription)
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
