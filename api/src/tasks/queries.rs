//! The task and assignment lists: filters turned into one SQL condition (scope included),
//! keyset pages, and search ranking.

use async_graphql::{Enum, ID, InputObject};
use chrono::NaiveDate;
use entity::enums::TransferKind;
use entity::{agency, assignment, assignment_transfer, directive, task};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, QueryFilter, QuerySelect, RelationTrait, Value};

use super::status_sql::{status_condition, task_completed};
use super::{Assignment, AssignmentRole, RoleFilter, Task, TaskStatus};
use crate::auth::scope::public;
use crate::auth::{Permission, Scope};
use crate::db::reads::Reads;
use crate::domain::text::search_terms;
use crate::error::{ApiError, ApiResult};
use crate::graphql::input;
use crate::graphql::relay::{self, Cursor, NodeKind, OrderDirection, PageArgs, SortKey, Within};
use crate::graphql::scalars::Date;

/// Filter of `tasks` and `taskStatistics` (the same filter gives the same rows).
#[derive(InputObject, Default, Clone, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    /// Only tasks assigned to this agency (as holder now, or as the agency the directive named).
    pub agency_id: Option<ID>,
    /// Same as `agencyId`, by the agency's code.
    pub agency_code: Option<String>,
    /// With `agencyId`/`agencyCode`: which role the agency has (default ANY).
    pub role: Option<RoleFilter>,
    /// Only tasks of this directive.
    pub directive_id: Option<ID>,
    /// Only tasks of the directive with this number, e.g. `10/CT-UBND`.
    pub directive_number: Option<String>,
    /// Only tasks in these status categories (as of the query's `asOf`).
    pub status: Option<Vec<TaskStatus>>,
    /// Only unfinished tasks past their due date (true) or the others (false), as of `asOf`.
    pub overdue: Option<bool>,
    /// Only tasks due on or before this date (current due date; recurring and ongoing
    /// tasks have none and are left out).
    pub due_before: Option<Date>,
    /// Only tasks due on or after this date.
    pub due_after: Option<Date>,
    /// Only tasks whose product is (or is not) a report to UBND tỉnh.
    pub requires_report: Option<bool>,
    /// Only tasks in this section or below it (`II.1` matches `II.1`, `II.1.1`, `II.1.2`…).
    pub section: Option<String>,
    /// Words to find in the title or full text, with or without diacritics
    /// ("ke hoach" finds "kế hoạch"); every word must occur.
    pub search: Option<String>,
}

/// Fields `tasks` can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskOrderField {
    /// Document order: directive, then position in it (the default).
    Document,
    /// Current due date; tasks without one come last in ascending order.
    DueOn,
    /// Search relevance (the default with `search`, descending): words in the title weigh
    /// more than words in the text, and the whole phrase more than scattered words.
    Relevance,
}

/// Ordering of `tasks`.
#[derive(InputObject, Clone)]
pub struct TaskOrder {
    /// Field to order by.
    pub field: TaskOrderField,
    /// Direction (default ASC; DESC for RELEVANCE).
    pub direction: Option<OrderDirection>,
}

fn bad(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::bad_input(field, msg)
}

/// Builds the condition of a task filter (the caller's scope comes from the finder the
/// statement starts from).
pub async fn task_condition(
    db: &impl sea_orm::ConnectionTrait,
    filter: &TaskFilter,
    as_of: NaiveDate,
) -> ApiResult<Condition> {
    let (agency, cond) = task_condition_parts(db, filter, as_of, false).await?;
    Ok(match agency {
        Some(a) => cond.add(a.holds_task()),
        None => cond,
    })
}

/// The agency part of a task filter (`agencyId`/`agencyCode` and `role`), resolved.
///
/// The agency's id is written into the statement as a literal: the assignments of one agency
/// range from a handful to a quarter of all tasks, and only a literal lets PostgreSQL see
/// which (its column statistics) and plan for it. A subquery or a bound parameter gets the
/// plan for an average agency.
pub struct AgencyMatch {
    id: i32,
    role: Option<entity::enums::AssignmentRole>,
    /// Whether some assignment the directive gave this agency is held by a successor now.
    /// Only asked when it decides how the list is read; `false` otherwise.
    transferred: bool,
}

