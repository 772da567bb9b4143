//! Flat indicator data for BI tools: `GET /export/indicators.csv` and `.json`, one row per
//! indicator × period (the value that stands for the period), under the caller's scope.
//!
//! Rows are streamed: a task reads them from the database cursor and sends encoded chunks
//! through a bounded channel, so memory stays flat whatever the row count and a slow client
//! slows the query instead of filling memory.

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use entity::enums::{Comparator, Direction, Measure, ValueKind};
use entity::{agency, directive, indicator, indicator_value};
use futures::StreamExt;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, WindowStatement};
use sea_orm::{Condition, DatabaseConnection, StreamTrait};
use serde::Serialize;

use crate::auth::{Scope, Scoped};
use crate::domain::period::{PeriodId, PeriodType};
use crate::error::{ApiError, ApiResult};

/// Rows per chunk sent to the client.
const CHUNK_ROWS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// The filters of an export, parsed from the query string.
#[derive(Debug, Default)]
pub struct ExportFilter {
    year: Option<i32>,
    period_type: Option<PeriodType>,
    agency: Option<String>,
    codes: Option<Vec<String>>,
    updated_since: Option<DateTime<Utc>>,
}

impl ExportFilter {
    /// `year=2025&periodType=QUARTER&agency=so-tai-chinh&codes=2025.09,2025.18&updatedSince=2025-07-01T00:00:00Z`
    pub fn parse(q: &HashMap<String, String>) -> ApiResult<Self> {
        let mut f = ExportFilter::default();
        for (k, v) in q {
            // The one input rule (no NUL or other control character), as for GraphQL inputs.
            let field = if k.len() <= 40 && k.chars().all(|c| c.is_ascii_alphanumeric()) {
                k.as_str()
            } else {
                "query"
            };
            let v =
                crate::domain::text::clean_input(v).map_err(|e| ApiError::bad_input(field, e.to_string()))?;
            let v = v.trim();
            match k.as_str() {
                "year" => {
                    f.year = Some(
                        v.parse()
                            .map_err(|_| ApiError::bad_input("year", "`year` là số năm, ví dụ 2025"))?,
                    )
                }
                "periodType" => {
                    f.period_type = Some(PeriodType::parse(v).ok_or_else(|| {
                        ApiError::bad_input("periodType", "`periodType` là MONTH, QUARTER, HALF hoặc YEAR")
                    })?)
                }
                "agency" => f.agency = Some(crate::graphql::input::agency_code("agency", v)?.to_string()),
                "codes" => {
                    let codes: Vec<String> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if let Some(bad) = codes.iter().find(|c| {
                        c.len() > 40
                            || !c
                                .chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'))
                    }) {
                        return Err(ApiError::bad_input(
                            "codes",
                            format!(
                                "Mã chỉ tiêu '{}' không hợp lệ (ví dụ: 2025.09)",
                                bad.chars().take(40).collect::<String>()
                            ),
                        ));
                    }
                    if codes.len() > 1000 {
                        return Err(ApiError::bad_input("codes", "Tối đa 1000 mã chỉ tiêu"));
                    }
                    f.codes = Some(codes);
                }
                "updatedSince" => {
                    f.updated_since = Some(
                        DateTime::parse_from_rfc3339(v)
                            .map_err(|_| {
                                ApiError::bad_input(
                                    "updatedSince",
                                    "`updatedSince` là thời điểm RFC 3339, ví dụ 2025-07-01T00:00:00Z",
                                )
                            })?
                            .with_timezone(&Utc),
                    )
                }
                other => {
                    return Err(ApiError::bad_input(
                        other,
                        format!(
                            "Tham số '{}' không được hỗ trợ",
                            other.chars().take(40).collect::<String>()
                        ),
                    ));
                }
            }
        }
        Ok(f)
    }
}

const RN: &str = "chidao_rn";

