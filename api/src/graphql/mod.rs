//! The GraphQL building blocks every capability uses: Relay ids, cursors and connections
//! (`relay`), per-request loaders (`loaders`), document limits (`limits`), the write helper
//! (`write`: transaction, audit entry, events), input parsing (`input`), response keys in
//! selection order (`order`), scalars, and the field guard that asks the one table of role
//! rights.

pub mod input;
pub mod limits;
pub mod loaders;
pub mod order;
pub mod outbox;
pub mod plain;
pub mod relay;
pub mod scalars;
pub mod types;
pub mod values;
pub mod write;

use crate::auth::{Caller, Permission};

/// A field guard: the field answers only roles that have the permission ([`crate::auth::Role::may`]);
/// anyone else gets FORBIDDEN, as a mutation or list refusing the same role would.
pub struct Needs(pub Permission);

impl async_graphql::Guard for Needs {
    async fn check(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<()> {
        Ok(Caller::of(ctx).principal.role.require(self.0)?)
    }
}
