//! The follow-up office's monthly table (bảng theo dõi, đôn đốc) for the Chair:
//! `GET /export/follow-up.xlsx?asOf=2025-12-31` and the same per-agency table as
//! `GET /export/follow-up.csv` for BI tools. Same token and scope as GraphQL.
//!
//! - Sheet «Tổng hợp»: per agency, the Government Office's categories — tasks assigned,
//!   completed on time, completed late, in progress on time, overdue, overdue more than
//!   30/60/120 days, no deadline — and the reports owed: expected, on time, late, overdue; a
//!   totals row, and a bar chart of overdue tasks by agency.
//! - Sheet «Quá hạn»: each overdue task and each overdue report, with the agency, the
//!   directive's number, the due date and the days late.
//!
//! The counts are `taskStatistics` grouped by agency and `reportingCompliance` grouped by
//! agency, computed by the same SQL; nothing is counted twice or differently here. The
//! workbook is written by `rust_xlsxwriter`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use entity::{agency, assignment, directive, task, task_milestone};
use rust_xlsxwriter::{Chart, ChartType, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryTrait};

use super::sql::DutyFilter;
use super::{ComplianceGroupBy, DutySettings, compliance, list};
use crate::auth::Scope;
use crate::db::reads::Reads;
use crate::domain::duty::DutyState;
use crate::domain::status::{Part, TaskStatus, first_missed};
use crate::error::{ApiError, ApiResult};
use crate::tasks::TaskFilter;
use crate::tasks::stats::{TaskCounts, TaskGroupBy};
use crate::tasks::status_sql::{assignment_completed, status_condition};

/// Most rows the overdue sheet lists (a note says when there were more).
pub const MAX_OVERDUE_ROWS: u64 = 20_000;

/// One agency's line of the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgencyLine {
    pub agency_id: i32,
    pub code: String,
    pub name: String,
    pub tasks: TaskCounts,
    pub expected: i64,
    pub on_time: i64,
    pub late: i64,
    pub overdue: i64,
}

/// One overdue task or report.
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueLine {
    /// "Nhiệm vụ" or "Báo cáo".
    pub kind: &'static str,
    pub agency: String,
    pub directive_number: String,
    pub task_code: String,
    pub title: String,
    /// The report's period (reports only).
    pub period: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub days_late: Option<i64>,
}

/// The whole table as of a day.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub as_of: NaiveDate,
    pub agencies: Vec<AgencyLine>,
    pub overdue: Vec<OverdueLine>,
    /// Whether the overdue list was cut at [`MAX_OVERDUE_ROWS`].
    pub truncated: bool,
}

