//! The agency loaders of one request: agencies by id (primed by the loaders that read an
//! assignment's agency alongside it) and successions by either side.

use std::sync::Arc;

use entity::{agency, agency_succession};

use crate::graphql::loaders::{Batcher, ById, ByParent, Env};

pub struct AgencyLoaders {
    pub agency: Arc<Batcher<i32, ById<agency::Entity>>>,
    pub successions_from: Batcher<i32, ByParent<agency_succession::Entity>>,
    pub successions_to: Batcher<i32, ByParent<agency_succession::Entity>>,
}

fn by_date(a: &agency_succession::Model, b: &agency_succession::Model) -> std::cmp::Ordering {
    (a.effective_on, a.id).cmp(&(b.effective_on, b.id))
}

impl AgencyLoaders {
    pub fn new(env: &Env) -> Self {
        AgencyLoaders {
            agency: ById::primed(env),
            successions_from: ByParent::new(
                env,
                agency_succession::Column::PredecessorId,
                |m: &agency_succession::Model| m.predecessor_id,
                by_date,
            ),
            successions_to: ByParent::new(
                env,
                agency_succession::Column::SuccessorId,
                |m: &agency_succession::Model| m.successor_id,
                by_date,
            ),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Self {
        ctx.data_unchecked::<Self>()
    }
}