/// The export's SQL: every indicator the caller may see that the filter names, joined with the
/// value that stands for each of its periods (official over estimate, then the latest:
/// `super::standing_order`) and with its responsible agency. An indicator with no standing
/// value in the range still comes once, for its year, carrying its target with the value
/// empty, so a table of targets against results is never empty. With `updatedSince`, only
/// rows whose standing value was recorded since then come (a refresh pulls what changed).
fn statement(filter: &ExportFilter, scope: &Scope) -> SelectStatement {
    use indicator::Column as I;
    use indicator_value::Column as V;
    let ind = |c: I| Expr::col((indicator::Entity, c));
    // The indicators the export covers.
    let mut covered = Condition::all().add(indicator::Entity::visible(scope));
    if let Some(y) = filter.year {
        covered = covered.add(ind(I::Year).eq(y));
    }
    if let Some(a) = &filter.agency {
        covered = covered.add(
            ind(I::ResponsibleAgencyId).in_subquery(
                Query::select()
                    .column(agency::Column::Id)
                    .from(agency::Entity)
                    .and_where(Expr::col(agency::Column::Code).eq(a.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(codes) = &filter.codes {
        covered = covered.add(ind(I::Code).is_in(codes.iter().map(String::as_str)));
    }

    // Their values in the range, ranked within (indicator, period).
    let mut values = Query::select();
    values
        .columns([V::IndicatorId, V::Period, V::Value, V::Kind, V::RecordedAt])
        .from(indicator_value::Entity)
        .and_where(
            Expr::col((indicator_value::Entity, V::IndicatorId)).in_subquery(
                Query::select()
                    .column(I::Id)
                    .from(indicator::Entity)
                    .cond_where(covered.clone())
                    .to_owned(),
            ),
        );
    if let Some(t) = filter.period_type {
        // Period ids are canonical (`2025`, `2025S1`, `2025Q1`, `202501`): the shape tells the type.
        let p = || Expr::col((indicator_value::Entity, V::Period));
        values.cond_where(match t {
            PeriodType::Year => Condition::all().add(p().like("____")),
            PeriodType::Quarter => Condition::all().add(p().like("%Q%")),
            PeriodType::Half => Condition::all().add(p().like("%S%")),
            PeriodType::Month => Condition::all()
                .add(p().like("______"))
                .add(p().not_like("%Q%"))
                .add(p().not_like("%S%")),
        });
    }
    let mut window = WindowStatement::new();
    {
        use sea_orm::sea_query::OverStatement;
        window.add_partition_by(Expr::col((indicator_value::Entity, V::IndicatorId)));
        window.add_partition_by(Expr::col((indicator_value::Entity, V::Period)));
    }
    for (expr, order) in super::standing_order() {
        window.order_by_expr(expr, order);
    }
    values.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(RN));
    let standing = Query::select()
        .column(Asterisk)
        .from_subquery(values, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new(RN)).eq(1))
        .to_owned();

    let sv = Alias::new("sv");
    let col = |c: V| Expr::col((sv.clone(), c));
    let mut q = Query::select();
    q.columns([
        (indicator::Entity, I::Code),
        (indicator::Entity, I::Name),
        (indicator::Entity, I::Unit),
        (indicator::Entity, I::Target),
        (indicator::Entity, I::Comparator),
        (indicator::Entity, I::Direction),
        (indicator::Entity, I::Measure),
        (indicator::Entity, I::Year),
        (indicator::Entity, I::Qualitative),
    ])
    .expr_as(col(V::Period), Alias::new("period"))
    .expr_as(col(V::Value), Alias::new("value"))
    .expr_as(col(V::Kind), Alias::new("kind"))
    .expr_as(col(V::RecordedAt), Alias::new("recorded_at"))
    .expr_as(
        Expr::col((agency::Entity, agency::Column::Code)),
        Alias::new("agency_code"),
    )
    .expr_as(
        Expr::col((agency::Entity, agency::Column::Name)),
        Alias::new("agency_name"),
    )
    .expr_as(
        Expr::col((directive::Entity, directive::Column::Code)),
        Alias::new("directive_code"),
    )
    .from(indicator::Entity)
    .left_join(
        agency::Entity,
        Expr::col((agency::Entity, agency::Column::Id)).equals((indicator::Entity, I::ResponsibleAgencyId)),
    )
    .left_join(
        directive::Entity,
        // The caller's own scope on directives: a directive it may not see is no code here.
        Condition::all()
            .add(
                Expr::col((directive::Entity, directive::Column::Id))
                    .equals((indicator::Entity, I::DirectiveId)),
            )
            .add(directive::Entity::visible(scope)),
    )
    .join_subquery(
        sea_orm::sea_query::JoinType::LeftJoin,
        standing,
        sv.clone(),
        Expr::col((sv.clone(), V::IndicatorId)).equals((indicator::Entity, I::Id)),
    )
    .cond_where(covered);
    if let Some(t) = filter.updated_since {
        q.and_where(col(V::RecordedAt).gte(t));
    }
    q.order_by((indicator::Entity, I::Code), Order::Asc)
        .order_by((sv, V::Period), Order::Asc)
        .to_owned()
}

trait ValueString {
    fn to_value_string(&self) -> String;
}

impl ValueString for ValueKind {
    fn to_value_string(&self) -> String {
        match self {
            ValueKind::Official => "OFFICIAL".into(),
            ValueKind::Estimate => "ESTIMATE".into(),
        }
    }
}

/// One exported row (CSV columns in this order; JSON object keys).
#[derive(Serialize)]
pub struct Row {
    pub indicator_code: String,
    pub indicator_name: String,
    pub unit: Option<String>,
    pub year: i32,
    pub target: Option<String>,
    pub comparator: Option<String>,
    pub direction: String,
    pub measure: String,
    pub period: String,
    pub period_type: String,
    pub period_start: String,
    pub period_end: String,
    pub value: String,
    pub kind: String,
    pub achievement: Option<f64>,
    pub on_track: Option<bool>,
    pub responsible_agency_code: Option<String>,
    pub responsible_agency: Option<String>,
    pub recorded_at: String,
    /// The code of the document that set the target (e.g. `ct-10-2024`), last so that readers
    /// by position keep their columns.
    pub directive_code: Option<String>,
}

fn row(r: &sea_orm::QueryResult) -> Result<Row, sea_orm::DbErr> {
    let get_s = |c: &str| r.try_get::<String>("", c);
    let get_o = |c: &str| r.try_get::<Option<String>>("", c);
    let comparator: Option<Comparator> = r.try_get("", "comparator")?;
    let direction: Direction = r.try_get("", "direction")?;
    let measure: Measure = r.try_get("", "measure")?;
    // Absent for an indicator with no standing value in the range (its target row).
    let kind: Option<ValueKind> = r.try_get("", "kind")?;
    let recorded_at: Option<DateTime<Utc>> = r.try_get("", "recorded_at")?;
    let m = indicator::Model {
        id: 0,
        code: get_s("code")?,
        item: None,
        name: get_s("name")?,
        unit: get_o("unit")?,
        target: get_o("target")?,
        target_text: None,
        comparator,
        direction,
        measure,
        year: r.try_get("", "year")?,
        parent_id: None,
        responsible_agency_id: None,
        directive_id: None,
        qualitative: r.try_get("", "qualitative")?,
        description: None,
        source_text: None,
        ordinal: 0,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    };
    let value_text = get_o("value")?.unwrap_or_default();
    // A target row stands for the indicator's whole year.
    let period_text = get_o("period")?.unwrap_or_else(|| m.year.to_string());
    let period = PeriodId::from_str(&period_text).ok();
    let value = Decimal::from_str(&value_text).ok();
    let target = m.target.as_deref().and_then(|t| Decimal::from_str(t).ok());
    let achievement = match (target, value) {
        (Some(_), Some(v)) => super::achievement_of(&m, v),
        _ => None,
    };
    let on_track = match (value, &period) {
        (Some(v), Some(p)) => super::on_track(&m, v, p),
        _ => None,
    };
    let (start, end) = period.map(|p| p.calendar_range()).unzip();
    Ok(Row {
        indicator_code: m.code,
        indicator_name: m.name,
        unit: m.unit,
        year: m.year,
        target: m.target,
        comparator: m.comparator.map(|c| format!("{c:?}").to_uppercase()),
        direction: format!("{:?}", m.direction).to_uppercase(),
        measure: format!("{:?}", m.measure).to_uppercase(),
        period_type: period
            .map(|p| p.period_type().as_str().to_owned())
            .unwrap_or_default(),
        period: period_text,
        period_start: start.map(|d| d.to_string()).unwrap_or_default(),
        period_end: end.map(|d| d.to_string()).unwrap_or_default(),
        value: value_text,
        kind: kind.map(|k| k.to_value_string()).unwrap_or_default(),
        achievement,
        on_track,
        responsible_agency_code: get_o("agency_code")?,
        responsible_agency: get_o("agency_name")?,
        recorded_at: recorded_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default(),
        directive_code: get_o("directive_code")?,
    })
}

/// The export response: headers now, rows as they come.
pub fn respond(db: DatabaseConnection, scope: Scope, filter: ExportFilter, format: Format) -> Response {
    let stmt = db.get_database_backend().build(&statement(&filter, &scope));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        if let Err(e) = pump(&db, stmt, format, &tx).await {
            // Headers are gone; the client sees a cut stream (no closing `]`), and the log has why.
            tracing::error!(error = %e, "export stopped");
            let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
        }
    });
    // `poll_recv` answers `Ready(None)` again if polled after the end; a compression layer
    // does poll once more (an `unfold` stream panicked there and cut every gzip export).
    let mut rx = rx;
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "indicators.csv"),
        Format::Json => ("application/json", "indicators.json"),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (StatusCode::OK, headers, body).into_response()
}

