//! The report loaders of one request: reports by id, the latest submitted report of each
//! assignment, and the nested pages of `task.reports`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::progress_report;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ColumnTrait, QueryFilter, QueryTrait};

use crate::auth::{Scope, Scoped};
use crate::db::lean::{Fields, kept_mask, lean_columns};
use crate::db::positional::fetch_all_raw;
use crate::db::reads::Reads;
use crate::graphql::loaders::{Batcher, ById, Env, LoadError, kept_statement};
use crate::graphql::relay::{PageKey, Paged};

pub struct ReportLoaders {
    pub report: Batcher<i32, ById<progress_report::Entity>>,
    pub latest_report: Batcher<i32, LatestReport>,
    /// `task.reports` under a list of tasks.
    pub report_pages: Batcher<PageKey, Paged<progress_report::Entity>>,
}

impl ReportLoaders {
    pub fn new(env: &Env) -> Self {
        ReportLoaders {
            report: ById::new(env),
            latest_report: Batcher::new(
                LatestReport {
                    db: env.reads.clone(),
                    scope: env.scope.clone(),
                    budget: env.budget.clone(),
                    lean: env.lean.clone(),
                },
                env.delay,
            ),
            report_pages: Paged::new(env),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Self {
        ctx.data_unchecked::<Self>()
    }
}

/// Loads the latest non-draft report of each assignment in one statement.
pub struct LatestReport {
    db: Reads,
    scope: Scope,
    budget: std::sync::Arc<crate::graphql::loaders::Budget>,
    lean: Option<Arc<Fields>>,
}

impl Loader<i32> for LatestReport {
    type Value = progress_report::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        use progress_report::Column as C;
        let lean = self.lean.as_deref();
        let shape = (
            "latest_report",
            "",
            Some(&self.scope),
            kept_mask::<progress_report::Entity>(lean),
        );
        let stmt = kept_statement(&self.db, shape, keys, |backend, keys| {
            let latest = Query::select()
                .expr(Func::max(Expr::col(C::Id)))
                .from(progress_report::Entity)
                .and_where(crate::db::among(
                    backend,
                    C::AssignmentId.into_expr(),
                    keys.iter().copied(),
                ))
                .and_where(C::State.ne(entity::enums::ReportState::Draft))
                .cond_where(progress_report::Entity::visible(&self.scope))
                .group_by_col(C::AssignmentId)
                .to_owned();
            let mut query = self
                .scope
                .find::<progress_report::Entity>()
                .filter(C::Id.in_subquery(latest));
            lean_columns::<progress_report::Entity>(QueryTrait::query(&mut query), lean);
            query.build(backend)
        });
        let rows: Vec<progress_report::Model> = fetch_all_raw(&self.db, stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
        Ok(rows.into_iter().map(|m| (m.assignment_id, m)).collect())
    }
}