impl AgencyMatch {
    /// An i32 formatted by us: nothing from the request reaches the SQL text.
    fn literal(&self) -> SimpleExpr {
        Expr::cust(self.id.to_string())
    }

    /// The task has an assignment held by the agency now, or one the directive gave it (that
    /// row, or, when the duty joined a row its new holder already had, the history's entry).
    fn holds_task(&self) -> SimpleExpr {
        let mut sub = Query::select();
        sub.expr(Expr::val(1))
            .from(assignment::Entity)
            .and_where(
                Expr::col((assignment::Entity, assignment::Column::TaskId))
                    .equals((task::Entity, task::Column::Id)),
            )
            .cond_where(
                Condition::any()
                    .add(Expr::col((assignment::Entity, assignment::Column::AgencyId)).eq(self.literal()))
                    .add(
                        Expr::col((assignment::Entity, assignment::Column::OriginalAgencyId))
                            .eq(self.literal()),
                    ),
            );
        let mut merged = Query::select();
        merged
            .expr(Expr::val(1))
            .from(assignment_transfer::Entity)
            .and_where(
                Expr::col((assignment_transfer::Entity, assignment_transfer::Column::TaskId))
                    .equals((task::Entity, task::Column::Id)),
            )
            .and_where(
                Expr::col((
                    assignment_transfer::Entity,
                    assignment_transfer::Column::OriginalAgencyId,
                ))
                .eq(self.literal()),
            )
            .and_where(
                Expr::col((assignment_transfer::Entity, assignment_transfer::Column::Kind))
                    .eq(TransferKind::Merged),
            );
        if let Some(r) = self.role {
            sub.and_where(Expr::col((assignment::Entity, assignment::Column::Role)).eq(r));
            merged
                .and_where(Expr::col((assignment_transfer::Entity, assignment_transfer::Column::Role)).eq(r));
        }
        Expr::exists(sub.to_owned()).or(Expr::exists(merged.to_owned()))
    }

    /// For a select of tasks joined to their assignments: the agency's assignment on its task
    /// (of the role asked). An agency holds a task once (`ux_assignments_task_agency`), so each
    /// task comes once. Only the current holder is matched: valid when nothing the directive
    /// gave the agency has moved to another holder (`transferred` is false).
    fn held_assignment(&self) -> Condition {
        let mut cond = Condition::all()
            .add(Expr::col((assignment::Entity, assignment::Column::AgencyId)).eq(self.literal()));
        if let Some(r) = self.role {
            cond = cond.add(Expr::col((assignment::Entity, assignment::Column::Role)).eq(r));
        }
        cond
    }
}

/// Some assignment the directive gave `agency` is held by another agency now, or joined a
/// row another holder had.
fn transferred_away(agency: SimpleExpr) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(assignment::Entity)
            .and_where(
                Expr::col((assignment::Entity, assignment::Column::OriginalAgencyId)).eq(agency.clone()),
            )
            // The predicate of the partial index ix_assignments_transferred, as written there.
            .and_where(
                Expr::col((assignment::Entity, assignment::Column::AgencyId)).ne(Expr::col((
                    assignment::Entity,
                    assignment::Column::OriginalAgencyId,
                ))),
            )
            .to_owned(),
    )
    .or(Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(assignment_transfer::Entity)
            .and_where(
                Expr::col((
                    assignment_transfer::Entity,
                    assignment_transfer::Column::OriginalAgencyId,
                ))
                .eq(agency),
            )
            .and_where(
                Expr::col((assignment_transfer::Entity, assignment_transfer::Column::Kind))
                    .eq(TransferKind::Merged),
            )
            .to_owned(),
    ))
}