#[derive(Debug, thiserror::Error)]
enum PumpError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("encoding: {0}")]
    Csv(#[from] csv::Error),
    #[error("encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("client went away")]
    Gone,
}

async fn pump(
    db: &DatabaseConnection,
    stmt: sea_orm::Statement,
    format: Format,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), PumpError> {
    let mut rows = db.stream_raw(stmt).await?;
    let mut chunk: Vec<Row> = Vec::with_capacity(CHUNK_ROWS);
    let mut n = 0usize;
    let mut first = true;
    loop {
        let next = rows.next().await;
        let done = next.is_none();
        if let Some(r) = next {
            chunk.push(row(&r?)?);
        }
        if chunk.len() < CHUNK_ROWS && !done {
            continue;
        }
        let bytes = encode(&chunk, format, first, n)?;
        n += chunk.len();
        chunk.clear();
        first = false;
        let bytes = if done && format == Format::Json {
            let mut b = bytes;
            b.push(b']');
            b
        } else {
            bytes
        };
        tx.send(Ok(Bytes::from(bytes)))
            .await
            .map_err(|_| PumpError::Gone)?;
        if done {
            break;
        }
    }
    tracing::info!(rows = n, "export finished");
    Ok(())
}

/// Encodes one chunk; the first carries the CSV byte-order mark and header, or the JSON `[`.
fn encode(chunk: &[Row], format: Format, first: bool, written: usize) -> Result<Vec<u8>, PumpError> {
    match format {
        Format::Csv => {
            let mut out = Vec::with_capacity(chunk.len() * 200 + 4);
            if first {
                // A byte-order mark, so Excel opens the UTF-8 file with Vietnamese intact.
                out.extend_from_slice("\u{feff}".as_bytes());
            }
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
            if first {
                w.write_record(HEADER)?;
            }
            for r in chunk {
                w.serialize(r)?;
            }
            w.into_inner().map_err(|e| PumpError::Csv(e.into_error().into()))
        }
        Format::Json => {
            let mut out = Vec::with_capacity(chunk.len() * 300 + 2);
            if first {
                out.push(b'[');
            }
            for (i, r) in chunk.iter().enumerate() {
                if written + i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, r)?;
            }
            Ok(out)
        }
    }
}

/// The CSV header (the field names of [`Row`]).
const HEADER: [&str; 20] = [
    "indicator_code",
    "indicator_name",
    "unit",
    "year",
    "target",
    "comparator",
    "direction",
    "measure",
    "period",
    "period_type",
    "period_start",
    "period_end",
    "value",
    "kind",
    "achievement",
    "on_track",
    "responsible_agency_code",
    "responsible_agency",
    "recorded_at",
    "directive_code",
];
