//! The agency a code names, and whether it still exists on a date (with its successor when it
//! merged away): for tokens, which a dissolved agency may no longer use, and for every input
//! that names agencies by code. Also the agencies whose assignments an agency holds (itself and
//! those it succeeded), from which an agency token's scope is made.

use std::sync::Arc;

use chrono::NaiveDate;
use entity::{agency, agency_succession};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, QueryFilter, QueryOrder};

use super::scope::{public, public_by_id};
use crate::domain::code::AgencyCode;
use crate::error::{ApiError, ApiResult};

/// Whether an agency still exists on `on` (its last day is `valid_to`, inclusive).
pub fn exists_on(a: &agency::Model, on: NaiveDate) -> bool {
    a.valid_from.is_none_or(|f| f <= on) && a.valid_to.is_none_or(|t| on <= t)
}

/// Whether an agency's existence has ended by `on` (it may not yet have begun; that is not an end).
pub fn ended_by(a: &agency::Model, on: NaiveDate) -> bool {
    a.valid_to.is_some_and(|end| end < on)
}

/// The agency with this code.
pub async fn by_code(db: &impl ConnectionTrait, code: &AgencyCode) -> Result<Option<agency::Model>, DbErr> {
    public::<agency::Entity>()
        .filter(agency::Column::Code.eq(code.as_str()))
        .one(db)
        .await
}

/// The latest successor of an agency that merged away, and from when.
pub async fn successor_of(
    db: &impl ConnectionTrait,
    a: &agency::Model,
) -> Result<Option<(agency::Model, NaiveDate)>, DbErr> {
    let Some(s) = public::<agency_succession::Entity>()
        .filter(agency_succession::Column::PredecessorId.eq(a.id))
        .order_by_desc(agency_succession::Column::EffectiveOn)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(public_by_id::<agency::Entity>(s.successor_id)
        .one(db)
        .await?
        .map(|next| (next, s.effective_on)))
}

/// Why an agency that has ended cannot be used, naming its successor when there is one.
async fn ended_message(db: &impl ConnectionTrait, a: &agency::Model) -> ApiResult<String> {
    Ok(match successor_of(db, a).await? {
        Some((next, from)) => format!(
            "{} đã sáp nhập vào {} từ ngày {}; hãy dùng {} (mã '{}')",
            a.name,
            next.name,
            from.format("%d/%m/%Y"),
            next.name,
            next.code
        ),
        None => format!("{} đã ngừng hoạt động", a.name),
    })
}

/// The agency an input names, existing on `on`: BAD_USER_INPUT at `field` when the code is
/// malformed, unknown, or names an agency that has ended (saying which agency took over).
pub async fn active_by_code(
    db: &impl ConnectionTrait,
    field: &str,
    code: &str,
    on: NaiveDate,
) -> ApiResult<agency::Model> {
    let code = AgencyCode::parse(code).map_err(|e| ApiError::bad_input(field, e.to_string()))?;
    let a = by_code(db, &code)
        .await?
        .ok_or_else(|| ApiError::bad_input(field, format!("Không có cơ quan mã '{code}'")))?;
    if ended_by(&a, on) {
        return Err(ApiError::bad_input(field, ended_message(db, &a).await?));
    }
    Ok(a)
}

/// The agency a token names, refused (UNAUTHENTICATED) when unknown or ended on `on`, naming
/// the successor whose token to use.
pub async fn token_agency(db: &impl ConnectionTrait, code: &str, on: NaiveDate) -> ApiResult<i32> {
    let shown: String = code.chars().filter(|c| !c.is_control()).take(60).collect();
    let unknown = || ApiError::Unauthenticated(format!("Không có cơ quan mã '{shown}'"));
    let code = AgencyCode::parse(code).map_err(|_| unknown())?;
    let a = by_code(db, &code).await?.ok_or_else(unknown)?;
    if ended_by(&a, on) {
        let why = ended_message(db, &a).await?;
        return Err(ApiError::Unauthenticated(format!(
            "{why}; token của cơ quan này không còn dùng được"
        )));
    }
    Ok(a.id)
}

/// The agencies whose assignments an agency holds: itself and, transitively, those it
/// succeeded. An agency token's scope.
pub async fn holder_scope(db: &impl ConnectionTrait, agency_id: i32) -> Result<Arc<[i32]>, DbErr> {
    let mut ids = vec![agency_id];
    let mut frontier = vec![agency_id];
    while !frontier.is_empty() {
        let preds: Vec<i32> = public::<agency_succession::Entity>()
            .filter(agency_succession::Column::SuccessorId.is_in(frontier.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.predecessor_id)
            .filter(|p| !ids.contains(p))
            .collect();
        ids.extend(&preds);
        frontier = preds;
    }
    Ok(ids.into())
}
