//! Indicators (chỉ tiêu): yearly targets, their recorded values and achievement; the list and
//! loaders; recording values (`mutations`); and the flat export for BI tools (`export`).

pub mod export;
pub mod loaders;
pub mod mutations;
mod queries;

use std::str::FromStr;
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, Value};
use entity::enums::Comparator as C;
use entity::{indicator, indicator_value};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{ColumnTrait, QueryFilter};

pub use loaders::IndicatorLoaders;
pub use queries::{IndicatorConnection, IndicatorFilter};

use crate::agencies::{Agency, load_agency};
use crate::auth::{Caller, Permission};
use crate::domain::period::PeriodId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::Needs;
use crate::graphql::loaders::load_err;
use crate::graphql::plain::{Plain, PlainList, opt_text, out, text};
use crate::graphql::relay::{self, NodeKind, PageArgs, decode_id};
use crate::state::State;

/// How a value compares with the target: "trên" is GT, "đạt"/"tối thiểu" GE.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Comparator")]
pub enum Comparator {
    /// Greater than (trên).
    Gt,
    /// At least (đạt, tối thiểu).
    Ge,
    /// Equal (a structural share).
    Eq,
    /// At most (không quá).
    Le,
    /// Less than (dưới).
    Lt,
}

/// Which way is better.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Direction")]
pub enum Direction {
    /// More is better.
    Increase,
    /// A reduction target: the value recorded is the reduction achieved.
    Decrease,
    /// No better side (a structural share): the deviation is what matters.
    Neutral,
}

/// Whether values accumulate over the year or are a level.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Measure")]
pub enum Measure {
    /// A rate, share, index or stock: each period's value stands on its own.
    Level,
    /// A flow summed over the year (revenue, arrivals): a quarter's value is part of the year's.
    Cumulative,
}

/// Estimate or official figure.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ValueKind")]
pub enum ValueKind {
    /// Ước tính.
    Estimate,
    /// Số chính thức: supersedes estimates of the same period.
    Official,
}

fn dec(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok()
}

/// Achievement ratio of a value against a target (1.0 = met exactly). For a reduction target
/// the value recorded is the reduction achieved, so the ratio is reduction achieved ÷
/// reduction targeted. For a ceiling (LE, LT) lower is better: target ÷ value.
pub fn achievement(target: Decimal, value: Decimal, comparator: Option<C>) -> Option<f64> {
    let ratio = match comparator {
        Some(C::Le | C::Lt) => target.checked_div(value)?,
        _ => value.checked_div(target)?,
    };
    ratio.round_dp(6).to_f64()
}

/// A structural share (EQ, or no better side): a value is judged by its deviation from the
/// target, never by a ratio: 17 % against 16 % is not "106 % achieved".
pub fn structural(ind: &indicator::Model) -> bool {
    ind.direction == entity::enums::Direction::Neutral || ind.comparator == Some(C::Eq)
}

/// The achievement of `value` against the indicator's target ([`achievement`]); `None` for a
/// qualitative target, a structural share ([`structural`]) or without a target.
pub fn achievement_of(ind: &indicator::Model, value: Decimal) -> Option<f64> {
    if ind.qualitative || structural(ind) {
        return None;
    }
    achievement(ind.target.as_deref().and_then(dec)?, value, ind.comparator)
}

/// Whether a value meets the target by its comparator.
pub fn met(target: Decimal, value: Decimal, comparator: Option<C>) -> Option<bool> {
    Some(match comparator? {
        C::Gt => value > target,
        C::Ge => value >= target,
        C::Eq => value == target,
        C::Le => value <= target,
        C::Lt => value < target,
    })
}

/// The value that stands for an indicator now: the latest period, and within it the value
/// that stands for that period ([`standing_key`]).
pub fn latest(values: &[indicator_value::Model]) -> Option<&indicator_value::Model> {
    values.iter().max_by_key(|v| {
        let end = PeriodId::from_str(&v.period).ok().map(|p| p.calendar_range().1);
        (end, standing_key(v))
    })
}

