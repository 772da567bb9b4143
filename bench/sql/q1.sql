-- Q1: one task by id with its lead agencies and its directive's number (status computed as chidao does).
SELECT t.id, t.code, t.title, t.due_on, bench_pgl.tasks_status(t) AS status, d.number,
       ARRAY(SELECT g.name FROM assignments a JOIN agencies g ON g.id = a.agency_id
             WHERE a.task_id = t.id AND a.role = 'LEAD' ORDER BY a.id) AS leads
FROM tasks t JOIN directives d ON d.id = t.directive_id
WHERE t.id = :id;
