//! Relay connections: the `connection!` macro that declares `<Name>Connection` and `<Name>Edge`
//! for a node type, and the `totalCount` that runs only when a client selects it.

use crate::error::ApiResult;
use crate::state::State;

use super::nested::{NestedCountLoader, PageKey};

/// Declares `<Name>Connection` and `<Name>Edge` for a node type. `totalCount` runs its
/// COUNT only when a client asks for it. With `plain`, the node type implements
/// [`crate::graphql::plain::Plain`] and `nodes` answers its plain fields in one pass.
#[macro_export]
macro_rules! connection {
    ($node:ty, $conn:ident, $edge:ident, $desc:literal) => {
        $crate::connection!(@with $node, $conn, $edge, $desc, Vec<$node>, ::std::convert::identity);
    };
    ($node:ty, $conn:ident, $edge:ident, $desc:literal, plain) => {
        $crate::connection!(
            @with $node, $conn, $edge, $desc,
            $crate::graphql::plain::PlainList<$node>, $crate::graphql::plain::PlainList
        );
    };
    (@with $node:ty, $conn:ident, $edge:ident, $desc:literal, $list:ty, $wrap:expr) => {
        #[doc = concat!("An edge in a connection of ", $desc, ".")]
        #[derive(Clone)]
        pub struct $edge {
            cursor: String,
            node: $node,
        }

        #[doc = concat!("An edge in a connection of ", $desc, ": a row and its cursor.")]
        #[async_graphql::Object]
        impl $edge {
            /// Opaque cursor of this row.
            async fn cursor(&self) -> &str {
                &self.cursor
            }
            /// The row.
            async fn node(&self) -> &$node {
                &self.node
            }
        }

        #[doc = concat!("A page of ", $desc, ".")]
        pub struct $conn {
            page: $crate::graphql::relay::Page<$node>,
            count: $crate::graphql::relay::TotalCount,
        }

        impl $conn {
            pub fn new(
                page: $crate::graphql::relay::Page<$node>,
                count: $crate::graphql::relay::TotalCount,
            ) -> Self {
                Self { page, count }
            }
        }

        #[doc = concat!("A page of ", $desc, " (Relay connection), with the total over all pages.")]
        #[async_graphql::Object]
        impl $conn {
            /// Rows of this page with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                self.page
                    .items
                    .iter()
                    .map(|(c, n)| $edge {
                        cursor: c.clone(),
                        node: n.clone(),
                    })
                    .collect()
            }
            /// Rows of this page, without cursors.
            async fn nodes(&self) -> $list {
                $wrap(self.page.items.iter().map(|(_, n)| n.clone()).collect())
            }
            /// Where this page stands.
            async fn page_info(&self) -> &$crate::graphql::relay::PageInfo {
                &self.page.info
            }
            /// Number of rows matching the filter, over all pages.
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i64> {
                Ok(self.count.resolve(ctx).await?)
            }
        }
    };
}

/// A count that is run only if the client selects `totalCount`.
pub enum TotalCount {
    /// Already known (lists computed in memory).
    Known(i64),
    /// A `SELECT COUNT(*)` to run.
    Query(sea_orm::Statement),
    /// One parent's count in a nested connection, batched with its siblings'.
    Nested(PageKey),
}

impl TotalCount {
    pub async fn resolve(&self, ctx: &async_graphql::Context<'_>) -> ApiResult<i64> {
        match self {
            TotalCount::Known(n) => Ok(*n),
            TotalCount::Query(stmt) => {
                use sea_orm::ConnectionTrait;
                let db = State::reads_of(ctx);
                let row = db.query_one_raw(stmt.clone()).await?;
                let n: i64 = match row {
                    Some(r) => r.try_get_by_index(0)?,
                    None => 0,
                };
                Ok(n)
            }
            TotalCount::Nested(key) => Ok(ctx
                .data_unchecked::<NestedCountLoader>()
                .load_one(key.clone())
                .await
                .map_err(crate::graphql::loaders::load_err)?
                .unwrap_or(0)),
        }
    }
}