/// Which of a period's values stands: an official figure over an estimate, then the latest
/// recorded, then the latest row. The greatest key stands; [`standing_order`] is the same
/// rule in SQL (the export's), and the two are kept side by side here so they cannot drift.
fn standing_key(v: &indicator_value::Model) -> (bool, chrono::DateTime<chrono::Utc>, i32) {
    (v.kind == entity::enums::ValueKind::Official, v.recorded_at, v.id)
}

/// [`standing_key`] as an SQL ordering, the value that stands first.
pub(crate) fn standing_order() -> [(sea_orm::sea_query::SimpleExpr, sea_orm::Order); 3] {
    use entity::enums::ValueKind;
    use indicator_value::Column as V;
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ActiveEnum, Order};
    let col = |c: V| Expr::col((indicator_value::Entity, c));
    [
        (
            Expr::case(col(V::Kind).eq(ValueKind::Official.to_value()), 1)
                .finally(0)
                .into(),
            Order::Desc,
        ),
        (col(V::RecordedAt), Order::Desc),
        (col(V::Id), Order::Desc),
    ]
}

/// The value that stands for one period (see [`standing_key`]). The others are kept as
/// history (superseded).
pub fn effective_for<'a>(
    values: &'a [indicator_value::Model],
    period: &str,
) -> Option<&'a indicator_value::Model> {
    values
        .iter()
        .filter(|v| v.period == period)
        .max_by_key(|v| standing_key(v))
}

/// Whether a value has been superseded by a later or official value of its period.
pub fn superseded(values: &[indicator_value::Model], v: &indicator_value::Model) -> bool {
    effective_for(values, &v.period).is_some_and(|e| e.id != v.id)
}

/// For each of `values`, whether it stands for its period (is not [`superseded`]): the same
/// rule for all of them at once, by one sort instead of a scan of all per value.
pub fn standing(values: &[indicator_value::Model]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (&values[a], &values[b]);
        a.period
            .cmp(&b.period)
            .then_with(|| standing_key(a).cmp(&standing_key(b)))
    });
    let mut out = vec![false; values.len()];
    for (n, &i) in order.iter().enumerate() {
        // The greatest key of a period comes last among its values.
        out[i] = order
            .get(n + 1)
            .is_none_or(|&next| values[next].period != values[i].period);
    }
    out
}

/// Share of the indicator's year elapsed at the end of `period` (months ÷ 12), for a
/// straight-line path; `None` when the period is not within the indicator's year.
pub fn year_fraction(period: &PeriodId, year: i32) -> Option<Decimal> {
    use chrono::Datelike;
    (period.year() == year).then(|| Decimal::from(period.calendar_range().1.month()) / Decimal::from(12))
}

/// Whether a value is on track to meet the yearly target by the end of its period.
///
/// * CUMULATIVE indicators (revenue, arrivals, investment): a sub-year value is the total
///   from the start of the year (lũy kế), compared with the straight-line share of the
///   target: Q1 against 3/12 of it, S1 against 6/12, May against 5/12.
/// * LEVEL indicators (rates, shares, life expectancy): each value stands on its own and is
///   compared with the full target.
/// * A structural share (EQ, NEUTRAL) has no better side: `None`; see `deviation`.
pub fn on_track(ind: &indicator::Model, value: Decimal, period: &PeriodId) -> Option<bool> {
    let target = ind.target.as_deref().and_then(dec)?;
    let comparator = ind.comparator?;
    if ind.qualitative || structural(ind) {
        return None;
    }
    let expected = match ind.measure {
        entity::enums::Measure::Cumulative => target.checked_mul(year_fraction(period, ind.year)?)?,
        entity::enums::Measure::Level => target,
    };
    // Part-way along the path, reaching the expected amount is on track even for a strict
    // "more than" target.
    let comparator = match comparator {
        C::Gt if expected != target => C::Ge,
        C::Lt if expected != target => C::Le,
        c => c,
    };
    met(expected, value, Some(comparator))
}

