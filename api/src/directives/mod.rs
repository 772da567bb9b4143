//! Directives (văn bản chỉ đạo): Chỉ thị, Kế hoạch, Công văn… and their tasks.

pub mod loaders;
pub mod mutations;
mod queries;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::directive;

pub use loaders::DirectiveLoaders;
pub use queries::{DirectiveConnection, DirectiveFilter, DirectiveOrder, DirectiveOrderField};

use crate::auth::Caller;
use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::load_err;
use crate::graphql::relay::{self, NodeKind, PageArgs, decode_id};
use crate::graphql::scalars::Date;
use crate::state::State;
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

impl crate::graphql::plain::Plain for Directive {
    fn plain(&self, name: &str) -> Option<async_graphql::Value> {
        use crate::graphql::plain::{opt_text, out, text};
        let m = &self.0;
        Some(match name {
            "id" => out(relay::global_id(NodeKind::Directive, m.id)),
            "code" => text(&m.code),
            "number" => opt_text(m.number.as_deref()),
            "kind" => out(DirectiveKind::from(m.kind)),
            "title" => text(&m.title),
            "issuedOn" => out(m.issued_on.map(Date)),
            "issuer" => text(&m.issuer),
            "signer" => opt_text(m.signer.as_deref()),
            "signerTitle" => opt_text(m.signer_title.as_deref()),
            "createdAt" => out(m.created_at),
            _ => return None,
        })
    }
}

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
        Ok(crate::tasks::tasks_of(
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
    /// The targets (chỉ tiêu) this document set, in document order (those the caller may see).
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<crate::indicators::Indicator>> {
        let rows = crate::indicators::IndicatorLoaders::of(ctx)
            .by_directive
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .cloned()
            .map(|m| crate::indicators::Indicator(Arc::new(m)))
            .collect())
    }
    /// The reporting regime (chế độ báo cáo) the directive sets, if any (`setReportingRegime`,
    /// or the seed file's `reporting_regime`).
    async fn reporting_regime(&self, ctx: &Context<'_>) -> Result<Option<crate::duties::ReportingRegime>> {
        let rows = DirectiveLoaders::of(ctx)
            .regime
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.first().cloned().map(crate::duties::ReportingRegime))
    }
    /// When the row was created.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}

/// The directive with this id, if the caller may see it, through the request's loader.
pub async fn load_directive(ctx: &Context<'_>, id: i32) -> ApiResult<Option<Directive>> {
    Ok(DirectiveLoaders::of(ctx)
        .directive
        .load_one(id)
        .await
        .map_err(load_err)?
        .map(|m| Directive(Arc::new(m))))
}

/// The directive fields of the root query.
#[derive(Default)]
pub struct DirectiveQuery;

/// The directive fields of the root query.
#[Object]
impl DirectiveQuery {
    /// Directives, newest last unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn directives(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DirectiveFilter>,
        order_by: Option<DirectiveOrder>,
    ) -> Result<DirectiveConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(queries::list_directives(
            State::reads_of(ctx),
            &Caller::of(ctx).scope,
            filter.unwrap_or_default(),
            order_by.unwrap_or_default(),
            args,
        )
        .await?)
    }

    /// One directive, by global id or by number (e.g. `10/CT-UBND`).
    async fn directive(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
    ) -> Result<Directive> {
        let row = match (id, number) {
            (Some(id), None) => load_directive(ctx, decode_id(&id, NodeKind::Directive, "id")?).await?,
            (None, Some(number)) => {
                queries::directive_by_number(State::reads_of(ctx), &Caller::of(ctx).scope, &number).await?
            }
            _ => return Err(ApiError::bad_input("id", "Cần đúng một trong `id` hoặc `number`").into()),
        };
        row.ok_or_else(|| ApiError::not_found("văn bản").into())
    }
}