/// The agency part of a filter, and the condition of the rest.
/// `ask_transferred`: also find out whether the agency's assignments all stayed with it.
async fn task_condition_parts(
    db: &impl sea_orm::ConnectionTrait,
    filter: &TaskFilter,
    as_of: NaiveDate,
    ask_transferred: bool,
) -> ApiResult<(Option<AgencyMatch>, Condition)> {
    let mut cond = Condition::all();
    let role = filter.role.unwrap_or_default().role();
    let agency = match (&filter.agency_id, &filter.agency_code) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "filter.agencyCode",
                "Chỉ dùng một trong agencyId hoặc agencyCode",
            ));
        }
        (Some(id), None) => {
            let id = relay::decode_id(id, NodeKind::Agency, "filter.agencyId")?;
            let transferred = if ask_transferred {
                let q = Query::select().expr(transferred_away(Expr::val(id))).to_owned();
                match db.query_one(&q).await? {
                    Some(row) => row.try_get_by_index::<bool>(0)?,
                    None => false,
                }
            } else {
                false
            };
            Some(AgencyMatch {
                id,
                role,
                transferred,
            })
        }
        (None, Some(code)) => {
            let code = input::agency_code("filter.agencyCode", code)?;
            let mut q = public::<agency::Entity>()
                .select_only()
                .column(agency::Column::Id)
                .filter(agency::Column::Code.eq(code.as_str()));
            let found = if ask_transferred {
                q = q.expr(transferred_away(Expr::col((agency::Entity, agency::Column::Id))));
                q.into_tuple::<(i32, bool)>().one(db).await?
            } else {
                q.into_tuple::<i32>().one(db).await?.map(|id| (id, false))
            };
            // An unknown code matches no task (an empty list, not an error).
            let (id, transferred) = found.unwrap_or((0, false));
            Some(AgencyMatch {
                id,
                role,
                transferred,
            })
        }
        (None, None) => {
            if filter.role.is_some() && role.is_some() {
                return Err(bad("filter.role", "`role` cần đi kèm agencyId hoặc agencyCode"));
            }
            None
        }
    };
    match (&filter.directive_id, &filter.directive_number) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "filter.directiveNumber",
                "Chỉ dùng một trong directiveId hoặc directiveNumber",
            ));
        }
        (Some(id), None) => {
            cond = cond.add(task::Column::DirectiveId.eq(relay::decode_id(
                id,
                NodeKind::Directive,
                "filter.directiveId",
            )?));
        }
        (None, Some(number)) => {
            cond = cond.add(
                task::Column::DirectiveId.in_subquery(
                    Query::select()
                        .column(directive::Column::Id)
                        .from(directive::Entity)
                        .and_where(directive::Column::Number.eq(number.trim()))
                        .to_owned(),
                ),
            );
        }
        (None, None) => {}
    }
    let completed = task_completed();
    if let Some(statuses) = &filter.status {
        let mut any = Condition::any();
        for s in statuses {
            any = any.add(status_condition((*s).into(), &completed, as_of));
        }
        cond = cond.add(any);
    }
    if let Some(overdue) = filter.overdue {
        let c = status_condition(
            crate::domain::status::TaskStatus::InProgressOverdue,
            &completed,
            as_of,
        );
        cond = cond.add(if overdue { c } else { c.not() });
    }
    if let (Some(a), Some(b)) = (filter.due_after, filter.due_before)
        && a > b
    {
        return Err(bad("filter.dueAfter", "dueAfter phải không muộn hơn dueBefore"));
    }
    if let Some(Date(d)) = filter.due_before {
        cond = cond.add(task::Column::DueOn.lte(d));
    }
    if let Some(Date(d)) = filter.due_after {
        cond = cond.add(task::Column::DueOn.gte(d));
    }
    if let Some(r) = filter.requires_report {
        cond = cond.add(task::Column::RequiresReport.eq(r));
    }
    if let Some(section) = &filter.section {
        let s = section.trim().trim_end_matches('.');
        if s.is_empty() || s.len() > 32 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            return Err(bad(
                "filter.section",
                format!("Mục '{section}' không hợp lệ (ví dụ: II.1.1)"),
            ));
        }
        cond = cond.add(
            Condition::any()
                .add(task::Column::Section.eq(s))
                .add(task::Column::Section.like(format!("{s}.%"))),
        );
    }
    if let Some(q) = &filter.search {
        let terms = search_terms(q);
        if terms.is_empty() {
            return Err(bad("filter.search", "Cần ít nhất một từ để tìm"));
        }
        for t in terms {
            cond = cond.add(task::Column::SearchText.like(format!("%{t}%")));
        }
    }
    Ok((agency, cond))
}