/// The sum of the children's targets, when every child has one in the parent's unit.
pub fn children_sum(parent: &indicator::Model, children: &[indicator::Model]) -> Option<Decimal> {
    let unit = parent.unit.as_deref()?;
    if children.is_empty() || children.iter().any(|c| c.unit.as_deref() != Some(unit)) {
        return None;
    }
    children
        .iter()
        .map(|c| c.target.as_deref().and_then(dec))
        .sum::<Option<Decimal>>()
}

/// A yearly socio-economic target (chỉ tiêu).
#[derive(Clone)]
pub struct Indicator(pub Arc<indicator::Model>);

impl Indicator {
    fn target_dec(&self) -> Option<Decimal> {
        self.0.target.as_deref().and_then(dec)
    }

    async fn values_all(&self, ctx: &Context<'_>) -> Result<Arc<Vec<indicator_value::Model>>> {
        Ok(IndicatorLoaders::of(ctx)
            .values
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }
}

impl Plain for Indicator {
    fn plain(&self, name: &str) -> Option<Value> {
        use crate::graphql::scalars::Decimal as D;
        let m = &self.0;
        Some(match name {
            "id" => out(relay::global_id(NodeKind::Indicator, m.id)),
            "code" => text(&m.code),
            "item" => opt_text(m.item.as_deref()),
            "name" => text(&m.name),
            "unit" => opt_text(m.unit.as_deref()),
            "target" => m.target.as_deref().map_or(Value::Null, D::of_text),
            "targetText" => opt_text(m.target_text.as_deref()),
            "comparator" => out(m.comparator.map(Comparator::from)),
            "direction" => out(Direction::from(m.direction)),
            "measure" => out(Measure::from(m.measure)),
            "year" => out(m.year),
            "qualitative" => out(m.qualitative),
            "description" => opt_text(m.description.as_deref()),
            "sourceText" => opt_text(m.source_text.as_deref()),
            _ => return None,
        })
    }
}

/// A yearly socio-economic target (chỉ tiêu).
#[Object]
impl Indicator {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Indicator, self.0.id)
    }
    /// Stable code, e.g. `2025.09` (children `2025.02.a`).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Item marker in the source document, e.g. `(9)`.
    async fn item(&self) -> Option<&str> {
        self.0.item.as_deref()
    }
    /// Name (tên chỉ tiêu).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Unit (đơn vị tính), e.g. `tỷ đồng`, `%`.
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    /// Target value, exact; null for a composite parent or a qualitative target.
    async fn target(&self) -> Option<crate::graphql::scalars::Decimal> {
        self.target_dec().map(crate::graphql::scalars::Decimal)
    }
    /// Target as written in the source, Vietnamese format (`21.000`, `8,5`).
    async fn target_text(&self) -> Option<&str> {
        self.0.target_text.as_deref()
    }
    /// How a value compares with the target.
    async fn comparator(&self) -> Option<Comparator> {
        self.0.comparator.map(Into::into)
    }
    /// Which way is better.
    async fn direction(&self) -> Direction {
        self.0.direction.into()
    }
    /// Whether values accumulate over the year or are levels.
    async fn measure(&self) -> Measure {
        self.0.measure.into()
    }
    /// Year the target is for.
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Whether the target is qualitative (định tính): no number to achieve.
    async fn qualitative(&self) -> bool {
        self.0.qualitative
    }
    /// Context from the source document.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The target's sentence in the source document.
    async fn source_text(&self) -> Option<&str> {
        self.0.source_text.as_deref()
    }
    /// Composite parent (e.g. the economic structure for one of its shares).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(IndicatorLoaders::of(ctx)
            .indicator
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(|m| Indicator(Arc::new(m))))
    }
    /// Parts of a composite target, in document order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let rows = IndicatorLoaders::of(ctx)
            .children
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(|m| Indicator(Arc::new(m))).collect())
    }
    /// Sum of the children's targets, as written (the economic structure's shares add up to
    /// 99.96 in the source, which is kept as is). Null without children, and null when the
    /// parts do not all carry a target in the parent's own unit: (5) adds a growth rate in % to
    /// an amount in tỷ đồng, and (8) visitors to revenue, which no sum can mean.
    async fn children_target_sum(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::scalars::Decimal>> {
        let rows = IndicatorLoaders::of(ctx)
            .children
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(children_sum(&self.0, &rows).map(crate::graphql::scalars::Decimal))
    }
    /// The document that set this target (`Indicator.directive`): 10/CT-UBND's revenue target
    /// (15.500 tỷ đồng, the former province) and the emulation letter's (21.000 tỷ đồng, the
    /// merged one) are both targets for 2025, each with its own source.
    async fn directive(&self, ctx: &Context<'_>) -> Result<Option<crate::directives::Directive>> {
        let Some(id) = self.0.directive_id else {
            return Ok(None);
        };
        Ok(crate::directives::load_directive(ctx, id).await?)
    }
    /// The agency responsible for the figures (not in the source document: assigned by sector).
    async fn responsible_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.0.responsible_agency_id {
            Some(id) => Ok(load_agency(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// Recorded values, oldest period first, optionally within a period range (inclusive,
    /// e.g. `from: "202501", to: "202512"`; statistical calendar). One value per period (the
    /// one that stands) unless `history: true`.
    async fn values(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        to: Option<String>,
        #[graphql(default = false)] history: bool,
    ) -> Result<PlainList<IndicatorValue>> {
        let parse =
            |s: &Option<String>, f: &str| -> ApiResult<Option<(chrono::NaiveDate, chrono::NaiveDate)>> {
                s.as_deref()
                    .map(|p| {
                        PeriodId::from_str(p)
                            .map(|p| p.calendar_range())
                            .map_err(|e| ApiError::bad_input(f, e.to_string()))
                    })
                    .transpose()
            };
        let (from, to) = (parse(&from, "from")?, parse(&to, "to")?);
        let all = self.values_all(ctx).await?;
        let stands = if history { Vec::new() } else { standing(&all) };
        let mut out: Vec<(chrono::NaiveDate, IndicatorValue)> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| history || stands[*i])
            .filter_map(|(i, v)| {
                let (start, end) = PeriodId::from_str(&v.period).ok()?.calendar_range();
                let inside = from.is_none_or(|f| start >= f.0) && to.is_none_or(|t| end <= t.1);
                inside.then(|| (start, IndicatorValue::shared(&all, i, self.0.clone())))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.m().recorded_at.cmp(&b.1.m().recorded_at)));
        Ok(PlainList(out.into_iter().map(|(_, v)| v).collect()))
    }
    /// One point per period of `periodType`, in order, with the value that stands for it or
    /// null: a chart needs no gap filling. The range defaults to the indicator's year;
    /// `from`/`to` are period ids of the same type (at most 1200 points).
    async fn series(
        &self,
        ctx: &Context<'_>,
        period_type: SeriesPeriodType,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<SeriesPoint>> {
        use crate::domain::period::PeriodType as T;
        let t: T = period_type.into();
        let year_start = chrono::NaiveDate::from_ymd_opt(self.0.year, 1, 1)
            .ok_or_else(|| ApiError::bad_input("year", "Năm không hợp lệ"))?;
        let year_end = chrono::NaiveDate::from_ymd_opt(self.0.year, 12, 31)
            .ok_or_else(|| ApiError::bad_input("year", "Năm không hợp lệ"))?;
        let bound = |s: &Option<String>, f: &str, default: chrono::NaiveDate| -> ApiResult<PeriodId> {
            match s.as_deref() {
                None => Ok(PeriodId::containing(default, t)),
                Some(p) => {
                    let id = PeriodId::from_str(p).map_err(|e| ApiError::bad_input(f, e.to_string()))?;
                    if id.period_type() != t {
                        return Err(ApiError::bad_input(
                            f,
                            format!("`{f}` phải là kỳ loại {}", t.as_str()),
                        ));
                    }
                    Ok(id)
                }
            }
        };
        let (first, last) = (bound(&from, "from", year_start)?, bound(&to, "to", year_end)?);
        let periods = PeriodId::range(first, last).map_err(|e| ApiError::bad_input("to", e.to_string()))?;
        let most = crate::graphql::limits::MAX_SERIES_POINTS;
        if periods.len() as u64 > most {
            return Err(ApiError::bad_input(
                "to",
                format!("Chuỗi số liệu tối đa {most} kỳ (yêu cầu {})", periods.len()),
            )
            .into());
        }
        let all = self.values_all(ctx).await?;
        Ok(periods
            .into_iter()
            .map(|p| {
                let key = p.to_string();
                let value = effective_for(&all, &key).map(|v| IndicatorValue::of(&all, v, self.0.clone()));
                let (start, end) = p.calendar_range();
                SeriesPoint {
                    period: key,
                    start: crate::graphql::scalars::Date(start),
                    end: crate::graphql::scalars::Date(end),
                    value,
                }
            })
            .collect())
    }
    /// Whether the value that stands now is on track for the yearly target (see
    /// `IndicatorValue.onTrack`); null without a value, for a structural share or a
    /// qualitative target.
    async fn on_track(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let values = self.values_all(ctx).await?;
        Ok(latest(&values).and_then(|v| {
            let period = PeriodId::from_str(&v.period).ok()?;
            on_track(&self.0, dec(&v.value)?, &period)
        }))
    }
    /// The value that stands now: the latest period, official over estimate.
    async fn latest_value(&self, ctx: &Context<'_>) -> Result<Option<IndicatorValue>> {
        let values = self.values_all(ctx).await?;
        Ok(latest(&values).map(|v| IndicatorValue::of(&values, v, self.0.clone())))
    }
    /// Achievement of the latest value as a ratio (1.0 = target met exactly; for a reduction
    /// target, reduction achieved ÷ reduction targeted); null without a value, for a
    /// qualitative target, or for a structural share (it has no better side: read the value's
    /// `deviation` instead).
    async fn achievement(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        if self.target_dec().is_none() {
            return Ok(None);
        }
        let values = self.values_all(ctx).await?;
        Ok(latest(&values)
            .and_then(|v| dec(&v.value))
            .and_then(|v| achievement_of(&self.0, v)))
    }
}

/// A recorded value of an indicator for a period: one of the indicator's values as the
/// loader read them (shared, not copied: a page of 50 indicators has 600).
#[derive(Clone)]
pub struct IndicatorValue {
    all: Arc<Vec<indicator_value::Model>>,
    at: usize,
    indicator: Arc<indicator::Model>,
}

impl IndicatorValue {
    pub(crate) fn new(m: indicator_value::Model, indicator: Arc<indicator::Model>) -> Self {
        IndicatorValue {
            all: Arc::new(vec![m]),
            at: 0,
            indicator,
        }
    }

    /// Value `at` of `all`.
    fn shared(all: &Arc<Vec<indicator_value::Model>>, at: usize, indicator: Arc<indicator::Model>) -> Self {
        IndicatorValue {
            all: all.clone(),
            at,
            indicator,
        }
    }

    /// Value `v`, one of `all` (found by id; an indicator has a few dozen values at most).
    fn of(
        all: &Arc<Vec<indicator_value::Model>>,
        v: &indicator_value::Model,
        indicator: Arc<indicator::Model>,
    ) -> Self {
        match all.iter().position(|x| x.id == v.id) {
            Some(at) => Self::shared(all, at, indicator),
            None => Self::new(v.clone(), indicator),
        }
    }

    fn m(&self) -> &indicator_value::Model {
        &self.all[self.at]
    }
}

/// The fields of a value that need nothing but the row and its indicator: its resolvers and
/// [`Plain`] answer from these.
impl IndicatorValue {
    fn value_dec(&self) -> Option<Decimal> {
        dec(&self.m().value)
    }
    fn achievement_now(&self) -> Option<f64> {
        achievement_of(&self.indicator, self.value_dec()?)
    }
    fn on_track_now(&self) -> Option<bool> {
        let period = PeriodId::from_str(&self.m().period).ok()?;
        on_track(&self.indicator, self.value_dec()?, &period)
    }
    fn met_now(&self) -> Option<bool> {
        let target = self.indicator.target.as_deref().and_then(dec)?;
        met(target, self.value_dec()?, self.indicator.comparator)
    }
    fn deviation_now(&self) -> Option<Decimal> {
        let target = self.indicator.target.as_deref().and_then(dec)?;
        self.value_dec()?.checked_sub(target)
    }
}

impl Plain for IndicatorValue {
    fn plain(&self, name: &str) -> Option<Value> {
        use crate::graphql::scalars::Decimal as D;
        let m = self.m();
        Some(match name {
            "id" => out(relay::global_id(NodeKind::IndicatorValue, m.id)),
            "period" => text(&m.period),
            "value" => D::of_text(&m.value),
            "kind" => out(ValueKind::from(m.kind)),
            "note" => opt_text(m.note.as_deref()),
            "recordedAt" => out(m.recorded_at),
            "achievement" => out(self.achievement_now()),
            "onTrack" => out(self.on_track_now()),
            "met" => out(self.met_now()),
            "deviation" => out(self.deviation_now().map(D)),
            // superseded: a loader; recordedBy: a guard.
            _ => return None,
        })
    }
}

/// A recorded value of an indicator for a period.
#[Object]
impl IndicatorValue {
    /// Global id.
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::IndicatorValue, self.m().id)
    }
    /// Period id, statistical calendar: `2025`, `2025S1`, `2025Q1`, `202501`.
    async fn period(&self) -> &str {
        &self.m().period
    }
    /// The value, exact.
    async fn value(&self) -> Option<crate::graphql::scalars::Decimal> {
        self.value_dec().map(crate::graphql::scalars::Decimal)
    }
    /// Estimate or official.
    async fn kind(&self) -> ValueKind {
        self.m().kind.into()
    }
    /// Remark.
    async fn note(&self) -> Option<&str> {
        self.m().note.as_deref()
    }
    /// When it was recorded.
    async fn recorded_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.m().recorded_at
    }
    /// Achievement of this value against the yearly target (see `Indicator.achievement`);
    /// null for a structural share (see `deviation`).
    async fn achievement(&self) -> Option<f64> {
        self.achievement_now()
    }
    /// Whether this value is on track for the yearly target by the end of its period: for
    /// cumulative indicators a sub-year value is the total since 1 January, compared with the
    /// straight-line share of the target (Q1: 3/12); level indicators compare with the full
    /// target; null for a structural share or a qualitative target.
    async fn on_track(&self) -> Option<bool> {
        self.on_track_now()
    }
    /// Whether a later or official value of the same period replaced this one (it is kept
    /// as history).
    async fn superseded(&self, ctx: &Context<'_>) -> Result<bool> {
        let values = IndicatorLoaders::of(ctx)
            .values
            .load_one(self.indicator.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(superseded(&values, self.m()))
    }
    /// Who recorded it (the token's subject). Internal: not shown to viewers.
    #[graphql(guard = "Needs(Permission::ReadInternal)")]
    async fn recorded_by(&self) -> &str {
        &self.m().recorded_by
    }
    /// Whether this value meets the target by its comparator.
    async fn met(&self) -> Option<bool> {
        self.met_now()
    }
    /// Value minus target (for structural shares, the deviation that matters).
    async fn deviation(&self) -> Option<crate::graphql::scalars::Decimal> {
        self.deviation_now().map(crate::graphql::scalars::Decimal)
    }
}

/// Period types of a series.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::period::PeriodType")]
pub enum SeriesPeriodType {
    /// Months (`202501`).
    Month,
    /// Quarters (`2025Q1`).
    Quarter,
    /// Half years (`2025S1`).
    Half,
    /// Years (`2025`).
    Year,
}

/// One period of a series and the value that stands for it.
#[derive(async_graphql::SimpleObject)]
pub struct SeriesPoint {
    /// Period id.
    pub period: String,
    /// First day of the period.
    pub start: crate::graphql::scalars::Date,
    /// Last day of the period.
    pub end: crate::graphql::scalars::Date,
    /// The value that stands for the period (official over estimate), or null.
    pub value: Option<IndicatorValue>,
}

/// The indicator fields of the root query.
#[derive(Default)]
pub struct IndicatorQuery;

/// The indicator fields of the root query.
#[Object]
impl IndicatorQuery {
    /// Indicators (chỉ tiêu), in document order.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<IndicatorFilter>,
    ) -> Result<IndicatorConnection> {
        let args = PageArgs::parse(first, after, last, before)?;
        Ok(queries::list_indicators(
            State::reads_of(ctx),
            &Caller::of(ctx).scope,
            filter.unwrap_or_default(),
            args,
            crate::db::lean::Fields::of_request(ctx),
        )
        .await?)
    }

    /// One indicator, by global id or by code (e.g. `2025.09`).
    async fn indicator(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Indicator> {
        let (db, scope) = (State::reads_of(ctx), &Caller::of(ctx).scope);
        let row = match (id, code) {
            (Some(id), None) => {
                let id = decode_id(&id, NodeKind::Indicator, "id")?;
                scope.find_by_id::<indicator::Entity>(id).one(db).await?
            }
            (None, Some(code)) => {
                scope
                    .find::<indicator::Entity>()
                    .filter(indicator::Column::Code.eq(code.trim()))
                    .one(db)
                    .await?
            }
            _ => return Err(ApiError::bad_input("id", "Cần đúng một trong `id` hoặc `code`").into()),
        };
        row.map(|m| Indicator(Arc::new(m)))
            .ok_or_else(|| ApiError::not_found("chỉ tiêu").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn extreme_values_give_null_not_a_panic() {
        let huge = Decimal::MAX;
        assert_eq!(achievement(d("0.001"), huge, Some(C::Ge)), None);
        assert_eq!(achievement(huge, d("0.0000001"), Some(C::Le)), None);
        assert_eq!(achievement(d("5"), d("0"), Some(C::Le)), None);
    }

    #[test]
    fn achievement_by_comparator() {
        assert_eq!(achievement(d("21000"), d("21000"), Some(C::Ge)), Some(1.0));
        assert_eq!(achievement(d("21000"), d("10500"), Some(C::Ge)), Some(0.5));
        // Poverty: a reduction of 2.70 points against a 2.68 target.
        let a = achievement(d("2.68"), d("2.70"), Some(C::Ge)).unwrap_or_default();
        assert!(a > 1.0 && a < 1.01, "{a}");
        assert_eq!(met(d("2.68"), d("2.70"), Some(C::Ge)), Some(true));
        // A ceiling: lower is better.
        assert_eq!(achievement(d("5"), d("4"), Some(C::Le)), Some(1.25));
        assert_eq!(met(d("95"), d("95"), Some(C::Gt)), Some(false));
        assert_eq!(achievement(d("0"), d("4"), Some(C::Ge)), None);
    }

    #[test]
    fn standing_is_the_rule_of_superseded_for_every_value() {
        use chrono::TimeZone;
        use entity::enums::ValueKind as K;
        let v = |id: i32, period: &str, kind: K, minute: u32| indicator_value::Model {
            id,
            indicator_id: 1,
            period: period.into(),
            value: "1".into(),
            kind,
            note: None,
            recorded_by: "t".into(),
            recorded_at: chrono::Utc
                .with_ymd_and_hms(2025, 3, 1, 8, minute, 0)
                .single()
                .expect("a time"),
        };
        let values = vec![
            v(1, "202501", K::Estimate, 0),
            v(2, "202501", K::Estimate, 5), // a later estimate
            v(3, "202502", K::Official, 0), // official, recorded first
            v(4, "202502", K::Estimate, 9), // a later estimate does not beat it
            v(5, "2025Q1", K::Estimate, 1), // alone in its period
            v(6, "202503", K::Estimate, 2), // same time: the later row
            v(7, "202503", K::Estimate, 2),
            v(9, "202502", K::Official, 3), // a later official one does
        ];
        let stands = standing(&values);
        let expected: Vec<bool> = values.iter().map(|x| !superseded(&values, x)).collect();
        assert_eq!(stands, expected);
        assert_eq!(stands, vec![false, true, false, false, true, false, true, true]);
        assert!(standing(&[]).is_empty());
    }
}
