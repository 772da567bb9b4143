-- Q2's floor: the same answer as chidao's Q2 as flat rows, one per assignment (the task's
-- columns, its directive's number, the assignment's role and agency, that assignment's latest
-- non-draft report), with no JSON built and no status function: the leanest SQL we found for
-- Q2. The status is left to the client, as chidao derives it from due_on, recurrence and
-- completed_on. run.sh measures it as the SQL-only row "q2f".
SELECT id AS agency_id FROM agencies WHERE code = :agency \gset
WITH ts AS (
  SELECT t.id, t.code, t.title, t.due_on, t.completed_on, t.recurrence, t.directive_id, a.task_due_key
  FROM assignments a
  JOIN tasks t ON t.id = a.task_id
  WHERE a.agency_id = :agency_id
    AND NOT EXISTS (SELECT 1 FROM assignments b
                    WHERE b.task_id = a.task_id AND b.agency_id = a.agency_id AND b.id < a.id)
  ORDER BY a.task_due_key, a.task_id
  LIMIT 50)
SELECT ts.id, ts.code, ts.title, ts.due_on, ts.completed_on, ts.recurrence, d.number,
       a.role, g.code, g.name, r.period, r.percent_complete, r.state
FROM ts JOIN directives d ON d.id = ts.directive_id
JOIN assignments a ON a.task_id = ts.id
JOIN agencies g ON g.id = a.agency_id
LEFT JOIN LATERAL (SELECT pr.period, pr.percent_complete, pr.state FROM progress_reports pr
                   WHERE pr.assignment_id = a.id AND pr.state <> 'DRAFT'
                   ORDER BY pr.id DESC LIMIT 1) r ON true
ORDER BY ts.task_due_key, ts.id, a.id;
