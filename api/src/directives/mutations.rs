//! Registering a directing document (admin).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use entity::directive;
use sea_orm::{ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, Set};

use super::{Directive, DirectiveKind};
use crate::auth::{Caller, Permission};
use crate::domain::text::SearchKeys;
use crate::error::{ApiError, ApiResult};
use crate::graphql::input;
use crate::graphql::scalars::Date;
use crate::graphql::write::{Write, audit, snap};

/// Input of `createDirective`.
#[derive(InputObject)]
pub struct CreateDirectiveInput {
    /// Stable code (lowercase letters, digits and hyphens), e.g. `15-ct-ubnd-2026`.
    pub code: String,
    /// Document number as printed (số hiệu), e.g. `15/CT-UBND`.
    pub number: Option<String>,
    /// Kind of document.
    pub kind: DirectiveKind,
    /// Title (trích yếu).
    pub title: String,
    /// Date of issue.
    pub issued_on: Option<Date>,
    /// Issuing body; defaults to the provincial People's Committee.
    pub issuer: Option<String>,
    /// Signer's name.
    pub signer: Option<String>,
    /// Signer's title.
    pub signer_title: Option<String>,
}

/// Result of `createDirective`.
#[derive(SimpleObject)]
pub struct CreateDirectivePayload {
    /// The new directive.
    pub directive: Directive,
}

/// The directive mutations of the root.
#[derive(Default)]
pub struct DirectiveMutation;

/// The directive mutations of the root.
#[Object]
impl DirectiveMutation {
    /// Registers a directing document (admin).
    async fn create_directive(
        &self,
        ctx: &Context<'_>,
        input: CreateDirectiveInput,
    ) -> Result<CreateDirectivePayload> {
        Ok(create_directive(ctx, input).await?)
    }
}

async fn create_directive(
    ctx: &Context<'_>,
    input: CreateDirectiveInput,
) -> ApiResult<CreateDirectivePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let code = input::code("input.code", &input.code)?.to_string();
    let number = input::opt_text("input.number", input.number.as_deref(), 60)?;
    let title = input::text("input.title", &input.title, 1000)?;
    let issuer = input::opt_text("input.issuer", input.issuer.as_deref(), 200)?
        .unwrap_or_else(|| "UBND tỉnh".to_owned());
    let signer = input::opt_text("input.signer", input.signer.as_deref(), 200)?;
    let signer_title = input::opt_text("input.signerTitle", input.signer_title.as_deref(), 200)?;
    let w = Write::begin(ctx).await?;
    let mut same = sea_orm::Condition::any().add(directive::Column::Code.eq(&code));
    if let Some(n) = &number {
        same = same.add(directive::Column::Number.eq(n));
    }
    let taken = caller
        .scope
        .find::<directive::Entity>()
        .filter(same)
        .count(&w.txn)
        .await?;
    if taken > 0 {
        return Err(ApiError::Conflict(format!(
            "Đã có văn bản mã '{code}'{}",
            number
                .as_deref()
                .map(|n| format!(" hoặc số hiệu '{n}'"))
                .unwrap_or_default()
        )));
    }
    let search = SearchKeys::directive(number.as_deref(), &title, &issuer);
    let now = Utc::now();
    let m = directive::ActiveModel {
        code: Set(code),
        number: Set(number),
        kind: Set(input.kind.into()),
        title: Set(title),
        issued_on: Set(input.issued_on.map(|d| d.0)),
        issuer: Set(issuer),
        signer: Set(signer),
        signer_title: Set(signer_title),
        search_title: Set(search.title),
        search_text: Set(search.text),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    w.publish_other(crate::events::OtherEvent::DirectiveCreated { directive_id: m.id })
        .await?;
    audit(
        &w,
        ctx,
        "createDirective",
        "directive",
        Some(m.id),
        None,
        snap(&m),
    )
    .await?;
    w.commit().await?;
    Ok(CreateDirectivePayload {
        directive: Directive(Arc::new(m)),
    })
}
