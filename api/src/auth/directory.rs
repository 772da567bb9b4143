//! The agency a code names, and whether it still exists on a date (with its successor when it
//! merged away): for tokens, which a dissolved agency may no longer use, and for every input
//! that names agencies by code. Also the agencies whose assignments an agency holds (itself and
//! those it succeeded), from which an agency token's scope is made.

use std::sync::Arc;

use chrono::NaiveDate;
use entity::{agency, agency_succession};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, QueryFilter, QueryOrder};

use super::scope::public;
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

/// The successors of an agency that ended (those of its latest succession date), and from when.
pub async fn successors_of(
    db: &impl ConnectionTrait,
    a: &agency::Model,
) -> Result<Option<(Vec<agency::Model>, NaiveDate)>, DbErr> {
    let rows = public::<agency_succession::Entity>()
        .filter(agency_succession::Column::PredecessorId.eq(a.id))
        .order_by_desc(agency_succession::Column::EffectiveOn)
        .order_by_asc(agency_succession::Column::Id)
        .all(db)
        .await?;
    let Some(from) = rows.first().map(|s| s.effective_on) else {
        return Ok(None);
    };
    let ids: Vec<i32> = rows
        .iter()
        .filter(|s| s.effective_on == from)
        .map(|s| s.successor_id)
        .collect();
    let mut next = public::<agency::Entity>()
        .filter(agency::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    next.sort_by_key(|n| ids.iter().position(|i| *i == n.id));
    Ok((!next.is_empty()).then_some((next, from)))
}

/// Why an agency that has ended cannot be used, naming who took over when someone did.
async fn ended_message(db: &impl ConnectionTrait, a: &agency::Model) -> ApiResult<String> {
    Ok(match successors_of(db, a).await? {
        Some((next, from)) if next.len() == 1 => format!(
            "{} đã sáp nhập vào {} từ ngày {}; hãy dùng {} (mã '{}')",
            a.name,
            next[0].name,
            from.format("%d/%m/%Y"),
            next[0].name,
            next[0].code
        ),
        Some((next, from)) => format!(
            "{} đã ngừng hoạt động từ ngày {}; nhiệm vụ chuyển cho: {}",
            a.name,
            from.format("%d/%m/%Y"),
            next.iter()
                .map(|n| format!("{} (mã '{}')", n.name, n.code))
                .collect::<Vec<_>>()
                .join(", ")
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

/// The scope of `role`; for role agency, of the agency `agency_id` (its rows and those of
/// the agencies it succeeded). A token's caller and a webhook endpoint are scoped by it.
pub async fn scope_of_role(
    db: &impl ConnectionTrait,
    role: super::Role,
    agency_id: Option<i32>,
) -> Result<super::Scope, DbErr> {
    let holders = match (role, agency_id) {
        (super::Role::Agency, Some(id)) => Some(holder_scope(db, id).await?),
        _ => None,
    };
    Ok(super::Scope::for_role(role, holders))
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
