//! Reporting duties: who owes which report, which are late, and the compliance figures the
//! follow-up office reports (DHIS2's reporting rate and timeliness). Duties are derived, never
//! typed: `sql` is their one definition, `twin` the same rules in Rust; `domain::duty` says what
//! a duty is. `mutations` sets regimes and waives duties, `reminders` sends the DUE_SOON and
//! OVERDUE events, `followup` writes the monthly table (xlsx, CSV).

pub mod followup;
pub mod loaders;
pub mod mutations;
pub mod reminders;
pub mod sql;
pub mod twin;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::agency;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryResult};

use crate::agencies::{Agency, load_agency};
use crate::auth::{Caller, Permission, Scope};
use crate::clock::today;
use crate::db::reads::Reads;
use crate::directives::{Directive, load_directive};
pub use crate::domain::duty::{DutyParams, DutySettings};
use crate::domain::duty::{DutySource, DutyState, days_late};
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::load_err;
use crate::graphql::relay::{Cursor, NodeKind, Page, PageArgs, TotalCount, decode_id};
use crate::graphql::scalars::Date;
use crate::reports::{ProgressReport, ReportLoaders};
use crate::state::State;
use crate::tasks::{Assignment, Task, TaskLoaders};
pub use mutations::ReportingRegime;
use sql::DutyFilter;

/// The state of a reporting duty.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(name = "ReportingDutyState")]
pub enum ReportingDutyState {
    /// Not submitted, due later than the due-soon window (`CHIDAO_DUE_SOON_DAYS`).
    NotDue,
    /// Not submitted, due within the window (today included).
    DueSoon,
    /// Submitted (or accepted) on or before the due date.
    SubmittedOnTime,
    /// Submitted after the due date.
    SubmittedLate,
    /// Not submitted, past the due date.
    Overdue,
    /// Excused by the follow-up office (`waiveReportingDuty`).
    Waived,
}

impl From<DutyState> for ReportingDutyState {
    fn from(s: DutyState) -> Self {
        match s {
            DutyState::NotDue => Self::NotDue,
            DutyState::DueSoon => Self::DueSoon,
            DutyState::SubmittedOnTime => Self::SubmittedOnTime,
            DutyState::SubmittedLate => Self::SubmittedLate,
            DutyState::Overdue => Self::Overdue,
            DutyState::Waived => Self::Waived,
        }
    }
}

impl From<ReportingDutyState> for DutyState {
    fn from(s: ReportingDutyState) -> Self {
        match s {
            ReportingDutyState::NotDue => Self::NotDue,
            ReportingDutyState::DueSoon => Self::DueSoon,
            ReportingDutyState::SubmittedOnTime => Self::SubmittedOnTime,
            ReportingDutyState::SubmittedLate => Self::SubmittedLate,
            ReportingDutyState::Overdue => Self::Overdue,
            ReportingDutyState::Waived => Self::Waived,
        }
    }
}

/// Where a duty comes from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ReportingDutySource")]
pub enum ReportingDutySource {
    /// The task's own report to the UBND tỉnh (`requiresReport`), due on its due date.
    Task,
    /// A recurring task's report, each period of its recurrence.
    Recurring,
    /// The directive's reporting regime (`setReportingRegime`).
    Regime,
}

impl From<DutySource> for ReportingDutySource {
    fn from(s: DutySource) -> Self {
        match s {
            DutySource::Task => Self::Task,
            DutySource::Recurring => Self::Recurring,
            DutySource::Regime => Self::Regime,
        }
    }
}

/// One duty as the SQL definition returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyRow {
    pub assignment_id: i32,
    pub agency_id: i32,
    pub task_id: i32,
    pub directive_id: i32,
    pub source: DutySource,
    pub period: String,
    pub due_on: NaiveDate,
    pub submitted_on: Option<NaiveDate>,
    pub waived: bool,
    pub state: DutyState,
    pub report_id: Option<i32>,
}

