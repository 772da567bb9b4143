//! The caller of one request: the `Authorization` header checked, the token's agency looked up,
//! and the scope that follows.

use axum::http::{HeaderMap, header};

use super::jwt::Verifier;
use super::{Principal, Role, Scope, directory};
use crate::db::reads::Reads;
use crate::error::ApiError;

/// The caller of one request and what it may see.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub scope: Scope,
    /// The request's `x-request-id`, for the audit log and error reports.
    pub request_id: Option<String>,
    /// When the token expires (seconds since the Unix epoch): a socket's subscriptions end then.
    pub expires_at: u64,
}

impl Caller {
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a Caller {
        ctx.data_unchecked::<Caller>()
    }
}

/// Turns the `Authorization` header into a caller and its scope. Every GraphQL request, export
/// and socket passes here; there is no anonymous access.
pub async fn authenticate(
    verifier: &Verifier,
    reads: &Reads,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "Cần đăng nhập: gửi token trong header `Authorization: Bearer <token>`".into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("Header Authorization không hợp lệ".into()))?;
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("Header Authorization phải có dạng `Bearer <token>`".into())
        })?;
    let claims = verifier
        .verify(token)
        .await
        .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
    let role = Role::parse(&claims.role).ok_or_else(|| {
        ApiError::Unauthenticated(format!(
            "Vai trò '{}' không hợp lệ: dùng admin, monitor, agency, viewer hoặc analyst",
            claims
                .role
                .chars()
                .filter(|c| !c.is_control())
                .take(40)
                .collect::<String>()
        ))
    })?;
    let agency_id = if role == Role::Agency {
        let code = claims.agency.as_deref().ok_or_else(|| {
            ApiError::Unauthenticated("Token vai trò agency phải có trường `agency` (mã cơ quan)".into())
        })?;
        Some(directory::token_agency(reads, code, crate::clock::today()).await?)
    } else {
        None
    };
    let scope = directory::scope_of_role(reads, role, agency_id).await?;
    Ok(Caller {
        principal: Principal {
            subject: claims.sub,
            role,
            agency_id,
        },
        scope,
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(64).collect()),
        expires_at: claims.exp,
    })
}