/// Relevance of a task for a search: 3 per word in the title, 1 per word in the text, 5 more
/// when the whole phrase occurs. `relevance_sql` is the same formula in SQL.
fn relevance(terms: &[String], phrase: &str, title: &str, text: &str) -> i64 {
    let mut score = 0;
    for t in terms {
        if title.contains(t.as_str()) {
            score += 3;
        }
        if text.contains(t.as_str()) {
            score += 1;
        }
    }
    if terms.len() > 1 && text.contains(phrase) {
        score += 5;
    }
    score
}

fn relevance_sql(terms: &[String], phrase: &str) -> SimpleExpr {
    let case = |col: task::Column, pat: String, w: i64| -> SimpleExpr {
        Expr::case(Expr::col((task::Entity, col)).like(pat), w)
            .finally(0)
            .into()
    };
    let mut sum: SimpleExpr = Expr::val(0i64);
    for t in terms {
        sum = sum.add(case(task::Column::SearchTitle, format!("%{t}%"), 3));
        sum = sum.add(case(task::Column::SearchText, format!("%{t}%"), 1));
    }
    if terms.len() > 1 {
        sum = sum.add(case(task::Column::SearchText, format!("%{phrase}%"), 5));
    }
    sum
}

/// The latest date that sorts after every real due date.
fn no_due_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// What a task list asks, besides its page.
pub struct TaskList {
    pub filter: TaskFilter,
    pub order: Option<TaskOrder>,
    /// The date statuses and the status filters are computed for.
    pub as_of: NaiveDate,
    /// The `asOf` the list was given, which its tasks' fields default to.
    pub list_as_of: Option<NaiveDate>,
}

