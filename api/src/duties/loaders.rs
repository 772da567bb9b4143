//! What a task's status needs of its dated parts, for a page of tasks in one statement: its
//! milestones and, for a recurring task, the reports that fulfil its leads' duties (submitted or
//! accepted, with the civil date they were sent) and the waivers.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::NaiveDate;
use entity::enums::{AssignmentRole, ReportState};
use entity::{assignment, progress_report};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType};

use crate::db::reads::Reads;
use crate::graphql::loaders::{Budget, LoadError};

/// One fulfilment of a lead's duty: a report for a period (with its submission date), or a
/// waiver of that period (`submitted_on` `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    pub assignment_id: i32,
    pub period: String,
    pub submitted_on: Option<NaiveDate>,
}

/// What a task's status needs besides its row: its milestones and, for a recurring task, its
/// directive's start, its leads and their reports and waivers. One statement for a page of
/// tasks (a `UNION ALL` of the five), so a page with a recurring task runs no more statements
/// than one without.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskParts {
    /// Each milestone's due date and the day it was reached.
    pub milestones: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// The day the directive's periodic duties start from (`twin::issued`).
    pub issued: Option<NaiveDate>,
    /// The lead assignments: id, completion and the day the row answers from.
    pub leads: Vec<(i32, Option<NaiveDate>, Option<NaiveDate>)>,
    pub fulfilments: Vec<Fulfilment>,
}

/// Loads [`TaskParts`] by task id.
pub struct TaskPartsLoader {
    pub db: Reads,
    pub budget: Arc<Budget>,
}

fn null(t: &str) -> Expr {
    Expr::cust(format!("CAST(NULL AS {t})"))
}

impl Loader<i32> for TaskPartsLoader {
    type Value = Arc<TaskParts>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let stmt = crate::graphql::loaders::kept_statement(
            &self.db,
            ("task_parts", "", None, 0),
            keys,
            parts_statement,
        );
        let rows = self.db.query_all_raw(stmt).await.map_err(Arc::new)?;
        self.budget.charge(rows.len())?;
        let mut out: HashMap<i32, TaskParts> = HashMap::new();
        for row in rows {
            let get_date = |c: &str| row.try_get::<Option<NaiveDate>>("", c).map_err(Arc::new);
            let task_id: i32 = row.try_get("", "task_id").map_err(Arc::new)?;
            let kind: String = row.try_get("", "kind").map_err(Arc::new)?;
            let parts = out.entry(task_id).or_default();
            match kind.as_str() {
                "M" => parts.milestones.push((get_date("d1")?, get_date("d2")?)),
                "L" => parts.leads.push((
                    row.try_get("", "id").map_err(Arc::new)?,
                    get_date("d1")?,
                    get_date("d2")?,
                )),
                "R" | "W" => parts.fulfilments.push(Fulfilment {
                    assignment_id: row.try_get("", "id").map_err(Arc::new)?,
                    period: row.try_get("", "period").map_err(Arc::new)?,
                    submitted_on: get_date("d1")?,
                }),
                _ => parts.issued = get_date("d1")?.or(get_date("d2")?),
            }
        }
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// The statement of [`TaskPartsLoader`] for tasks `keys`: a `UNION ALL` of the five parts.
fn parts_statement(backend: sea_orm::DbBackend, keys: &[i32]) -> sea_orm::Statement {
    use entity::{directive, task, task_milestone};
    use progress_report::Column as R;
    let ids = || keys.iter().copied();
    let a = |c: assignment::Column| Expr::col((assignment::Entity, c));
    let t = |c: task::Column| Expr::col((task::Entity, c));
    let select = |kind: &str, task_id: Expr, id: Expr, period: Expr, d1: Expr, d2: Expr| {
        let mut q = Query::select();
        q.expr_as(task_id, Alias::new("task_id"))
            .expr_as(Expr::cust(format!("'{kind}'")), Alias::new("kind"))
            .expr_as(id, Alias::new("id"))
            .expr_as(period, Alias::new("period"))
            .expr_as(d1, Alias::new("d1"))
            .expr_as(d2, Alias::new("d2"));
        q
    };
    let m = |c: task_milestone::Column| Expr::col((task_milestone::Entity, c));
    let mut all = select(
        "M",
        m(task_milestone::Column::TaskId),
        null("INTEGER"),
        null("TEXT"),
        m(task_milestone::Column::DueOn),
        m(task_milestone::Column::CompletedOn),
    );
    all.from(task_milestone::Entity).and_where(crate::db::among(
        backend,
        m(task_milestone::Column::TaskId),
        ids(),
    ));
    // The rest only for recurring tasks.
    let recurring_lead = |q: &mut SelectStatement| {
        q.inner_join(
            task::Entity,
            t(task::Column::Id).equals((assignment::Entity, assignment::Column::TaskId)),
        )
        .and_where(crate::db::among(backend, a(assignment::Column::TaskId), ids()))
        .and_where(a(assignment::Column::Role).eq(AssignmentRole::Lead))
        .and_where(t(task::Column::Recurrence).is_not_null());
    };
    let mut leads = select(
        "L",
        a(assignment::Column::TaskId),
        a(assignment::Column::Id),
        null("TEXT"),
        a(assignment::Column::CompletedOn),
        a(assignment::Column::OwesFrom),
    );
    leads.from(assignment::Entity);
    recurring_lead(&mut leads);
    let r = |c: R| Expr::col((progress_report::Entity, c));
    let mut reports = select(
        "R",
        a(assignment::Column::TaskId),
        r(R::AssignmentId),
        r(R::Period),
        r(R::SubmittedOn),
        null("DATE"),
    );
    reports
        .from(progress_report::Entity)
        .inner_join(
            assignment::Entity,
            a(assignment::Column::Id).equals((progress_report::Entity, R::AssignmentId)),
        )
        .and_where(r(R::State).is_in([ReportState::Submitted, ReportState::Accepted]))
        .and_where(r(R::SubmittedOn).is_not_null());
    recurring_lead(&mut reports);
    let w = |c: &str| Expr::col((Alias::new("reporting_waivers"), Alias::new(c)));
    let mut waivers = select(
        "W",
        a(assignment::Column::TaskId),
        w("assignment_id"),
        w("period"),
        null("DATE"),
        null("DATE"),
    );
    waivers.from(Alias::new("reporting_waivers")).inner_join(
        assignment::Entity,
        a(assignment::Column::Id).equals((Alias::new("reporting_waivers"), Alias::new("assignment_id"))),
    );
    recurring_lead(&mut waivers);
    let d = |c: directive::Column| Expr::col((directive::Entity, c));
    let mut issued = select(
        "D",
        t(task::Column::Id),
        null("INTEGER"),
        null("TEXT"),
        d(directive::Column::IssuedOn),
        super::sql::civil_date_of(backend, d(directive::Column::CreatedAt)),
    );
    issued
        .from(task::Entity)
        .inner_join(
            directive::Entity,
            d(directive::Column::Id).equals((task::Entity, task::Column::DirectiveId)),
        )
        .and_where(crate::db::among(backend, t(task::Column::Id), ids()))
        .and_where(t(task::Column::Recurrence).is_not_null());
    all.union(UnionType::All, leads)
        .union(UnionType::All, reports)
        .union(UnionType::All, waivers)
        .union(UnionType::All, issued);
    backend.build(&all)
}
