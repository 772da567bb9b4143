-- Q2: first 50 tasks of one agency by due date, directive number, lead and coordinator names, and
-- each assignment's latest non-draft report (as one JSON array per task).
WITH ts AS (
  SELECT t.* FROM tasks t
  WHERE t.id IN (SELECT a.task_id FROM assignments a JOIN agencies g ON g.id = a.agency_id WHERE g.code = :agency)
  ORDER BY t.due_on NULLS LAST, t.id
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
