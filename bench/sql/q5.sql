-- Q5: reporting compliance for 2025Q4 as of 2025-12-31, written by hand: the same duties as
-- chidao's (task reports due in the quarter's months, recurring tasks' reports due the 20th of
-- the period's last month, the directives' regimes), the same fulfilment and the same states.
WITH p AS (SELECT * FROM reporting_calendar WHERE year = 2025 AND quarter = 4),
duty AS (
  SELECT a.id AS aid, c.period, t.due_on, true AS any_period
  FROM assignments a JOIN tasks t ON t.id = a.task_id
  JOIN p c ON c.period_type = 'MONTH' AND t.due_on BETWEEN c.last_month_start AND c.last_month_end
  WHERE t.requires_report AND t.recurrence IS NULL AND a.role = 'LEAD'
  UNION ALL
  SELECT a.id, c.period, LEAST(c.last_month_start + 19, c.last_month_end), false
  FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN directives d ON d.id = t.directive_id
  JOIN p c ON c.period_type = CASE t.recurrence WHEN 'MONTHLY' THEN 'MONTH' WHEN 'QUARTERLY' THEN 'QUARTER'
                                                WHEN 'HALF_YEARLY' THEN 'HALF' ELSE 'YEAR' END
  WHERE t.recurrence IS NOT NULL AND a.role = 'LEAD' AND c.starts_on <= :as_of
    AND c.ends_on >= COALESCE(d.issued_on, (d.created_at AT TIME ZONE 'UTC' + interval '7 hours')::date)
    AND (COALESCE(a.completed_on, t.completed_on) IS NULL OR c.starts_on <= COALESCE(a.completed_on, t.completed_on))
  UNION ALL
  SELECT a.id, c.period,
         CASE g.due_rule WHEN 'DAY_OF_LAST_MONTH' THEN LEAST(c.last_month_start + g.due_value - 1, c.last_month_end)
                         ELSE c.ends_on + g.due_value END, false
  FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN directives d ON d.id = t.directive_id
  JOIN reporting_regimes g ON g.directive_id = t.directive_id
  JOIN p c ON c.period_type = g.period_type
  JOIN reporting_calendar f ON f.period = g.first_period
  LEFT JOIN reporting_calendar l ON l.period = g.last_period
  WHERE (g.reporters = 'ALL_HOLDERS' OR a.role = 'LEAD') AND c.starts_on >= f.starts_on
    AND (g.last_period IS NULL OR c.ends_on <= l.ends_on) AND c.starts_on <= :as_of
    AND c.ends_on >= COALESCE(d.issued_on, (d.created_at AT TIME ZONE 'UTC' + interval '7 hours')::date)
    AND (COALESCE(a.completed_on, t.completed_on) IS NULL OR c.starts_on <= COALESCE(a.completed_on, t.completed_on))
    AND NOT (t.requires_report AND t.recurrence IS NULL AND a.role = 'LEAD' AND c.period_type = 'MONTH'
             AND t.due_on BETWEEN c.last_month_start AND c.last_month_end)
    AND NOT (a.role = 'LEAD' AND t.recurrence IS NOT NULL AND c.period_type = CASE t.recurrence
             WHEN 'MONTHLY' THEN 'MONTH' WHEN 'QUARTERLY' THEN 'QUARTER' WHEN 'HALF_YEARLY' THEN 'HALF' ELSE 'YEAR' END)
), s AS MATERIALIZED (
  SELECT duty.due_on,
         (SELECT min(r.submitted_on) FROM progress_reports r
           WHERE r.assignment_id = duty.aid AND r.state IN ('SUBMITTED', 'ACCEPTED') AND r.submitted_on <= :as_of
             AND (duty.any_period OR r.period = duty.period)) AS sub,
         EXISTS (SELECT 1 FROM reporting_waivers w WHERE w.assignment_id = duty.aid AND w.period = duty.period) AS waived
  FROM duty
)
SELECT count(*) FILTER (WHERE sub IS NOT NULL OR (NOT waived AND due_on < :as_of)) AS expected,
       count(*) FILTER (WHERE sub <= due_on) AS on_time,
       count(*) FILTER (WHERE sub > due_on) AS late,
       count(*) FILTER (WHERE sub IS NULL AND waived) AS waived,
       count(*) FILTER (WHERE sub IS NULL AND NOT waived AND due_on < :as_of) AS overdue
FROM s;