/// Builds the table the scope may see (the overdue lists only when `rows` is true: an analyst
/// reads aggregates, not rows).
pub async fn build(
    db: &Reads,
    scope: &Scope,
    settings: &DutySettings,
    as_of: NaiveDate,
    rows: bool,
) -> ApiResult<FollowUp> {
    let stats = crate::tasks::stats::compute(
        db,
        scope,
        &TaskFilter::default(),
        as_of,
        &[TaskGroupBy::Agency],
        crate::tasks::stats::Needs::ALL,
    )
    .await?;
    let p = settings.params(as_of);
    let reports = compliance(
        db,
        scope,
        &DutyFilter::default(),
        &p,
        &[ComplianceGroupBy::Agency],
    )
    .await?;
    let mut lines: BTreeMap<i32, AgencyLine> = BTreeMap::new();
    for g in stats.group_rows() {
        if let Some(id) = g.agency_id() {
            let line = lines.entry(id).or_default();
            line.agency_id = id;
            line.tasks = g.totals().clone();
        }
    }
    for g in reports.group_rows() {
        if let Some(id) = g.agency_id {
            let line = lines.entry(id).or_default();
            line.agency_id = id;
            line.expected = g.counts.expected;
            line.on_time = g.counts.on_time;
            line.late = g.counts.late;
            line.overdue = g.counts.overdue;
        }
    }
    let names: HashMap<i32, agency::Model> = crate::auth::scope::public::<agency::Entity>()
        .filter(agency::Column::Id.is_in(lines.keys().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    for line in lines.values_mut() {
        if let Some(a) = names.get(&line.agency_id) {
            line.code = a.code.clone();
            line.name = a.name.clone();
        }
    }
    let mut agencies: Vec<AgencyLine> = lines.into_values().collect();
    // Most overdue first, as the Chair reads it.
    agencies.sort_by(|a, b| {
        (b.tasks.in_progress_overdue, b.overdue)
            .cmp(&(a.tasks.in_progress_overdue, a.overdue))
            .then(a.name.cmp(&b.name))
    });
    let (overdue, truncated) = if rows {
        overdue_lines(db, scope, settings, as_of, &names).await?
    } else {
        (Vec::new(), false)
    };
    Ok(FollowUp {
        as_of,
        agencies,
        overdue,
        truncated,
    })
}

async fn overdue_lines(
    db: &Reads,
    scope: &Scope,
    settings: &DutySettings,
    as_of: NaiveDate,
    names: &HashMap<i32, agency::Model>,
) -> ApiResult<(Vec<OverdueLine>, bool)> {
    // Overdue assignments (each agency's own part), with their tasks and directives.
    let mut q = scope
        .find::<assignment::Entity>()
        .filter(scope.assignment_holders())
        .into_query();
    q.clear_selects();
    q.inner_join(
        task::Entity,
        Expr::col((task::Entity, task::Column::Id)).equals((assignment::Entity, assignment::Column::TaskId)),
    )
    .inner_join(
        directive::Entity,
        Expr::col((directive::Entity, directive::Column::Id))
            .equals((task::Entity, task::Column::DirectiveId)),
    )
    .cond_where(status_condition(
        TaskStatus::InProgressOverdue,
        &assignment_completed(),
        as_of,
    ))
    .expr_as(
        Expr::col((assignment::Entity, assignment::Column::Id)),
        Alias::new("assignment_id"),
    )
    .expr_as(
        Expr::col((assignment::Entity, assignment::Column::AgencyId)),
        Alias::new("agency_id"),
    )
    .expr_as(Expr::col((task::Entity, task::Column::Id)), Alias::new("task_id"))
    .expr_as(Expr::col((task::Entity, task::Column::Code)), Alias::new("code"))
    .expr_as(
        Expr::col((task::Entity, task::Column::Title)),
        Alias::new("title"),
    )
    .expr_as(
        Expr::col((task::Entity, task::Column::DueOn)),
        Alias::new("due_on"),
    )
    .expr_as(
        Expr::col((directive::Entity, directive::Column::Number)),
        Alias::new("number"),
    )
    .expr_as(
        Expr::col((directive::Entity, directive::Column::Code)),
        Alias::new("directive_code"),
    )
    .order_by((task::Entity, task::Column::DueOn), Order::Asc)
    .order_by((assignment::Entity, assignment::Column::Id), Order::Asc)
    .limit(MAX_OVERDUE_ROWS + 1);
    let task_rows = db.query_all(&q).await?;
    let mut truncated = task_rows.len() as u64 > MAX_OVERDUE_ROWS;

    // The reports owed and overdue.
    let p = settings.params(as_of);
    let filter = DutyFilter {
        states: Some(vec![DutyState::Overdue]),
        ..Default::default()
    };
    let duties = list(db, scope, &filter, &p, MAX_OVERDUE_ROWS + 1).await?;
    truncated |= duties.len() as u64 > MAX_OVERDUE_ROWS;

    // What the lines need besides: the tasks' missed milestones, and the tasks and directives
    // of the reports.
    let mut task_ids: Vec<i32> = Vec::new();
    for r in &task_rows {
        task_ids.push(r.try_get("", "task_id")?);
    }
    task_ids.extend(duties.iter().map(|d| d.task_id));
    task_ids.sort_unstable();
    task_ids.dedup();
    let mut milestones: HashMap<i32, Vec<Part>> = HashMap::new();
    let mut tasks: HashMap<i32, task::Model> = HashMap::new();
    for chunk in task_ids.chunks(1000) {
        for m in scope
            .find::<task_milestone::Entity>()
            .filter(task_milestone::Column::TaskId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            milestones
                .entry(m.task_id)
                .or_default()
                .push(Part::new(m.due_on, m.completed_on, None));
        }
        for t in scope
            .find::<task::Entity>()
            .filter(task::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            tasks.insert(t.id, t);
        }
    }
    let mut directive_ids: Vec<i32> = tasks.values().map(|t| t.directive_id).collect();
    directive_ids.sort_unstable();
    directive_ids.dedup();
    let directives: HashMap<i32, directive::Model> = scope
        .find::<directive::Entity>()
        .filter(directive::Column::Id.is_in(directive_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    // A recurring task is overdue by its latest missed report.
    let mut recurring_due: HashMap<i32, NaiveDate> = HashMap::new();
    for d in duties
        .iter()
        .filter(|d| d.source == crate::domain::duty::DutySource::Recurring)
    {
        let e = recurring_due.entry(d.assignment_id).or_insert(d.due_on);
        *e = Ord::max(*e, d.due_on);
    }
    let agency_name = |id: i32| {
        names
            .get(&id)
            .map_or_else(|| format!("#{id}"), |a| a.name.clone())
    };
    let number_of = |d: &directive::Model| d.number.clone().unwrap_or_else(|| d.code.clone());

    let mut out = Vec::new();
    for r in task_rows.iter().take(MAX_OVERDUE_ROWS as usize) {
        let assignment_id: i32 = r.try_get("", "assignment_id")?;
        let task_id: i32 = r.try_get("", "task_id")?;
        let own: Option<NaiveDate> = r.try_get("", "due_on")?;
        let number: Option<String> = r.try_get("", "number")?;
        let code: String = r.try_get("", "directive_code")?;
        // The date it fell due: its own, a missed milestone's, or a missed recurring report's.
        let parts = milestones.get(&task_id).map(Vec::as_slice).unwrap_or_default();
        let due = [
            own.filter(|d| *d < as_of),
            first_missed(parts, as_of),
            recurring_due.get(&assignment_id).copied(),
        ]
        .into_iter()
        .flatten()
        .min();
        out.push(OverdueLine {
            kind: "Nhiệm vụ",
            agency: agency_name(r.try_get("", "agency_id")?),
            directive_number: number.unwrap_or(code),
            task_code: r.try_get("", "code")?,
            title: r.try_get("", "title")?,
            period: None,
            due_on: due,
            days_late: due.map(|d| (as_of - d).num_days()),
        });
    }
    for d in duties.iter().take(MAX_OVERDUE_ROWS as usize) {
        let t = tasks.get(&d.task_id);
        out.push(OverdueLine {
            kind: "Báo cáo",
            agency: agency_name(d.agency_id),
            directive_number: t
                .and_then(|t| directives.get(&t.directive_id))
                .map(number_of)
                .unwrap_or_default(),
            task_code: t.map(|t| t.code.clone()).unwrap_or_default(),
            title: t.map(|t| t.title.clone()).unwrap_or_default(),
            period: Some(d.period.clone()),
            due_on: Some(d.due_on),
            days_late: Some((as_of - d.due_on).num_days()),
        });
    }
    // Longest overdue first.
    out.sort_by(|a, b| b.days_late.cmp(&a.days_late).then(a.agency.cmp(&b.agency)));
    Ok((out, truncated))
}

/// The per-agency table's columns (Vietnamese headers), as the spreadsheet and the CSV write them.
pub const HEADERS: [&str; 17] = [
    "STT",
    "Cơ quan, đơn vị",
    "Mã cơ quan",
    "Nhiệm vụ được giao",
    "Hoàn thành đúng hạn",
    "Hoàn thành quá hạn",
    "Đang thực hiện trong hạn",
    "Quá hạn chưa hoàn thành",
    "Quá hạn trên 30 ngày",
    "Quá hạn trên 60 ngày",
    "Quá hạn trên 120 ngày",
    "Không có thời hạn",
    "Báo cáo phải nộp",
    "Báo cáo đúng hạn",
    "Báo cáo muộn",
    "Báo cáo quá hạn chưa nộp",
    "Tỷ lệ báo cáo (%)",
];

fn numbers(l: &AgencyLine) -> [i64; 13] {
    let t = &l.tasks;
    [
        t.total,
        t.completed_on_time,
        t.completed_late,
        t.in_progress_on_time,
        t.in_progress_overdue,
        t.overdue_over_30_days,
        t.overdue_over_60_days,
        t.overdue_over_120_days,
        t.completed_no_deadline + t.in_progress_no_deadline,
        l.expected,
        l.on_time,
        l.late,
        l.overdue,
    ]
}

fn rate(expected: i64, on_time: i64, late: i64) -> Option<f64> {
    (expected > 0).then(|| ((on_time + late) as f64 / expected as f64 * 1000.0).round() / 10.0)
}

fn totals(lines: &[AgencyLine]) -> [i64; 13] {
    let mut sum = [0i64; 13];
    for l in lines {
        for (s, n) in sum.iter_mut().zip(numbers(l)) {
            *s += n;
        }
    }
    sum
}

/// The per-agency table as CSV (UTF-8 with a BOM, so Excel reads the Vietnamese), the same
/// columns as the spreadsheet's first sheet, plus the date.
pub fn csv(table: &FollowUp) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut header: Vec<&str> = HEADERS.to_vec();
    header.push("Tính đến ngày");
    w.write_record(&header)
        .map_err(|e| ApiError::Internal(e.into()))?;
    for (i, l) in table.agencies.iter().enumerate() {
        let mut rec = vec![(i + 1).to_string(), l.name.clone(), l.code.clone()];
        rec.extend(numbers(l).iter().map(i64::to_string));
        rec.push(
            rate(l.expected, l.on_time, l.late)
                .map(|r| r.to_string())
                .unwrap_or_default(),
        );
        rec.push(table.as_of.to_string());
        w.write_record(&rec).map_err(|e| ApiError::Internal(e.into()))?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(e.to_string().into()))
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

/// Sheet names (Excel allows 31 characters).
pub const SUMMARY_SHEET: &str = "Tổng hợp";
pub const OVERDUE_SHEET: &str = "Quá hạn";

/// A4 landscape, one page wide, the header row on every page: how the Chair's copy is printed.
fn print_setup(ws: &mut rust_xlsxwriter::Worksheet) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    Ok(())
}

/// The workbook.
pub fn xlsx(table: &FollowUp) -> ApiResult<Vec<u8>> {
    write_xlsx(table).map_err(|e| ApiError::Internal(e.to_string().into()))
}

fn write_xlsx(table: &FollowUp) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("#DCE6F1")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let pct = Format::new().set_num_format("0.0");

    let ws = wb.add_worksheet();
    ws.set_name(SUMMARY_SHEET)?;
    // Row 1 is the header (frozen); the title goes in the sheet's header for printing.
    ws.set_header(format!(
        "&C&\"-,Bold\"Tình hình thực hiện nhiệm vụ và chế độ báo cáo, tính đến ngày {}",
        table.as_of.format("%d/%m/%Y")
    ));
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header)?;
    }
    ws.set_row_height(0, 45)?;
    ws.set_freeze_panes(1, 0)?;
    print_setup(ws)?;
    let widths = [
        5.0, 42.0, 28.0, 11.0, 11.0, 11.0, 12.0, 12.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 13.0, 11.0,
    ];
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let n = table.agencies.len() as u32;
    for (i, l) in table.agencies.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_number(r, 0, (i + 1) as f64)?;
        ws.write_string(r, 1, &l.name)?;
        ws.write_string(r, 2, &l.code)?;
        for (k, v) in numbers(l).iter().enumerate() {
            ws.write_number(r, 3 + k as u16, *v as f64)?;
        }
        if let Some(rt) = rate(l.expected, l.on_time, l.late) {
            ws.write_number_with_format(r, 16, rt, &pct)?;
        }
    }
    let total_row = n + 1;
    ws.write_string_with_format(total_row, 1, "Tổng cộng", &bold)?;
    let sum = totals(&table.agencies);
    for (k, v) in sum.iter().enumerate() {
        ws.write_number_with_format(total_row, 3 + k as u16, *v as f64, &bold)?;
    }
    if let Some(rt) = rate(sum[9], sum[10], sum[11]) {
        ws.write_number_with_format(total_row, 16, rt, &pct)?;
    }
    ws.write_string(
        total_row + 1,
        1,
        format!("Tính đến ngày {}", table.as_of.format("%d/%m/%Y")),
    )?;

    // Overdue tasks by agency (the agencies with any, at most 30, most first).
    let charted = table
        .agencies
        .iter()
        .take_while(|l| l.tasks.in_progress_overdue > 0)
        .count()
        .min(30) as u32;
    if charted > 0 {
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("Nhiệm vụ quá hạn")
            .set_categories((SUMMARY_SHEET, 1, 1, charted, 1))
            .set_values((SUMMARY_SHEET, 1, 7, charted, 7));
        chart.title().set_name("Nhiệm vụ quá hạn theo cơ quan");
        chart.legend().set_hidden();
        chart.y_axis().set_reverse();
        chart.set_width(720).set_height(280 + 18 * charted);
        ws.insert_chart(total_row + 3, 1, &chart)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(OVERDUE_SHEET)?;
    let cols = [
        ("STT", 5.0),
        ("Loại", 10.0),
        ("Cơ quan, đơn vị", 40.0),
        ("Số văn bản", 14.0),
        ("Mã nhiệm vụ", 14.0),
        ("Nội dung", 70.0),
        ("Kỳ báo cáo", 11.0),
        ("Hạn", 12.0),
        ("Số ngày quá hạn", 11.0),
    ];
    for (c, (h, w)) in cols.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header)?;
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_row_height(0, 30)?;
    ws.set_freeze_panes(1, 0)?;
    print_setup(ws)?;
    for (i, o) in table.overdue.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_number(r, 0, (i + 1) as f64)?;
        ws.write_string(r, 1, o.kind)?;
        ws.write_string(r, 2, &o.agency)?;
        ws.write_string(r, 3, &o.directive_number)?;
        ws.write_string(r, 4, &o.task_code)?;
        ws.write_string(r, 5, &o.title)?;
        if let Some(p) = &o.period {
            ws.write_string(r, 6, p)?;
        }
        if let Some(d) = o.due_on {
            ws.write_datetime_with_format(r, 7, excel_date(d)?, &date)?;
        }
        if let Some(n) = o.days_late {
            ws.write_number(r, 8, n as f64)?;
        }
    }
    if table.truncated {
        let r = table.overdue.len() as u32 + 1;
        ws.write_string_with_format(
            r,
            1,
            format!("Danh sách dài hơn {MAX_OVERDUE_ROWS} dòng mỗi loại; hãy lọc theo cơ quan"),
            &bold,
        )?;
    }
    wb.save_to_buffer()
}
