-- What a PostGraphile user adds for Q4, an aggregate the stock schema cannot express: a STABLE SQL
-- function in its own schema `bench_pgl` (chidao's tables are not touched), exposed by PostGraphile
-- as the root field `taskStatusCounts(directiveNumber:)`. Status is computed as chidao computes it
-- (api/src/domain/status.rs) as of today: due_on is the current (extended) deadline, completed_on
-- counts only if it is not after today.
CREATE SCHEMA IF NOT EXISTS bench_pgl;
CREATE OR REPLACE FUNCTION bench_pgl.task_status_counts(directive_number text)
RETURNS TABLE (status text, count bigint)
LANGUAGE sql STABLE AS $$
  SELECT s.status, count(*)
  FROM tasks t
  JOIN directives d ON d.id = t.directive_id
  CROSS JOIN LATERAL (SELECT CASE
      WHEN t.due_on IS NULL AND t.completed_on <= current_date THEN 'COMPLETED_NO_DEADLINE'
      WHEN t.due_on IS NULL THEN 'IN_PROGRESS_NO_DEADLINE'
      WHEN t.completed_on <= current_date AND t.completed_on <= t.due_on THEN 'COMPLETED_ON_TIME'
      WHEN t.completed_on <= current_date THEN 'COMPLETED_LATE'
      WHEN current_date <= t.due_on THEN 'IN_PROGRESS_ON_TIME'
      ELSE 'IN_PROGRESS_OVERDUE' END AS status) s
  WHERE d.number = task_status_counts.directive_number
  GROUP BY s.status
  ORDER BY s.status
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

-- The task status as chidao computes it (as of today), as a computed column `Task.status`.
CREATE OR REPLACE FUNCTION bench_pgl.tasks_status(t public.tasks)
RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
      WHEN t.due_on IS NULL AND t.completed_on <= current_date THEN 'COMPLETED_NO_DEADLINE'
      WHEN t.due_on IS NULL THEN 'IN_PROGRESS_NO_DEADLINE'
      WHEN t.completed_on <= current_date AND t.completed_on <= t.due_on THEN 'COMPLETED_ON_TIME'
      WHEN t.completed_on <= current_date THEN 'COMPLETED_LATE'
      WHEN current_date <= t.due_on THEN 'IN_PROGRESS_ON_TIME'
      ELSE 'IN_PROGRESS_OVERDUE' END
$$;
