//! The directive loader of one request (primed by the task loaders, which read each task's
//! directive alongside it).

use std::sync::Arc;

use entity::directive;

use crate::graphql::loaders::{Batcher, ById, Env};

pub struct DirectiveLoaders {
    pub directive: Arc<Batcher<i32, ById<directive::Entity>>>,
}

impl DirectiveLoaders {
    pub fn new(env: &Env) -> Self {
        DirectiveLoaders {
            directive: ById::primed(env),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Self {
        ctx.data_unchecked::<Self>()
    }
}
