-- What a PostGraphile user adds for Q4, an aggregate the stock schema cannot express: a STABLE SQL
-- function in its own schema `bench_pgl` (chidao's tables are not touched), exposed by PostGraphile
-- as the root field `taskStatusCounts(directiveNumber:)`. Status is computed as chidao computes it
-- (api/src/tasks/status_sql.rs, issue #21) as of today in Vietnam: due_on is the current (extended)
-- deadline, completed_on counts only if it is not after today, and an unfinished task is also
-- overdue when a milestone due before today is not reached or when its latest fallen-due recurring
-- report is owed by a lead and neither sent nor waived (due on day 20 of the period's last month,
-- CHIDAO_RECURRING_REPORT_DAY's default). Q4's statement is bench/sql/q4.sql's, as a function.
CREATE SCHEMA IF NOT EXISTS bench_pgl;
CREATE OR REPLACE FUNCTION bench_pgl.task_status_counts(directive_number text)
RETURNS TABLE (status text, count bigint)
LANGUAGE sql STABLE AS $$
WITH day AS (SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS as_of),
latest AS (
  SELECT c.* FROM day, unnest(ARRAY['MONTH', 'QUARTER', 'HALF', 'YEAR']) AS k(period_type)
  CROSS JOIN LATERAL (
    SELECT c.period_type, c.period, c.starts_on, c.ends_on FROM reporting_calendar c
    WHERE c.period_type = k.period_type AND least(c.last_month_start + 19, c.last_month_end) < day.as_of
    ORDER BY c.ends_on DESC LIMIT 1) c
),
t AS (
  SELECT t.id, t.due_on, t.completed_on, t.recurrence, t.directive_id, d.issued_on, d.created_at, day.as_of
  FROM tasks t JOIN directives d ON d.id = t.directive_id CROSS JOIN day
  WHERE d.number = task_status_counts.directive_number
)
SELECT s.status, count(*)
FROM t
LEFT JOIN latest c ON c.period_type = CASE t.recurrence WHEN 'MONTHLY' THEN 'MONTH' WHEN 'QUARTERLY' THEN 'QUARTER'
                                       WHEN 'HALF_YEARLY' THEN 'HALF' WHEN 'YEARLY' THEN 'YEAR' END
CROSS JOIN LATERAL (SELECT CASE
    WHEN t.completed_on <= t.as_of THEN CASE
        WHEN t.recurrence IS NOT NULL OR t.completed_on <= t.due_on THEN 'COMPLETED_ON_TIME'
        WHEN t.due_on IS NOT NULL THEN 'COMPLETED_LATE'
        ELSE 'COMPLETED_NO_DEADLINE' END
    WHEN (t.recurrence IS NULL AND t.due_on < t.as_of)
      OR EXISTS (SELECT 1 FROM task_milestones m WHERE m.task_id = t.id AND m.due_on < t.as_of
                 AND (m.completed_on IS NULL OR m.completed_on > t.as_of))
      OR (t.recurrence IS NOT NULL AND EXISTS (
            SELECT 1 FROM assignments a
            WHERE a.task_id = t.id AND a.role = 'LEAD'
              AND (t.issued_on <= c.ends_on OR (t.issued_on IS NULL
                   AND t.created_at < (c.ends_on + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'))
              AND (a.completed_on IS NULL OR a.completed_on >= c.starts_on)
              AND (a.owes_from IS NULL OR a.owes_from <= c.ends_on)
              AND NOT EXISTS (SELECT 1 FROM progress_reports r WHERE r.assignment_id = a.id AND r.period = c.period
                              AND r.state IN ('SUBMITTED', 'ACCEPTED') AND r.submitted_on <= t.as_of)
              AND NOT EXISTS (SELECT 1 FROM reporting_waivers w WHERE w.assignment_id = a.id AND w.period = c.period)))
      THEN 'IN_PROGRESS_OVERDUE'
    WHEN t.recurrence IS NULL AND t.due_on IS NULL THEN 'IN_PROGRESS_NO_DEADLINE'
    ELSE 'IN_PROGRESS_ON_TIME' END AS status) s
GROUP BY 1 ORDER BY 1
$$;

-- Q2: the tasks in which one agency holds an assignment (lead or coordinator), by due date. Stock
-- PostGraphile cannot filter tasks through assignments nor order by a related column, so this is a
-- set-returning function, exposed as the root connection `benchPglAgencyTasks(agencyCode:)`.
-- It reads the agency's assignments in due-date order (ix_assignments_agency_due, migration 4),
-- one row per task, as chidao does: PostgreSQL inlines it under PostGraphile's LIMIT.
CREATE OR REPLACE FUNCTION bench_pgl.agency_tasks(agency_code text)
RETURNS SETOF public.tasks
LANGUAGE sql STABLE AS $$
  SELECT t.*
  FROM assignments a JOIN tasks t ON t.id = a.task_id
  WHERE a.agency_id = (SELECT g.id FROM agencies g WHERE g.code = agency_code)
    AND NOT EXISTS (SELECT 1 FROM assignments b
                    WHERE b.task_id = a.task_id AND b.agency_id = a.agency_id AND b.id < a.id)
  ORDER BY a.task_due_key, a.task_id
$$;

-- Whether a recurring task's latest fallen-due report (as of `as_of`) is owed by a lead and neither
-- sent by then nor waived (the task unfinished: the caller's CASE has already said so).
CREATE OR REPLACE FUNCTION bench_pgl.missed_report(t public.tasks, as_of date)
RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1
    FROM (SELECT c.period, c.starts_on, c.ends_on FROM reporting_calendar c
          WHERE c.period_type = CASE t.recurrence WHEN 'MONTHLY' THEN 'MONTH' WHEN 'QUARTERLY' THEN 'QUARTER'
                                  WHEN 'HALF_YEARLY' THEN 'HALF' WHEN 'YEARLY' THEN 'YEAR' END
            AND least(c.last_month_start + 19, c.last_month_end) < as_of
          ORDER BY c.ends_on DESC LIMIT 1) c
    JOIN directives d ON d.id = t.directive_id
    JOIN assignments a ON a.task_id = t.id AND a.role = 'LEAD'
    WHERE (d.issued_on <= c.ends_on OR (d.issued_on IS NULL
           AND d.created_at < (c.ends_on + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'))
      AND (a.completed_on IS NULL OR a.completed_on >= c.starts_on)
      AND (a.owes_from IS NULL OR a.owes_from <= c.ends_on)
      AND NOT EXISTS (SELECT 1 FROM progress_reports r WHERE r.assignment_id = a.id AND r.period = c.period
                      AND r.state IN ('SUBMITTED', 'ACCEPTED') AND r.submitted_on <= as_of)
      AND NOT EXISTS (SELECT 1 FROM reporting_waivers w WHERE w.assignment_id = a.id AND w.period = c.period))
$$;

-- The task status as chidao computes it (as of today in Vietnam), as a computed column `Task.status`.
CREATE OR REPLACE FUNCTION bench_pgl.tasks_status(t public.tasks)
RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
      WHEN t.completed_on <= v.as_of THEN CASE
          WHEN t.recurrence IS NOT NULL OR t.completed_on <= t.due_on THEN 'COMPLETED_ON_TIME'
          WHEN t.due_on IS NOT NULL THEN 'COMPLETED_LATE'
          ELSE 'COMPLETED_NO_DEADLINE' END
      WHEN (t.recurrence IS NULL AND t.due_on < v.as_of)
        OR EXISTS (SELECT 1 FROM task_milestones m WHERE m.task_id = t.id AND m.due_on < v.as_of
                   AND (m.completed_on IS NULL OR m.completed_on > v.as_of))
        OR (t.recurrence IS NOT NULL AND bench_pgl.missed_report(t, v.as_of))
        THEN 'IN_PROGRESS_OVERDUE'
      WHEN t.recurrence IS NULL AND t.due_on IS NULL THEN 'IN_PROGRESS_NO_DEADLINE'
      ELSE 'IN_PROGRESS_ON_TIME' END
  FROM (SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS as_of) v
$$;