impl DutyRow {
    fn from_row(row: &QueryResult, with_report: bool) -> ApiResult<Self> {
        let text = |c: &str| -> ApiResult<String> { Ok(row.try_get::<String>("", c)?) };
        let source = text("source")?;
        let state = text("state")?;
        Ok(DutyRow {
            assignment_id: row.try_get("", "assignment_id")?,
            agency_id: row.try_get("", "agency_id")?,
            task_id: row.try_get("", "task_id")?,
            directive_id: row.try_get("", "directive_id")?,
            source: DutySource::parse(&source)
                .ok_or_else(|| ApiError::Internal(format!("unknown duty source {source}").into()))?,
            period: text("period")?,
            due_on: row.try_get("", "due_on")?,
            submitted_on: row.try_get("", "submitted_on")?,
            waived: row.try_get::<i32>("", "waived")? != 0,
            state: DutyState::parse(&state)
                .ok_or_else(|| ApiError::Internal(format!("unknown duty state {state}").into()))?,
            report_id: if with_report {
                row.try_get("", "report_id")?
            } else {
                None
            },
        })
    }
}

/// A report owed by one assignment for one period.
#[derive(Clone)]
pub struct ReportingDuty {
    row: DutyRow,
    as_of: NaiveDate,
}

impl ReportingDuty {
    pub fn new(row: DutyRow, as_of: NaiveDate) -> Self {
        ReportingDuty { row, as_of }
    }
    pub fn row(&self) -> &DutyRow {
        &self.row
    }
}

/// A report owed by one assignment (its holder) for one period, and where it stands.
#[Object]
impl ReportingDuty {
    /// The assignment that owes the report (its holder is `assignment.agency`).
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Assignment> {
        TaskLoaders::of(ctx)
            .assignment
            .load_one(self.row.assignment_id)
            .await
            .map_err(load_err)?
            .map(|m| Assignment::new(m, Some(self.as_of)))
            .ok_or_else(|| ApiError::not_found("phân công").into())
    }
    /// The agency that owes it (the assignment's holder).
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        Ok(load_agency(ctx, self.row.agency_id).await?)
    }
    /// The task.
    async fn task(&self, ctx: &Context<'_>) -> Result<Task> {
        TaskLoaders::of(ctx)
            .task
            .load_one(self.row.task_id)
            .await
            .map_err(load_err)?
            .map(|m| Task::new(m, Some(self.as_of)))
            .ok_or_else(|| ApiError::not_found("nhiệm vụ").into())
    }
    /// The directive.
    async fn directive(&self, ctx: &Context<'_>) -> Result<Option<Directive>> {
        Ok(load_directive(ctx, self.row.directive_id).await?)
    }
    /// The period the report is for (`202501`, `2025Q1`…; a task report: the month it is due).
    async fn period(&self) -> &str {
        &self.row.period
    }
    /// Where the duty comes from.
    async fn source(&self) -> ReportingDutySource {
        self.row.source.into()
    }
    /// The last day on which submitting is on time.
    async fn due_on(&self) -> Date {
        Date(self.row.due_on)
    }
    /// The state as of `asOf`.
    async fn state(&self) -> ReportingDutyState {
        self.row.state.into()
    }
    /// The day in Vietnam the fulfilling report was submitted (the first, when several were).
    async fn submitted_on(&self) -> Option<Date> {
        self.row.submitted_on.map(Date)
    }
    /// When the fulfilling report was submitted (null when the caller may not read it).
    async fn submitted_at(&self, ctx: &Context<'_>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(self.report_row(ctx).await?.and_then(|r| r.submitted_at))
    }
    /// Days past the due date: of the submission for a late report, of `asOf` for an overdue
    /// duty.
    async fn days_late(&self) -> Option<i64> {
        days_late(self.row.state, self.row.due_on, self.row.submitted_on, self.as_of)
    }
    /// The report that fulfils the duty (the first submitted), when the caller may read it.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ProgressReport>> {
        Ok(self.report_row(ctx).await?.map(ProgressReport::new))
    }
    /// The date the state is computed for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
}

impl ReportingDuty {
    async fn report_row(&self, ctx: &Context<'_>) -> Result<Option<entity::progress_report::Model>> {
        match self.row.report_id {
            Some(id) => Ok(ReportLoaders::of(ctx)
                .report
                .load_one(id)
                .await
                .map_err(load_err)?),
            None => Ok(None),
        }
    }
}

