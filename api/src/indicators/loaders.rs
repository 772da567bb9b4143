//! The indicator loaders of one request: indicators by id, the parts of composite targets, and
//! every recorded value of an indicator (history included), and the targets a directive set.

use entity::{indicator, indicator_value};

use crate::graphql::loaders::{Batcher, ById, ByParent, Env};

pub struct IndicatorLoaders {
    pub indicator: Batcher<i32, ById<indicator::Entity>>,
    pub children: Batcher<i32, ByParent<indicator::Entity>>,
    pub values: Batcher<i32, ByParent<indicator_value::Entity>>,
    /// The targets a directive set, in document order.
    pub by_directive: Batcher<i32, ByParent<indicator::Entity>>,
}

impl IndicatorLoaders {
    pub fn new(env: &Env) -> Self {
        IndicatorLoaders {
            indicator: ById::new(env),
            children: ByParent::new(
                env,
                indicator::Column::ParentId,
                |m: &indicator::Model| m.parent_id.unwrap_or_default(),
                |a: &indicator::Model, b: &indicator::Model| (a.ordinal, a.id).cmp(&(b.ordinal, b.id)),
            ),
            values: ByParent::new(
                env,
                indicator_value::Column::IndicatorId,
                |m: &indicator_value::Model| m.indicator_id,
                |a: &indicator_value::Model, b: &indicator_value::Model| {
                    (a.recorded_at, a.id).cmp(&(b.recorded_at, b.id))
                },
            ),
            by_directive: ByParent::new(
                env,
                indicator::Column::DirectiveId,
                |m: &indicator::Model| m.directive_id.unwrap_or_default(),
                |a: &indicator::Model, b: &indicator::Model| (a.ordinal, a.id).cmp(&(b.ordinal, b.id)),
            ),
        }
    }

    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Self {
        ctx.data_unchecked::<Self>()
    }
}
