-- Q4: task counts by status for one directive.
SELECT bench_pgl.tasks_status(t) AS status, count(*)
FROM tasks t JOIN directives d ON d.id = t.directive_id
WHERE d.number = :number
GROUP BY 1 ORDER BY 1;