/// Which duties `reportingDuties` and `reportingCompliance` count.
#[derive(InputObject, Default, Clone)]
pub struct ReportingDutyFilter {
    /// Duties of this agency (the holder).
    pub agency_id: Option<ID>,
    /// Duties of the agency with this code.
    pub agency_code: Option<String>,
    /// Duties under this directive.
    pub directive_id: Option<ID>,
    /// Duties of this task.
    pub task_id: Option<ID>,
    /// Duties whose period lies within this one: `2025Q4` selects the quarter's duties and
    /// those of its months (task reports due in them included).
    pub period: Option<String>,
    /// Only these states.
    pub state: Option<Vec<ReportingDutyState>>,
}

impl ReportingDutyFilter {
    /// The filter in SQL terms (looks up an agency code).
    pub async fn parse(&self, db: &impl ConnectionTrait) -> ApiResult<DutyFilter> {
        let mut f = DutyFilter::default();
        match (&self.agency_id, &self.agency_code) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input(
                    "filter.agencyCode",
                    "Chỉ dùng một trong agencyId hoặc agencyCode",
                ));
            }
            (Some(id), None) => {
                f.agency_ids = Some(vec![decode_id(id, NodeKind::Agency, "filter.agencyId")?]);
            }
            (None, Some(code)) => {
                let code = crate::graphql::input::agency_code("filter.agencyCode", code)?;
                let found = crate::auth::scope::public::<agency::Entity>()
                    .filter(agency::Column::Code.eq(code.to_string()))
                    .one(db)
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_input("filter.agencyCode", format!("Không có cơ quan mã «{code}»"))
                    })?;
                f.agency_ids = Some(vec![found.id]);
            }
            (None, None) => {}
        }
        if let Some(id) = &self.directive_id {
            f.directive_id = Some(decode_id(id, NodeKind::Directive, "filter.directiveId")?);
        }
        if let Some(id) = &self.task_id {
            f.task_id = Some(decode_id(id, NodeKind::Task, "filter.taskId")?);
        }
        if let Some(p) = &self.period {
            f.period = Some(crate::graphql::input::period("filter.period", p)?);
        }
        if let Some(states) = &self.state {
            if states.is_empty() {
                return Err(ApiError::bad_input(
                    "filter.state",
                    "`state` rỗng thì không nghĩa vụ nào khớp; bỏ trường này để lấy mọi trạng thái",
                ));
            }
            let mut s: Vec<DutyState> = states.iter().map(|s| (*s).into()).collect();
            s.sort();
            s.dedup();
            f.states = Some(s);
        }
        Ok(f)
    }
}

crate::connection!(
    ReportingDuty,
    ReportingDutyConnection,
    ReportingDutyEdge,
    "reporting duties"
);

fn d(col: &str) -> Expr {
    Expr::col((Alias::new("d"), Alias::new(col)))
}

/// The keyset position of a duty: due date and period, then the assignment id.
fn cursor_of(r: &DutyRow) -> Cursor {
    Cursor {
        key: serde_json::json!([r.due_on.to_string(), r.period]),
        id: r.assignment_id,
    }
}

/// The rows after (or before) a cursor, in the list's order (due date, assignment, period).
fn after(cursor: &Cursor, backward: bool) -> ApiResult<Condition> {
    let bad = || ApiError::bad_input("after", "Con trỏ phân trang không hợp lệ");
    let parts = cursor.key.as_array().filter(|p| p.len() == 2).ok_or_else(bad)?;
    let due = parts[0]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(bad)?;
    let period = parts[1].as_str().ok_or_else(bad)?.to_owned();
    let beyond = |e: Expr, v: sea_orm::Value| if backward { e.lt(v) } else { e.gt(v) };
    Ok(Condition::any().add(beyond(d("due_on"), due.into())).add(
        Condition::all().add(d("due_on").eq(due)).add(
            Condition::any()
                .add(beyond(d("assignment_id"), cursor.id.into()))
                .add(
                    Condition::all()
                        .add(d("assignment_id").eq(cursor.id))
                        .add(beyond(d("period"), period.into())),
                ),
        ),
    ))
}

/// The duties the scope holds matching the filter, as of a day, as a statement over `d`.
fn wrapped(
    db: &Reads,
    scope: &Scope,
    filter: &DutyFilter,
    p: &DutyParams,
    with_report: bool,
) -> SelectStatement {
    let inner = sql::duties(db.get_database_backend(), scope, filter, p, with_report);
    let mut q = Query::select();
    q.from_subquery(inner, Alias::new("d"));
    q
}