/// `tasks`, and nested task lists (a directive's tasks).
pub async fn list_tasks(
    db: &Reads,
    scope: &Scope,
    within: Within<'_, task::Entity>,
    list: TaskList,
    args: PageArgs,
    lean: Option<&crate::db::lean::Fields>,
) -> ApiResult<TaskConnection> {
    scope.require(Permission::ReadRows)?;
    let TaskList {
        filter,
        order,
        as_of,
        list_as_of,
    } = list;
    let by_due_date = order.as_ref().is_some_and(|o| o.field == TaskOrderField::DueOn);
    // A root list of one agency's tasks by due date is read from the agency's assignments in
    // due-date order (migration m20261130_000004), unless some of them moved to a successor:
    // those are matched through `original_agency_id`, which that index does not order.
    let held_in_due_order = by_due_date && matches!(within, Within::Root);
    let (agency, cond) = task_condition_parts(db, &filter, as_of, held_in_due_order).await?;
    let (agency, cond) = match agency {
        Some(a) if held_in_due_order && !a.transferred => (Some(a), cond),
        Some(a) => (None, cond.add(a.holds_task())),
        None => (None, cond),
    };
    let terms = filter.search.as_deref().map(search_terms).unwrap_or_default();
    let phrase = terms.join(" ");
    let field = match &order {
        Some(o) => o.field,
        None if !terms.is_empty() => TaskOrderField::Relevance,
        None => TaskOrderField::Document,
    };
    if field == TaskOrderField::Relevance && terms.is_empty() {
        return Err(bad("orderBy.field", "Sắp xếp theo RELEVANCE cần filter.search"));
    }
    let direction = order.and_then(|o| o.direction).unwrap_or(match field {
        TaskOrderField::Relevance => OrderDirection::Desc,
        _ => OrderDirection::Asc,
    });
    let far = no_due_date();
    let (mut expr, to_value): (SimpleExpr, fn(&serde_json::Value) -> Option<Value>) = match field {
        // Both keys are written with literal constants, exactly as the expression indexes
        // of migration m20261123_000002 (a bound parameter would not match them).
        TaskOrderField::Document => (
            Expr::cust(r#"(CAST("tasks"."directive_id" AS BIGINT) * 100000 + "tasks"."ordinal")"#),
            relay::json_int,
        ),
        TaskOrderField::DueOn => (
            Expr::cust(r#"COALESCE("tasks"."due_on", '9999-12-31')"#),
            relay::json_date,
        ),
        TaskOrderField::Relevance => (relevance_sql(&terms, &phrase), relay::json_int),
    };
    let mut select = scope.find::<task::Entity>().filter(cond);
    if field != TaskOrderField::Relevance {
        // Only the relevance cursor reads the search keys (below).
        crate::db::lean::lean_columns::<task::Entity>(sea_orm::QueryTrait::query(&mut select), lean);
    }
    let mut id = Expr::col((task::Entity, task::Column::Id));
    if let Some(a) = &agency {
        // The same key as `expr` (kept equal by triggers), and the same cursors.
        select = select
            .join(JoinType::InnerJoin, assignment::Relation::Task.def().rev())
            .filter(a.held_assignment());
        expr = Expr::col((assignment::Entity, Alias::new("task_due_key")));
        id = Expr::col((assignment::Entity, assignment::Column::TaskId));
    }
    let sort = SortKey {
        expr,
        id,
        direction,
        to_value,
    };
    let (page, count) = relay::fetch(db, within, select, &sort, &args, |m| Cursor {
        key: match field {
            TaskOrderField::Document => (i64::from(m.directive_id) * 100_000 + i64::from(m.ordinal)).into(),
            TaskOrderField::DueOn => m.due_on.unwrap_or(far).format("%Y-%m-%d").to_string().into(),
            TaskOrderField::Relevance => relevance(&terms, &phrase, &m.search_title, &m.search_text).into(),
        },
        id: m.id,
    })
    .await?;
    Ok(TaskConnection::new(page.map(|m| Task::new(m, list_as_of)), count))
}

crate::connection!(Task, TaskConnection, TaskEdge, "tasks", plain);
crate::connection!(
    Assignment,
    AssignmentConnection,
    AssignmentEdge,
    "assignments",
    plain
);

/// Filter of an agency's `assignments`.
#[derive(InputObject, Default)]
pub struct AssignmentFilter {
    /// Only this role.
    pub role: Option<AssignmentRole>,
    /// Only unfinished (true) or completed (false) assignments.
    pub open: Option<bool>,
    /// Only assignments of this directive's tasks.
    pub directive_id: Option<ID>,
}

/// An agency's assignments, in task document order.
pub async fn list_assignments(
    db: &Reads,
    scope: &Scope,
    within: Within<'_, assignment::Entity>,
    filter: AssignmentFilter,
    also: Condition,
    args: PageArgs,
) -> ApiResult<AssignmentConnection> {
    scope.require(Permission::ReadRows)?;
    let mut cond = also;
    if let Some(r) = filter.role {
        cond = cond.add(assignment::Column::Role.eq(entity::enums::AssignmentRole::from(r)));
    }
    match filter.open {
        Some(true) => cond = cond.add(assignment::Column::CompletedOn.is_null()),
        Some(false) => cond = cond.add(assignment::Column::CompletedOn.is_not_null()),
        None => {}
    }
    if let Some(id) = &filter.directive_id {
        let d = relay::decode_id(id, NodeKind::Directive, "filter.directiveId")?;
        cond = cond.add(
            assignment::Column::TaskId.in_subquery(
                Query::select()
                    .column(task::Column::Id)
                    .from(task::Entity)
                    .and_where(task::Column::DirectiveId.eq(d))
                    .to_owned(),
            ),
        );
    }
    let sort = SortKey {
        expr: Expr::col((assignment::Entity, assignment::Column::TaskId)),
        id: Expr::col((assignment::Entity, assignment::Column::Id)),
        direction: OrderDirection::Asc,
        to_value: relay::json_int,
    };
    let (page, count) = relay::fetch(
        db,
        within,
        scope.find::<assignment::Entity>().filter(cond),
        &sort,
        &args,
        |m| Cursor {
            key: m.task_id.into(),
            id: m.id,
        },
    )
    .await?;
    Ok(AssignmentConnection::new(
        page.map(|m| Assignment::new(m, None)),
        count,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::fold;

    #[test]
    fn relevance_prefers_title_and_phrase() {
        let terms = search_terms("ke hoach dau tu");
        let phrase = terms.join(" ");
        let title = fold("Sở Kế hoạch và Đầu tư xây dựng kịch bản");
        let in_title = relevance(&terms, &phrase, &title, &title);
        let text_only = relevance(&terms, &phrase, "khac", &fold("kế hoạch đầu tư công"));
        assert!(in_title > text_only, "{in_title} > {text_only}");
        assert_eq!(relevance(&terms, &phrase, "", ""), 0);
    }
}
