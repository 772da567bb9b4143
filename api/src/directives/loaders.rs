//! The directive loader of one request (primed by the task loaders, which read each task's
//! directive alongside it).

use std::sync::Arc;

use entity::{directive, reporting_regime};

use crate::graphql::loaders::{Batcher, ById, ByParent, Env};

pub struct DirectiveLoaders {
    pub directive: Arc<Batcher<i32, ById<directive::Entity>>>,
    /// Each directive's reporting regime (at most one).
    pub regime: Batcher<i32, ByParent<reporting_regime::Entity>>,
}

impl DirectiveLoaders {
    pub fn new(env: &Env) -> Self {
        DirectiveLoaders {
            directive: ById::primed(env),
            regime: ByParent::new(
                env,
                reporting_regime::Column::DirectiveId,
                |m: &reporting_regime::Model| m.directive_id,
                |a: &reporting_regime::Model, b: &reporting_regime::Model| a.id.cmp(&b.id),
            ),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Self {
        ctx.data_unchecked::<Self>()
    }
}