/// Every duty row matching a filter (for the follow-up table, reminders and tests), in due
/// order, at most `limit`.
pub async fn list(
    db: &Reads,
    scope: &Scope,
    filter: &DutyFilter,
    p: &DutyParams,
    limit: u64,
) -> ApiResult<Vec<DutyRow>> {
    let mut q = wrapped(db, scope, filter, p, true);
    q.expr(Expr::col(sea_orm::sea_query::Asterisk))
        .order_by_expr(d("due_on"), Order::Asc)
        .order_by_expr(d("assignment_id"), Order::Asc)
        .order_by_expr(d("period"), Order::Asc)
        .limit(limit);
    db.query_all(&q)
        .await?
        .iter()
        .map(|r| DutyRow::from_row(r, true))
        .collect()
}

/// `reportingDuties` and `reportingCompliance`.
#[derive(Default)]
pub struct DutyQuery;

#[Object]
impl DutyQuery {
    /// The reports owed, as of `asOf` (default today in Vietnam): one row per assignment and
    /// period, derived from the tasks' report duties, recurring tasks and the directives'
    /// regimes, ordered by due date. An agency sees the duties it holds.
    #[allow(clippy::too_many_arguments)]
    async fn reporting_duties(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReportingDutyFilter>,
        as_of: Option<Date>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ReportingDutyConnection> {
        Ok(reporting_duties(
            ctx,
            filter.unwrap_or_default(),
            as_of,
            PageArgs::parse(first, after, last, before)?,
        )
        .await?)
    }

    /// Reporting rate and timeliness (DHIS2's figures): duties expected (fallen due, or met
    /// early), submitted, on time, late, overdue and waived, for the duties
    /// `reportingDuties(filter)` lists, optionally per agency and/or directive. `period` is
    /// the filter's period (give one or the other, or both equal).
    async fn reporting_compliance(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReportingDutyFilter>,
        period: Option<String>,
        as_of: Option<Date>,
        group_by: Option<Vec<ComplianceGroupBy>>,
    ) -> Result<ReportingCompliance> {
        let mut filter = filter.unwrap_or_default();
        match (&filter.period, period) {
            (Some(a), Some(b)) if a.trim() != b.trim() => {
                return Err(ApiError::bad_input(
                    "period",
                    "`period` khác `filter.period`; chỉ cần một trong hai",
                )
                .into());
            }
            (None, Some(b)) => filter.period = Some(b),
            _ => {}
        }
        let caller = Caller::of(ctx);
        let state = State::of(ctx);
        let day = as_of.map_or_else(today, |d| d.0);
        let reads = State::reads_of(ctx);
        let f = filter.parse(reads).await?;
        Ok(compliance(
            reads,
            &caller.scope.for_aggregates(),
            &f,
            &state.duties.params(day),
            &group_by.unwrap_or_default(),
        )
        .await?)
    }
}

async fn reporting_duties(
    ctx: &Context<'_>,
    filter: ReportingDutyFilter,
    as_of: Option<Date>,
    args: PageArgs,
) -> ApiResult<ReportingDutyConnection> {
    let caller = Caller::of(ctx);
    caller.scope.require(Permission::ReadRows)?;
    let state = State::of(ctx);
    let day = as_of.map_or_else(today, |d| d.0);
    let db = State::reads_of(ctx);
    let f = filter.parse(db).await?;
    let p = state.duties.params(day);

    let mut count = wrapped(db, &caller.scope, &f, &p, false);
    count.expr(Func::count(Expr::col(sea_orm::sea_query::Asterisk)));
    let count = TotalCount::Query(db.get_database_backend().build(&count));

    let mut q = wrapped(db, &caller.scope, &f, &p, true);
    q.expr(Expr::col(sea_orm::sea_query::Asterisk));
    if let Some(c) = &args.cursor {
        q.cond_where(after(c, args.backward)?);
    }
    let order = if args.backward { Order::Desc } else { Order::Asc };
    q.order_by_expr(d("due_on"), order.clone())
        .order_by_expr(d("assignment_id"), order.clone())
        .order_by_expr(d("period"), order)
        .limit(args.limit + 1);
    let rows = db
        .query_all(&q)
        .await?
        .iter()
        .map(|r| DutyRow::from_row(r, true))
        .collect::<ApiResult<Vec<_>>>()?;
    let page = Page::from_rows(rows, &args, cursor_of).map(|r| ReportingDuty::new(r, day));
    Ok(ReportingDutyConnection::new(page, count))
}

/// What `reportingCompliance` groups by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ComplianceGroupBy {
    /// Per agency owing the reports.
    Agency,
    /// Per directive.
    Directive,
}

