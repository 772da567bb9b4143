//! The directive list and lookups, within the caller's scope (an agency sees the directives
//! that gave it a task).

use std::sync::Arc;

use async_graphql::{Enum, InputObject};
use entity::directive;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, QueryFilter, Value};

use super::{Directive, DirectiveKind};
use crate::auth::Scope;
use crate::db::reads::Reads;
use crate::domain::text::search_terms;
use crate::error::ApiResult;
use crate::graphql::relay::{self, Cursor, OrderDirection, PageArgs, SortKey};
use crate::graphql::scalars::Date;

/// Filter of `directives`.
#[derive(InputObject, Default)]
pub struct DirectiveFilter {
    /// Only these kinds.
    pub kind: Option<Vec<DirectiveKind>>,
    /// Issued on or after this date.
    pub issued_after: Option<Date>,
    /// Issued on or before this date.
    pub issued_before: Option<Date>,
    /// Words to find in the number and title, with or without diacritics.
    pub search: Option<String>,
}

/// Fields `directives` can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum DirectiveOrderField {
    /// Date of issue (undated documents last in ascending order).
    #[default]
    IssuedOn,
    /// Creation in the system.
    Id,
}

/// Ordering of `directives`.
#[derive(InputObject, Default)]
pub struct DirectiveOrder {
    /// Field.
    pub field: DirectiveOrderField,
    /// Direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// `directives`, within the scope.
pub async fn list_directives(
    db: &Reads,
    scope: &Scope,
    filter: DirectiveFilter,
    order: DirectiveOrder,
    args: PageArgs,
) -> ApiResult<DirectiveConnection> {
    use directive::Column as C;
    let mut cond = Condition::all();
    if let Some(kinds) = filter.kind {
        cond = cond.add(C::Kind.is_in(kinds.into_iter().map(entity::enums::DirectiveKind::from)));
    }
    if let Some(Date(d)) = filter.issued_after {
        cond = cond.add(C::IssuedOn.gte(d));
    }
    if let Some(Date(d)) = filter.issued_before {
        cond = cond.add(C::IssuedOn.lte(d));
    }
    if let Some(q) = &filter.search {
        for t in search_terms(q) {
            cond = cond.add(C::SearchText.like(format!("%{t}%")));
        }
    }
    let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(chrono::NaiveDate::MAX);
    let (expr, to_value): (SimpleExpr, fn(&serde_json::Value) -> Option<Value>) = match order.field {
        DirectiveOrderField::IssuedOn => (
            sea_orm::sea_query::Func::coalesce([Expr::col((directive::Entity, C::IssuedOn)), Expr::val(far)])
                .into(),
            relay::json_date,
        ),
        DirectiveOrderField::Id => (Expr::col((directive::Entity, C::Id)), relay::json_int),
    };
    let sort = SortKey {
        expr,
        id: Expr::col((directive::Entity, C::Id)),
        direction: order.direction,
        to_value,
    };
    let field = order.field;
    let (page, count) = relay::fetch_page(
        db,
        scope.find::<directive::Entity>().filter(cond),
        &sort,
        &args,
        |m| Cursor {
            key: match field {
                DirectiveOrderField::IssuedOn => {
                    m.issued_on.unwrap_or(far).format("%Y-%m-%d").to_string().into()
                }
                DirectiveOrderField::Id => m.id.into(),
            },
            id: m.id,
        },
    )
    .await?;
    Ok(DirectiveConnection::new(
        page.map(|m| Directive(Arc::new(m))),
        count,
    ))
}

crate::connection!(Directive, DirectiveConnection, DirectiveEdge, "directives", plain);

/// `directive(number:)`, within the scope.
pub async fn directive_by_number(db: &Reads, scope: &Scope, number: &str) -> ApiResult<Option<Directive>> {
    Ok(scope
        .find::<directive::Entity>()
        .filter(directive::Column::Number.eq(number.trim()))
        .one(db)
        .await?
        .map(|m| Directive(Arc::new(m))))
}
