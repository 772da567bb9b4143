-- Q4: task counts by status for one directive, by chidao's rule (issue #21): as of today in
-- Vietnam, an unfinished task is overdue when its own date has passed, when a milestone due
-- before today is not reached, or when its latest fallen-due recurring report is owed by a lead
-- and neither sent nor waived (the period's report due on day 20 of its last month, as
-- CHIDAO_RECURRING_REPORT_DAY's default). The latest fallen-due period of each type is found
-- once for the statement, as chidao finds it once in Rust.
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
  WHERE d.number = :number
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
GROUP BY 1 ORDER BY 1;