/// Counts of duties by state, and the two rates.
#[derive(SimpleObject, Clone, Debug, Default, PartialEq)]
pub struct ComplianceCounts {
    /// Duties that have fallen due or were met early: on time + late + overdue (DHIS2's
    /// "expected reports"; waived and not yet due ones are not expected).
    pub expected: i64,
    /// Submitted (on time or late).
    pub submitted: i64,
    /// Submitted on or before the due date.
    pub on_time: i64,
    /// Submitted after the due date.
    pub late: i64,
    /// Not submitted, past due.
    pub overdue: i64,
    /// Excused.
    pub waived: i64,
    /// Not submitted, due within the due-soon window.
    pub due_soon: i64,
    /// Not submitted, due later.
    pub not_due: i64,
    /// Every duty counted, whatever its state.
    pub total: i64,
    /// submitted ÷ expected, 0–1; null when nothing is expected.
    pub reporting_rate: Option<f64>,
    /// onTime ÷ expected, 0–1; null when nothing is expected.
    pub timeliness_rate: Option<f64>,
}

impl ComplianceCounts {
    fn from_row(row: &QueryResult) -> ApiResult<Self> {
        let get = |c: &str| -> ApiResult<i64> { Ok(row.try_get::<Option<i64>>("", c)?.unwrap_or(0)) };
        let mut c = ComplianceCounts {
            on_time: get("on_time")?,
            late: get("late")?,
            overdue: get("overdue")?,
            waived: get("waived")?,
            due_soon: get("due_soon")?,
            not_due: get("not_due")?,
            total: get("total")?,
            ..Default::default()
        };
        c.finish();
        Ok(c)
    }

    fn add(&mut self, o: &ComplianceCounts) {
        self.on_time += o.on_time;
        self.late += o.late;
        self.overdue += o.overdue;
        self.waived += o.waived;
        self.due_soon += o.due_soon;
        self.not_due += o.not_due;
        self.total += o.total;
        self.finish();
    }

    fn finish(&mut self) {
        self.submitted = self.on_time + self.late;
        self.expected = self.submitted + self.overdue;
        let rate = |n: i64| (self.expected > 0).then(|| n as f64 / self.expected as f64);
        self.reporting_rate = rate(self.submitted);
        self.timeliness_rate = rate(self.on_time);
    }
}

/// `reportingCompliance`'s answer.
#[derive(Clone, Debug)]
pub struct ReportingCompliance {
    as_of: NaiveDate,
    counts: ComplianceCounts,
    groups: Vec<ComplianceGroup>,
}

impl ReportingCompliance {
    pub fn totals(&self) -> &ComplianceCounts {
        &self.counts
    }
    pub fn group_rows(&self) -> &[ComplianceGroup] {
        &self.groups
    }
}

/// The reporting rate and timeliness of a set of duties, with optional groups.
#[Object]
impl ReportingCompliance {
    /// The date the states are computed for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// Duties fallen due or met early: on time + late + overdue.
    async fn expected(&self) -> i64 {
        self.counts.expected
    }
    /// Submitted, on time or late.
    async fn submitted(&self) -> i64 {
        self.counts.submitted
    }
    /// Submitted on or before the due date.
    async fn on_time(&self) -> i64 {
        self.counts.on_time
    }
    /// Submitted after the due date.
    async fn late(&self) -> i64 {
        self.counts.late
    }
    /// Not submitted, past due.
    async fn overdue(&self) -> i64 {
        self.counts.overdue
    }
    /// Excused by the follow-up office.
    async fn waived(&self) -> i64 {
        self.counts.waived
    }
    /// Not submitted, due within the due-soon window.
    async fn due_soon(&self) -> i64 {
        self.counts.due_soon
    }
    /// Not submitted, due later.
    async fn not_due(&self) -> i64 {
        self.counts.not_due
    }
    /// Every duty counted.
    async fn total(&self) -> i64 {
        self.counts.total
    }
    /// submitted ÷ expected (0–1), null when nothing is expected.
    async fn reporting_rate(&self) -> Option<f64> {
        self.counts.reporting_rate
    }
    /// onTime ÷ expected (0–1), null when nothing is expected.
    async fn timeliness_rate(&self) -> Option<f64> {
        self.counts.timeliness_rate
    }
    /// One row per group, when `groupBy` was given (most overdue first).
    async fn groups(&self) -> &[ComplianceGroup] {
        &self.groups
    }
}

