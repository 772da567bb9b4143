-- Q2: first 50 tasks of one agency by due date, directive number, lead and coordinator names, and
-- each assignment's latest non-draft report (as one JSON array per task).
-- Two statements, as chidao runs them: the agency's id first, so that the page is planned for
-- that agency; then the page reads its assignments in due-date order (ix_assignments_agency_due),
-- one row per task, as chidao does for an agency none of whose assignments moved to a successor.
SELECT id AS agency_id FROM agencies WHERE code = :agency \gset
WITH ts AS (
  SELECT t.* FROM assignments a
  JOIN tasks t ON t.id = a.task_id
  WHERE a.agency_id = :agency_id
    AND NOT EXISTS (SELECT 1 FROM assignments b
                    WHERE b.task_id = a.task_id AND b.agency_id = a.agency_id AND b.id < a.id)
  ORDER BY a.task_due_key, a.task_id
  LIMIT 50)
SELECT ts.id, ts.code, ts.title, ts.due_on, bench_pgl.tasks_status(ts) AS status, d.number,
       x.leads, x.coordinators, x.assignments
FROM ts JOIN directives d ON d.id = ts.directive_id
CROSS JOIN LATERAL (
  SELECT array_agg(g.name ORDER BY a.id) FILTER (WHERE a.role = 'LEAD') AS leads,
         array_agg(g.name ORDER BY a.id) FILTER (WHERE a.role = 'COORDINATOR') AS coordinators,
         json_agg(json_build_object('role', a.role, 'agency', g.code, 'period', r.period,
                  'percent', r.percent_complete, 'state', r.state) ORDER BY a.id) AS assignments
  FROM assignments a JOIN agencies g ON g.id = a.agency_id
  LEFT JOIN LATERAL (SELECT pr.period, pr.percent_complete, pr.state FROM progress_reports pr
                     WHERE pr.assignment_id = a.id AND pr.state <> 'DRAFT'
                     ORDER BY pr.id DESC LIMIT 1) r ON true
  WHERE a.task_id = ts.id) x
ORDER BY ts.due_on NULLS LAST, ts.id;
