//! Directives (văn bản chỉ đạo): Chỉ thị, Kế hoạch, Công văn… and their tasks.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::directive;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Value};

use crate::context::{Caller, State, today};
use crate::domain::text::search_terms;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{Loaders, load_err};
use crate::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey};
use crate::scalars::Date;
use crate::tasks::{TaskConnection, TaskFilter, TaskOrder};

/// Kind of directing document.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DirectiveKind")]
pub enum DirectiveKind {
    /// Chỉ thị (CT).
    ChiThi,
    /// Kế hoạch (KH).
    KeHoach,
    /// Công văn (CV).
    CongVan,
    /// Quyết định (QĐ).
    QuyetDinh,
    /// Nghị quyết (NQ).
    NghiQuyet,
}

/// A directing document (văn bản chỉ đạo) of the provincial People's Committee.
#[derive(Clone)]
pub struct Directive(pub Arc<directive::Model>);

/// A directing document (văn bản chỉ đạo) of the provincial People's Committee.
#[Object]
impl Directive {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Directive, self.0.id)
    }
    /// Stable code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Number and symbol (số, ký hiệu), e.g. `10/CT-UBND`; null when the copy does not show it.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    /// Kind of document.
    async fn kind(&self) -> DirectiveKind {
        self.0.kind.into()
    }
    /// Title (trích yếu).
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Date of issue (ngày ban hành).
    async fn issued_on(&self) -> Option<Date> {
        self.0.issued_on.map(Date)
    }
    /// Issuing body (cơ quan ban hành), e.g. "UBND tỉnh Lào Cai".
    async fn issuer(&self) -> &str {
        &self.0.issuer
    }
    /// Who signed it (người ký).
    async fn signer(&self) -> Option<&str> {
        self.0.signer.as_deref()
    }
    /// The signer's title (chức vụ), e.g. "Chủ tịch".
    async fn signer_title(&self) -> Option<&str> {
        self.0.signer_title.as_deref()
    }
    /// The directive's tasks, in document order unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TaskFilter>,
        order_by: Option<TaskOrder>,
        as_of: Option<Date>,
    ) -> Result<TaskConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        if filter.directive_id.is_some() || filter.directive_number.is_some() {
            return Err(
                ApiError::bad_input("filter.directiveId", "Danh sách này đã thuộc một văn bản").into(),
            );
        }
        let day = as_of.map_or_else(today, |d| d.0);
        Ok(crate::tasks::list_tasks(
            ctx,
            filter,
            order_by,
            day,
            args,
            as_of.map(|d| d.0),
            Some(self.0.id),
        )
        .await?)
    }
    /// When the row was created.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}

pub async fn load_directive(ctx: &Context<'_>, id: i32) -> ApiResult<Option<Directive>> {
    Ok(Loaders::of(ctx)
        .directive
        .load_one(id)
        .await
        .map_err(load_err)?
        .map(|m| Directive(Arc::new(m))))
}

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

pub async fn list_directives(
    ctx: &Context<'_>,
    filter: DirectiveFilter,
    order: DirectiveOrder,
    args: PageArgs,
) -> ApiResult<DirectiveConnection> {
    use directive::Column as C;
    let mut cond = Condition::all().add(Caller::of(ctx).scope.directives());
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
    let db = &State::of(ctx).reads;
    let (page, count) = relay::fetch_page(db, directive::Entity::find().filter(cond), &sort, &args, |m| {
        Cursor {
            key: match field {
                DirectiveOrderField::IssuedOn => {
                    m.issued_on.unwrap_or(far).format("%Y-%m-%d").to_string().into()
                }
                DirectiveOrderField::Id => m.id.into(),
            },
            id: m.id,
        }
    })
    .await?;
    Ok(DirectiveConnection::new(
        page.map(|m| Directive(Arc::new(m))),
        count,
    ))
}

crate::connection!(Directive, DirectiveConnection, DirectiveEdge, "directives");