/// One group of `reportingCompliance`.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ComplianceGroup {
    #[graphql(skip)]
    pub agency_id: Option<i32>,
    #[graphql(skip)]
    pub directive_id: Option<i32>,
    #[graphql(flatten)]
    pub counts: ComplianceCounts,
}

#[async_graphql::ComplexObject]
impl ComplianceGroup {
    /// The agency (grouped by AGENCY).
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.agency_id {
            Some(id) => Ok(load_agency(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The directive (grouped by DIRECTIVE).
    async fn directive(&self, ctx: &Context<'_>) -> Result<Option<Directive>> {
        match self.directive_id {
            Some(id) => Ok(load_directive(ctx, id).await?),
            None => Ok(None),
        }
    }
}

fn sum_state(q: &mut SelectStatement, states: &[DutyState], alias: &str) {
    let case = Expr::case(d("state").is_in(states.iter().map(|s| s.as_str())), 1).finally(0);
    q.expr_as(Func::sum(case), Alias::new(alias));
}

/// The compliance figures of the duties a scope holds that match a filter: one statement.
pub async fn compliance(
    db: &Reads,
    scope: &Scope,
    filter: &DutyFilter,
    p: &DutyParams,
    group_by: &[ComplianceGroupBy],
) -> ApiResult<ReportingCompliance> {
    let mut q = wrapped(db, scope, filter, p, false);
    q.expr_as(
        Func::count(Expr::col(sea_orm::sea_query::Asterisk)),
        Alias::new("total"),
    );
    sum_state(&mut q, &[DutyState::SubmittedOnTime], "on_time");
    sum_state(&mut q, &[DutyState::SubmittedLate], "late");
    sum_state(&mut q, &[DutyState::Overdue], "overdue");
    sum_state(&mut q, &[DutyState::Waived], "waived");
    sum_state(&mut q, &[DutyState::DueSoon], "due_soon");
    sum_state(&mut q, &[DutyState::NotDue], "not_due");
    let by_agency = group_by.contains(&ComplianceGroupBy::Agency);
    let by_directive = group_by.contains(&ComplianceGroupBy::Directive);
    if by_agency {
        q.expr_as(d("agency_id"), Alias::new("g_agency"));
        q.group_by_col((Alias::new("d"), Alias::new("agency_id")));
    }
    if by_directive {
        q.expr_as(d("directive_id"), Alias::new("g_directive"));
        q.group_by_col((Alias::new("d"), Alias::new("directive_id")));
    }
    let most = crate::graphql::limits::MAX_GROUPS;
    if by_agency || by_directive {
        q.limit(most + 1);
    }
    let rows = db.query_all(&q).await?;
    let mut counts = ComplianceCounts::default();
    counts.finish();
    let mut groups = Vec::new();
    if by_agency || by_directive {
        if rows.len() as u64 > most {
            return Err(ApiError::TooComplex(format!(
                "Thống kê có hơn {most} nhóm; hãy thu hẹp bộ lọc hoặc bớt tiêu chí groupBy"
            )));
        }
        // The groups partition the duties (each has one holder and one directive): the totals
        // are their sums, from the same statement.
        for row in &rows {
            let g = ComplianceGroup {
                agency_id: if by_agency {
                    row.try_get("", "g_agency")?
                } else {
                    None
                },
                directive_id: if by_directive {
                    row.try_get("", "g_directive")?
                } else {
                    None
                },
                counts: ComplianceCounts::from_row(row)?,
            };
            counts.add(&g.counts);
            groups.push(g);
        }
        groups.sort_by(|a, b| {
            b.counts
                .overdue
                .cmp(&a.counts.overdue)
                .then(a.agency_id.cmp(&b.agency_id))
                .then(a.directive_id.cmp(&b.directive_id))
        });
    } else if let Some(row) = rows.first() {
        counts = ComplianceCounts::from_row(row)?;
    }
    Ok(ReportingCompliance {
        as_of: p.as_of,
        counts,
        groups,
    })
}
